/** The table the start script prints: what is served where, with the settings each function gets. */
import type { RouteThrottle } from "../functions/runtime/service";
import type { ResolvedContainerService, ResolvedRoute } from "../platform/model";
import { STACK_DEFAULTS } from "../platform/config/stack-config";
import { functionConcurrencyCeiling } from "../platform/data-plan";

export interface RouteTableOptions {
    /** The stack's default route throttling; routes without their own `throttle` get it. */
    throttleDefaults?: RouteThrottle;
    /** False when local throttling is off: the column says so. @default true */
    throttling?: boolean;
    /** Container services, whose routes are listed with the function routes. @default none */
    containers?: readonly ResolvedContainerService[];
    /** The stack's `database.connectionsPerFunction`. @default STACK_DEFAULTS.database.connectionsPerFunction */
    connectionsPerFunction?: number;
}

function describeAuth(route: Pick<ResolvedRoute, "auth" | "scopes">): string {
    if (route.auth !== "jwt") return "public";
    return route.scopes.length > 0 ? `jwt (${route.scopes.join(" | ")})` : "jwt";
}

function describeThrottle(route: Pick<ResolvedRoute, "throttle">, options: RouteTableOptions): string {
    if (options.throttling === false) return "off";
    const limits = route.throttle ?? options.throttleDefaults;
    return limits ? `${limits.rateLimit}/s, burst ${limits.burstLimit}` : "-";
}

export function formatRouteTable(routes: readonly ResolvedRoute[], baseUrl: string, options: RouteTableOptions = {}): string {
    const header = ["METHOD", "PATH", "SERVICE", "MEMORY", "TIMEOUT", "CONCURRENCY", "DATABASE", "AUTH", "THROTTLE", "DESCRIPTION"];
    const rows = routes.map((route) => [
        route.method,
        route.path,
        route.service,
        `${route.memoryMb} MB`,
        `${route.timeoutSeconds} s`,
        // Containers the local server runs at most for this function (each with one connection).
        String(functionConcurrencyCeiling(route, options.connectionsPerFunction ?? STACK_DEFAULTS.database.connectionsPerFunction)),
        route.database ? "yes" : "no",
        describeAuth(route),
        describeThrottle(route, options),
        route.description,
    ]);
    // A container route: its service's task size, the API's wait, and its process (one, locally).
    for (const container of options.containers ?? []) {
        for (const route of container.routes) {
            rows.push([route.method, route.path, `${container.name} (container)`, `${container.memoryMb} MB`, `${route.timeoutSeconds} s`, "1 process", container.database ? "yes" : "no", describeAuth(route), describeThrottle(route, options), route.description]);
        }
    }
    const widths = header.map((title, column) => Math.max(title.length, ...rows.map((row) => row[column].length)));
    const line = (cells: string[]) => cells.map((cell, column) => cell.padEnd(widths[column])).join("  ").trimEnd();
    return [`Serving ${rows.length} route(s) on ${baseUrl}`, "", line(header), ...rows.map(line)].join("\n");
}
