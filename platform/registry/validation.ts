/**
 * The checks a service registry must pass, as named pure functions: each takes part of the registry
 * and returns the problems it finds (none: fine), every one naming the service and the file it is
 * declared in, the route and what is allowed. `validateRegistry` runs them all; `resolveRegistry`
 * (`resolution.ts`) refuses a registry with any problem before a default is applied or a
 * resource exists.
 */
import * as path from "node:path";
import { isContainerService, type RegisteredService } from "../../functions/runtime/container";
import { serviceFile, type AnyService, type RouteDefinition, type ScheduleDefinition, type SubscriptionDefinition } from "../../functions/runtime/service";
import { reservedSchemaReason, serviceSchema } from "../../functions/runtime/data/service-data";
import { LAMBDA } from "../../policy/lib/limits";
import { containerEnvironmentNames, validateContainerService, validateDockerfile } from "../containers/validation";
import { validateSecrets } from "../secrets";
import { schemaRecordProblems } from "../events/schemas";
import { validateEventCatalog } from "../events/validation";
import { describeInteger, isOptionalInteger, PLATFORM_FUNCTION_BOUNDS, validateFunctionSettings, type FunctionBounds } from "../function-bounds";
import { REGISTRY_NAME, routeId } from "../naming";
import { REPOSITORY_ROOT } from "../config/stack-files";
import { validateContainerRoute } from "../triggers/container-route";
import { parseRouteKey, validateRoute, validateRouteCount, validateRouteDescription, validateRouteKey, validateRouteTransaction } from "../triggers/route";
import { validateSchedule } from "../triggers/schedule";
import { validateSubscribedEvents, validateSubscription } from "../triggers/subscription";

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

/** A service's subscriptions and schedules, each on its own. */
export function validateTriggers(service: AnyService, where: string): string[] {
    const problems: string[] = [];
    for (const [name, subscription] of Object.entries((service.subscriptions ?? {}) as Record<string, SubscriptionDefinition | undefined>)) {
        problems.push(...validateSubscription(name, subscription, `${where}, subscription "${name}"`));
    }
    for (const [name, schedule] of Object.entries((service.schedules ?? {}) as Record<string, ScheduleDefinition | undefined>)) {
        problems.push(...validateSchedule(name, schedule, `${where}, schedule "${name}"`));
    }
    return problems;
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

            problems.push(...(container ? validateContainerRoute(route, at) : [...validateRoute(route, at, bounds), ...validateRouteTransaction(route, service.database, at)]));
            problems.push(...validateRouteDescription(route, path, at));
        }
    }
    problems.push(...validateRouteCount(routeCount));
    problems.push(...validateSubscribedEvents(services.filter((service): service is AnyService => !isContainerService(service))));
    return problems;
}
