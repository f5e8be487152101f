/**
 * The one path from the service registry to what runs: the Pulumi program (`infra/program.ts`) and
 * the local runtime (`local/runtime.ts`) both call `resolveRegistry`. Pure code, no Pulumi: it
 * validates the registry (`validation.ts`), applies the defaults (route, then service,
 * then the stack's `functionDefaults`), decides what each function reserves of the account's
 * concurrency (the stack's `concurrency.reservations`), reads every database service's migrations
 * and hashes the set, so a mistake in a service file stops both the same way, before any resource
 * or process.
 */
import { isContainerService, type ContainerServiceDefinition, type RegisteredService } from "../../functions/runtime/container";
import type { EventCatalog } from "../../functions/runtime/events";
import { migrationSetHash, readMigrations, type Migration, type MigrationFolderError } from "../../functions/runtime/data/migrations";
import type { AnyService, RouteDefinition, ScheduleDefinition, SubscriptionDefinition } from "../../functions/runtime/service";
import { LAMBDA } from "../../policy/lib/limits";
import type { ReservationMode } from "../config/stack-config";
import { resolveContainerService } from "../containers/resolution";
import type { Reservations, ResolvedRegistry, ResolvedService } from "../model";
import { PLATFORM_FUNCTION_BOUNDS, type FunctionBounds } from "../function-bounds";
import type { FunctionDefaults } from "../triggers/defaults";
import { resolveRoute } from "../triggers/route";
import { resolveSchedule } from "../triggers/schedule";
import { resolveSubscription } from "../triggers/subscription";
import { declaredSecrets } from "../secrets";
import { describeService, validateRegistry } from "./validation";

/**
 * The migration function's reservation per database service where a stack reserves concurrency:
 * each database service invokes it on its own (its own stack's `up`, or side by side in one
 * stack), so as many runs as database services may arrive at once; a reservation below that
 * would throttle one service's run into a failed `up`. Its advisory lock serializes the runs'
 * work, so the others wait, each holding one database connection.
 */
export const MIGRATION_RESERVED_CONCURRENCY = 1;

/** What of the stack the resolution needs besides its function defaults. */
export interface StackResolution {
    /** The stack's name: picks a container service's per-stack scaling. @default its default scaling */
    stack?: string;
    /** The stack file's `concurrency.reservations`. @default "registry": the registry's reservations as declared */
    reservations?: ReservationMode;
    /**
     * What the stack allows a route function's memory and timeout (`functionBoundsFor(stack)`: the
     * platform's limits narrowed by the stack's policy pack). @default the platform's limits alone
     */
    bounds?: FunctionBounds;
}

/**
 * The services a registry module exports, in the order it lists them: `infra/registry.ts` is one
 * `export { default as <name> } from "../functions/<name>/service"` line per service, so that adding
 * or removing a service is one line. (Its type asks every export to be a service.)
 */
export function servicesOf<Service extends RegisteredService>(registryModule: Readonly<Record<string, Service>>): Service[] {
    return Object.values(registryModule);
}

export class RegistryError extends Error {
    constructor(readonly problems: string[]) {
        super(`The service registry (infra/registry.ts) is invalid:\n${problems.map((p) => `  - ${p}`).join("\n")}`);
        this.name = "RegistryError";
    }
}

/**
 * Validates `services`, then resolves them with the stack's defaults, its reservation mode (the
 * program and the local runtime pass the stack file's `concurrency.reservations`; without it, the
 * registry's reservations apply as declared), its function bounds (a stack default outside them is
 * a problem too, naming the routes that would take it) and, for a container service's scaling,
 * the stack's name (its own scaling for that stack, else its default). Throws a `RegistryError`
 * listing every problem at once, the migration folders' included.
 */
export function resolveRegistry(services: readonly RegisteredService[], stackDefaults: FunctionDefaults, stackOptions: StackResolution = {}): ResolvedRegistry {
    const { stack, reservations = "registry", bounds = PLATFORM_FUNCTION_BOUNDS } = stackOptions;
    const problems = validateRegistry(services, bounds);
    if (problems.length > 0) throw new RegistryError(problems);

    const where = (service: RegisteredService) => describeService(service, services.indexOf(service));
    const containers = services.filter(isContainerService).map((service) => resolveContainerService(service, stack, readServiceMigrations(service, where(service), problems)));
    const functionServices = services.filter((service): service is AnyService => !isContainerService(service));
    const resolved = functionServices.map((service) => {
        const migrations = readServiceMigrations(service, where(service), problems);
        const reservedConcurrency = reservations === "registry" ? service.reservedConcurrency : undefined;
        return {
            name: service.name,
            description: service.description,
            database: service.database,
            ...(reservedConcurrency !== undefined ? { reservedConcurrency } : {}),
            routes: Object.entries(service.routes as Record<string, RouteDefinition>).map(([routeKey, route]) => resolveRoute(service, routeKey, route, stackDefaults, reservedConcurrency)),
            migrations,
            events: Object.values((service.events ?? {}) as EventCatalog),
            subscriptions: Object.entries((service.subscriptions ?? {}) as Record<string, SubscriptionDefinition>).map(([name, subscription]) => resolveSubscription(service, name, subscription, stackDefaults)),
            schedules: Object.entries((service.schedules ?? {}) as Record<string, ScheduleDefinition>).map(([name, schedule]) => resolveSchedule(service, name, schedule, stackDefaults)),
            secrets: declaredSecrets(service),
        };
    });
    problems.push(...stackDefaultProblems(functionServices, stackDefaults, bounds));
    if (problems.length > 0) throw new RegistryError(problems);

    // One migration set for every service that keeps data, whatever runs it, in registry order.
    const order = services.map((service) => service.name);
    const migrations = [...resolved, ...containers]
        .sort((a, b) => order.indexOf(a.name) - order.indexOf(b.name))
        .flatMap((service) => service.migrations);
    const routes = resolved.flatMap((service) => service.routes);
    const apiRoutes = [...routes, ...containers.flatMap((container) => container.routes)];
    const subscriptions = resolved.flatMap((service) => service.subscriptions);
    return {
        services: resolved,
        routes,
        subscriptions,
        schedules: resolved.flatMap((service) => service.schedules),
        eventFlows: resolved.flatMap((service) =>
            service.events.map((event) => ({
                event,
                producer: service.name,
                subscribers: subscriptions
                    .filter((subscription) => subscription.event.source === service.name && subscription.event.name === event.name)
                    .map((subscription) => ({ service: subscription.service, subscription: subscription.name })),
            })),
        ),
        containers,
        apiRoutes,
        migrations,
        migrationSetHash: migrationSetHash(migrations),
        reservations: reservationsOf(resolved, reservations, migrations.length > 0, [...resolved, ...containers].filter((service) => service.database).length),
    };
}

function reservationsOf(services: readonly ResolvedService[], mode: ReservationMode, hasMigrations: boolean, databaseServices: number): Reservations {
    const reserving = services
        .filter((service) => service.reservedConcurrency !== undefined)
        .map((service) => ({ service: service.name, functions: service.routes.length, perFunction: service.reservedConcurrency! }));
    const migrationFunction = mode === "registry" && hasMigrations ? MIGRATION_RESERVED_CONCURRENCY * databaseServices : undefined;
    const total = reserving.reduce((sum, entry) => sum + entry.functions * entry.perFunction, 0) + (migrationFunction ?? 0);
    return { mode, ...(migrationFunction !== undefined ? { migrationFunction } : {}), services: reserving, total };
}

/**
 * Whether the reservations fit the account: AWS refuses any reservation that would leave less than
 * 100 of the account's concurrency unreserved. `accountLimit` is the quota the stack file states,
 * else AWS's default quota is assumed. Returns the problems, each naming what reserves how much.
 */
export function reservationProblems(reservations: Reservations, accountLimit: number | undefined): string[] {
    if (reservations.total === 0) return [];
    const limit = accountLimit ?? LAMBDA.defaultAccountConcurrency;
    const reservable = Math.max(0, limit - LAMBDA.minimumUnreservedConcurrency);
    if (reservations.total <= reservable) return [];
    const parts = [
        ...reservations.services.map((entry) => `${entry.service}: ${entry.functions} function${entry.functions === 1 ? "" : "s"} x ${entry.perFunction}`),
        ...(reservations.migrationFunction !== undefined ? [`the migration function: ${reservations.migrationFunction}`] : []),
    ];
    const quota = accountLimit !== undefined ? `the account's quota of ${limit} (concurrency.accountLimit)` : `AWS's default quota of ${limit} (set concurrency.accountLimit to your account's)`;
    return [
        `the functions reserve ${reservations.total} concurrent executions (${parts.join("; ")}), but ${quota} less the ` +
            `${LAMBDA.minimumUnreservedConcurrency} AWS keeps unreserved leaves ${reservable}; set concurrency.reservations to none, ` +
            `lower the services' reservedConcurrency, or raise the quota (aws lambda get-account-settings shows it)`,
    ];
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
function readServiceMigrations(service: AnyService | ContainerServiceDefinition, where: string, problems: string[]): Migration[] {
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
