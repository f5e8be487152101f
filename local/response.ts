/**
 * What API Gateway does with a function's answer (payload format 2.0), and the answers API
 * Gateway gives on its own (404, 413, 429, 500, 503, 504; the authorizer's 401/403 are in authorizer.ts). A response it cannot read (no valid status code,
 * headers that are not an object) becomes its 500, as in the cloud, so a handler bug shows up
 * locally instead of after a deployment.
 */
import type * as http from "node:http";

/** What the server sends: status, headers (a list means one header line per value), body bytes. */
export interface GatewayResponse {
    statusCode: number;
    headers: Record<string, string | string[]>;
    body: Buffer;
}

function gatewayError(statusCode: number, message: string): GatewayResponse {
    return { statusCode, headers: { "content-type": "application/json" }, body: Buffer.from(JSON.stringify({ message })) };
}

/** The API Gateway's own error bodies, byte for byte. */
export const GATEWAY_ERRORS = {
    notFound: () => gatewayError(404, "Not Found"),
    tooLarge: () => gatewayError(413, "Request Entity Too Large"),
    tooManyRequests: () => gatewayError(429, "Too Many Requests"),
    internal: () => gatewayError(500, "Internal Server Error"),
    unavailable: () => gatewayError(503, "Service Unavailable"),
    /** An HTTP integration (a container) that did not answer within the integration's timeout. */
    timeout: () => gatewayError(504, "Gateway Timeout"),
};

function isPlainObject(value: unknown): value is Record<string, unknown> {
    return typeof value === "object" && value !== null && !Array.isArray(value);
}

/**
 * Maps a function's result to the HTTP response. A result without `statusCode` is the 2.0
 * shortcut: 200, `application/json`, the result serialized as the body.
 */
export function fromFunctionResult(result: unknown): GatewayResponse {
    if (!isPlainObject(result) || !("statusCode" in result)) {
        const body = typeof result === "string" ? result : JSON.stringify(result ?? null);
        return { statusCode: 200, headers: { "content-type": "application/json" }, body: Buffer.from(body) };
    }
    const { statusCode, headers, cookies, body, isBase64Encoded } = result;
    if (typeof statusCode !== "number" || !Number.isInteger(statusCode) || statusCode < 100 || statusCode > 599) {
        return GATEWAY_ERRORS.internal();
    }
    if (headers !== undefined && !isPlainObject(headers)) return GATEWAY_ERRORS.internal();
    if (cookies !== undefined && (!Array.isArray(cookies) || cookies.some((cookie) => typeof cookie !== "string"))) {
        return GATEWAY_ERRORS.internal();
    }
    if (body !== undefined && body !== null && typeof body !== "string") return GATEWAY_ERRORS.internal();

    const responseHeaders: Record<string, string | string[]> = {};
    for (const name of headers ? Object.keys(headers) : []) {
        const value = headers![name];
        if (typeof value === "string" || typeof value === "number" || typeof value === "boolean") {
            responseHeaders[name.toLowerCase()] = String(value);
        } else {
            return GATEWAY_ERRORS.internal();
        }
    }
    if (Array.isArray(cookies) && cookies.length > 0) responseHeaders["set-cookie"] = cookies as string[];
    const bytes = typeof body === "string" ? Buffer.from(body, isBase64Encoded === true ? "base64" : "utf8") : Buffer.alloc(0);
    return { statusCode, headers: responseHeaders, body: bytes };
}

/**
 * Writes a response with a fixed length (API Gateway never chunks a Lambda response). With
 * `endAfter`, the whole response is sent at once but the exchange ends only when it settles: a
 * response that closes the connection closes it then.
 */
export function writeResponse(res: http.ServerResponse, response: GatewayResponse, extraHeaders: Record<string, string>, endAfter?: Promise<unknown>): void {
    const headers: Record<string, string | string[]> = { ...response.headers, ...extraHeaders };
    // 204 and 304 carry no body; Node refuses a Content-Length on them for good reason.
    const bodyless = response.statusCode === 204 || response.statusCode === 304 || response.statusCode < 200;
    if (!bodyless) headers["content-length"] = String(response.body.length);
    res.writeHead(response.statusCode, headers);
    if (!endAfter) {
        // As a latin1 string (one character per byte, so any body goes through unchanged), Node
        // sends the head and the body in one write instead of a vectored write of two chunks.
        if (bodyless) res.end();
        else res.end(response.body.toString("latin1"), "latin1");
        return;
    }
    if (!bodyless) res.write(response.body);
    void endAfter.finally(() => {
        if (res.socket && !res.socket.destroyed) res.end();
    });
}
