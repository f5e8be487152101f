/** Invokes a registry route through the same wrapper the Lambda closure uses, for handler tests. */
import type { Database } from "../../functions/runtime/data/database";
import type { PutEventsEntry } from "../../functions/runtime/queue/event-envelope";
import type { EventTransport } from "../../functions/runtime/outbox/publisher";
import type { EventCatalog } from "../../functions/runtime/events";
import { withSecrets } from "../../functions/runtime/entry/secrets";
import { createRouteHandler } from "../../functions/runtime/handler";
import { createLogger } from "../../functions/runtime/logger";
import { createServiceSecrets } from "../../functions/runtime/secrets/secrets";
import type { AnyService, RouteDefinition } from "../../functions/runtime/service";
import { httpApiEvent, type EventOptions } from "../../testing/events";
import { assertDeclaredResponse } from "../../testing/responses";

export interface Reply {
    status: number;
    headers: Record<string, string>;
    body: any;
}

/** A transport that keeps what it is sent: what a handler under test published. */
export function recordingTransport(): EventTransport & { entries: PutEventsEntry[] } {
    const entries: PutEventsEntry[] = [];
    return { entries, send: async (sent) => void entries.push(...sent) };
}

/**
 * `call("GET /users/{id}", { path: "/users/1", pathParameters: { id: "1" } })` -> status and parsed
 * body. A service's events go to `events` (by default a recording transport nobody reads); its
 * declared secrets come from `secrets`. A route that declares `responses` fails the call on any
 * answer it does not describe (`testing/responses.ts`).
 */
export function routeCaller(service: AnyService, db?: () => Database, events: EventTransport = recordingTransport(), secrets: Readonly<Record<string, string>> = {}) {
    const silent = createLogger({ write: () => undefined });
    const declared = (service.secrets ?? []) as readonly string[];
    // Its declared secrets, from `secrets` (a declared name missing there answers 503, as in the cloud).
    const store = declared.length > 0 ? createServiceSecrets(service.name, declared, async () => secrets, { log: silent }) : undefined;
    return async (routeKey: string, options: Omit<EventOptions, "routeKey"> = {}): Promise<Reply> => {
        const route = (service.routes as Record<string, RouteDefinition | undefined>)[routeKey];
        if (!route) throw new Error(`${service.name} has no route ${routeKey}`);
        const catalog = service.events as EventCatalog | undefined;
        const handler = store ? withSecrets(route, store).handler : route.handler;
        const invoke = createRouteHandler(handler as never, {
            service: service.name,
            routeKey,
            request: route.request,
            openDatabase: db,
            logger: silent,
            events: catalog ? { catalog, eventBusName: "test-bus", transport: events } : undefined,
        });
        const response = await invoke(httpApiEvent({ routeKey, ...options }));
        const text = response.body === undefined ? undefined : response.isBase64Encoded ? Buffer.from(response.body, "base64").toString() : response.body;
        const isJson = /json/.test(String(response.headers?.["content-type"]));
        const reply = { status: response.statusCode ?? 200, headers: (response.headers ?? {}) as Record<string, string>, body: text !== undefined && isJson ? JSON.parse(text) : text };
        // A route that declares its answers is held to them in every test that calls it.
        if (route.responses) assertDeclaredResponse(routeKey, route.responses, reply);
        return reply;
    };
}
