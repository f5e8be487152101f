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

// These run for every request: key loops, not Object.entries, which makes an array per entry.
function lowerCaseKeys(headers: Record<string, string | undefined> | undefined): Record<string, string> {
    const result: Record<string, string> = {};
    if (!headers) return result;
    for (const name of Object.keys(headers)) {
        const value = headers[name];
        if (value !== undefined) result[name.toLowerCase()] = value;
    }
    return result;
}

function definedValues(record: Record<string, string | undefined> | undefined): Record<string, string> {
    const result: Record<string, string> = {};
    if (!record) return result;
    for (const name of Object.keys(record)) {
        const value = record[name];
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
 * The handler's request over an API Gateway v2 event: lower-case headers, cookies by name, base64
 * bodies decoded, and the JSON body parsed when the handler first reads it.
 *
 * A class rather than an object literal with getters: every request makes one, and a literal's
 * accessors are defined one by one at run time, which leaves each object in V8's slow dictionary
 * form; the prototype's getters cost nothing per request. Its fields are TypeScript-private rather
 * than `#private`: Pulumi's closure serialization carries a getter without its class's `#` names.
 *
 * A base64-encoded body is the only place a handler sees the client's bytes (API Gateway decodes a
 * text body before Lambda gets it; the local gateway passes a text body that is not UTF-8 as base64
 * for this reason): reading one that is not valid UTF-8 as text or JSON is a 400, never text with
 * replacement characters in it.
 */
class EventRequest implements ApiRequest {
    readonly routeKey: string;
    readonly method: string;
    readonly path: string;
    readonly pathParameters: Record<string, string>;
    readonly query: Record<string, string>;
    readonly headers: Record<string, string>;
    readonly cookies: Record<string, string>;
    readonly requestId: string;
    readonly claims: Readonly<Record<string, unknown>> | undefined;
    input: ApiRequest["input"];
    private readonly event: HttpApiEvent;
    /** Whether the body may be parsed as JSON: a JSON content type, or none. */
    private readonly declaresJson: boolean;
    private decoded: { text: string | undefined } | undefined;
    private parsed: { value: unknown } | undefined;

    constructor(event: HttpApiEvent) {
        this.event = event;
        this.routeKey = event.routeKey;
        this.method = (event.requestContext?.http?.method ?? "").toUpperCase();
        this.path = event.rawPath;
        this.pathParameters = definedValues(event.pathParameters);
        this.query = definedValues(event.queryStringParameters);
        this.headers = lowerCaseKeys(event.headers);
        this.cookies = parseCookies(event.cookies);
        this.requestId = event.requestContext?.requestId ?? "";
        this.claims = event.requestContext?.authorizer?.jwt?.claims;
        this.input = undefined;
        const contentType = this.headers["content-type"];
        this.declaresJson = contentType === undefined || JSON_CONTENT_TYPE.test(contentType);
        this.decoded = undefined;
        this.parsed = undefined;
    }

    get rawBody(): string | undefined {
        if (this.decoded) return this.decoded.text;
        const event = this.event;
        if (event.body === undefined || event.body === null) {
            this.decoded = { text: undefined };
        } else if (!event.isBase64Encoded) {
            this.decoded = { text: event.body };
        } else {
            try {
                this.decoded = { text: strictUtf8(Buffer.from(event.body, "base64")) };
            } catch {
                throw badRequest("The request body is not valid UTF-8.");
            }
        }
        return this.decoded.text;
    }

    /**
     * Parsed on first read, so a route that takes another format (or answers malformed input in a
     * shape of its own) can use rawBody; reading a malformed JSON body throws a 400.
     */
    get body(): unknown {
        if (this.parsed) return this.parsed.value;
        // A body of another type is never read as text here: an image is not UTF-8, and not an error.
        const rawBody = this.declaresJson ? this.rawBody : undefined;
        if (rawBody === undefined || rawBody.length === 0) {
            this.parsed = { value: undefined };
        } else {
            try {
                this.parsed = { value: JSON.parse(rawBody) };
            } catch {
                throw badRequest("The request body is not valid JSON.");
            }
        }
        return this.parsed.value;
    }
}

/** The handler's request for an API Gateway v2 event (`EventRequest`). */
export function parseRequest(event: HttpApiEvent): ApiRequest & { input: ApiRequest["input"] } {
    return new EventRequest(event);
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
