/**
 * CORS as an HTTP API with a CORS configuration applies it: API Gateway answers preflight requests
 * itself (a function never sees them) and adds the CORS headers to every response whose `Origin`
 * is allowed, replacing any the function set.
 */
import type { CorsConfig } from "../platform/config/stack-config";

function allowedOrigin(cors: CorsConfig, origin: string | undefined): string | undefined {
    if (origin === undefined) return undefined;
    if (cors.allowOrigins.includes("*")) return cors.allowCredentials ? origin : "*";
    return cors.allowOrigins.includes(origin) ? origin : undefined;
}

/** True for a browser's preflight: `OPTIONS` with `Origin` and `Access-Control-Request-Method`. */
export function isPreflight(method: string, headers: Readonly<Record<string, string | string[] | undefined>>): boolean {
    return method === "OPTIONS" && headers.origin !== undefined && headers["access-control-request-method"] !== undefined;
}

/** Headers of the 204 answer to a preflight; none when the origin is not allowed. */
export function preflightHeaders(cors: CorsConfig, origin: string | undefined, requestedHeaders: string | undefined): Record<string, string> {
    const allowOrigin = allowedOrigin(cors, origin);
    if (allowOrigin === undefined) return {};
    const headers: Record<string, string> = {
        "access-control-allow-origin": allowOrigin,
        "access-control-allow-methods": cors.allowMethods.join(","),
        "access-control-max-age": String(cors.maxAgeSeconds),
    };
    // "*" admits whatever the browser asks for; a list admits itself.
    const allowHeaders = cors.allowHeaders.includes("*") ? requestedHeaders : cors.allowHeaders.join(",");
    if (allowHeaders) headers["access-control-allow-headers"] = allowHeaders;
    if (cors.allowCredentials) headers["access-control-allow-credentials"] = "true";
    return headers;
}

/** Headers added to an ordinary response; none when the origin is not allowed. */
export function responseCorsHeaders(cors: CorsConfig, origin: string | undefined): Record<string, string> {
    const allowOrigin = allowedOrigin(cors, origin);
    if (allowOrigin === undefined) return {};
    const headers: Record<string, string> = { "access-control-allow-origin": allowOrigin };
    if (cors.exposeHeaders.length > 0) headers["access-control-expose-headers"] = cors.exposeHeaders.join(",");
    if (cors.allowCredentials) headers["access-control-allow-credentials"] = "true";
    return headers;
}
