/**
 * The contract between a service and the platform: what a service declares, what its handlers
 * receive and what they may return. Nothing here (or anywhere under `functions/`) imports Pulumi:
 * the same definitions run inside Lambda, in the local runtime and in tests.
 */
import type { Database } from "./database";
import type { Logger } from "./logger";

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
    /** The body as text (base64 bodies decoded), for handlers that take other content types. */
    readonly rawBody: string | undefined;
    /** The API Gateway request id; every log line and error response carries it. */
    readonly requestId: string;
    /** Verified JWT claims when the route is protected by an authorizer. */
    readonly claims?: Readonly<Record<string, unknown>>;
}

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

/** What every handler gets besides its request. `db` is there only for services that use the database. */
export interface HandlerContext<UsesDatabase extends boolean = boolean> {
    readonly log: Logger;
    readonly requestId: string;
    readonly db: UsesDatabase extends true ? Database : undefined;
    /** Milliseconds left before the platform cuts the request. */
    remainingTimeMs(): number;
}

export type RouteHandler<UsesDatabase extends boolean = boolean> = (
    request: ApiRequest,
    context: HandlerContext<UsesDatabase>,
) => Promise<ApiResponse | unknown> | ApiResponse | unknown;

/** One route of a service. Memory and timeout override the service's defaults. */
export interface RouteDefinition<UsesDatabase extends boolean = boolean> {
    /** The business logic. It becomes the Lambda function's code, serialized with what it references. */
    handler: RouteHandler<UsesDatabase>;
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
}

export type RouteAuth = "none" | "jwt";

export interface RouteThrottle {
    /** Steady-state requests per second. */
    rateLimit: number;
    /** Requests allowed in a burst above the rate. */
    burstLimit: number;
}

/**
 * A microservice: a name, its routes and what they need. Declared once, in
 * `functions/<name>/service.ts`, and listed in `infra/registry.ts`.
 */
export interface ServiceDefinition<UsesDatabase extends boolean = boolean> {
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
     * at run time silently keeps the last one, and a method that is not one.
     */
    routes: ServiceRoutes<UsesDatabase>;
}

export type ServiceRoutes<UsesDatabase extends boolean = boolean> = { [Key in RouteKey]?: RouteDefinition<UsesDatabase> };

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
export function defineService<UsesDatabase extends boolean>(
    definition: ServiceDefinition<UsesDatabase>,
): ServiceDefinition<UsesDatabase> {
    return recordDeclaringFile(definition, defineService);
}

/** Any service, whatever its database flag. */
export type AnyService = ServiceDefinition<true> | ServiceDefinition<false>;

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

/** The file of the function that called `declare`, from V8's structured call sites. */
function callerFile(declare: Function): string | undefined {
    const { prepareStackTrace, stackTraceLimit } = Error;
    try {
        Error.stackTraceLimit = 1;
        Error.prepareStackTrace = (_error, callSites) => callSites;
        const holder: { stack?: NodeJS.CallSite[] } = {};
        Error.captureStackTrace(holder, declare);
        return holder.stack?.[0]?.getFileName() ?? undefined;
    } catch {
        return undefined;
    } finally {
        Error.prepareStackTrace = prepareStackTrace;
        Error.stackTraceLimit = stackTraceLimit;
    }
}
