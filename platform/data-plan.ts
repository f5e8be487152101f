/**
 * What each database service gets in PostgreSQL on a stack, decided once from the resolved
 * registry and the stack's settings: the program hands it to the migration function (its
 * invocation input), the local runtime to its own migration run, the plan shows it and the
 * policy pack checks it. Pure code, no Pulumi.
 */
import { statementTimeoutFor } from "../functions/runtime/data/database";
import { migrationSetHash, type MigrationRunRequest, type ServiceMigrationRequest } from "../functions/runtime/data/migrations";
import { MIGRATION_WORKER_ENVELOPE_BYTES } from "../functions/runtime/data/migration-worker";
import { LAMBDA } from "../policy/lib/limits";
import { RELAY_CONNECTION_CEILING } from "../functions/runtime/outbox/relay";
import { serviceRoles, serviceSchema, type LoginMethod, type ServiceData } from "../functions/runtime/data/service-data";
import type { ResolvedContainerService, ResolvedQueueConsumer, ResolvedRegistry, ResolvedRoute, ResolvedService } from "./model";

/**
 * The most containers one function runs at once, and so the most database connections it holds
 * (one per container): its reserved concurrency where the stack reserves it, else the stack's
 * `database.connectionsPerFunction`. The role's connection limit, the local runtime's container
 * ceiling and the connection budget all come from here.
 */
export function functionConcurrencyCeiling(route: Pick<ResolvedRoute, "reservedConcurrency">, connectionsPerFunction: number): number {
    return route.reservedConcurrency ?? connectionsPerFunction;
}

/**
 * A queue consumer's container ceiling: its mapping's maximum concurrency, which caps its
 * invocations whatever the stack reserves (consumers reserve nothing: a reservation below the
 * mapping's concurrency only throttles the poller).
 */
export function consumerConcurrencyCeiling(consumer: Pick<ResolvedQueueConsumer, "maxConcurrency">): number {
    return consumer.maxConcurrency;
}

/** A database service's schema, roles and limits on a stack: its routes' and its queue consumers' connections added up. */
export function serviceData(service: Pick<ResolvedService, "name" | "routes"> & Partial<Pick<ResolvedService, "subscriptions" | "schedules" | "events">>, connectionsPerFunction: number): ServiceData {
    const { owner, login } = serviceRoles(service.name);
    const databaseRoutes = service.routes.filter((route) => route.database);
    const consumers = [...(service.subscriptions ?? []), ...(service.schedules ?? [])].filter((consumer) => consumer.database);
    const longestTimeoutSeconds = Math.max(1, ...databaseRoutes.map((route) => route.timeoutSeconds), ...consumers.map((consumer) => consumer.timeoutSeconds));
    return {
        service: service.name,
        schema: serviceSchema(service.name),
        ownerRole: owner,
        loginRole: login,
        connectionLimit:
            databaseRoutes.reduce((total, route) => total + functionConcurrencyCeiling(route, connectionsPerFunction), 0) +
            consumers.reduce((total, consumer) => total + consumerConcurrencyCeiling(consumer), 0) +
            // A service that publishes from its database has an outbox relay too.
            ((service.events ?? []).length > 0 ? RELAY_CONNECTION_CEILING : 0),
        statementTimeoutMs: statementTimeoutFor(longestTimeoutSeconds),
    };
}

/**
 * A container service's schema, roles and limits: like a function service's, with each task as one
 * "function" that may hold `connectionsPerFunction` connections, at its stack's most tasks.
 */
export function containerServiceData(service: Pick<ResolvedContainerService, "name" | "timeoutSeconds" | "scaling">, connectionsPerFunction: number): ServiceData {
    const { owner, login } = serviceRoles(service.name);
    return {
        service: service.name,
        schema: serviceSchema(service.name),
        ownerRole: owner,
        loginRole: login,
        connectionLimit: Math.max(1, service.scaling.maxTasks) * connectionsPerFunction,
        statementTimeoutMs: statementTimeoutFor(service.timeoutSeconds),
    };
}

/** The migration run's request for a registry: every database service's data settings, function and container services alike. */
export function migrationRunRequest(
    registry: Pick<ResolvedRegistry, "services" | "migrationSetHash"> & Partial<Pick<ResolvedRegistry, "containers">>,
    connectionsPerFunction: number,
    login: LoginMethod,
): MigrationRunRequest {
    return {
        migrationSetHash: registry.migrationSetHash,
        services: [
            ...registry.services.filter((service) => service.database).map((service) => serviceData(service, connectionsPerFunction)),
            ...(registry.containers ?? []).filter((service) => service.database).map((service) => containerServiceData(service, connectionsPerFunction)),
        ],
        login,
    };
}

/**
 * Each database service's migration request, in registry order (function services, then container
 * services): its schema, roles and limits, its own migrations and their hash, nothing of another
 * service. The program sends each as the input of that service's own invocation of the migration
 * function, so a change to one service's SQL or limits re-runs that service's migrations alone.
 */
export function serviceMigrationRequests(
    registry: Pick<ResolvedRegistry, "services"> & Partial<Pick<ResolvedRegistry, "containers">>,
    connectionsPerFunction: number,
    login: LoginMethod,
): ServiceMigrationRequest[] {
    const request = (service: ServiceData, migrations: ServiceMigrationRequest["migrations"]): ServiceMigrationRequest => ({ migrationSetHash: migrationSetHash(migrations), service, migrations, login });
    return [
        ...registry.services.filter((service) => service.database).map((service) => request(serviceData(service, connectionsPerFunction), service.migrations)),
        ...(registry.containers ?? []).filter((service) => service.database).map((service) => request(containerServiceData(service, connectionsPerFunction), service.migrations)),
    ];
}

/**
 * The bytes a migration request takes in the larger of its two synchronous invocations: the
 * worker's, whose payload is the request's JSON (as the program sends it to the launcher) with
 * the master user's credentials around it.
 */
export function migrationPayloadBytes(request: ServiceMigrationRequest): number {
    return Buffer.byteLength(JSON.stringify(request), "utf8") + MIGRATION_WORKER_ENVELOPE_BYTES;
}

/**
 * The services whose migrations do not fit one synchronous invocation (Lambda refuses a request
 * payload over `LAMBDA.payloadBytes`, 6 MB), each naming the service, its size and what to do.
 */
export function migrationPayloadProblems(requests: readonly ServiceMigrationRequest[]): string[] {
    return requests.flatMap((request) => {
        const bytes = migrationPayloadBytes(request);
        if (bytes <= LAMBDA.payloadBytes) return [];
        const largest = [...request.migrations].sort((a, b) => b.sql.length - a.sql.length)[0];
        return [
            `service "${request.service.service}": its migrations make a ${bytes}-byte migration payload, over the ${LAMBDA.payloadBytes} bytes (6 MB) Lambda accepts in one synchronous invocation` +
                `${largest ? ` (the largest is ${largest.file}, ${Buffer.byteLength(largest.sql, "utf8")} bytes)` : ""}; load bulk data at run time instead of in migrations.`,
        ];
    });
}

/**
 * What is wrong when the services' login roles together may hold more connections than the
 * cluster allows: under load the last to connect would be refused, whichever service it is.
 */
export function connectionBudgetProblems(services: readonly Pick<ServiceData, "loginRole" | "connectionLimit">[], budget: { connections: number; reason: string }): string[] {
    const total = services.reduce((sum, service) => sum + service.connectionLimit, 0);
    if (services.length === 0 || total <= budget.connections) return [];
    return [
        `the services' database roles may hold ${total} connections together (${services.map((service) => `${service.loginRole} ${service.connectionLimit}`).join(", ")}), ` +
            `more than the ${budget.connections} the cluster allows (${budget.reason}); lower a service's reservedConcurrency or database.connectionsPerFunction, or raise database.maxCapacity`,
    ];
}
