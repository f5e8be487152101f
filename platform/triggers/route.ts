/**
 * An HTTP API route to a function: how its key, handler, settings and access are checked, and what
 * it gets unless it says otherwise (the service's settings, then the stack's `functionDefaults`;
 * no authorization; the transaction rule of its method). `platform/registry/` runs these for every
 * route of the registry; the cloud realises a route in `infra/components/http-route.ts`, the local
 * runtime in `local/server.ts`, and both run it through `functions/runtime/entry/route.ts`.
 */
import { HTTP_METHODS, routeHandler, routeRunsInTransaction, type AnyService, type RouteAuth, type RouteDefinition, type RouteThrottle } from "../../functions/runtime/service";
import { HTTP_API } from "../../policy/lib/limits";
import { publishedEvents } from "../events/catalog";
import { declaredSecrets } from "../secrets";
import { describeInteger, isOptionalInteger, PLATFORM_FUNCTION_BOUNDS, validateFunctionSettings, type FunctionBounds } from "../function-bounds";
import type { ResolvedRoute } from "../model";
import { API_DESCRIPTION_PATHS, isApiDescriptionPath } from "../api/openapi";
import { routeId } from "../naming";
import type { FunctionDefaults } from "./defaults";

const ROUTE_KEY = /^(\S+) (\S+)$/;
const LITERAL_SEGMENT = /^[A-Za-z0-9._~-]+$/;
const PARAMETER_SEGMENT = /^\{([A-Za-z_][A-Za-z0-9_]*)(\+?)\}$/;
/** OAuth scope tokens: printable ASCII without spaces, quotes or backslashes (RFC 6749, 3.3). */
const SCOPE = /^[\x21\x23-\x5B\x5D-\x7E]{1,128}$/;
const ROUTE_AUTH: readonly RouteAuth[] = ["none", "jwt"];
/** A route may switch throttling off (0) up to the account's ceilings. */
const ROUTE_THROTTLE = { rateLimit: { min: 0, max: HTTP_API.throttle.rateLimit.max }, burstLimit: { min: 0, max: HTTP_API.throttle.burstLimit.max } };

/** Problems with a route key's path, or none. Paths are `/segment/{param}/...`; `{proxy+}` only last. */
export function pathProblems(path: string): string[] {
    if (path === "/") return [];
    if (isApiDescriptionPath(path)) {
        return [`the path ${path} is reserved for the API's description (${API_DESCRIPTION_PATHS.document}, ${API_DESCRIPTION_PATHS.docs} and below, served by npm start); choose another`];
    }
    if (!path.startsWith("/")) return ["the path must start with /"];
    if (path.endsWith("/")) return ["the path must not end with /"];
    const problems: string[] = [];
    const segments = path.slice(1).split("/");
    const parameterNames = new Set<string>();
    segments.forEach((segment, index) => {
        const parameter = PARAMETER_SEGMENT.exec(segment);
        if (parameter) {
            if (parameterNames.has(parameter[1])) problems.push(`path parameter {${parameter[1]}} appears twice`);
            parameterNames.add(parameter[1]);
            if (parameter[2] === "+" && index !== segments.length - 1) problems.push(`greedy parameter {${parameter[1]}+} must be the last segment`);
        } else if (!LITERAL_SEGMENT.test(segment)) {
            problems.push(
                segment === ""
                    ? "the path has an empty segment (//)"
                    : `segment "${segment}" is neither a literal (letters, digits, . _ ~ -) nor a parameter like {id}`,
            );
        }
    });
    return problems;
}

/** `"GET /users/{id}"` -> its method and path, or undefined when it is not `METHOD /path` with one space. */
export function parseRouteKey(routeKey: string): { method: string; path: string } | undefined {
    const match = ROUTE_KEY.exec(routeKey);
    return match ? { method: match[1], path: match[2] } : undefined;
}

/** A well-formed route key's method and path. */
export function validateRouteKey(method: string, path: string, at: string): string[] {
    const problems: string[] = [];
    if (!(HTTP_METHODS as readonly string[]).includes(method)) {
        problems.push(`${at}: method "${method}" is not allowed; use one of ${HTTP_METHODS.join(", ")}`);
    }
    for (const problem of pathProblems(path)) problems.push(`${at}: ${problem}`);
    return problems;
}

/** A route's `auth`, `scopes` and `throttle`. */
export function validateRouteAccess(route: Pick<RouteDefinition, "auth" | "scopes" | "throttle"> | undefined, at: string): string[] {
    const problems: string[] = [];
    if (route?.auth !== undefined && !ROUTE_AUTH.includes(route.auth)) {
        problems.push(`${at}: auth ${JSON.stringify(route.auth)} is not allowed; use "none" (public) or "jwt"`);
    }
    if (route?.scopes !== undefined) {
        if (route.auth !== "jwt") problems.push(`${at}: scopes need auth "jwt"`);
        if (!Array.isArray(route.scopes) || route.scopes.length === 0 || route.scopes.some((scope) => typeof scope !== "string" || !SCOPE.test(scope))) {
            problems.push(`${at}: scopes must be a non-empty list of OAuth scopes (no spaces), e.g. ["users:write"]`);
        }
    }
    if (route?.throttle !== undefined) problems.push(...routeThrottleProblems(route.throttle, at));
    return problems;
}

/** A route's `throttle`: the rate and burst a route may have, from 0 (off) to the account's ceilings. */
export function routeThrottleProblems(throttle: RouteThrottle | undefined, at: string): string[] {
    const problems: string[] = [];
    const { rateLimit, burstLimit } = throttle ?? ({} as RouteThrottle);
    const { rateLimit: rate, burstLimit: burst } = ROUTE_THROTTLE;
    if (typeof rateLimit !== "number" || !Number.isFinite(rateLimit) || rateLimit < rate.min || rateLimit > rate.max) {
        problems.push(`${at}: throttle.rateLimit ${JSON.stringify(rateLimit)} is not allowed; use requests per second from ${rate.min} to ${rate.max}`);
    }
    if (burstLimit === undefined || !isOptionalInteger(burstLimit, burst)) {
        problems.push(`${at}: throttle.burstLimit ${JSON.stringify(burstLimit)} is not allowed; use ${describeInteger(burst)}`);
    }
    return problems;
}

/** One route's own definition: its handler, function settings and access. */
export function validateRoute(route: RouteDefinition | undefined, at: string, bounds: FunctionBounds = PLATFORM_FUNCTION_BOUNDS): string[] {
    const problems: string[] = [];
    if (typeof route?.handler !== "function") problems.push(`${at}: handler must be a function (request, context) => response`);
    problems.push(...validateFunctionSettings(route, at, bounds));
    problems.push(...validateRouteAccess(route, at));
    return problems;
}

/** The parts a route's `request` may declare. */
const REQUEST_PARTS = ["path", "query", "body"];

/**
 * A route's `request` and `responses`, which describe it in the API's document (and, for a function
 * route, are checked before its handler): shapes of checks, path fields the path has, and answers
 * by HTTP status code, each with a description.
 */
export function validateRouteDescription(route: { request?: unknown; responses?: unknown } | undefined, path: string, at: string): string[] {
    const problems: string[] = [];
    const isObject = (value: unknown): value is Record<string, unknown> => typeof value === "object" && value !== null && !Array.isArray(value);
    const request = route?.request;
    if (request !== undefined) {
        if (!isObject(request)) problems.push(`${at}: request must be an object with path, query and body shapes, e.g. { body: { name: text() } }`);
        else {
            for (const [part, shape] of Object.entries(request)) {
                if (!REQUEST_PARTS.includes(part)) problems.push(`${at}: request.${part} is not a part of a request; use ${REQUEST_PARTS.join(", ")}`);
                else if (shape !== undefined && (!isObject(shape) || Object.values(shape).some((check) => typeof check !== "function"))) {
                    problems.push(`${at}: request.${part} must map each field to a check, e.g. { id: uuid() }`);
                }
            }
            const parameters = [...path.matchAll(/\{([A-Za-z_][A-Za-z0-9_]*)\+?\}/g)].map((match) => match[1]);
            for (const field of isObject(request.path) ? Object.keys(request.path) : []) {
                if (!parameters.includes(field)) {
                    problems.push(`${at}: request.path.${field} is not a parameter of the path ${path}${parameters.length > 0 ? `; its parameters are ${parameters.join(", ")}` : ", which has none"}`);
                }
            }
        }
    }
    const responses = route?.responses;
    if (responses !== undefined) {
        if (!isObject(responses)) problems.push(`${at}: responses must map HTTP status codes to answers, e.g. { 200: { description: "The user" } }`);
        else {
            for (const [status, response] of Object.entries(responses)) {
                if (!/^[1-5]\d\d$/.test(status)) problems.push(`${at}: responses.${status} is not an HTTP status code (100-599)`);
                if (!isObject(response) || typeof response.description !== "string" || response.description.trim() === "") {
                    problems.push(`${at}: responses.${status} needs a description, one line saying when the route answers it`);
                } else if (response.body !== undefined && typeof response.body !== "function") {
                    problems.push(`${at}: responses.${status}.body must be a check, e.g. text() or object({...})`);
                }
            }
        }
    }
    return problems;
}

/** A route's `transaction`: a boolean, and only where there is a database to run it on. */
export function validateRouteTransaction(route: RouteDefinition | undefined, database: unknown, at: string): string[] {
    if (route?.transaction === undefined) return [];
    if (typeof route.transaction !== "boolean") return [`${at}: transaction ${JSON.stringify(route.transaction)} is not allowed; use true or false`];
    if (route.transaction && database !== true) return [`${at}: transaction: true needs a database; the service has database: false`];
    return [];
}

/** How many routes one HTTP API can hold. */
export function validateRouteCount(count: number): string[] {
    return count > HTTP_API.maxRoutes ? [`the registry declares ${count} routes; an HTTP API holds at most ${HTTP_API.maxRoutes}`] : [];
}

/** What every route on the API resolves to, a function's or a container's: its key's parts, id, description and access. */
export function resolveRouteOnApi(service: { name: string; description: string }, routeKey: string, route: Pick<RouteDefinition, "description" | "auth" | "scopes" | "throttle" | "request" | "responses">) {
    const { method, path } = parseRouteKey(routeKey)!;
    return {
        service: service.name,
        routeKey,
        method,
        path,
        id: routeId(method, path),
        description: route.description ?? service.description,
        auth: route.auth ?? "none",
        scopes: route.scopes ?? [],
        throttle: route.throttle,
        request: route.request,
        responses: route.responses,
    } satisfies Partial<ResolvedRoute>;
}

/** A route of a function service, with every setting decided. */
export function resolveRoute(service: AnyService, routeKey: string, route: RouteDefinition, stackDefaults: FunctionDefaults, reservedConcurrency: number | undefined): ResolvedRoute {
    return {
        ...resolveRouteOnApi(service, routeKey, route),
        memoryMb: route.memoryMb ?? service.memoryMb ?? stackDefaults.memoryMb,
        timeoutSeconds: route.timeoutSeconds ?? service.timeoutSeconds ?? stackDefaults.timeoutSeconds,
        reservedConcurrency,
        database: service.database,
        transaction: routeRunsInTransaction(routeKey, route.transaction, { database: service.database, publishes: service.events !== undefined }),
        handler: routeHandler(route),
        ...publishedEvents(service),
        secrets: declaredSecrets(service),
    };
}
