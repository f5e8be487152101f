/** A route's handler, as API Gateway's HTTP API invokes it. */
import { createRouteHandler, type LambdaHttpHandler } from "../handler";
import type { RouteHandler, RouteRequest } from "../service";
import { entryLogger, serviceResources, type ResourcesProvider, type ServiceUse } from "./resources";

/** What the entry takes of a resolved route: only this is captured in the route's archive. */
export interface RouteEntry extends ServiceUse {
    handler: RouteHandler;
    routeKey: string;
    /** The route's declared `transaction`. @default the rule of `RouteDefinition.transaction` for its method */
    transaction?: boolean;
    /** What the route accepts, checked before its handler runs. */
    request?: RouteRequest;
}

export function routeEntry(route: RouteEntry): RouteEntry {
    const { handler, service, routeKey, transaction, events, request } = route;
    return { handler, service, routeKey, transaction, events, ...(request ? { request } : {}) };
}

export function createRouteEntry(route: RouteEntry, provider: ResourcesProvider): LambdaHttpHandler {
    return createRouteHandler(route.handler, {
        service: route.service,
        routeKey: route.routeKey,
        transaction: route.transaction,
        request: route.request,
        logger: entryLogger(provider, { service: route.service, route: route.routeKey }),
        ...serviceResources(route, provider),
    });
}
