/**
 * The checks a service registry must pass, as named pure functions: each takes part of the registry
 * and returns the problems it finds (none: fine), every one naming the service and the file it is
 * declared in, the route and what is allowed. `validateRegistry` runs them all; `resolveRegistry`
 * (`resolution.ts`) refuses a registry with any problem before a default is applied or a
 * resource exists.
 */
import * as path from "node:path";
import { isContainerService, type RegisteredService } from "../../functions/runtime/container";
import { HTTP_METHODS, serviceFile, type AnyService, type RouteAuth, type RouteDefinition, type RouteThrottle } from "../../functions/runtime/service";
import { reservedSchemaReason, serviceSchema } from "../../functions/runtime/data/service-data";
import { HTTP_API, LAMBDA, SECRETS_MANAGER, type Range } from "../../policy/lib/limits";
import { containerEnvironmentNames, validateContainerService, validateDockerfile } from "../containers/validation";
import { schemaRecordProblems } from "../events/schemas";
import { validateEventCatalog, validateSubscribedEvents, validateTriggers } from "../events/validation";
import { PLATFORM_FUNCTION_BOUNDS, type Bound, type FunctionBounds } from "../function-bounds";
import { REGISTRY_NAME, routeId } from "../naming";
import { REPOSITORY_ROOT } from "../config/stack-files";

const ROUTE_KEY = /^(\S+) (\S+)$/;
const LITERAL_SEGMENT = /^[A-Za-z0-9._~-]+$/;
const PARAMETER_SEGMENT = /^\{([A-Za-z_][A-Za-z0-9_]*)(\+?)\}$/;
/**
 * A secret's name: what a handler passes to `ctx.secrets.get`, a key of the service's secret's JSON
 * and, for a container service, the environment variable its process reads.
 */
export const SECRET_NAME = { pattern: /^[A-Z][A-Z0-9_]{0,63}$/, text: "an upper-case letter, then upper-case letters, digits or _ (at most 64 characters), e.g. STRIPE_API_KEY" };
/** OAuth scope tokens: printable ASCII without spaces, quotes or backslashes (RFC 6749, 3.3). */
const SCOPE = /^[\x21\x23-\x5B\x5D-\x7E]{1,128}$/;
const ROUTE_AUTH: readonly RouteAuth[] = ["none", "jwt"];
/** A route may switch throttling off (0) up to the account's ceilings. */
const ROUTE_THROTTLE = { rateLimit: { min: 0, max: HTTP_API.throttle.rateLimit.max }, burstLimit: { min: 0, max: HTTP_API.throttle.burstLimit.max } };

function describeInteger(range: Range): string {
    return `an integer from ${range.min} to ${range.max}`;
}

/**
 * How messages name a service: `service "users" (functions/users/service.ts)`, the file being the
 * module that called `defineService` or `defineContainerService`, relative to the repository.
 */
export function describeService(service: RegisteredService, index: number): string {
    const name = typeof service?.name === "string" ? service.name : `#${index + 1}`;
    const file = serviceFile(service);
    if (file === undefined) return `service "${name}"`;
    const relative = path.relative(REPOSITORY_ROOT, file);
    return `service "${name}" (${relative.startsWith("..") || path.isAbsolute(relative) ? file : relative})`;
}

/** Absent, or an integer within `range`. */
function isOptionalInteger(value: unknown, range: Range): boolean {
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

/** What every service declares, whatever runs it: name, description, database flag. */
export function validateServiceIdentity(service: RegisteredService, where: string): string[] {
    const problems: string[] = [];
    if (!REGISTRY_NAME.pattern.test(String(service?.name))) {
        problems.push(`${where}: the name must be ${REGISTRY_NAME.text}`);
    } else {
        problems.push(...validateSchemaName(service.name, where));
    }
    if (typeof service?.description !== "string" || service.description.trim() === "") {
        problems.push(`${where}: description is required (one line saying what the service does)`);
    }
    if (typeof service?.database !== "boolean") problems.push(`${where}: database must be true or false`);
    return problems;
}

/** A function service's own fields: its identity, function settings, migrations. */
export function validateService(service: AnyService, where: string, bounds: FunctionBounds = PLATFORM_FUNCTION_BOUNDS): string[] {
    const problems = validateServiceIdentity(service, where);
    problems.push(...validateFunctionSettings(service, where, bounds));
    if (!isOptionalInteger(service?.reservedConcurrency, LAMBDA.reservedConcurrency)) {
        problems.push(`${where}: reservedConcurrency ${JSON.stringify(service.reservedConcurrency)} is not allowed; use ${describeInteger(LAMBDA.reservedConcurrency)} or leave it out`);
    }
    problems.push(...validateMigrationsDir(service, where));
    problems.push(...validateEventCatalog(service, where));
    problems.push(...validateTriggers(service, where));
    problems.push(...validateSecrets(service?.secrets, where));
    if (problems.length === 0) problems.push(...schemaRecordProblems(service, where));
    return problems;
}

/**
 * A service's `secrets`: a list of names (`SECRET_NAME`), each once, at most
 * `SECRETS_MANAGER.maxSecretsPerService`; `reserved` names the process already gets (a container
 * service's environment), which a secret may not take.
 */
export function validateSecrets(secrets: unknown, where: string, reserved: ReadonlySet<string> = new Set()): string[] {
    if (secrets === undefined) return [];
    if (!Array.isArray(secrets)) return [`${where}: secrets must be a list of names, e.g. ["STRIPE_API_KEY"]`];
    const problems: string[] = [];
    const seen = new Set<string>();
    for (const name of secrets) {
        if (typeof name !== "string" || !SECRET_NAME.pattern.test(name)) {
            problems.push(`${where}: secret name ${JSON.stringify(name)} is not allowed; use ${SECRET_NAME.text}`);
        } else if (seen.has(name)) {
            problems.push(`${where}: secret ${name} is declared twice; declare each secret once`);
        } else if (reserved.has(name)) {
            problems.push(`${where}: secret ${name} would take the environment variable ${name}, which the process already gets; choose another name`);
        }
        if (typeof name === "string") seen.add(name);
    }
    if (secrets.length > SECRETS_MANAGER.maxSecretsPerService) {
        problems.push(
            `${where}: declares ${secrets.length} secrets; a service may declare at most ${SECRETS_MANAGER.maxSecretsPerService} (its values share one Secrets Manager secret of ${SECRETS_MANAGER.secretValueBytes / 1024} KB)`,
        );
    }
    return problems;
}

/** Whether a function service has something to run besides routes. */
function hasTriggers(service: AnyService): boolean {
    return Object.keys(service?.subscriptions ?? {}).length > 0 || Object.keys(service?.schedules ?? {}).length > 0;
}

/**
 * `migrationsDir`, of a function or a container service: only with the database, and an absolute
 * path (`path.join(__dirname, "migrations")`): a relative one would be read from wherever the
 * command runs (the Pulumi CLI, `npm start`, a test).
 */
export function validateMigrationsDir(service: { database?: unknown; migrationsDir?: unknown } | undefined, where: string): string[] {
    const dir = service?.migrationsDir;
    if (dir === undefined) return [];
    if (service?.database !== true) return [`${where}: migrationsDir is set but database is false; migrations need the database`];
    if (typeof dir !== "string" || !path.isAbsolute(dir)) {
        return [`${where}: migrationsDir ${JSON.stringify(dir)} must be an absolute path; use path.join(__dirname, "migrations")`];
    }
    return [];
}

/**
 * The schema a service's data would live in (its name with `-` as `_`) must not be one PostgreSQL
 * or the platform keeps for itself. Checked for every service, so turning `database` on later
 * never meets a name that cannot work.
 */
export function validateSchemaName(name: string, where: string): string[] {
    const schema = serviceSchema(name);
    const reason = reservedSchemaReason(schema);
    return reason ? [`${where}: its data would live in schema "${schema}", and ${reason}; choose another service name`] : [];
}

/** One setting within a bound: absent, or an integer in range, else a problem naming the field and why. */
function boundProblem(value: unknown, field: string, bound: Bound, at: string): string[] {
    return isOptionalInteger(value, bound)
        ? []
        : [`${at}: ${field} ${JSON.stringify(value)} is not allowed; use ${describeInteger(bound)} (${bound.reason})`];
}

/**
 * Memory and timeout, where a service or a route sets them: within Lambda's and the HTTP API's
 * limits, and the stack's policy pack bounds when `bounds` are a stack's (`functionBoundsFor`).
 */
export function validateFunctionSettings(
    settings: { memoryMb?: unknown; timeoutSeconds?: unknown } | undefined,
    at: string,
    bounds: FunctionBounds = PLATFORM_FUNCTION_BOUNDS,
): string[] {
    return [...boundProblem(settings?.memoryMb, "memoryMb", bounds.memoryMb, at), ...boundProblem(settings?.timeoutSeconds, "timeoutSeconds", bounds.timeoutSeconds, at)];
}

/** A route's `auth`, `scopes` and `throttle`. */
export function validateRouteAccess(route: RouteDefinition | undefined, at: string): string[] {
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
        const { rateLimit: rate, burstLimit: burst } = ROUTE_THROTTLE;
        if (typeof rateLimit !== "number" || !Number.isFinite(rateLimit) || rateLimit < rate.min || rateLimit > rate.max) {
            problems.push(`${at}: throttle.rateLimit ${JSON.stringify(rateLimit)} is not allowed; use requests per second from ${rate.min} to ${rate.max}`);
        }
        if (burstLimit === undefined || !isOptionalInteger(burstLimit, burst)) {
            problems.push(`${at}: throttle.burstLimit ${JSON.stringify(burstLimit)} is not allowed; use ${describeInteger(burst)}`);
        }
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

/**
 * Every problem of a registry, in the order of its services and routes: each service on its own,
 * then what only the whole registry can tell (unique names, a route declared twice, resource names
 * that clash, the API's route count). `bounds` are what a stack allows a route function
 * (`functionBoundsFor(stack)`); container services have their own limits.
 */
export function validateRegistry(services: readonly RegisteredService[], bounds: FunctionBounds = PLATFORM_FUNCTION_BOUNDS): string[] {
    if (!Array.isArray(services) || services.length === 0) {
        return ["the registry lists no services; add at least one to infra/registry.ts"];
    }
    const problems: string[] = [];
    const serviceNames = new Set<string>();
    // Route key -> owner; parameter names are erased because API Gateway treats
    // `GET /users/{id}` and `GET /users/{userId}` as the same route.
    const routeOwners = new Map<string, string>();
    let routeCount = 0;

    for (const [index, service] of services.entries()) {
        const name = typeof service?.name === "string" ? service.name : `#${index + 1}`;
        const where = describeService(service, index);
        const container = isContainerService(service);
        const own = container
            ? [
                  ...validateServiceIdentity(service, where),
                  ...validateContainerService(service, where),
                  ...validateSecrets(service.secrets, where, containerEnvironmentNames(service)),
                  ...validateMigrationsDir(service, where),
                  ...validateDockerfile(service, where),
              ]
            : validateService(service, where, bounds);
        // A valid name has no problem of its own, so a duplicate is the service's first.
        if (REGISTRY_NAME.pattern.test(String(service?.name)) && serviceNames.has(name)) {
            own.unshift(`${where}: another service has the same name; service names must be unique`);
        }
        serviceNames.add(name);
        problems.push(...own);

        const routeEntries = Object.entries((service?.routes ?? {}) as Record<string, RouteDefinition | undefined>);
        // A container route has no handler or function settings: the process answers it.
        if (routeEntries.length === 0 && (container || !hasTriggers(service))) {
            problems.push(container ? `${where}: has no routes; declare at least one "METHOD /path"` : `${where}: has nothing to run; declare routes ("METHOD /path"), subscriptions or schedules`);
        }
        const idsInService = new Map<string, string>();

        for (const [routeKey, route] of routeEntries) {
            const at = `${where}, route "${routeKey}"`;
            const parsed = parseRouteKey(routeKey);
            if (!parsed) {
                problems.push(`${at}: a route key is "METHOD /path" with one space, e.g. "GET /users/{id}"`);
                continue;
            }
            routeCount++;
            const { method, path } = parsed;
            problems.push(...validateRouteKey(method, path, at));

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

            problems.push(...(container ? validateRouteAccess(route, at) : [...validateRoute(route, at, bounds), ...validateRouteTransaction(route, service.database, at)]));
        }
    }
    problems.push(...validateRouteCount(routeCount));
    problems.push(...validateSubscribedEvents(services.filter((service): service is AnyService => !isContainerService(service))));
    return problems;
}
