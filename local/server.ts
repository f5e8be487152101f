/**
 * The local HTTP API: a plain `node:http` server that does what API Gateway does in front of the
 * functions. It matches the route, builds the payload 2.0 event, calls the route's entry the Lambda
 * closure calls (`functions/runtime/entry/route.ts`), and turns its answer into the HTTP response, with API
 * Gateway's own answers for no route (404), an oversized body (413), a function that fails (500)
 * and one that runs past its timeout (503). In front of the function, in this order: CORS
 * preflights are answered first (as API Gateway does, so they need no token), then the route's
 * throttle (429), then its JWT authorizer (401/403), whose verified claims reach the function in
 * `requestContext.authorizer.jwt`.
 */
import * as http from "node:http";
import type { AddressInfo } from "node:net";
import { logLevelFromEnvironment } from "../functions/runtime/environment";
import type { EventTransport } from "../functions/runtime/outbox/publisher";
import { createRouteEntry, routeEntry } from "../functions/runtime/entry/route";
import { withSecrets } from "../functions/runtime/entry/secrets";
import { DEFAULT_SECRETS_FILE, localServiceSecrets } from "./secrets";
import type { HttpApiEvent, HttpApiResult } from "../functions/runtime/http/payload";
import { createLogger, type Logger, type LogLevel } from "../functions/runtime/logger";
import type { RouteThrottle } from "../functions/runtime/service";
import { STACK_DEFAULTS, type CorsConfig } from "../platform/config/stack-config";
import type { ResolvedContainerRoute } from "../platform/model";
import { functionConcurrencyCeiling } from "../platform/data-plan";
import type { ResolvedRoute } from "../platform/model";
import { LAMBDA } from "../policy/lib/limits";
import type { JwtAuthorizer } from "./authorizer";
import { claimsPassed } from "../functions/runtime/container";
import { proxyToContainer } from "./container-proxy";
import type { ContainerUpstream } from "./containers";
import { isPreflight, preflightHeaders, responseCorsHeaders } from "./cors";
import { createEvent, newRequestId } from "./event";
import { LOCAL_JWKS_PATH } from "./issuer";
import { apiDescriptionResponse, requestBaseUrl } from "./api-docs";
import { isApiDescriptionPath, type OpenApiDocument } from "../platform/api/openapi";
import { localResources, localServiceDatabase } from "./function-resources";
import { createLambdaPool, type InvocationOutcomes, type LambdaPool } from "./lambda-pool";
import { fromFunctionResult, GATEWAY_ERRORS, writeResponse, type GatewayResponse } from "./response";
import { createRouter, type Router } from "./router";
import { createTokenBucket, routeLimits, type TokenBucket } from "./throttle";

/** Lambda's synchronous invocation payload limit: a larger request never reaches a function. */
export const MAX_BODY_BYTES = LAMBDA.payloadBytes;

/**
 * After a 413, what the client still sends is read and thrown away up to this many bytes (the
 * HTTP API itself accepts 10 MB) and for this long; past either, the connection is cut.
 */
const MAX_DISCARDED_BODY_BYTES = 16 * 1024 * 1024;
const DISCARD_TIMEOUT_MS = 10_000;

export interface LocalServerOptions {
    routes: readonly ResolvedRoute[];
    /**
     * The connection string a service's database routes sign in with: its own login role.
     * Required when a route uses the database.
     */
    serviceDatabaseUrl?: (service: string) => string;
    /** Where the services' secrets are (`local/secrets.ts`). @default DEFAULT_SECRETS_FILE */
    secretsFile?: string;
    /**
     * Execution environments a function may run at once when its service reserves no concurrency:
     * the stack's `database.connectionsPerFunction`, so a service never holds more connections than
     * its role's limit allows. @default STACK_DEFAULTS.database.connectionsPerFunction
     */
    connectionsPerFunction?: number;
    /** The stack's CORS settings; without them no preflight is answered and no CORS header is sent. */
    cors?: CorsConfig;
    /** Level of the handlers' JSON logs. @default `LOG_LEVEL`, else INFO */
    logLevel?: LogLevel;
    /** Where the handlers' JSON log lines go. @default standard output */
    writeLog?: (line: string) => void;
    /** Sees every event exactly as the wrapper receives it (tests use it to check the event's shape). */
    onEvent?: (event: HttpApiEvent) => void;
    /** Called once per request after the response is sent (the start script prints it). */
    onRequest?: (entry: AccessLogEntry) => void;
    /** @default 6 MB, Lambda's limit */
    maxBodyBytes?: number;
    /**
     * Checks the tokens of routes with `auth: "jwt"`. Required when a route has it. When it is the
     * local issuer's, its public keys are served at `/.well-known/jwks.json`.
     */
    authorizer?: JwtAuthorizer;
    /**
     * Route throttling: each route's `throttle`, else `defaults` (the stack's). `false` turns it
     * off (load tests). @default routes with their own `throttle` are throttled
     */
    throttling?: false | { defaults?: RouteThrottle };
    /**
     * Routes served by container services (`local/containers.ts`), proxied to their process behind
     * the same CORS, throttle and authorizer as the function routes. @default none
     */
    containers?: LocalContainerRoutes;
    /** Where the handlers' events go (`local/event-bus.ts`). @default none: a route that publishes fails */
    events?: EventTransport;
    /**
     * The API's OpenAPI document for a client that reached the server at `baseUrl`: served at
     * `/openapi.json`, with the reference page at `/docs` (`local/api-docs.ts`). @default neither is served
     */
    apiDescription?: (baseUrl: string) => OpenApiDocument;
}

/** The container routes of a deployment and where their services serve. */
export interface LocalContainerRoutes {
    routes: readonly ResolvedContainerRoute[];
    upstream(service: string): ContainerUpstream | undefined;
}

export interface AccessLogEntry {
    method: string;
    path: string;
    statusCode: number;
    durationMs: number;
    requestId: string;
    routeKey?: string;
}

export interface LocalServer {
    readonly server: http.Server;
    /** Starts listening; resolves with the base URL, e.g. `http://127.0.0.1:3000`. */
    listen(port: number, host?: string): Promise<string>;
    /** Replaces the routes (watch mode). Requests in flight finish on the routes they started on. */
    setRoutes(routes: readonly ResolvedRoute[], containers?: LocalContainerRoutes): Promise<void>;
    /** Stops accepting connections, lets requests in flight finish (at most `graceMs`), closes the pools. */
    close(graceMs?: number): Promise<void>;
}

/**
 * One function: the route and its execution environments (`local/lambda-pool.ts`), at most the
 * function's concurrency ceiling of them (`functionConcurrencyCeiling`, the same figure the service
 * role's connection limit adds up).
 */
interface LocalRoute {
    kind: "function";
    routeKey: string;
    route: ResolvedRoute;
    /** The route's throttle; absent when it has no limits or throttling is off. */
    bucket?: TokenBucket;
    pool: LambdaPool<HttpApiEvent, HttpApiResult>;
}

/**
 * API Gateway's answer for each way an invocation ends: the function's own response, a 500 for a
 * function that failed outright, a 503 for one that ran past its timeout.
 */
const GATEWAY_OUTCOMES: InvocationOutcomes<HttpApiResult, GatewayResponse> = {
    result: fromFunctionResult,
    failed: () => GATEWAY_ERRORS.internal(),
    timeout: () => GATEWAY_ERRORS.unavailable(),
};

function createLocalRoute(route: ResolvedRoute, options: LocalServerOptions): LocalRoute {
    if (route.database && !options.serviceDatabaseUrl) {
        throw new Error(`Route "${route.routeKey}" of service "${route.service}" uses the database, but no database URL was given.`);
    }
    if (route.auth === "jwt" && !options.authorizer) {
        throw new Error(`Route "${route.routeKey}" of service "${route.service}" needs a JWT authorizer, but none was given.`);
    }
    const limits = options.throttling === false ? undefined : routeLimits(route.throttle, options.throttling?.defaults);
    const logger: Logger = createLogger({
        level: options.logLevel ?? logLevelFromEnvironment(),
        write: options.writeLog,
        fields: { service: route.service, route: route.routeKey },
    });
    const pool = createLambdaPool<HttpApiEvent, HttpApiResult>({
        timeoutSeconds: route.timeoutSeconds,
        concurrency: functionConcurrencyCeiling(route, options.connectionsPerFunction ?? STACK_DEFAULTS.database.connectionsPerFunction),
        openDatabase: route.database ? localServiceDatabase(options.serviceDatabaseUrl!(route.service), route.timeoutSeconds) : undefined,
        createHandler: (openDatabase) => {
            const secrets = route.secrets.length > 0 ? localServiceSecrets(options.secretsFile ?? DEFAULT_SECRETS_FILE, route.service, route.secrets, logger) : undefined;
            return createRouteEntry(secrets ? withSecrets(routeEntry(route), secrets) : routeEntry(route), localResources({ openDatabase, transport: options.events, logger }));
        },
    });
    return { kind: "function", routeKey: route.routeKey, route, bucket: limits ? createTokenBucket(limits) : undefined, pool };
}

/** A route a container service answers: its throttle and where its requests go. */
interface LocalContainerRoute {
    kind: "container";
    routeKey: string;
    route: ResolvedContainerRoute;
    bucket?: TokenBucket;
    upstream(): ContainerUpstream | undefined;
}

function createContainerRoute(route: ResolvedContainerRoute, containers: LocalContainerRoutes, options: LocalServerOptions): LocalContainerRoute {
    if (route.auth === "jwt" && !options.authorizer) {
        throw new Error(`Route "${route.routeKey}" of service "${route.service}" needs a JWT authorizer, but none was given.`);
    }
    const limits = options.throttling === false ? undefined : routeLimits(route.throttle, options.throttling?.defaults);
    return { kind: "container", routeKey: route.routeKey, route, bucket: limits ? createTokenBucket(limits) : undefined, upstream: () => containers.upstream(route.service) };
}

/**
 * One set of routes with their containers and database pools, like one deployment of the stack.
 * A reload builds a new one; the old one closes its pools when its last request is done.
 */
interface Deployment {
    router: Router<LocalRoute | LocalContainerRoute>;
    functions: LocalRoute[];
    inFlight: number;
    retired?: () => void;
}

function createDeployment(routes: readonly ResolvedRoute[], options: LocalServerOptions, containers = options.containers): Deployment {
    const functions = routes.map((route) => createLocalRoute(route, options));
    const localRoutes: (LocalRoute | LocalContainerRoute)[] = [...functions];
    for (const route of containers?.routes ?? []) localRoutes.push(createContainerRoute(route, containers!, options));
    return { router: createRouter(localRoutes), functions, inFlight: 0 };
}

async function closeDeployment(deployment: Deployment): Promise<void> {
    await Promise.all(deployment.functions.map((route) => route.pool.close()));
}

/** Resolves when the deployment has no request in flight. */
function drained(deployment: Deployment): Promise<void> {
    if (deployment.inFlight === 0) return Promise.resolve();
    return new Promise((resolve) => (deployment.retired = resolve));
}

type BodyResult = { ok: true; body: Buffer | undefined } | { ok: false };

/**
 * Reads the body up to `limit` bytes. Past the limit it stops keeping the bytes and answers
 * `{ ok: false }` at once, without waiting for the rest (see `discardRest`).
 */
function readBody(req: http.IncomingMessage, limit: number): Promise<BodyResult> {
    const declared = Number(req.headers["content-length"]);
    if (Number.isFinite(declared) && declared > limit) return Promise.resolve({ ok: false });
    return new Promise((resolve, reject) => {
        const chunks: Buffer[] = [];
        let size = 0;
        const onData = (chunk: Buffer) => {
            size += chunk.length;
            if (size > limit) {
                req.off("data", onData);
                chunks.length = 0;
                resolve({ ok: false });
                return;
            }
            chunks.push(chunk);
        };
        req.on("data", onData);
        req.on("end", () => resolve({ ok: true, body: size === 0 ? undefined : Buffer.concat(chunks, size) }));
        req.on("error", reject);
    });
}

/**
 * Reads and throws away the rest of a rejected body, so that the connection can then close
 * cleanly: closing a socket with unread bytes resets it, and a client that sends its whole body
 * before it reads the answer (Python's http.client, most SDKs) would get the reset instead of the
 * 413. Resolves when the body has ended; past the bounds it cuts the connection.
 */
function discardRest(req: http.IncomingMessage): Promise<void> {
    return new Promise((resolve) => {
        let discarded = 0;
        const done = () => {
            clearTimeout(timer);
            resolve();
        };
        const cut = () => {
            req.socket.destroy();
            done();
        };
        const timer = setTimeout(cut, DISCARD_TIMEOUT_MS);
        req.on("data", (chunk: Buffer) => {
            discarded += chunk.length;
            if (discarded > MAX_DISCARDED_BODY_BYTES) cut();
        });
        req.once("end", done);
        req.once("close", done);
        req.once("error", done);
        req.resume();
    });
}

export function createLocalServer(options: LocalServerOptions): LocalServer {
    const maxBodyBytes = options.maxBodyBytes ?? MAX_BODY_BYTES;
    let current = createDeployment(options.routes, options);
    let port = 0;
    let listening = "";

    const handle = async (req: http.IncomingMessage, res: http.ServerResponse): Promise<void> => {
        const receivedAt = new Date();
        const requestId = newRequestId();
        const method = (req.method ?? "GET").toUpperCase();
        const url = req.url ?? "/";
        const origin = typeof req.headers.origin === "string" ? req.headers.origin : undefined;
        const deployment = current;
        let routeKey: string | undefined;

        const send = (response: GatewayResponse, extra?: Record<string, string>, endAfter?: Promise<void>) => {
            let headers = response.headers;
            const added: Record<string, string> = { "apigw-requestid": requestId, ...extra };
            if (options.cors) {
                // API Gateway owns CORS when it is configured: the function's own headers are replaced.
                headers = { ...headers };
                for (const name of Object.keys(headers)) if (name.startsWith("access-control-")) delete headers[name];
                Object.assign(added, responseCorsHeaders(options.cors, origin));
            }
            writeResponse(res, headers === response.headers ? response : { ...response, headers }, added, endAfter);
            options.onRequest?.({
                method,
                path: url,
                statusCode: response.statusCode,
                durationMs: Date.now() - receivedAt.getTime(),
                requestId,
                routeKey,
            });
        };

        if (options.cors && isPreflight(method, req.headers)) {
            req.resume();
            const requested = req.headers["access-control-request-headers"];
            const headers = preflightHeaders(options.cors, origin, typeof requested === "string" ? requested : undefined);
            writeResponse(res, { statusCode: 204, headers, body: Buffer.alloc(0) }, { "apigw-requestid": requestId });
            options.onRequest?.({ method, path: url, statusCode: 204, durationMs: Date.now() - receivedAt.getTime(), requestId });
            return;
        }

        const body = await readBody(req, maxBodyBytes);
        if (!body.ok) {
            // Answer now (a client that reads while it sends sees it at once), then close the
            // connection once the client has finished sending what it started.
            res.shouldKeepAlive = false;
            send(GATEWAY_ERRORS.tooLarge(), { connection: "close" }, discardRest(req));
            return;
        }

        const [path] = url.split("?", 1);
        // The local issuer's key set, so other local tools can verify its tokens too.
        if (options.authorizer?.publicJwks && path === LOCAL_JWKS_PATH && (method === "GET" || method === "HEAD")) {
            send({ statusCode: 200, headers: { "content-type": "application/json" }, body: Buffer.from(JSON.stringify(options.authorizer.publicJwks)) });
            return;
        }
        // The API's description: paths the registry may not take (`API_DESCRIPTION_PATHS`).
        if (options.apiDescription && isApiDescriptionPath(path) && (method === "GET" || method === "HEAD")) {
            send(apiDescriptionResponse(path, requestBaseUrl(req.headers.host, listening), options.apiDescription));
            return;
        }
        const match = deployment.router.match(method, path);
        if (!match) {
            send(GATEWAY_ERRORS.notFound());
            return;
        }
        routeKey = match.route.routeKey;
        const route = match.route.route;
        if (match.route.bucket && !match.route.bucket.take()) {
            send(GATEWAY_ERRORS.tooManyRequests());
            return;
        }
        // From here the request belongs to this deployment: a reload waits for it (the authorizer may await a JWKS fetch).
        deployment.inFlight++;
        try {
            let authorizer: NonNullable<HttpApiEvent["requestContext"]["authorizer"]> | undefined;
            let claims: Record<string, string> | undefined;
            if (route.auth === "jwt") {
                const decision = await options.authorizer!.authorize(req.headers.authorization, route.scopes);
                if (!decision.ok) {
                    send(decision.response);
                    return;
                }
                // A container gets only the claims the cloud's mapping passes on its route, as headers.
                if (match.route.kind === "container") {
                    claims = Object.fromEntries(claimsPassed(route).flatMap((claim) => (decision.claims[claim] !== undefined ? [[claim, decision.claims[claim]]] : [])));
                }
                // API Gateway sends "scopes": null to a route that requires none.
                authorizer = { jwt: { claims: decision.claims, scopes: (route.scopes.length > 0 ? decision.scopes : null) as string[] } };
            }
            // A container route: the private integration's proxy, with the verified claims as headers.
            if (match.route.kind === "container") {
                const proxied = { method, url, rawHeaders: req.rawHeaders, body: body.body, requestId, claims };
                send(await proxyToContainer(match.route.upstream(), proxied, match.route.route.timeoutSeconds));
                return;
            }
            const event = createEvent({
                request: {
                    method,
                    url,
                    rawHeaders: req.rawHeaders,
                    body: body.body,
                    sourceIp: (req.socket.remoteAddress ?? "127.0.0.1").replace(/^::ffff:/, ""),
                    protocol: `HTTP/${req.httpVersion}`,
                    port,
                },
                routeKey,
                pathParameters: match.pathParameters,
                requestId,
                receivedAt,
            });
            if (authorizer) event.requestContext.authorizer = authorizer;
            options.onEvent?.(event);
            send(await (match.route as LocalRoute).pool.invoke(event, GATEWAY_OUTCOMES));
        } finally {
            deployment.inFlight--;
            if (deployment.inFlight === 0) deployment.retired?.();
        }
    };

    const server = http.createServer((req, res) => {
        handle(req, res).catch(() => {
            // Only a bug in this file gets here; the client still gets API Gateway's answer.
            if (!res.headersSent) writeResponse(res, GATEWAY_ERRORS.internal(), {});
            else res.destroy();
        });
    });
    // Clients of a local API keep connections open (browsers, load tests); match API Gateway's idle timeout.
    server.keepAliveTimeout = 60_000;

    return {
        server,
        listen(listenPort, host = "127.0.0.1") {
            return new Promise((resolve, reject) => {
                server.once("error", reject);
                server.listen(listenPort, host, () => {
                    server.off("error", reject);
                    port = (server.address() as AddressInfo).port;
                    listening = `http://${host}:${port}`;
                    resolve(listening);
                });
            });
        },
        async setRoutes(routes, containers) {
            const previous = current;
            current = createDeployment(routes, options, containers ?? options.containers);
            await drained(previous);
            await closeDeployment(previous);
        },
        async close(graceMs = 3000) {
            const closed = new Promise<void>((resolve) => server.close(() => resolve()));
            server.closeIdleConnections();
            const force = setTimeout(() => server.closeAllConnections(), graceMs);
            await closed;
            clearTimeout(force);
            await closeDeployment(current);
        },
    };
}
