/** API Gateway HTTP API (payload 2.0) events as the service really sends them, for tests. */
import type { HttpApiEvent } from "../../functions/runtime/http";

export interface EventOptions {
    routeKey: string;
    path?: string;
    pathParameters?: Record<string, string>;
    query?: string;
    headers?: Record<string, string>;
    cookies?: string[];
    body?: string | Buffer | object;
    requestId?: string;
}

let counter = 0;

export function httpApiEvent(options: EventOptions): HttpApiEvent {
    const [method, routePath] = options.routeKey.split(" ");
    const rawPath = options.path ?? routePath;
    const rawQueryString = options.query ?? "";
    const queryStringParameters: Record<string, string> = {};
    for (const [name, value] of new URLSearchParams(rawQueryString)) {
        queryStringParameters[name] = name in queryStringParameters ? `${queryStringParameters[name]},${value}` : value;
    }
    const requestId = options.requestId ?? `req-${++counter}`;
    let body: string | undefined;
    let isBase64Encoded = false;
    const headers: Record<string, string> = { host: "a1b2c3d4e5.execute-api.us-east-1.amazonaws.com", "user-agent": "test", ...options.headers };
    if (Buffer.isBuffer(options.body)) {
        body = options.body.toString("base64");
        isBase64Encoded = true;
    } else if (typeof options.body === "string") {
        body = options.body;
    } else if (options.body !== undefined) {
        body = JSON.stringify(options.body);
        headers["content-type"] ??= "application/json";
    }
    const now = new Date();
    return {
        version: "2.0",
        routeKey: options.routeKey,
        rawPath,
        rawQueryString,
        cookies: options.cookies,
        headers,
        queryStringParameters: rawQueryString ? queryStringParameters : undefined,
        pathParameters: options.pathParameters,
        requestContext: {
            accountId: "123456789012",
            apiId: "a1b2c3d4e5",
            domainName: headers.host,
            domainPrefix: "a1b2c3d4e5",
            http: { method, path: rawPath, protocol: "HTTP/1.1", sourceIp: "203.0.113.7", userAgent: "test" },
            requestId,
            routeKey: options.routeKey,
            stage: "$default",
            time: now.toUTCString(),
            timeEpoch: now.getTime(),
        },
        body,
        isBase64Encoded,
    } as HttpApiEvent;
}
