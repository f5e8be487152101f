/**
 * What the HTTP API's private integration does for a container route, locally: the request goes
 * to the service's process as the client sent it (method, path, query, body, headers), except that
 * the gateway's own headers (`GATEWAY_HEADERS`: the verified claims and the request id) are set by
 * the gateway alone: a client's copies are dropped, and on a route with `auth: "jwt"` the token's
 * claims take their place. The process's answer goes back as it is. A service that is not serving,
 * or refuses the connection, is API Gateway's 503; one that does not answer within the route's
 * timeout is its 504.
 */
import * as http from "node:http";
import { CLAIM_HEADERS, GATEWAY_HEADERS, REQUEST_ID_HEADER } from "../functions/runtime/container";
import type { ContainerUpstream } from "./containers";
import { GATEWAY_ERRORS, type GatewayResponse } from "./response";

/** Headers that belong to one connection, never forwarded (RFC 9110, 7.6.1). */
const HOP_BY_HOP = new Set(["connection", "keep-alive", "proxy-connection", "transfer-encoding", "te", "trailer", "upgrade", "proxy-authorization", "proxy-authenticate"]);

export interface ProxiedRequest {
    method: string;
    /** Path and query, as received. */
    url: string;
    /** As `IncomingMessage.rawHeaders`: name, value, name, value, ... */
    rawHeaders: readonly string[];
    body: Buffer | undefined;
    requestId: string;
    /** The verified claims the route passes (`claimsPassed`); none on a public route. */
    claims?: Readonly<Record<string, string>>;
}

/** The headers the process receives: the client's, without hop-by-hop and gateway headers, plus the gateway's. */
export function upstreamHeaders(request: Pick<ProxiedRequest, "rawHeaders" | "requestId" | "claims" | "body">): Record<string, string | string[]> {
    const headers: Record<string, string | string[]> = {};
    for (let index = 0; index + 1 < request.rawHeaders.length; index += 2) {
        const name = request.rawHeaders[index].toLowerCase();
        if (HOP_BY_HOP.has(name) || GATEWAY_HEADERS.includes(name) || name === "content-length") continue;
        const value = request.rawHeaders[index + 1];
        const existing = headers[name];
        headers[name] = existing === undefined ? value : Array.isArray(existing) ? [...existing, value] : [existing, value];
    }
    headers[REQUEST_ID_HEADER] = request.requestId;
    for (const [claim, header] of Object.entries(CLAIM_HEADERS)) {
        const value = request.claims?.[claim];
        if (value !== undefined) headers[header] = value;
    }
    headers["content-length"] = String(request.body?.length ?? 0);
    return headers;
}

/** Sends one request to the container and returns its answer, or the gateway's error. */
export function proxyToContainer(upstream: ContainerUpstream | undefined, request: ProxiedRequest, timeoutSeconds: number): Promise<GatewayResponse> {
    const port = upstream?.port;
    if (port === undefined) return Promise.resolve(GATEWAY_ERRORS.unavailable());
    return new Promise((resolve) => {
        let done = false;
        const finish = (response: GatewayResponse) => {
            if (done) return;
            done = true;
            clearTimeout(timer);
            resolve(response);
        };
        const req = http.request({ host: "127.0.0.1", port, method: request.method, path: request.url, headers: upstreamHeaders(request), agent: false }, (res) => {
            const chunks: Buffer[] = [];
            res.on("data", (chunk: Buffer) => chunks.push(chunk));
            res.on("end", () => {
                const headers: Record<string, string | string[]> = {};
                for (const [name, value] of Object.entries(res.headers)) {
                    if (value === undefined || HOP_BY_HOP.has(name) || name === "content-length") continue;
                    headers[name] = value;
                }
                finish({ statusCode: res.statusCode ?? 502, headers, body: Buffer.concat(chunks) });
            });
            res.on("error", () => finish(GATEWAY_ERRORS.unavailable()));
        });
        const timer = setTimeout(() => {
            req.destroy();
            finish(GATEWAY_ERRORS.timeout());
        }, timeoutSeconds * 1000);
        // Refused, reset or gone mid-answer: the service is not there for this request.
        req.on("error", () => finish(GATEWAY_ERRORS.unavailable()));
        req.end(request.body);
    });
}
