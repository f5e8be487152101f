/**
 * Checks a service registry and resolves it into the routes the program deploys. Pure code: it runs
 * before any resource is registered (and in the local runtime), so a mistake in a service file
 * stops everything with a message that names the service, the route and what is allowed.
 */
import { HTTP_METHODS, type AnyService, type RouteAuth, type RouteDefinition, type RouteHandler, type RouteThrottle } from "../functions/runtime/service";
import { HTTP_API, LAMBDA, ROUTE_FUNCTION } from "../policy/lib/limits";

const LIMITS = { memoryMb: LAMBDA.memoryMb, timeoutSeconds: ROUTE_FUNCTION.timeoutSeconds, reservedConcurrency: LAMBDA.reservedConcurrency };
const HTTP_API_CUT = `(the HTTP API cuts requests at ${HTTP_API.integrationTimeoutMs.max / 1000} s)`;

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

export class RegistryError extends Error {
    constructor(readonly problems: string[]) {
        super(`The service registry (infra/registry.ts) is invalid:\n${problems.map((p) => `  - ${p}`).join("\n")}`);
        this.name = "RegistryError";
    }
}

/** Lower-case DNS label: letters, digits and dashes, starting with a letter, at most 32 characters. */
const SERVICE_NAME = /^[a-z](?:[a-z0-9-]{0,30}[a-z0-9])?$/;
const LITERAL_SEGMENT = /^[A-Za-z0-9._~-]+$/;
const PARAMETER_SEGMENT = /^\{([A-Za-z_][A-Za-z0-9_]*)(\+?)\}$/;
/** OAuth scope tokens: printable ASCII without spaces, quotes or backslashes (RFC 6749, 3.3). */
const SCOPE = /^[\x21\x23-\x5B\x5D-\x7E]{1,128}$/;
const ROUTE_AUTH: readonly RouteAuth[] = ["none", "jwt"];
const THROTTLE_LIMITS = { rateLimit: { min: 0, max: HTTP_API.throttle.rateLimit.max }, burstLimit: { min: 0, max: HTTP_API.throttle.burstLimit.max } };
const MAX_ROUTES = HTTP_API.maxRoutes;

function describeInteger(range: { min: number; max: number }): string {
    return `an integer from ${range.min} to ${range.max}`;
}

function checkInteger(value: unknown, range: { min: number; max: number }): boolean {
    return value === undefined || (typeof value === "number" && Number.isInteger(value) && value >= range.min && value <= range.max);
}

/** Problems with a route key's path, or none. Paths are `/segment/{param}/...`; `{proxy+}` only last. */
export function pathProblems(path: string): string[] {
    if (path === "/") return [];
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

/** Problems with a route's `auth`, `scopes` and `throttle`, prefixed with `at`. */
function routeAccessProblems(route: RouteDefinition | undefined, at: string): string[] {
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
    if (route?.throttle !== undefined) {
        const { rateLimit, burstLimit } = route.throttle ?? ({} as RouteThrottle);
        const { rateLimit: rate, burstLimit: burst } = THROTTLE_LIMITS;
        if (typeof rateLimit !== "number" || !Number.isFinite(rateLimit) || rateLimit < rate.min || rateLimit > rate.max) {
            problems.push(`${at}: throttle.rateLimit ${JSON.stringify(rateLimit)} is not allowed; use requests per second from ${rate.min} to ${rate.max}`);
        }
        if (!checkInteger(burstLimit, burst) || burstLimit === undefined) {
            problems.push(`${at}: throttle.burstLimit ${JSON.stringify(burstLimit)} is not allowed; use ${describeInteger(burst)}`);
        }
    }
    return problems;
}

/** `"GET /users/{id}"` -> `"get-users-id"`. */
export function routeId(method: string, path: string): string {
    const words = path
        .split("/")
        .filter(Boolean)
        .map((segment) => segment.replace(/[{}+]/g, "").replace(/[^A-Za-z0-9]+/g, "-").toLowerCase());
    return [method.toLowerCase(), ...(words.length > 0 ? words : ["root"])].join("-").replace(/-+/g, "-").replace(/-$/, "");
}

/**
 * Validates the registry and applies defaults (service, then stack). Throws a `RegistryError`
 * listing every problem at once.
 */
export function resolveRegistry(
    services: readonly AnyService[],
    stackDefaults: { memoryMb: number; timeoutSeconds: number },
): ResolvedRoute[] {
    const problems: string[] = [];
    const routes: ResolvedRoute[] = [];
    const serviceNames = new Set<string>();
    // Route key -> owner; parameter names are erased because API Gateway treats
    // `GET /users/{id}` and `GET /users/{userId}` as the same route.
    const routeOwners = new Map<string, string>();

    if (!Array.isArray(services) || services.length === 0) {
        throw new RegistryError(["the registry lists no services; add at least one to infra/registry.ts"]);
    }

    for (const [index, service] of services.entries()) {
        const name = typeof service?.name === "string" ? service.name : `#${index + 1}`;
        const where = `service "${name}"`;
        if (!SERVICE_NAME.test(String(service?.name))) {
            problems.push(`${where}: the name must be lower-case letters, digits and dashes, start with a letter, and have at most 32 characters`);
        } else if (serviceNames.has(name)) {
            problems.push(`${where}: another service has the same name; service names must be unique`);
        }
        serviceNames.add(name);

        if (typeof service?.description !== "string" || service.description.trim() === "") {
            problems.push(`${where}: description is required (one line saying what the service does)`);
        }
        if (typeof service?.database !== "boolean") problems.push(`${where}: database must be true or false`);
        if (!checkInteger(service?.memoryMb, LIMITS.memoryMb)) {
            problems.push(`${where}: memoryMb ${JSON.stringify(service.memoryMb)} is not allowed; use ${describeInteger(LIMITS.memoryMb)}`);
        }
        if (!checkInteger(service?.timeoutSeconds, LIMITS.timeoutSeconds)) {
            problems.push(`${where}: timeoutSeconds ${JSON.stringify(service.timeoutSeconds)} is not allowed; use ${describeInteger(LIMITS.timeoutSeconds)} ${HTTP_API_CUT}`);
        }
        if (!checkInteger(service?.reservedConcurrency, LIMITS.reservedConcurrency)) {
            problems.push(`${where}: reservedConcurrency ${JSON.stringify(service.reservedConcurrency)} is not allowed; use ${describeInteger(LIMITS.reservedConcurrency)} or leave it out`);
        }
        if (service?.migrationsDir !== undefined && service.database !== true) {
            problems.push(`${where}: migrationsDir is set but database is false; migrations need the database`);
        }

        const routeEntries = Object.entries((service?.routes ?? {}) as Record<string, RouteDefinition | undefined>);
        if (routeEntries.length === 0) problems.push(`${where}: has no routes; declare at least one "METHOD /path"`);
        const idsInService = new Map<string, string>();

        for (const [routeKey, route] of routeEntries) {
            const at = `${where}, route "${routeKey}"`;
            const match = /^(\S+) (\S+)$/.exec(routeKey);
            if (!match) {
                problems.push(`${at}: a route key is "METHOD /path" with one space, e.g. "GET /users/{id}"`);
                continue;
            }
            const [, method, path] = match;
            if (!(HTTP_METHODS as readonly string[]).includes(method)) {
                problems.push(`${at}: method "${method}" is not allowed; use one of ${HTTP_METHODS.join(", ")}`);
            }
            for (const problem of pathProblems(path)) problems.push(`${at}: ${problem}`);

            const normalized = `${method} ${path.replace(/\{[^}]*\}/g, "{}")}`;
            const owner = routeOwners.get(normalized);
            if (owner !== undefined) {
                problems.push(`${at}: duplicates route "${owner}"; every method and path may be declared once across the registry`);
            } else {
                routeOwners.set(normalized, `${routeKey}" of service "${name}`);
            }

            const id = routeId(method, path);
            const sameId = idsInService.get(id);
            if (sameId !== undefined) problems.push(`${at}: its resource name "${id}" clashes with route "${sameId}"; rename one path`);
            idsInService.set(id, routeKey);

            if (typeof route?.handler !== "function") problems.push(`${at}: handler must be a function (request, context) => response`);
            if (!checkInteger(route?.memoryMb, LIMITS.memoryMb)) {
                problems.push(`${at}: memoryMb ${JSON.stringify(route?.memoryMb)} is not allowed; use ${describeInteger(LIMITS.memoryMb)}`);
            }
            if (!checkInteger(route?.timeoutSeconds, LIMITS.timeoutSeconds)) {
                problems.push(`${at}: timeoutSeconds ${JSON.stringify(route?.timeoutSeconds)} is not allowed; use ${describeInteger(LIMITS.timeoutSeconds)} ${HTTP_API_CUT}`);
            }

            problems.push(...routeAccessProblems(route, at));

            routes.push({
                service: name,
                routeKey,
                method,
                path,
                id,
                description: route?.description ?? service?.description ?? "",
                memoryMb: route?.memoryMb ?? service?.memoryMb ?? stackDefaults.memoryMb,
                timeoutSeconds: route?.timeoutSeconds ?? service?.timeoutSeconds ?? stackDefaults.timeoutSeconds,
                reservedConcurrency: service?.reservedConcurrency,
                database: service?.database === true,
                auth: route?.auth ?? "none",
                scopes: route?.scopes ?? [],
                throttle: route?.throttle,
                handler: route?.handler as RouteHandler,
            });
        }
    }
    if (routes.length > MAX_ROUTES) {
        problems.push(`the registry declares ${routes.length} routes; an HTTP API holds at most ${MAX_ROUTES}`);
    }
    if (problems.length > 0) throw new RegistryError(problems);
    return routes;
}
