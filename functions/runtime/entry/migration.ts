/**
 * The migration run: invoked with a `MigrationRunRequest` (the schemas, roles and limits of every
 * database service), it applies the migrations it holds.
 */
import type { DatabaseOptions } from "../data/database";
import { parseMigrationRunRequest, runMigrations, type Migration, type MigrationResult, type MigrationRunOptions } from "../data/migrations";

export interface MigrationProvider {
    /** The cluster as its master user, read at each run (the master secret rotates). */
    database: () => DatabaseOptions;
    /** How login roles sign in. @default IAM authentication */
    options?: MigrationRunOptions;
}

export function createMigrationEntry(migrations: readonly Migration[], provider: MigrationProvider): (event: unknown) => Promise<MigrationResult> {
    return async (event) => runMigrations(provider.database(), parseMigrationRunRequest(event), migrations, provider.options);
}
