/** Invokes a registry route through the same wrapper the Lambda closure uses, for handler tests. */
import type { Database } from "../../functions/runtime/database";
import { createRouteHandler } from "../../functions/runtime/handler";
import { createLogger } from "../../functions/runtime/logger";
import type { AnyService, RouteDefinition } from "../../functions/runtime/service";
import { httpApiEvent, type EventOptions } from "./events";

export interface Reply {
    status: number;
    headers: Record<string, string>;
    body: any;
}

/** `call("GET /users/{id}", { path: "/users/1", pathParameters: { id: "1" } })` -> status and parsed body. */
export function routeCaller(service: AnyService, db?: () => Database) {
    const silent = createLogger({ write: () => undefined });
    return async (routeKey: string, options: Omit<EventOptions, "routeKey"> = {}): Promise<Reply> => {
        const route = (service.routes as Record<string, RouteDefinition | undefined>)[routeKey];
        if (!route) throw new Error(`${service.name} has no route ${routeKey}`);
        const invoke = createRouteHandler(route.handler as never, { service: service.name, routeKey, openDatabase: db, logger: silent });
        const response = await invoke(httpApiEvent({ routeKey, ...options }));
        const text = response.body === undefined ? undefined : response.isBase64Encoded ? Buffer.from(response.body, "base64").toString() : response.body;
        const isJson = /json/.test(String(response.headers?.["content-type"]));
        return { status: response.statusCode ?? 200, headers: (response.headers ?? {}) as Record<string, string>, body: text !== undefined && isJson ? JSON.parse(text) : text };
    };
}
