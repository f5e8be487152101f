/**
 * The one path from the service registry to what runs: the Pulumi program (`infra/program.ts`) and
 * the local runtime (`local/runtime.ts`) both call `resolveRegistry`. Pure code, no Pulumi: it
 * validates the registry (`registry-validation.ts`), applies the defaults (route, then service,
 * then the stack's `functionDefaults`), reads every database service's migrations and hashes the
 * set, so a mistake in a service file stops both the same way, before any resource or process.
 */
import { migrationSetHash, readMigrations, type Migration, type MigrationFolderError } from "../functions/runtime/migrations";
import type { AnyService, RouteAuth, RouteDefinition, RouteHandler, RouteThrottle } from "../functions/runtime/service";
import { PLATFORM_FUNCTION_BOUNDS, type FunctionBounds } from "./function-bounds";
import { routeId } from "./naming";
import { describeService, parseRouteKey, validateRegistry } from "./registry-validation";

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
    services: ResolvedService[];
    /** Every route of every service, in registry order. */
    routes: ResolvedRoute[];
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

/**
 * The services a registry module exports, in the order it lists them: `infra/registry.ts` is one
 * `export { default as <name> } from "../functions/<name>/service"` line per service, so that adding
 * or removing a service is one line. (Its type asks every export to be a service.)
 */
export function servicesOf(registryModule: Readonly<Record<string, AnyService>>): AnyService[] {
    return Object.values(registryModule);
}

export class RegistryError extends Error {
    constructor(readonly problems: string[]) {
        super(`The service registry (infra/registry.ts) is invalid:\n${problems.map((p) => `  - ${p}`).join("\n")}`);
        this.name = "RegistryError";
    }
}

/**
 * Validates `services`, then resolves them with the stack's defaults. Throws a `RegistryError`
 * listing every problem at once, the migration folders' included. `bounds` are what a stack allows
 * a route function (`functionBoundsFor(stack)`: the platform's limits and the stack's policy pack);
 * a stack default outside them is a problem too, naming the routes that would take it.
 */
export function resolveRegistry(services: readonly AnyService[], stackDefaults: FunctionDefaults, bounds: FunctionBounds = PLATFORM_FUNCTION_BOUNDS): ResolvedRegistry {
    const problems = validateRegistry(services, bounds);
    if (problems.length > 0) throw new RegistryError(problems);

    const resolved = services.map((service, index) => {
        const migrations = readServiceMigrations(service, describeService(service, index), problems);
        return {
            name: service.name,
            description: service.description,
            database: service.database,
            ...(service.reservedConcurrency !== undefined ? { reservedConcurrency: service.reservedConcurrency } : {}),
            routes: Object.entries(service.routes as Record<string, RouteDefinition>).map(([routeKey, route]) => resolveRoute(service, routeKey, route, stackDefaults)),
            migrations,
        };
    });
    problems.push(...stackDefaultProblems(services, stackDefaults, bounds));
    if (problems.length > 0) throw new RegistryError(problems);

    const migrations = resolved.flatMap((service) => service.migrations);
    return { services: resolved, routes: resolved.flatMap((service) => service.routes), migrations, migrationSetHash: migrationSetHash(migrations) };
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

/** A stack default outside the stack's bounds, for the routes that set nothing themselves. */
function stackDefaultProblems(services: readonly AnyService[], stackDefaults: FunctionDefaults, bounds: FunctionBounds): string[] {
    const problems: string[] = [];
    for (const field of ["memoryMb", "timeoutSeconds"] as const) {
        const value = stackDefaults[field];
        const bound = bounds[field];
        if (value >= bound.min && value <= bound.max) continue;
        const takers = services.flatMap((service) =>
            Object.entries(service.routes as Record<string, RouteDefinition>)
                .filter(([, route]) => route[field] === undefined && service[field] === undefined)
                .map(([routeKey]) => routeKey),
        );
        if (takers.length > 0) {
            problems.push(
                `the stack's functionDefaults.${field} ${value} is not allowed for routes ${takers.join(", ")}, which set none; use an integer from ${bound.min} to ${bound.max} (${bound.reason}), or set ${field} in their service files`,
            );
        }
    }
    return problems;
}

/** A database service's migrations; a folder that cannot be read or holds a misnamed file is a problem of the registry. */
function readServiceMigrations(service: AnyService, where: string, problems: string[]): Migration[] {
    if (!service.database || service.migrationsDir === undefined) return [];
    try {
        return readMigrations(service.name, service.migrationsDir);
    } catch (error) {
        const code = (error as { code?: string }).code;
        problems.push(
            code === "ENOENT" || code === "ENOTDIR"
                ? `${where}: migrationsDir ${service.migrationsDir} is not a folder; use path.join(__dirname, "migrations") with the folder beside the service file`
                : (error as MigrationFolderError).name === "MigrationFolderError"
                  ? `${where}: ${(error as MigrationFolderError).problem}`
                  : `${where}: migrationsDir ${service.migrationsDir} cannot be read (${(error as Error).message})`,
        );
        return [];
    }
}
