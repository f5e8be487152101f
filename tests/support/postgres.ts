/** A throwaway embedded PostgreSQL per test file, migrated with the migrations of the services it tests. */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import * as pg from "pg";
import { createDatabase, type Database } from "../../functions/runtime/database";
import { applyMigrations } from "../../functions/runtime/migrations";
import type { AnyService } from "../../functions/runtime/service";
import { resolveRegistry } from "../../infra/registry-resolution";
import { readLocalStackConfig } from "../../local/stack-config";
import { startLocalPostgres, type LocalPostgres } from "../../local/postgres";

export interface TestPostgres {
    server: LocalPostgres;
    db: Database;
    /** Runs SQL outside the code under test (setup and assertions). */
    sql<Row = Record<string, unknown>>(text: string, values?: unknown[]): Promise<Row[]>;
}

/**
 * Registers before/after hooks that start a fresh PostgreSQL and stop it (files removed), with the
 * migrations of `services` applied: a service's tests migrate that service alone, as each service
 * owns its data. None: an empty database.
 */
export function usePostgres(services: readonly AnyService[] = []): () => TestPostgres {
    let state: TestPostgres | undefined;
    let admin: pg.Pool | undefined;
    let dataDir: string;

    before(async function () {
        this.timeout(60_000);
        dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "pg-test-"));
        // Under root, PostgreSQL runs as the "postgres" user, which must be able to enter the folder.
        fs.chmodSync(dataDir, 0o755);
        const server = await startLocalPostgres({ dataDir: path.join(dataDir, "data"), persistent: false });
        const db = createDatabase({ connectionString: server.url });
        if (services.length > 0) {
            await applyMigrations(db, resolveRegistry(services, readLocalStackConfig().functionDefaults).migrations);
        }
        admin = new pg.Pool({ connectionString: server.url, max: 2 });
        admin.on("error", () => undefined); // idle connections end when the server stops
        const pool = admin;
        state = { server, db, sql: async (text, values) => (await pool.query(text, values)).rows };
    });

    after(async function () {
        this.timeout(30_000);
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
