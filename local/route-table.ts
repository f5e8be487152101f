/** The table the start script prints: what is served where, with the settings each function gets. */
import type { ResolvedRoute } from "../infra/registry-validation";
import { DEFAULT_LOCAL_CONCURRENCY } from "./server";

export function formatRouteTable(routes: readonly ResolvedRoute[], baseUrl: string): string {
    const header = ["METHOD", "PATH", "SERVICE", "MEMORY", "TIMEOUT", "CONCURRENCY", "DATABASE", "DESCRIPTION"];
    const rows = routes.map((route) => [
        route.method,
        route.path,
        route.service,
        `${route.memoryMb} MB`,
        `${route.timeoutSeconds} s`,
        // Containers the local server runs at most for this function (each with one connection).
        String(route.reservedConcurrency ?? DEFAULT_LOCAL_CONCURRENCY),
        route.database ? "yes" : "no",
        route.description,
    ]);
    const widths = header.map((title, column) => Math.max(title.length, ...rows.map((row) => row[column].length)));
    const line = (cells: string[]) => cells.map((cell, column) => cell.padEnd(widths[column])).join("  ").trimEnd();
    return [`Serving ${routes.length} route(s) on ${baseUrl}`, "", line(header), ...rows.map(line)].join("\n");
}
