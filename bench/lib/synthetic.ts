/**
 * Synthetic registries for measuring how the program scales: `routeCount` routes with trivial
 * handlers, spread over services of at most 10 routes each. No database, so what grows is only
 * the per-route work (closure serialization, code paths, five resources per route).
 */
import { defineService, type AnyService } from "../../functions/runtime/service";

const ROUTES_PER_SERVICE = 10;

/** A trivial handler per route; each is its own closure, as a real route's would be. */
function trivialHandler(service: string, index: number) {
    return async () => ({ service, route: index, ok: true });
}

export function syntheticServices(routeCount: number): AnyService[] {
    const services: AnyService[] = [];
    for (let start = 0, s = 0; start < routeCount; start += ROUTES_PER_SERVICE, s++) {
        const name = `svc${String(s).padStart(3, "0")}`;
        const routes: Record<string, { handler: () => Promise<unknown>; description: string }> = {};
        for (let i = start; i < Math.min(routeCount, start + ROUTES_PER_SERVICE); i++) {
            routes[`GET /${name}/r${i}`] = { handler: trivialHandler(name, i), description: `Synthetic route ${i}` };
        }
        services.push(defineService({ name, description: `Synthetic service ${s}`, database: false, routes }));
    }
    return services;
}
