/**
 * The local runtime's secrets: every service's values in one file of the local data folder
 * (`.data/secrets.json`, `{"<service>": {"<NAME>": "<value>"}}`), readable by its owner only,
 * outside the repository (`.data/` is ignored). `npm run secret` sets, lists and unsets them;
 * `npm start` refuses to start while a declared secret has no value; each service's handlers read
 * theirs through the same `ctx.secrets` as in the cloud, and see no other service's.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import type { Logger } from "../functions/runtime/logger";
import { createServiceSecrets, type ServiceSecrets } from "../functions/runtime/secrets/secrets";
import { REPOSITORY_ROOT } from "./stack-config";

/** Where `npm start` and `npm run secret` keep the values. */
export const DEFAULT_SECRETS_FILE = path.join(REPOSITORY_ROOT, ".data", "secrets.json");

/** The file `npm start` and `npm run secret` use: `LOCAL_SECRETS_FILE`, else `DEFAULT_SECRETS_FILE`. */
export function secretsFileFromEnv(env: NodeJS.ProcessEnv = process.env): string {
    return env.LOCAL_SECRETS_FILE || DEFAULT_SECRETS_FILE;
}

/** Owner read and write only: the values are the secrets themselves. */
const FILE_MODE = 0o600;

export type LocalSecretValues = Record<string, Record<string, string>>;

/** The values in `file`; none before the first `set`. A file that is not what `set` writes is refused, naming it. */
export function readLocalSecrets(file: string): LocalSecretValues {
    let text: string;
    try {
        text = fs.readFileSync(file, "utf8");
    } catch (error) {
        if ((error as NodeJS.ErrnoException).code === "ENOENT") return {};
        throw error;
    }
    const parsed: unknown = JSON.parse(text);
    const valid =
        typeof parsed === "object" &&
        parsed !== null &&
        !Array.isArray(parsed) &&
        Object.values(parsed).every((values) => typeof values === "object" && values !== null && !Array.isArray(values) && Object.values(values).every((value) => typeof value === "string"));
    if (!valid) throw new Error(`${file} must hold {"<service>": {"<SECRET_NAME>": "<value>"}}; fix or delete it and set the values again with npm run secret -- set.`);
    return parsed as LocalSecretValues;
}

/** Writes `values` (mode 0600, through a temporary file so a crash never leaves half a file). */
function writeLocalSecrets(file: string, values: LocalSecretValues): void {
    fs.mkdirSync(path.dirname(file), { recursive: true });
    const temporary = `${file}.${process.pid}.tmp`;
    fs.writeFileSync(temporary, JSON.stringify(values, null, 2) + "\n", { mode: FILE_MODE });
    fs.chmodSync(temporary, FILE_MODE);
    fs.renameSync(temporary, file);
}

export function setLocalSecret(file: string, service: string, name: string, value: string): void {
    const values = readLocalSecrets(file);
    values[service] = { ...values[service], [name]: value };
    writeLocalSecrets(file, values);
}

/** Removes a value; whether there was one. */
export function unsetLocalSecret(file: string, service: string, name: string): boolean {
    const values = readLocalSecrets(file);
    if (values[service]?.[name] === undefined) return false;
    delete values[service][name];
    if (Object.keys(values[service]).length === 0) delete values[service];
    writeLocalSecrets(file, values);
    return true;
}

/** The command that sets one value, as messages name it. */
export function setSecretCommand(service: string, name: string): string {
    return `npm run secret -- set ${service} ${name}`;
}

/**
 * The declared secrets that have no value in `file`, per service, as one message naming each and
 * the command that sets it; undefined when every declared secret has one.
 */
export function unsetSecretsProblem(services: readonly { name: string; secrets: readonly string[] }[], file: string): string | undefined {
    const values = readLocalSecrets(file);
    const missing = services.flatMap((service) => service.secrets.filter((name) => !values[service.name]?.[name]).map((name) => ({ service: service.name, name })));
    if (missing.length === 0) return undefined;
    return [
        `These services declare secrets that have no local value (${file}), so they cannot be served:`,
        ...missing.map(({ service, name }) => `  - service "${service}": ${name}; set it with: ${setSecretCommand(service, name)}`),
    ].join("\n");
}

/** Thrown by `npm start` (and a reload) while a declared secret has no local value. */
export class UnsetSecretsError extends Error {
    constructor(message: string) {
        super(message);
        this.name = "UnsetSecretsError";
    }
}

/**
 * One service's secrets as its local handlers read them: its own entry of `file` only, read afresh
 * on every `get` (a value set while `npm start` runs is used at once).
 */
export function localServiceSecrets(file: string, service: string, declared: readonly string[], log: Pick<Logger, "error">): ServiceSecrets {
    return createServiceSecrets(service, declared, async () => readLocalSecrets(file)[service], { ttlMs: 0, log });
}

/** A container service's values, for its process's environment (as ECS hands them to the task). */
export function localContainerSecrets(file: string, service: string, declared: readonly string[]): Record<string, string> {
    const values = readLocalSecrets(file)[service] ?? {};
    return Object.fromEntries(declared.filter((name) => values[name] !== undefined).map((name) => [name, values[name]]));
}
