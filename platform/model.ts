/**
 * The resolved model: what the registry means once it is validated and every default is applied
 * (`resolveRegistry` in `registry/resolution.ts`). The Pulumi program (`infra/`) and the local
 * runtime (`local/`) both realise exactly this, so it holds no Pulumi and no process.
 */
import type { ContainerScaling } from "../functions/runtime/container";
import type { EventCatalog, EventContract } from "../functions/runtime/events";
import type { Migration } from "../functions/runtime/data/migrations";
import type { RouteAuth, RouteHandler, RouteRequest, RouteThrottle, ScheduleHandler, SubscriptionHandler } from "../functions/runtime/service";
import type { ReservationMode } from "./config/stack-config";

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
    /** What its function reserves: the service's `reservedConcurrency` where the stack applies reservations, else none. */
    reservedConcurrency?: number;
    database: boolean;
    auth: RouteAuth;
    /** Scopes a JWT must carry one of; empty: any valid token. */
    scopes: string[];
    /** Route throttling overriding the stack's defaults. */
    throttle?: RouteThrottle;
    /** Whether its handler runs in a unit of work: declared, else by its method (`routeRunsInTransaction`). */
    transaction: boolean;
    handler: RouteHandler;
    /** What the route accepts, checked before its handler runs. */
    request?: RouteRequest;
    /** The service's events, which its handler may publish; undefined when it declares none. */
    events?: EventCatalog;
    /** The service's declared secrets, which its handler may read; empty when it declares none. */
    secrets: string[];
}

/** A function fed by a queue with a dead-letter queue: a subscription's or a schedule's. */
export interface ResolvedQueueConsumer {
    service: string;
    /** The subscription's or schedule's name in its service. */
    name: string;
    /** The function's id in its service, used in resource and log group names: `subscription-<name>`, `schedule-<name>`. */
    id: string;
    description: string;
    memoryMb: number;
    timeoutSeconds: number;
    database: boolean;
    batchSize: number;
    batchWindowSeconds: number;
    /** Deliveries before a message moves to the dead-letter queue: the redrive policy's `maxReceiveCount`. */
    maxAttempts: number;
    /** The mapping's maximum concurrency, and so the function's container (and connection) ceiling. */
    maxConcurrency: number;
    /** The queue's: `minimumVisibilityTimeoutSeconds` of the function's timeout and batching window. */
    visibilityTimeoutSeconds: number;
    /** The service's events, which its handler may publish. */
    events?: EventCatalog;
    /** The service's declared secrets, which its handler may read. */
    secrets: string[];
}

export interface ResolvedSubscription extends ResolvedQueueConsumer {
    kind: "subscription";
    event: EventContract;
    handler: SubscriptionHandler;
}

export interface ResolvedSchedule extends ResolvedQueueConsumer {
    kind: "schedule";
    expression: string;
    timeZone: string;
    retries: number;
    handler: ScheduleHandler;
}

/** Who publishes an event and who takes it. */
export interface EventFlow {
    event: EventContract;
    producer: string;
    subscribers: { service: string; subscription: string }[];
}

/** A service with its routes resolved and its migrations read. */
export interface ResolvedService {
    name: string;
    description: string;
    /** Whether its functions reach the stack's PostgreSQL cluster. */
    database: boolean;
    /** What each of its functions reserves, as its routes have it. */
    reservedConcurrency?: number;
    routes: ResolvedRoute[];
    /** Its versioned SQL, in file order; empty for services without the database. */
    migrations: Migration[];
    /** The events it publishes. */
    events: EventContract[];
    subscriptions: ResolvedSubscription[];
    schedules: ResolvedSchedule[];
    /** The names of the secrets it declares, in declaration order; empty when none. */
    secrets: string[];
}

export interface ResolvedRegistry {
    /** The function services. */
    services: ResolvedService[];
    /** Every route of every function service, in registry order. */
    routes: ResolvedRoute[];
    /** Every subscription of every service, in registry order. */
    subscriptions: ResolvedSubscription[];
    /** Every schedule of every service, in registry order. */
    schedules: ResolvedSchedule[];
    /** Every published event with its subscribers. */
    eventFlows: EventFlow[];
    /** The container services, with the stack's scaling (`platform/containers/resolution.ts`). */
    containers: ResolvedContainerService[];
    /** Every route of the API, function and container routes alike: what authorization and throttling apply to. */
    apiRoutes: (ResolvedRoute | ResolvedContainerRoute)[];
    /** Every service's migrations. */
    migrations: Migration[];
    /** Changes when any migration is added or edited: the cloud re-runs its migration function, the local runtime its runner. */
    migrationSetHash: string;
    /** What the functions reserve of the account's concurrency, the migration function's included. */
    reservations: Reservations;
}

/** What a stack's functions reserve, for the deployment and for the account quota check. */
export interface Reservations {
    mode: ReservationMode;
    /** The migration function's reservation: one run per database service at once; none without migrations or with mode `none`. */
    migrationFunction?: number;
    /** Each service whose functions reserve: how many functions, each reserving `perFunction`. */
    services: { service: string; functions: number; perFunction: number }[];
    /** Every reservation added up. */
    total: number;
}

/**
 * One route a container serves: what one integration and one route are made from. A function
 * route's settings without the function's own (memory, concurrency, handler); `timeoutSeconds` is
 * how long the API waits for the container.
 */
export type ResolvedContainerRoute = Omit<ResolvedRoute, "memoryMb" | "reservedConcurrency" | "database" | "transaction" | "handler" | "secrets">;

export interface ResolvedContainerService {
    name: string;
    description: string;
    database: boolean;
    /** A build context, or an image reference used as it is. */
    image: { context: string; dockerfile: string } | { uri: string };
    port: number;
    cpu: number;
    memoryMb: number;
    healthCheckPath: string;
    /** The `CMD-SHELL` line ECS runs to check the container. */
    healthCheckCommand: string;
    timeoutSeconds: number;
    /** This stack's tasks. */
    scaling: ContainerScaling;
    environment: Record<string, string>;
    readOnlyRootFilesystem: boolean;
    local: { command: string[]; cwd: string };
    routes: ResolvedContainerRoute[];
    migrations: Migration[];
    /** The names of the secrets it declares: its process gets each as an environment variable. */
    secrets: string[];
}
