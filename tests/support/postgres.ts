/**
 * A throwaway embedded PostgreSQL per test file (a copy of an initialised cluster,
 * `testing/postgres-template.ts`), migrated as the local runtime migrates it: each service the test
 * names with its schema and roles, its real migrations in them.
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import * as pg from "pg";
import type { RegisteredService } from "../../functions/runtime/container";
import { createDatabase, type Database } from "../../functions/runtime/data/database";
import { startLocalPostgres, type LocalPostgres } from "../../local/postgres";
import { localLogin, loginSecretFile, readOrCreateLoginSecret, type LocalLogin } from "../../local/service-login";
import { migrateAsLocalRuntime } from "../../testing/postgres";
import { seedPostgresDataFolder } from "../../testing/postgres-template";

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
