/**
 * Versioned SQL migrations, one folder per service (`functions/<service>/migrations/0001_name.sql`).
 * The same runner applies them in the cloud (a migration function invoked during `pulumi up`) and
 * locally (at start of the local runtime): pending files in order, all in one transaction, each
 * recorded with a checksum so that editing an applied file is caught instead of silently skipped.
 */
import { createHash } from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import { createDatabase, type Database, type DatabaseOptions } from "./database";

export interface Migration {
    service: string;
    /** The number the file name starts with; applied in ascending order per service. */
    version: number;
    name: string;
    sql: string;
    checksum: string;
}

export interface MigrationResult {
    applied: string[];
    alreadyApplied: number;
}

const FILE_NAME = /^(\d{4})_([a-z0-9_]+)\.sql$/;

export function sha256(text: string): string {
    return createHash("sha256").update(text).digest("hex");
}

/** Reads a service's migration folder. Files that do not match `NNNN_name.sql` are an error, not ignored. */
export function readMigrations(service: string, directory: string): Migration[] {
    const migrations = fs
        .readdirSync(directory)
        .sort()
        .map((file) => {
            const match = FILE_NAME.exec(file);
            if (!match) {
                throw new Error(`Service "${service}": migration file "${file}" must be named NNNN_name.sql (e.g. 0001_create_users.sql).`);
            }
            const sql = fs.readFileSync(path.join(directory, file), "utf8");
            return { service, version: Number(match[1]), name: match[2], sql, checksum: sha256(sql) };
        });
    const versions = new Set<number>();
    for (const migration of migrations) {
        if (versions.has(migration.version)) {
            throw new Error(`Service "${service}": two migrations share version ${migration.version}.`);
        }
        versions.add(migration.version);
    }
    return migrations;
}

/** One hash over a set of migrations: the cloud re-runs the migration function when it changes. */
export function migrationSetHash(migrations: readonly Migration[]): string {
    return sha256(migrations.map((m) => `${m.service}/${m.version}/${m.checksum}`).join("\n"));
}

/**
 * How long one migration run may take, in seconds: the migration function's timeout in the cloud
 * (it runs outside the HTTP API, so the route timeout does not bind it), and locally the same
 * bound on its statements.
 */
export const MIGRATION_TIMEOUT_SECONDS = 300;

// Any constant works; it only has to be the same for every runner so that two never interleave.
const MIGRATION_LOCK_KEY = 727_401_190;

/**
 * Applies the pending migrations. Safe to run again and from two places at once: an advisory lock
 * serializes runners, and recorded versions are skipped.
 */
export async function applyMigrations(db: Database, migrations: readonly Migration[]): Promise<MigrationResult> {
    return db.transaction(async (tx) => {
        await tx.query("SELECT pg_advisory_xact_lock($1)", [MIGRATION_LOCK_KEY]);
        await tx.query(`CREATE TABLE IF NOT EXISTS schema_migrations (
            service    text        NOT NULL,
            version    integer     NOT NULL,
            name       text        NOT NULL,
            checksum   text        NOT NULL,
            applied_at timestamptz NOT NULL DEFAULT now(),
            PRIMARY KEY (service, version)
        )`);
        const { rows } = await tx.query<{ service: string; version: number; checksum: string }>(
            "SELECT service, version, checksum FROM schema_migrations",
        );
        const recorded = new Map(rows.map((row) => [`${row.service}/${row.version}`, row.checksum]));

        const ordered = [...migrations].sort((a, b) => a.service.localeCompare(b.service) || a.version - b.version);
        const applied: string[] = [];
        for (const migration of ordered) {
            const key = `${migration.service}/${migration.version}`;
            const checksum = recorded.get(key);
            if (checksum !== undefined) {
                if (checksum !== migration.checksum) {
                    throw new Error(
                        `Migration ${key} (${migration.name}) was edited after it was applied. Add a new migration instead.`,
                    );
                }
                continue;
            }
            // One transaction for the whole run: every pending file applies, or none does.
            try {
                await tx.query(migration.sql);
            } catch (error) {
                throw new Error(`Migration ${key}_${migration.name} failed: ${(error as Error).message}`);
            }
            await tx.query("INSERT INTO schema_migrations (service, version, name, checksum) VALUES ($1, $2, $3, $4)", [
                migration.service,
                migration.version,
                migration.name,
                migration.checksum,
            ]);
            applied.push(`${key}_${migration.name}`);
        }
        return { applied, alreadyApplied: ordered.length - applied.length };
    });
}

/**
 * One migration run over a connection of its own, closed afterwards: the whole job of the cloud's
 * migration function (settings from its environment) and of the local runtime at start (its
 * connection string).
 */
export async function runMigrations(settings: DatabaseOptions, migrations: readonly Migration[]): Promise<MigrationResult> {
    const db = createDatabase(settings);
    try {
        return await applyMigrations(db, migrations);
    } finally {
        await db.end();
    }
}
