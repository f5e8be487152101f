/**
 * A throwaway embedded PostgreSQL per test file (a copy of an initialised cluster,
 * `postgres-template.ts`), migrated as the local runtime migrates it: each service the test names
 * with its schema and roles, its real migrations in them.
 */
import type { RegisteredService } from "../../functions/runtime/container";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import * as pg from "pg";
import { createDatabase, type Database } from "../../functions/runtime/data/database";
import { applyMigrations, type MigrationResult } from "../../functions/runtime/data/migrations";
import { migrationRunRequest } from "../../platform/data-plan";
import { resolveRegistry } from "../../platform/registry/resolution";
import { readLocalStackConfig } from "../../local/stack-config";
import { startLocalPostgres, type LocalPostgres } from "../../local/postgres";
import { localLogin, loginSecretFile, readOrCreateLoginSecret, type LocalLogin } from "../../local/service-login";
import { seedPostgresDataFolder } from "./postgres-template";

export interface TestPostgres {
    server: LocalPostgres;
    /** The administrator (the superuser), for setup. */
    db: Database;
    /** Runs SQL as the administrator, outside the code under test (setup and assertions). */
    sql<Row = Record<string, unknown>>(text: string, values?: unknown[]): Promise<Row[]>;
    /** The database as a service's functions see it: signed in as its login role (one per service, kept). */
    serviceDb(service: string): Database;
    serviceUrl(service: string): string;
    /** The login roles' passwords, as the local runtime derives them for this data folder. */
    login: LocalLogin;
}

/** Applies `services`' migrations (with their schemas and roles) the way the local runtime does. */
export async function migrateAsLocalRuntime(db: Database, services: readonly RegisteredService[], login: LocalLogin): Promise<MigrationResult> {
    const stack = readLocalStackConfig();
    const registry = resolveRegistry(services, stack.functionDefaults);
    return applyMigrations(db, migrationRunRequest(registry, stack.database.connectionsPerFunction, "password"), registry.migrations, { passwordOf: login.passwordOf });
}

/**
 * Registers before/after hooks that start a fresh PostgreSQL and stop it (files removed), with
 * `services` migrated the way the local runtime does it: a service's tests migrate that service
 * alone, as each service owns its data. None: an empty database, with not even the platform's schema.
 */
export function usePostgres(options: { services?: readonly RegisteredService[] } = {}): () => TestPostgres {
    let state: TestPostgres | undefined;
    let admin: pg.Pool | undefined;
    let dataDir: string;
    const kept = new Map<string, Database>();

    before(async function () {
        this.timeout(60_000);
        dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "pg-test-"));
        // Under root, PostgreSQL runs as the "postgres" user, which must be able to enter the folder.
        fs.chmodSync(dataDir, 0o755);
        await seedPostgresDataFolder(path.join(dataDir, "data"));
        const server = await startLocalPostgres({ dataDir: path.join(dataDir, "data"), persistent: false });
        const login = localLogin(server.url, readOrCreateLoginSecret(loginSecretFile(path.join(dataDir, "data"), true)));
        const db = createDatabase({ connectionString: server.url });
        if (options.services?.length) await migrateAsLocalRuntime(db, options.services, login);
        admin = new pg.Pool({ connectionString: server.url, max: 2 });
        admin.on("error", () => undefined); // idle connections end when the server stops
        const pool = admin;
        state = {
            server,
            db,
            login,
            sql: async (text, values) => (await pool.query(text, values)).rows,
            serviceUrl: (service) => login.serviceDatabaseUrl(service),
            serviceDb: (service) => {
                let database = kept.get(service);
                if (!database) kept.set(service, (database = createDatabase({ connectionString: login.serviceDatabaseUrl(service) })));
                return database;
            },
        };
    });

    after(async function () {
        this.timeout(30_000);
        await Promise.all([...kept.values()].map((database) => database.end()));
        await state?.db.end();
        await admin?.end();
        await state?.server.stop();
        fs.rmSync(dataDir, { recursive: true, force: true });
    });

    return () => {
        if (!state) throw new Error("PostgreSQL is not started yet (use it inside tests or hooks).");
        return state;
    };
}

/**
 * A database whose administrator is what RDS makes the master user: not a superuser, but allowed
 * to create roles (CREATEROLE, as `rds_superuser` grants), owner of the database, and able to grant
 * an `rds_iam` role. Returns its connection string. The local superuser is the other kind of
 * administrator the migration run must work for.
 */
export async function createRdsLikeDatabase(superuserUrl: string, database: string, admin = "app_admin"): Promise<string> {
    const client = new pg.Client({ connectionString: superuserUrl });
    await client.connect();
    try {
        const password = "rds-like-master";
        await client.query(`DO $$ BEGIN CREATE ROLE ${admin} LOGIN CREATEROLE NOSUPERUSER PASSWORD '${password}'; EXCEPTION WHEN duplicate_object THEN NULL; END $$`);
        await client.query("DO $$ BEGIN CREATE ROLE rds_iam NOLOGIN; EXCEPTION WHEN duplicate_object THEN NULL; END $$");
        await client.query(`GRANT rds_iam TO ${admin} WITH ADMIN OPTION`);
        await client.query(`CREATE DATABASE ${database} OWNER ${admin}`);
        const url = new URL(superuserUrl);
        url.username = admin;
        url.password = password;
        url.pathname = `/${database}`;
        return url.toString();
    } finally {
        await client.end();
    }
}

/**
 * Lets `roles` sign in to the embedded PostgreSQL in `dataDir` from this machine without a
 * password, as IAM authentication lets them in on Aurora: a real IAM login cannot be made here, so
 * the token the functions sign is not checked (its form is, in tests/runtime/rds-auth-token.test.ts).
 */
export async function trustRoles(adminUrl: string, dataDir: string, roles: readonly string[]): Promise<void> {
    const file = path.join(dataDir, "pg_hba.conf");
    const lines = roles.map((role) => `host all ${role} 127.0.0.1/32 trust`);
    fs.writeFileSync(file, `${lines.join("\n")}\n${fs.readFileSync(file, "utf8")}`);
    const client = new pg.Client({ connectionString: adminUrl });
    await client.connect();
    try {
        await client.query("SELECT pg_reload_conf()");
    } finally {
        await client.end();
    }
    // The server reloads a moment after the signal. Until then a role is asked for its password;
    // after, it gets in, or (not created yet) is told it does not exist, which only trust reveals.
    const probe = Object.assign(new URL(adminUrl), { username: roles[0], password: "" }).toString();
    for (const deadline = Date.now() + 5_000; ; await new Promise((resolve) => setTimeout(resolve, 50))) {
        const attempt = new pg.Client({ connectionString: probe, password: "not-checked" });
        try {
            await attempt.connect();
            await attempt.end();
            return;
        } catch (error) {
            if (/role ".*" does not exist/.test((error as Error).message)) return;
            if (Date.now() > deadline) throw error;
        }
    }
}
