/**
 * `npm run psql -- <service>`: a `psql` session on the local runtime's database as that service's
 * own login role, so you see exactly what its functions see (its schema on the search path, only
 * its tables, its connection limit and statement timeout). `--superuser` instead: as the
 * superuser `postgres`, whose password is kept beside the data folder. Needs `npm start` running;
 * with `--print`, or without `psql` on the PATH, it prints the connection string instead.
 *
 *   npm run psql -- users
 *   npm run -s psql -- users --print        # postgres://users_app:...@127.0.0.1:41234/app
 *   npm run psql -- --superuser             # everything, every schema
 *
 * Environment: `LOCAL_DATA_DIR` (default `.data/postgres`), or `DATABASE_URL` when the runtime runs
 * against another PostgreSQL (its administrator's connection string).
 */
import { spawn, spawnSync } from "node:child_process";
import * as path from "node:path";
import { DEFAULT_DATA_DIR } from "../local/runtime";
import { runningAdminUrl } from "../local/postgres";
import { loadRegistry } from "../local/registry";
import { localLogin, loginSecretFile, readLoginSecret } from "../local/service-login";

function fail(message: string): never {
    console.error(message);
    process.exit(1);
}

function main(): void {
    const args = process.argv.slice(2);
    const print = args.includes("--print");
    const superuser = args.includes("--superuser");
    const service = args.find((arg) => !arg.startsWith("--"));
    const databaseServices = loadRegistry().filter((s) => s.database).map((s) => s.name);
    if (superuser ? service !== undefined : !service || !databaseServices.includes(service)) {
        fail(`Usage: npm run psql -- <service> [--print], where <service> is one of the database services: ${databaseServices.join(", ") || "none"}; or npm run psql -- --superuser [--print].`);
    }

    const dataDir = process.env.LOCAL_DATA_DIR ? path.resolve(process.env.LOCAL_DATA_DIR) : DEFAULT_DATA_DIR;
    const adminUrl = process.env.DATABASE_URL || runningAdminUrl(dataDir);
    if (!adminUrl) fail(`No local PostgreSQL is running on ${path.relative(process.cwd(), dataDir) || dataDir}: start the runtime first (npm start).`);
    let url = adminUrl;
    if (!superuser) {
        const secret = readLoginSecret(loginSecretFile(dataDir, !process.env.DATABASE_URL));
        if (!secret) fail("The database has no service roles yet: start the runtime once (npm start), which runs the migrations.");
        url = localLogin(adminUrl, secret).serviceDatabaseUrl(service!);
    }

    const hasPsql = spawnSync("psql", ["--version"], { stdio: "ignore" }).status === 0;
    if (print || !hasPsql || !process.stdout.isTTY) {
        console.log(url);
        if (!print && !hasPsql) console.error("psql is not on the PATH; connect with the connection string above.");
        return;
    }
    const session = spawn("psql", [url], { stdio: "inherit" });
    session.on("exit", (code) => process.exit(code ?? 0));
}

main();
