/**
 * How the local runtime's functions sign in: each service as its own login role, with a password
 * of its own, derived from a secret generated once per data folder (HMAC-SHA256 of the role's
 * name), so no password is in the repository, the database or a stack file, and knowing one
 * service's password tells nothing of another's. The start script, `npm run psql` and the tests
 * build service connection strings here.
 *
 * The secret lives in the data folder itself (`platform-login-secret`, readable by its owner
 * only): roles belong to the whole PostgreSQL server, so their passwords must be the same for every
 * database in it. With `DATABASE_URL` (a PostgreSQL of your own) it is `.data/external-login-secret`.
 */
import { createHmac, randomBytes } from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import { serviceRoles } from "../functions/runtime/data/service-data";

const SECRET_FILE = "platform-login-secret";
const EXTERNAL_SECRET_FILE = "external-login-secret";

/** Where the login secret of a runtime's database is kept: in the embedded data folder, or beside it for `DATABASE_URL`. */
export function loginSecretFile(dataDir: string, embedded: boolean): string {
    return embedded ? path.join(dataDir, SECRET_FILE) : path.join(path.dirname(dataDir), EXTERNAL_SECRET_FILE);
}

/** The secret in `file`, or undefined before the first start. */
export function readLoginSecret(file: string): string | undefined {
    try {
        return fs.readFileSync(file, "utf8").trim() || undefined;
    } catch (error) {
        if ((error as NodeJS.ErrnoException).code === "ENOENT") return undefined;
        throw error;
    }
}

/** Reads the secret, creating it (256 random bits, mode 0600) on first use. Two starts at once agree on one. */
export function readOrCreateLoginSecret(file: string): string {
    const existing = readLoginSecret(file);
    if (existing) return existing;
    fs.mkdirSync(path.dirname(file), { recursive: true });
    try {
        fs.writeFileSync(file, `${randomBytes(32).toString("hex")}\n`, { mode: 0o600, flag: "wx" });
    } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
    }
    return readLoginSecret(file)!;
}

/** The local sign-in of every service login role, from the data folder's secret. */
export interface LocalLogin {
    passwordOf(role: string): string;
    /** The administrator's connection string with the service's login role and its password instead. */
    serviceDatabaseUrl(service: string): string;
}

export function localLogin(adminUrl: string, secret: string): LocalLogin {
    const passwordOf = (role: string) => createHmac("sha256", secret).update(role).digest("hex");
    return {
        passwordOf,
        serviceDatabaseUrl(service) {
            const url = new URL(adminUrl);
            const role = serviceRoles(service).login;
            url.username = role;
            url.password = passwordOf(role);
            return url.toString();
        },
    };
}
