/**
 * The migration run: invoked with one service's `ServiceMigrationRequest` (its schema, roles,
 * limits and migrations), it applies that service's pending migrations. It holds no service's SQL.
 */
import type { DatabaseOptions } from "../data/database";
import { parseServiceMigrationRequest, runServiceMigration, type MigrationResult, type MigrationRunOptions } from "../data/migrations";

export interface MigrationProvider {
    /** The cluster as its master user, read at each run (the master secret rotates). */
    database: () => DatabaseOptions;
    /** How login roles sign in. @default IAM authentication */
    options?: MigrationRunOptions;
}

export function createMigrationEntry(provider: MigrationProvider): (event: unknown) => Promise<MigrationResult> {
    // Checked before the master secret is read: a malformed payload changes nothing and says what is missing.
    return async (event) => {
        const request = parseServiceMigrationRequest(event);
        return runServiceMigration(provider.database(), request, provider.options);
    };
}
