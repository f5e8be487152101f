/**
 * The database layout of stacks deployed before each service owned its schema, made the way the
 * runner of that release made it: one transaction under the same advisory lock, a
 * `schema_migrations` table in `public` keyed by service and version, every service's files
 * applied in `public` in order of service name then version, all as the user the runner signed in
 * as (the master user in the cloud). The statements are that runner's, kept here verbatim so the
 * move to the per-service layout is tested against what deployed stacks hold.
 */
import type { Queryable } from "../../functions/runtime/database";
import type { Migration } from "../../functions/runtime/migrations";

/** The earlier runner's advisory lock key (the current runner uses the same). */
const LEGACY_LOCK_KEY = 727_401_190;

/** Applies `migrations` as the earlier release did; `tx` is a transaction on the database as its administrator. */
export async function applyLegacyMigrations(tx: Queryable, migrations: readonly Migration[]): Promise<string[]> {
    await tx.query("SELECT pg_advisory_xact_lock($1)", [LEGACY_LOCK_KEY]);
    await tx.query(`CREATE TABLE IF NOT EXISTS schema_migrations (
            service    text        NOT NULL,
            version    integer     NOT NULL,
            name       text        NOT NULL,
            checksum   text        NOT NULL,
            applied_at timestamptz NOT NULL DEFAULT now(),
            PRIMARY KEY (service, version)
        )`);
    const { rows } = await tx.query<{ service: string; version: number }>("SELECT service, version, checksum FROM schema_migrations");
    const recorded = new Set(rows.map((row) => `${row.service}/${row.version}`));
    const ordered = [...migrations].sort((a, b) => a.service.localeCompare(b.service) || a.version - b.version);
    const applied: string[] = [];
    for (const migration of ordered) {
        const key = `${migration.service}/${migration.version}`;
        if (recorded.has(key)) continue;
        await tx.query(migration.sql);
        await tx.query("INSERT INTO schema_migrations (service, version, name, checksum) VALUES ($1, $2, $3, $4)", [
            migration.service,
            migration.version,
            migration.name,
            migration.checksum,
        ]);
        applied.push(`${key}_${migration.name}`);
    }
    return applied;
}
