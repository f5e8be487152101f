/**
 * Loads the service registry for the local runtime, validated by the same code the Pulumi program
 * uses (so a registry mistake fails here too, with the same message), and reloads it from disk in
 * watch mode.
 */
import * as path from "node:path";
import type { AnyService } from "../functions/runtime/service";
import { migrationSetHash, readMigrations, type Migration } from "../functions/runtime/migrations";
import { resolveRegistry, type ResolvedRoute } from "../infra/registry-validation";
import { REPOSITORY_ROOT } from "./stack-config";

const FUNCTIONS_DIR = path.join(REPOSITORY_ROOT, "functions") + path.sep;
const REGISTRY_MODULE = path.join(REPOSITORY_ROOT, "infra", "registry");

/**
 * Requires `infra/registry.ts` afresh: the service modules and the registry are dropped from the
 * require cache first, so edited handlers are read again. The runtime helpers under `functions/`
 * are reloaded with them, so a handler and the wrapper never come from two versions of a file.
 */
export function loadRegistry(): readonly AnyService[] {
    for (const file of Object.keys(require.cache)) {
        if (file.startsWith(FUNCTIONS_DIR) || file.startsWith(REGISTRY_MODULE)) delete require.cache[file];
    }
    return (require(REGISTRY_MODULE) as typeof import("../infra/registry")).services;
}

export interface LocalRegistry {
    services: readonly AnyService[];
    routes: ResolvedRoute[];
    migrations: Migration[];
    /** Changes when any migration file is added or edited. */
    migrationHash: string;
}

/** Validates `services` with the stack's defaults and reads every service's migrations. */
export function resolveLocalRegistry(
    services: readonly AnyService[],
    defaults: { memoryMb: number; timeoutSeconds: number },
): LocalRegistry {
    const routes = resolveRegistry(services, defaults);
    const migrations = services.flatMap((service) =>
        service.database && service.migrationsDir ? readMigrations(service.name, service.migrationsDir) : [],
    );
    return { services, routes, migrations, migrationHash: migrationSetHash(migrations) };
}
