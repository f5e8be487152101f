/**
 * API Gateway HTTP API (payload 2.0) events for tests and the benchmark, built by the product's
 * own builder (`local/event.ts`, the one the local runtime uses) from a request described in a few
 * fields. `events/http-api-v2-*.json` hold events in the shape AWS sends; `tests/local` checks the
 * builder against them.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import type { HttpApiEvent } from "../functions/runtime/http/payload";
import { createEvent } from "../local/event";

/** The host of a deployed HTTP API, as clients address it. */
const API_HOST = "a1b2c3d4e5.execute-api.us-east-1.amazonaws.com";

export interface EventOptions {
    /** The route that matched, e.g. `GET /users/{id}`; the request's method is the route's (GET for ANY). */
    routeKey: string;
    /** The request path as sent (percent-encoded). @default the route's path */
    path?: string;
    pathParameters?: Record<string, string>;
    /** The raw query string, without `?`: `limit=1&limit=2`. @default none */
    query?: string;
    /** Request headers, names in any case. */
    headers?: Record<string, string>;
    /** Sent in one `cookie` header, as a browser sends them. */
    cookies?: string[];
    /** A string or bytes as sent; an object is sent as JSON (with `content-type: application/json` unless a content type is given). */
    body?: string | Buffer | object;
    /**
     * Sends the body base64-encoded (`isBase64Encoded: true`), as API Gateway does for content
     * types it does not pass as text, to prove a handler decodes it whatever the content type.
     * @default false (the builder's rule: text content types as text, others base64)
     */
    base64?: boolean;
    requestId?: string;
    /**
     * The claims of a token API Gateway's JWT authorizer verified, as a protected route receives
     * them (`request.claims`). @default none: a public route's event
     */
    claims?: Record<string, unknown>;
}

let counter = 0;

/** An event for a request that matched `routeKey`, as the local runtime would send it to the function. */
export function httpApiEvent(options: EventOptions): HttpApiEvent {
    const [routeMethod, routePath] = options.routeKey.split(" ");
    // A route for ANY method is called with a real one.
    const method = routeMethod === "ANY" ? "GET" : routeMethod;
    const headers: Record<string, string> = { host: API_HOST, "user-agent": "tests/1.0", accept: "*/*" };
    for (const [name, value] of Object.entries(options.headers ?? {})) headers[name.toLowerCase()] = value;
    let body: Buffer | undefined;
    if (Buffer.isBuffer(options.body)) {
        body = options.body;
    } else if (typeof options.body === "string") {
        body = Buffer.from(options.body, "utf8");
    } else if (options.body !== undefined) {
        body = Buffer.from(JSON.stringify(options.body), "utf8");
        headers["content-type"] ??= "application/json";
    }
    if (body) headers["content-length"] ??= String(body.length);
    const rawHeaders = Object.entries(headers).flat();
    if (options.cookies && options.cookies.length > 0) rawHeaders.push("cookie", options.cookies.join("; "));
    const event = createEvent({
        request: {
            method,
            url: `${options.path ?? routePath}${options.query ? `?${options.query}` : ""}`,
            rawHeaders,
            body,
            sourceIp: "203.0.113.7",
            protocol: "HTTP/1.1",
            port: 443,
        },
        routeKey: options.routeKey,
        pathParameters: options.pathParameters ?? {},
        requestId: options.requestId ?? `req-${++counter}`,
        receivedAt: new Date(),
    });
    if (options.claims) {
        const scope = options.claims.scope;
        // As API Gateway sends them: the token's scopes, or null.
        event.requestContext.authorizer = { jwt: { claims: options.claims, scopes: (typeof scope === "string" ? scope.split(" ") : null) as string[] } };
    }
    if (options.base64 && event.body !== undefined && !event.isBase64Encoded) {
        event.body = Buffer.from(event.body, "utf8").toString("base64");
        event.isBase64Encoded = true;
    }
    return event;
}

/**
 * A CloudWatch alarm's state change as EventBridge delivers it to a rule's target
 * (`events/cloudwatch-alarm-state-change.json`, a metric math alarm going to ALARM), for the
 * alarm named and the state given.
 */
export function alarmStateChangeEvent(options: { alarmArn?: string; state?: "ALARM" | "OK" } = {}): Record<string, any> {
    const event = JSON.parse(fs.readFileSync(path.join(__dirname, "events", "cloudwatch-alarm-state-change.json"), "utf8"));
    if (options.alarmArn) {
        event.resources = [options.alarmArn];
        event.detail.alarmName = options.alarmArn.split(":alarm:")[1] ?? event.detail.alarmName;
    }
    if (options.state === "OK") [event.detail.state.value, event.detail.previousState.value] = ["OK", "ALARM"];
    return event;
}

/** An event fixture from `events/`, e.g. `httpApiFixture("post-json")` for `http-api-v2-post-json.json`. */
export function httpApiFixture(name: string): HttpApiEvent {
    return JSON.parse(fs.readFileSync(path.join(__dirname, "events", `http-api-v2-${name}.json`), "utf8")) as HttpApiEvent;
}

/** The names of every event fixture. */
export function httpApiFixtureNames(): string[] {
    return fs
        .readdirSync(path.join(__dirname, "events"))
        .map((file) => /^http-api-v2-(.+)\.json$/.exec(file)?.[1])
        .filter((name): name is string => name !== undefined)
        .sort();
}

/**
 * A request any route can be sent knowing only its key, for checks that run over whatever the
 * registry holds (the benchmark, the archives of the real stack): every path parameter a UUID
 * (distinct per `n`), a greedy one a short path, and `{}` as the JSON body of a method that takes
 * one. A route answers it with its own 2xx or 4xx: that it answers, and never with a 5xx, is what
 * such a check can hold it to.
 */
export function routeEvent(routeKey: string, n = 0): HttpApiEvent {
    const [method, routePath] = routeKey.split(" ");
    const id = `00000000-0000-4000-8000-${String(n).padStart(12, "0")}`;
    const pathParameters: Record<string, string> = {};
    const path = routePath.replace(/\{([^}+]+)(\+?)\}/g, (_match, name: string, greedy: string) => {
        pathParameters[name] = greedy ? "a/b" : id;
        return pathParameters[name];
    });
    const takesBody = ["POST", "PUT", "PATCH"].includes(method);
    return httpApiEvent({ routeKey, path, pathParameters, ...(takesBody ? { body: {} } : {}) });
}
