/**
 * The translation between API Gateway HTTP API (payload format 2.0) and the platform's typed
 * request and response. Both the Lambda closure and the local server go through these functions.
 */
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from "aws-lambda";
import { badRequest, HttpError } from "../errors";
import type { ApiRequest, ApiResponse } from "../service";

/** The event Lambda receives; claims are present when a JWT authorizer protected the route. */
export type HttpApiEvent = APIGatewayProxyEventV2 & {
    requestContext: APIGatewayProxyEventV2["requestContext"] & {
        authorizer?: { jwt?: { claims?: Record<string, unknown>; scopes?: string[] } };
    };
};
export type HttpApiResult = APIGatewayProxyStructuredResultV2;

const JSON_CONTENT_TYPE = /^application\/([\w.+-]*\+)?json\b/i;

function parseCookies(cookies: string[] | undefined): Record<string, string> {
    const parsed: Record<string, string> = {};
    for (const cookie of cookies ?? []) {
        const separator = cookie.indexOf("=");
        if (separator <= 0) continue;
        const name = cookie.slice(0, separator).trim();
        const raw = cookie.slice(separator + 1).trim();
        try {
            parsed[name] = decodeURIComponent(raw);
        } catch {
            parsed[name] = raw;
        }
    }
    return parsed;
}

function lowerCaseKeys(headers: Record<string, string | undefined> | undefined): Record<string, string> {
    const result: Record<string, string> = {};
    for (const [name, value] of Object.entries(headers ?? {})) {
        if (value !== undefined) result[name.toLowerCase()] = value;
    }
    return result;
}

function definedValues(record: Record<string, string | undefined> | undefined): Record<string, string> {
    const result: Record<string, string> = {};
    for (const [name, value] of Object.entries(record ?? {})) {
        if (value !== undefined) result[name] = value;
    }
    return result;
}

/**
 * The bytes as UTF-8 text; throws on bytes that are not (`Buffer#toString` would replace them with
 * U+FFFD). The decoder is made per call: a native object at module level would not survive the
 * closure's serialization.
 */
function strictUtf8(bytes: Buffer): string {
    return new TextDecoder("utf-8", { fatal: true, ignoreBOM: true }).decode(bytes);
}

/**
 * Turns an API Gateway v2 event into the handler's request: lower-case headers, cookies by name,
 * base64 bodies decoded, and the JSON body parsed when the handler first reads it.
 *
 * A base64-encoded body is the only place a handler sees the client's bytes (API Gateway decodes a
 * text body before Lambda gets it; the local gateway passes a text body that is not UTF-8 as base64
 * for this reason): reading one that is not valid UTF-8 as text or JSON is a 400, never text with
 * replacement characters in it.
 */
export function parseRequest(event: HttpApiEvent): ApiRequest {
    const headers = lowerCaseKeys(event.headers);
    let decoded: { text: string | undefined } | undefined;
    const readRawBody = (): string | undefined => {
        if (decoded) return decoded.text;
        if (event.body === undefined || event.body === null) {
            decoded = { text: undefined };
        } else if (!event.isBase64Encoded) {
            decoded = { text: event.body };
        } else {
            try {
                decoded = { text: strictUtf8(Buffer.from(event.body, "base64")) };
            } catch {
                throw badRequest("The request body is not valid UTF-8.");
            }
        }
        return decoded.text;
    };

    const contentType = headers["content-type"];
    const declaresJson = contentType === undefined || JSON_CONTENT_TYPE.test(contentType);
    // Parsed on first read, so a route that takes another format (or answers malformed input in a
    // shape of its own) can use rawBody; reading a malformed JSON body throws a 400.
    let parsed: { value: unknown } | undefined;
    const readBody = (): unknown => {
        if (parsed) return parsed.value;
        // A body of another type is never read as text here: an image is not UTF-8, and not an error.
        const rawBody = declaresJson ? readRawBody() : undefined;
        if (rawBody === undefined || rawBody.length === 0) {
            parsed = { value: undefined };
        } else {
            try {
                parsed = { value: JSON.parse(rawBody) };
            } catch {
                throw badRequest("The request body is not valid JSON.");
            }
        }
        return parsed.value;
    };

    return {
        routeKey: event.routeKey,
        method: (event.requestContext?.http?.method ?? "").toUpperCase(),
        path: event.rawPath,
        pathParameters: definedValues(event.pathParameters),
        query: definedValues(event.queryStringParameters),
        headers,
        cookies: parseCookies(event.cookies),
        get body() {
            return readBody();
        },
        get rawBody() {
            return readRawBody();
        },
        requestId: event.requestContext?.requestId ?? "",
        claims: event.requestContext?.authorizer?.jwt?.claims,
    };
}

function isApiResponse(value: unknown): value is ApiResponse {
    return (
        typeof value === "object" &&
        value !== null &&
        !Array.isArray(value) &&
        typeof (value as ApiResponse).statusCode === "number"
    );
}

/**
 * Turns what a handler returned into an API Gateway v2 response: a full response as it is, nothing
 * (`undefined`) as 204 No Content, so a client is never handed a 200 without the JSON it expects,
 * and any other value as 200 JSON.
 */
export function formatResponse(result: unknown, requestId: string): HttpApiResult {
    const response: ApiResponse = isApiResponse(result) ? result : result === undefined ? { statusCode: 204 } : { statusCode: 200, body: result };
    const headers: Record<string, string> = { ...lowerCaseKeys(response.headers), "x-request-id": requestId };
    const formatted: HttpApiResult = { statusCode: response.statusCode, headers };
    if (response.cookies && response.cookies.length > 0) formatted.cookies = response.cookies;

    const body = response.body;
    if (body === undefined || body === null || response.statusCode === 204 || response.statusCode === 304) {
        return formatted;
    }
    if (Buffer.isBuffer(body)) {
        headers["content-type"] ??= "application/octet-stream";
        formatted.body = body.toString("base64");
        formatted.isBase64Encoded = true;
    } else if (typeof body === "string") {
        headers["content-type"] ??= "text/plain; charset=utf-8";
        formatted.body = body;
    } else {
        headers["content-type"] ??= "application/json";
        formatted.body = JSON.stringify(body);
    }
    return formatted;
}

/** The JSON error body every 4xx/5xx of the platform carries. */
export function errorResponse(error: HttpError, requestId: string): HttpApiResult {
    const payload: Record<string, unknown> = { code: error.code, message: error.message, requestId };
    if (error.details !== undefined) payload.details = error.details;
    return formatResponse({ statusCode: error.statusCode, headers: error.headers && { ...error.headers }, body: { error: payload } }, requestId);
}
