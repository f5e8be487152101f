/**
 * What each database service gets in PostgreSQL on a stack, decided once from the resolved
 * registry and the stack's settings: the program hands it to the migration function (its
 * invocation input), the local runtime to its own migration run, the plan shows it and the
 * policy pack checks it. Pure code, no Pulumi.
 */
import { statementTimeoutFor } from "../functions/runtime/data/database";
import type { MigrationRunRequest } from "../functions/runtime/data/migrations";
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
