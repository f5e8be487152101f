/**
 * The contract between a service and the platform: what a service declares, what its handlers
 * receive and what they may return. Nothing here (or anywhere under `functions/`) imports Pulumi:
 * the same definitions run inside Lambda, in the local runtime and in tests.
 */
import { callerFile } from "./caller-file";
import type { Database } from "./data/database";
import type { EventPublisher } from "./outbox/publisher";
import type { EventCatalog, EventContract } from "./events";
import type { Logger } from "./logger";
import type { ScheduledRun } from "./queue/schedule-input";
import type { ServiceSecrets } from "./secrets/secrets";
import type { Check, Parsed, Shape } from "./validate";

/** HTTP methods an HTTP API route may declare (`ANY` matches every method). */
export const HTTP_METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS", "ANY"] as const;
export type HttpMethod = (typeof HTTP_METHODS)[number];

/** A route key as API Gateway writes it: `"METHOD /path"`, path parameters as `{name}`. */
export type RouteKey = `${HttpMethod} /${string}`;

/** The request a handler sees: an API Gateway v2 (payload 2.0) event, parsed and typed. */
export interface ApiRequest {
    /** The route key that matched, e.g. `"GET /users/{id}"`. */
    readonly routeKey: string;
    /** Upper-case HTTP method of the request. */
    readonly method: string;
    /** The raw request path, e.g. `/users/42`. */
    readonly path: string;
    /** Path parameters of the route, e.g. `{ id: "42" }`. */
    readonly pathParameters: Readonly<Record<string, string>>;
    /** Query parameters; a repeated parameter arrives joined with commas, as API Gateway sends it. */
    readonly query: Readonly<Record<string, string>>;
    /** Request headers with lower-case names. */
    readonly headers: Readonly<Record<string, string>>;
    /** Cookies by name. */
    readonly cookies: Readonly<Record<string, string>>;
    /**
     * The body parsed as JSON when the request declares a JSON content type or none; `undefined`
     * when there is no body. Reading a body that is not valid JSON throws a 400 for the client.
     */
    readonly body: unknown;
    /**
     * The body as text (base64 bodies decoded), for handlers that take other content types. Reading
     * a base64 body that is not valid UTF-8 throws a 400 for the client.
     */
    readonly rawBody: string | undefined;
    /** The API Gateway request id; every log line and error response carries it. */
    readonly requestId: string;
    /** Verified JWT claims when the route is protected by an authorizer. */
    readonly claims?: Readonly<Record<string, unknown>>;
    /**
     * What the route's `request` declares, checked and parsed before the handler runs (path and
     * query read from their text, the body as sent); a part the route does not declare is undefined.
     */
    readonly input?: RouteInput;
}

/** The parsed parts of a request that its route's `request` declares. */
export interface RouteInput {
    readonly path?: Record<string, unknown>;
    readonly query?: Record<string, unknown>;
    readonly body?: Record<string, unknown>;
}

/** The parsed values of one part of a declared request: undefined when the route does not declare it. */
type DeclaredPart<Request, Part extends keyof RouteRequest> = Part extends keyof Request ? (Request[Part] extends Shape ? Parsed<Request[Part]> : undefined) : undefined;

/** The request a route's handler sees, its `input` typed by the route's `request`. */
export type TypedApiRequest<Request> = Omit<ApiRequest, "input"> & {
    // `any` (a route of `AnyService`): any route's input.
    readonly input: 0 extends 1 & Request ? any : { readonly path: DeclaredPart<Request, "path">; readonly query: DeclaredPart<Request, "query">; readonly body: DeclaredPart<Request, "body"> };
};

/**
 * What a handler returns: a full response; `undefined` (nothing), sent as 204 No Content; or any
 * other value, sent as 200 JSON (the 2.0 shortcut).
 */
export interface ApiResponse {
    statusCode: number;
    headers?: Record<string, string>;
    cookies?: string[];
    /** Serialized as JSON unless it is a string or a Buffer (sent base64-encoded). */
    body?: unknown;
}

/**
 * What every handler gets besides its request, event or run. `db` is there only for services that
 * use the database; `events` publishes the service's own events (its `events`).
 */
export interface HandlerContext<UsesDatabase extends boolean = boolean, Published extends EventCatalog = EventCatalog, Secret extends string = string> {
    readonly log: Logger;
    /**
     * The API Gateway request id; for a subscription's handler, the id of the request that
     * published the event (so one id follows the work from the request into every consumer).
     */
    readonly requestId: string;
    readonly db: UsesDatabase extends true ? Database : undefined;
    /** Publishes one of the service's own events: the name and the payload's type come from its `events`. */
    readonly events: EventPublisher<Published>;
    /**
     * The service's declared `secrets`, read from Secrets Manager in the cloud and from the local
     * data folder under `npm start`: only a declared name type-checks, and a service that declares
     * none has none. A secret with no value makes the route answer 503 (the log line names it),
     * never run without it.
     */
    readonly secrets: [Secret] extends [never] ? undefined : ServiceSecrets<Secret>;
    /** Milliseconds left before the platform cuts the request. */
    remainingTimeMs(): number;
}

export type RouteHandler<UsesDatabase extends boolean = boolean, Published extends EventCatalog = EventCatalog, Secret extends string = string> = (
    request: ApiRequest,
    context: HandlerContext<UsesDatabase, Published, Secret>,
) => Promise<ApiResponse | unknown> | ApiResponse | unknown;

/**
 * One route of a service. Memory and timeout override the service's defaults. `Request` is what
 * its `request` declares, inferred per route by `defineService`, so the handler's `request.input`
 * is typed without a cast.
 */
export interface RouteDefinition<UsesDatabase extends boolean = boolean, Published extends EventCatalog = EventCatalog, Secret extends string = string, Request = RouteRequest> {
    /**
     * The business logic. It becomes the Lambda function's code, serialized with what it
     * references. Its `request.input` holds what `request` declares, parsed.
     */
    handler: (request: TypedApiRequest<Request>, context: HandlerContext<UsesDatabase, Published, Secret>) => Promise<ApiResponse | unknown> | ApiResponse | unknown;
    /** One line for the route table and the function's description. */
    description?: string;
    /** Memory in MB, an integer within Lambda's limits. @default the service's `memoryMb` */
    memoryMb?: number;
    /**
     * Timeout in whole seconds, at least a second under the HTTP API's integration timeout, which
     * cuts every request. @default the service's `timeoutSeconds`
     */
    timeoutSeconds?: number;
    /**
     * Who may call the route: `"none"` (public) or `"jwt"` (a valid token from the stack's issuer,
     * `auth.jwt` in the stack file; its claims reach the handler as `request.claims`).
     * @default "none"
     */
    auth?: RouteAuth;
    /** With `auth: "jwt"`: the token must carry at least one of these scopes, else 403. @default any valid token */
    scopes?: string[];
    /** Throttling of this route, overriding the stack's `api` defaults. Over the limit: 429. */
    throttle?: RouteThrottle;
    /**
     * Whether the handler runs in one transaction on the service's database (a unit of work): its
     * statements and the events it publishes commit together when it answers 2xx or 3xx, and none
     * of them otherwise. A database service publishes only from inside one (its events are
     * written into its outbox with the data), so a route that publishes needs it. A route that
     * only reads needs none, and without one each statement is one round trip instead of three
     * (BEGIN, the statement, COMMIT). Only for services with `database: true`.
     * @default false for GET and HEAD routes (`READ_ONLY_METHODS`); for every other method, true
     * in a database service that publishes events, false in one that does not
     */
    transaction?: boolean;
    /**
     * What the route accepts, checked before the handler runs: every bad field of the path, the
     * query and the body is reported in one 400. The same shapes describe the route in the API's
     * OpenAPI document. @default nothing checked (the handler checks what it reads)
     */
    request?: Request;
    /** What the route answers, by status code: described in the OpenAPI document and checked in the samples' tests. */
    responses?: RouteResponses;
}

/**
 * A route's handler as the platform runs it: its `request.input` is what `createRouteHandler`
 * parsed by the route's `request`, which the resolved route carries beside it, so the input the
 * handler was typed for is the one it gets.
 */
export function routeHandler(route: Pick<RouteDefinition<any, any, any, any>, "handler">): RouteHandler {
    return route.handler as RouteHandler;
}

/** The parts of a request a route declares: path parameters, query parameters, a JSON body object. */
export interface RouteRequest {
    path?: Shape;
    query?: Shape;
    body?: Shape;
}

/** One described answer of a route. */
export interface RouteResponse {
    /** One line: when the route answers this. */
    description: string;
    /** The JSON body it carries. @default no body */
    body?: Check<unknown>;
}

export type RouteResponses = { [statusCode: number]: RouteResponse };

/**
 * The methods whose routes run without a transaction unless they declare `transaction: true`:
 * they read. A GET that writes or publishes says so on its route.
 */
export const READ_ONLY_METHODS: readonly string[] = ["GET", "HEAD"];

/**
 * Whether a route's handler runs in a unit of work: its own `transaction` when it declares one,
 * else the default that `RouteDefinition.transaction` states. `routeKey` is `"METHOD /path"`.
 */
export function routeRunsInTransaction(routeKey: string, declared: boolean | undefined, service: { database: boolean; publishes: boolean }): boolean {
    if (!service.database) return false;
    if (declared !== undefined) return declared;
    return service.publishes && !READ_ONLY_METHODS.includes(routeKey.slice(0, routeKey.indexOf(" ")));
}

export type RouteAuth = "none" | "jwt";

export interface RouteThrottle {
    /** Steady-state requests per second. */
    rateLimit: number;
    /** Requests allowed in a burst above the rate. */
    burstLimit: number;
}

/** An event as a subscription's handler receives it: checked against the contract it subscribed to. */
export interface DeliveredEvent<Payload = Record<string, unknown>> {
    /** The id the platform gave the event when it was published: the same on every delivery of it. */
    id: string;
    /** The producing service. */
    source: string;
    name: string;
    version: number;
    /** When it was published (ISO 8601). */
    time: string;
    /** The payload, checked against the contract (fields the contract does not know are left out). */
    payload: Payload;
    /** Which delivery this is: 1 the first time, more when an earlier attempt failed (SQS's receive count). */
    attempt: number;
}

export type SubscriptionHandler<Payload = any, UsesDatabase extends boolean = boolean, Published extends EventCatalog = EventCatalog, Secret extends string = string> = (
    event: DeliveredEvent<Payload>,
    context: HandlerContext<UsesDatabase, Published, Secret>,
) => Promise<void> | void;

/**
 * A subscription to another service's event: its own queue (with a dead-letter queue) that the
 * event is delivered to, and a function that takes it in batches. Delivery is at least once: a
 * handler may see an event twice and must not do its work twice.
 */
export interface SubscriptionDefinition<Payload = any, UsesDatabase extends boolean = boolean, Published extends EventCatalog = EventCatalog, Secret extends string = string> {
    /** The event, as its producer's `events.ts` exports it, e.g. `userEvents["user.created"]`. */
    event: EventContract<Payload>;
    /**
     * Called once per event. Resolving marks it done; throwing makes it come back after the queue's
     * visibility timeout, until `maxAttempts`, then it moves to the dead-letter queue. The other
     * events of the batch are not affected.
     */
    handler: SubscriptionHandler<Payload, UsesDatabase, Published, Secret>;
    /** One line for the plan and the function's description. */
    description?: string;
    /** Events per invocation, 1-10000 (above 10 needs `batchWindowSeconds` of 1 or more). @default SUBSCRIPTION_DEFAULTS.batchSize */
    batchSize?: number;
    /** How long Lambda may gather a batch, 0-300 s. @default 0 */
    batchWindowSeconds?: number;
    /** Deliveries before an event moves to the dead-letter queue (the redrive policy's `maxReceiveCount`), 1-1000. @default SUBSCRIPTION_DEFAULTS.maxAttempts */
    maxAttempts?: number;
    /** Most invocations at once (the event source mapping's maximum concurrency), 2-1000. @default SUBSCRIPTION_DEFAULTS.maxConcurrency */
    maxConcurrency?: number;
    /** The function's timeout, 1-900 s: not behind the API, so the 29 s of a route does not apply. @default SUBSCRIPTION_DEFAULTS.timeoutSeconds */
    timeoutSeconds?: number;
    /** @default the service's `memoryMb` */
    memoryMb?: number;
}

export type ScheduleHandler<UsesDatabase extends boolean = boolean, Published extends EventCatalog = EventCatalog, Secret extends string = string> = (
    run: ScheduledRun & { attempt: number },
    context: HandlerContext<UsesDatabase, Published, Secret>,
) => Promise<void> | void;

/**
 * Work on a clock: an EventBridge Scheduler schedule that sends each run to the schedule's own
 * queue, which a function takes, so a failing run is retried and then kept in a dead-letter queue
 * like a subscription's event.
 */
export interface ScheduleDefinition<UsesDatabase extends boolean = boolean, Published extends EventCatalog = EventCatalog, Secret extends string = string> {
    /**
     * EventBridge Scheduler's syntax: `rate(5 minutes)`, `rate(1 day)`, or
     * `cron(minutes hours day-of-month month day-of-week year)` with `?` in one of the day fields,
     * e.g. `cron(0 3 * * ? *)` (03:00 every day). Days of the week are 1-7, Sunday first, or SUN-SAT.
     */
    expression: string;
    /** The IANA time zone a `cron` expression is read in, e.g. `Europe/Berlin`. @default "UTC" */
    timeZone?: string;
    handler: ScheduleHandler<UsesDatabase, Published, Secret>;
    description?: string;
    /** Attempts after a failed run before it moves to the dead-letter queue, 0-100. @default SCHEDULE_DEFAULTS.retries */
    retries?: number;
    /** 1-900 s. @default SCHEDULE_DEFAULTS.timeoutSeconds */
    timeoutSeconds?: number;
    /** @default the service's `memoryMb` */
    memoryMb?: number;
}

/**
 * A microservice: a name, its routes and what they need. Declared once, in
 * `functions/<name>/service.ts`, and listed in `infra/registry.ts`.
 */
export interface ServiceDefinition<
    UsesDatabase extends boolean = boolean,
    Published extends EventCatalog = EventCatalog,
    Subscribed = Record<string, any>,
    Secret extends string = string,
    Requests = RouteRequests,
> {
    /** Lower-case DNS-safe name (`a-z`, `0-9`, `-`, at most 32 characters), unique in the registry. */
    name: string;
    /** What the service is for; shown in the route table and on its functions. */
    description: string;
    /**
     * Whether the service keeps data in the stack's PostgreSQL cluster: then it gets a schema of its
     * own (its name with `-` as `_`) and roles of its own, and its functions sign in as its login role.
     */
    database: UsesDatabase;
    /** Default memory of its functions in MB. @default the stack's `functionDefaults.memoryMb` */
    memoryMb?: number;
    /** Default timeout of its functions in seconds. @default the stack's `functionDefaults.timeoutSeconds` */
    timeoutSeconds?: number;
    /**
     * Reserved concurrency of each of its functions, in stacks that reserve concurrency
     * (`concurrency.reservations: registry`). With the database it is also each function's
     * connection ceiling there: the service's role may hold this many connections per database
     * function (in stacks that reserve nothing, or without it: the stack's
     * `database.connectionsPerFunction` per function). @default no reservation
     */
    reservedConcurrency?: number;
    /**
     * Folder of versioned `NNNN_name.sql` migrations, for services that use the database. They run
     * inside the service's own schema as its owner role, and can reach nothing of another service's.
     */
    migrationsDir?: string;
    /**
     * Routes keyed `"METHOD /path"`. Typed `RouteKey`, so the type checker (`npm test`, and in the
     * background `npm start`, `npm run dev` and `npm run plan`) reports a key written twice, which
     * at run time silently keeps the last one, and a method that is not one. A service may have none
     * when it has subscriptions or schedules.
     */
    routes: ServiceRoutes<UsesDatabase, Published, Secret, Requests>;
    /**
     * The events it publishes: the catalog its `events.ts` declares with `defineEvents` (its source
     * must be this service's name). Its handlers publish them with `ctx.events.publish`.
     * @default none
     */
    events?: Published;
    /**
     * Other services' events it takes, by subscription name (lower-case letters, digits and dashes):
     * each gets a queue, a dead-letter queue and a function. @default none
     */
    subscriptions?: { [Name in keyof Subscribed]: SubscriptionDefinition<Subscribed[Name], UsesDatabase, Published, Secret> };
    /** Work on a clock, by schedule name. @default none */
    schedules?: Record<string, ScheduleDefinition<UsesDatabase, Published, Secret>>;
    /**
     * The secrets its handlers read (`ctx.secrets.get("NAME")`), by name: upper-case letters,
     * digits and `_` (`SECRET_NAME` in `secrets/secrets.ts`), each once, at most
     * `SECRETS.maxPerService`. In the cloud they are one Secrets Manager secret per service and
     * stack, readable by this service alone; locally they live in the data folder. Values are set
     * out of band (`docs/secrets.md`), never in code, config or environment variables.
     * @default none
     */
    secrets?: readonly Secret[];
}

/** What each route of a service declares it accepts (`unknown` when it declares nothing), by route key. */
export type RouteRequests = { [Key in RouteKey]: unknown };

/**
 * A service's routes, keyed `"METHOD /path"`, each handler's `request.input` typed by its own
 * route's `request` (`Requests`, which `defineService` infers from the routes written).
 */
export type ServiceRoutes<UsesDatabase extends boolean = boolean, Published extends EventCatalog = EventCatalog, Secret extends string = string, Requests = RouteRequests> = {
    [Key in keyof Requests]: RouteDefinition<UsesDatabase, Published, Secret, Requests[Key]>;
};

/**
 * What `defineService` holds each route to beside its inferred type: a key that is
 * `"METHOD /path"` (`RouteKey`), and a `request` that is a `RouteRequest` (constraining the
 * inferred type itself would lose it).
 */
type RoutesChecked<Requests> = {
    [Key in keyof Requests]: string extends Key ? unknown : Key extends RouteKey ? { request?: RouteRequest } : { error: "a route key is \"METHOD /path\" with one of HTTP_METHODS" };
};

/**
 * Declares a service with its types checked: handlers of a service with `database: true` get a
 * `ctx.db`, the others do not.
 *
 * @example
 * export default defineService({
 *   name: "hello", description: "Says hello", database: false,
 *   routes: { "GET /hello": { handler: async () => ({ message: "hello" }) } },
 * });
 */
export function defineService<UsesDatabase extends boolean, Published extends EventCatalog = {}, Subscribed = {}, const Secret extends string = never, Requests = RouteRequests>(
    definition: ServiceDefinition<UsesDatabase, Published, Subscribed, Secret, Requests> & { routes: NoInfer<RoutesChecked<Requests>> },
): ServiceDefinition<UsesDatabase, Published, Subscribed, Secret, Requests> {
    return recordDeclaringFile(definition, defineService);
}

/** Any service, whatever its database flag and events. */
export type AnyService = ServiceDefinition<true, any, any, any, any> | ServiceDefinition<false, any, any, any, any>;

const DEFINED_IN = Symbol.for("serverless-microservices.definedIn");

/**
 * Records on `definition` the file of the module that called `declare` (`defineService`,
 * `defineContainerService`), as a hidden property `serviceFile` reads.
 */
export function recordDeclaringFile<Definition extends object>(definition: Definition, declare: Function): Definition {
    const file = callerFile(declare);
    if (file !== undefined) Object.defineProperty(definition, DEFINED_IN, { value: file, enumerable: false });
    return definition;
}

/**
 * The file a service was declared in (the module that called `defineService` or
 * `defineContainerService`), so that a mistake in it is reported with the file to open; undefined
 * for a service built without them.
 */
export function serviceFile(service: object | undefined): string | undefined {
    return (service as Record<symbol, string | undefined> | undefined)?.[DEFINED_IN];
}
