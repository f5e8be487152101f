/**
 * The one path from the service registry to what runs: the Pulumi program (`infra/program.ts`) and
 * the local runtime (`local/runtime.ts`) both call `resolveRegistry`. Pure code, no Pulumi: it
 * validates the registry (`registry-validation.ts`), applies the defaults (route, then service,
 * then the stack's `functionDefaults`), reads every database service's migrations and hashes the
 * set, so a mistake in a service file stops both the same way, before any resource or process.
 */
import { isContainerService, type ContainerServiceDefinition, type RegisteredService } from "../functions/runtime/container";
import { migrationSetHash, readMigrations, type Migration } from "../functions/runtime/migrations";
import type { AnyService, RouteAuth, RouteDefinition, RouteHandler, RouteThrottle } from "../functions/runtime/service";
import { resolveContainerService, type ResolvedContainerRoute, type ResolvedContainerService } from "./container-resolution";
import { routeId } from "./naming";
import { parseRouteKey, validateRegistry } from "./registry-validation";

/** A route with every setting decided: what one Lambda function, integration and route are made from. */
export interface ResolvedRoute {
    service: string;
    routeKey: string;
    method: string;
    path: string;
    /** Lower-case, dash-separated id unique within the service, used in resource names (`get-users-id`). */
    id: string;
    description: string;
    memoryMb: number;
    timeoutSeconds: number;
    reservedConcurrency?: number;
    database: boolean;
    auth: RouteAuth;
    /** Scopes a JWT must carry one of; empty: any valid token. */
    scopes: string[];
    /** Route throttling overriding the stack's defaults. */
    throttle?: RouteThrottle;
    handler: RouteHandler;
}

/** A service with its routes resolved and its migrations read. */
export interface ResolvedService {
    name: string;
    description: string;
    /** Whether its functions reach the stack's PostgreSQL cluster. */
    database: boolean;
    reservedConcurrency?: number;
    routes: ResolvedRoute[];
    /** Its versioned SQL, in file order; empty for services without the database. */
    migrations: Migration[];
}

export interface ResolvedRegistry {
    /** The function services. */
    services: ResolvedService[];
    /** Every route of every function service, in registry order. */
    routes: ResolvedRoute[];
    /** The container services, with the stack's scaling (`container-resolution.ts`). */
    containers: ResolvedContainerService[];
    /** Every route of the API, function and container routes alike: what authorization and throttling apply to. */
    apiRoutes: (ResolvedRoute | ResolvedContainerRoute)[];
    /** Every service's migrations. */
    migrations: Migration[];
    /** Changes when any migration is added or edited: the cloud re-runs its migration function, the local runtime its runner. */
    migrationSetHash: string;
}

/** Memory and timeout for functions whose service and route set neither (`functionDefaults` in the stack file). */
export interface FunctionDefaults {
    memoryMb: number;
    timeoutSeconds: number;
}

export class RegistryError extends Error {
    constructor(readonly problems: string[]) {
        super(`The service registry (infra/registry.ts) is invalid:\n${problems.map((p) => `  - ${p}`).join("\n")}`);
        this.name = "RegistryError";
    }
}

/**
 * Validates `services`, then resolves them with the stack's defaults (a container service's
 * scaling: `stack`'s own, else its default). Throws a `RegistryError` listing every problem at
 * once, the migration folders' included.
 */
export function resolveRegistry(services: readonly RegisteredService[], stackDefaults: FunctionDefaults, stack?: string): ResolvedRegistry {
    const problems = validateRegistry(services);
    if (problems.length > 0) throw new RegistryError(problems);

    const containers = services.filter(isContainerService).map((service) => resolveContainerService(service, stack, readServiceMigrations(service, problems)));
    const resolved = services.filter((service): service is AnyService => !isContainerService(service)).map((service) => {
        const migrations = readServiceMigrations(service, problems);
        return {
            name: service.name,
            description: service.description,
            database: service.database,
            ...(service.reservedConcurrency !== undefined ? { reservedConcurrency: service.reservedConcurrency } : {}),
            routes: Object.entries(service.routes as Record<string, RouteDefinition>).map(([routeKey, route]) => resolveRoute(service, routeKey, route, stackDefaults)),
            migrations,
        };
    });
    if (problems.length > 0) throw new RegistryError(problems);

    // One migration set for every service that keeps data, whatever runs it, in registry order.
    const order = services.map((service) => service.name);
    const migrations = [...resolved, ...containers]
        .sort((a, b) => order.indexOf(a.name) - order.indexOf(b.name))
        .flatMap((service) => service.migrations);
    const routes = resolved.flatMap((service) => service.routes);
    const apiRoutes = [...routes, ...containers.flatMap((container) => container.routes)];
    return { services: resolved, routes, containers, apiRoutes, migrations, migrationSetHash: migrationSetHash(migrations) };
}

function resolveRoute(service: AnyService, routeKey: string, route: RouteDefinition, stackDefaults: FunctionDefaults): ResolvedRoute {
    const { method, path } = parseRouteKey(routeKey)!;
    return {
        service: service.name,
        routeKey,
        method,
        path,
        id: routeId(method, path),
        description: route.description ?? service.description,
        memoryMb: route.memoryMb ?? service.memoryMb ?? stackDefaults.memoryMb,
        timeoutSeconds: route.timeoutSeconds ?? service.timeoutSeconds ?? stackDefaults.timeoutSeconds,
        reservedConcurrency: service.reservedConcurrency,
        database: service.database,
        auth: route.auth ?? "none",
        scopes: route.scopes ?? [],
        throttle: route.throttle,
        handler: route.handler,
    };
}

/** A database service's migrations; a folder that cannot be read or holds a misnamed file is a problem of the registry. */
function readServiceMigrations(service: AnyService | ContainerServiceDefinition, problems: string[]): Migration[] {
    if (!service.database || service.migrationsDir === undefined) return [];
    try {
        return readMigrations(service.name, service.migrationsDir);
    } catch (error) {
        const code = (error as { code?: string }).code;
        problems.push(
            code === "ENOENT" || code === "ENOTDIR"
                ? `service "${service.name}": migrationsDir ${service.migrationsDir} is not a folder`
                : (error as Error).message,
        );
        return [];
    }
}
