/**
 * Versioned SQL migrations, one folder per service (`functions/<service>/migrations/0001_name.sql`).
 * The same runner applies them in the cloud (a migration function invoked during `pulumi up`) and
 * locally (at start of the local runtime): pending files in order, all in one transaction, each
 * recorded with a checksum so that editing an applied file is caught instead of silently skipped.
 *
 * **Order.** Each service's files apply in version order. Services are independent of each other:
 * the runner goes through them by service name, but that order is not a contract, and a migration
 * must never rely on another service's tables (a new service whose name sorts first would find
 * them missing on a fresh database, and each service is to get a schema of its own). Services share
 * data through their APIs, never through joins or foreign keys across services.
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
    /** Where the file is, for messages: relative to the repository when it is inside it. */
    file: string;
    sql: string;
    checksum: string;
}

export interface MigrationResult {
    applied: string[];
    alreadyApplied: number;
}

const FILE_NAME = /^(\d{4})_([a-z0-9_]+)\.sql$/;

// Only for naming files in messages; never read inside a deployed function.
const REPOSITORY_ROOT = path.resolve(__dirname, "..", "..");

export function sha256(text: string): string {
    return createHash("sha256").update(text).digest("hex");
}

/** The file name a migration has: `0001_create_users.sql`. */
export function migrationFileName(version: number, name: string): string {
    return `${String(version).padStart(4, "0")}_${name}.sql`;
}

function displayPath(file: string): string {
    const relative = path.relative(REPOSITORY_ROOT, file);
    return relative.startsWith("..") || path.isAbsolute(relative) ? file : relative;
}

/** A migration folder that cannot be used as it is; `problem` is the message without the service. */
export class MigrationFolderError extends Error {
    constructor(
        service: string,
        readonly problem: string,
    ) {
        super(`Service "${service}": ${problem}`);
        this.name = "MigrationFolderError";
    }
}

/** Reads a service's migration folder. Files that do not match `NNNN_name.sql` are an error, not ignored. */
export function readMigrations(service: string, directory: string): Migration[] {
    const migrations = fs
        .readdirSync(directory)
        .sort()
        .map((file) => {
            const match = FILE_NAME.exec(file);
            if (!match) {
                throw new MigrationFolderError(service, `migration file "${file}" must be named NNNN_name.sql (e.g. 0001_create_users.sql).`);
            }
            const fullPath = path.join(directory, file);
            const sql = fs.readFileSync(fullPath, "utf8");
            return { service, version: Number(match[1]), name: match[2], file: displayPath(fullPath), sql, checksum: sha256(sql) };
        });
    const versions = new Set<number>();
    for (const migration of migrations) {
        if (versions.has(migration.version)) {
            throw new MigrationFolderError(service, `two migrations share version ${migration.version}.`);
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

/** `position` (PostgreSQL's 1-based character offset into the statement text) as line and column of `sql`. */
export function lineAndColumn(sql: string, position: number): { line: number; column: number } {
    const before = Array.from(sql).slice(0, Math.max(0, position - 1));
    let line = 1;
    let column = 1;
    for (const character of before) {
        if (character === "\n") {
            line++;
            column = 1;
        } else {
            column++;
        }
    }
    return { line, column };
}

/**
 * A failed migration's message: the file with the line and column PostgreSQL points at (when it
 * does: `file.sql:3:10`, which editors and terminals open there), the service, and PostgreSQL's own words.
 */
function migrationFailure(migration: Migration, error: unknown): Error {
    const { message, position, detail, hint, code } = error as { message?: string; position?: string; detail?: string; hint?: string; code?: string };
    const at = position !== undefined && Number.isInteger(Number(position)) ? lineAndColumn(migration.sql, Number(position)) : undefined;
    const where = at ? `${migration.file}:${at.line}:${at.column}` : migration.file;
    const extra = [detail && `detail: ${detail}`, hint && `hint: ${hint}`, code && `SQLSTATE ${code}`].filter(Boolean).join("; ");
    return new Error(
        `Migration ${where} of service "${migration.service}" (version ${migration.version}) failed: ${message ?? String(error)}` +
            (extra ? ` (${extra})` : "") +
            ". Nothing of this run was applied.",
        { cause: error },
    );
}

/**
 * Applies the pending migrations. Safe to run again and from two places at once: an advisory lock
 * serializes runners, and recorded versions are skipped. Refused before anything runs: an applied
 * file that was edited, and an applied file that is gone from a service that still has migrations.
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
        const { rows } = await tx.query<{ service: string; version: number; name: string; checksum: string; appliedAt: Date }>(
            `SELECT service, version, name, checksum, applied_at AS "appliedAt" FROM schema_migrations ORDER BY service, version`,
        );
        const recorded = new Map(rows.map((row) => [`${row.service}/${row.version}`, row]));
        const present = new Set(migrations.map((migration) => `${migration.service}/${migration.version}`));

        // A service no longer in the registry keeps its rows (and its tables): only the files of
        // services that still have migrations are expected to be there.
        for (const row of rows) {
            const siblings = migrations.filter((migration) => migration.service === row.service);
            if (siblings.length === 0 || present.has(`${row.service}/${row.version}`)) continue;
            const file = path.posix.join(path.posix.dirname(siblings[0].file.split(path.sep).join("/")), migrationFileName(row.version, row.name));
            throw new Error(
                `Migration ${file} of service "${row.service}" (version ${row.version}) was applied on ${new Date(row.appliedAt).toISOString()} but its file is gone. ` +
                    "Restore it: an applied migration stays, and undoing one is a new migration.",
            );
        }

        const ordered = [...migrations].sort((a, b) => a.service.localeCompare(b.service) || a.version - b.version);
        const applied: string[] = [];
        for (const migration of ordered) {
            const key = `${migration.service}/${migration.version}`;
            const checksum = recorded.get(key)?.checksum;
            if (checksum !== undefined) {
                if (checksum !== migration.checksum) {
                    throw new Error(
                        `Migration ${key} (${migration.name}, ${migration.file}) was edited after it was applied. Add a new migration instead.`,
                    );
                }
                continue;
            }
            // One transaction for the whole run: every pending file applies, or none does.
            try {
                await tx.query(migration.sql);
            } catch (error) {
                throw migrationFailure(migration, error);
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
