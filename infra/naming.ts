/**
 * Names the program derives rather than takes: they end up in resource names and URNs, so each is
 * computed in one place and changing one is a change to every deployed stack (see
 * `tests/infra/urns.test.ts`).
 */

/** `"GET /users/{id}"` -> `"get-users-id"`: the route's part of its resources' names. */
export function routeId(method: string, path: string): string {
    const words = path
        .split("/")
        .filter(Boolean)
        .map((segment) => segment.replace(/[{}+]/g, "").replace(/[^A-Za-z0-9]+/g, "-").toLowerCase());
    return [method.toLowerCase(), ...(words.length > 0 ? words : ["root"])].join("-").replace(/-+/g, "-").replace(/-$/, "");
}

/** The log group of one function, e.g. `/serverless-microservices/dev/users/get-users-id`. */
export function functionLogGroupName(project: string, stack: string, service: string, functionId: string): string {
    return `/${project}/${stack}/${service}/${functionId}`;
}

/** The log group of a container service's tasks, e.g. `/serverless-microservices/dev/reports/container`. */
export function containerLogGroupName(project: string, stack: string, service: string): string {
    return `/${project}/${stack}/${service}/container`;
}
