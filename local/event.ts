/**
 * Turns a Node.js HTTP request into the event API Gateway HTTP APIs send a Lambda function
 * (payload format 2.0), field for field, so that a handler cannot tell the local runtime from the
 * cloud. Pure functions: the server reads the request, this module only shapes it.
 */
import { isUtf8 } from "node:buffer";
import { randomBytes } from "node:crypto";
import type { HttpApiEvent } from "../functions/runtime/http/payload";

/** What the local API pretends to be; a handler reading these sees plausible values. */
export const LOCAL_ACCOUNT_ID = "123456789012";
export const LOCAL_API_ID = "local";

/** The request as the server read it. */
export interface IncomingRequest {
    method: string;
    /** The request target as sent: path and query string, still percent-encoded. */
    url: string;
    /** Node's `rawHeaders`: names and values alternating, in the order and case they were sent. */
    rawHeaders: readonly string[];
    body: Buffer | undefined;
    sourceIp: string;
    /** `HTTP/1.1` */
    protocol: string;
    /** The local server's port, for `x-forwarded-port`. */
    port: number;
}

/**
 * Unique ids without a random draw per request: a random prefix drawn once per process, then a
 * counter in the last six bytes (2^48 ids, more than a process answers). A draw for every request
 * costs a tenth of the gateway's CPU under load.
 */
function idSequence(prefixBytes: number): () => Buffer {
    const id = Buffer.alloc(prefixBytes + 6);
    randomBytes(prefixBytes).copy(id);
    let counter = 0;
    return () => {
        counter = (counter + 1) % 2 ** 48;
        id.writeUIntBE(counter, prefixBytes, 6);
        return id;
    };
}

const requestIds = idSequence(5);
const traceIds = idSequence(6);

/**
 * A request id shaped like API Gateway's (`JKJaXmPLvHcESHA=`: 11 bytes in base64). The wrapper
 * echoes it in `x-request-id`, API Gateway in `apigw-requestid`.
 */
export function newRequestId(): string {
    return requestIds().toString("base64");
}

/**
 * An invocation's `awsRequestId`, shaped like Lambda's: a version 4 UUID. Its first four groups
 * are the process's random prefix (with the version and variant bits set) and the last group the
 * counter, so that only the counter is formatted for each invocation.
 */
export const newInvocationId: () => string = (() => {
    const hex = randomBytes(10).toString("hex");
    const variant = ((parseInt(hex[16], 16) & 0x3) | 0x8).toString(16);
    const prefix = `${hex.slice(0, 8)}-${hex.slice(8, 12)}-4${hex.slice(13, 16)}-${variant}${hex.slice(17, 20)}-`;
    let counter = 0;
    return () => {
        counter = (counter + 1) % 2 ** 48;
        return prefix + counter.toString(16).padStart(12, "0");
    };
})();

const MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
const pad = (value: number) => String(value).padStart(2, "0");

/** The last second formatted: every request within one second has the same `time`. */
let formattedSecond = { epochSecond: Number.NaN, text: "" };

/** `requestContext.time` in API Gateway's format: `27/Nov/2026:11:07:17 +0000` (always UTC). */
export function formatRequestTime(date: Date): string {
    const epochSecond = Math.floor(date.getTime() / 1000);
    if (epochSecond === formattedSecond.epochSecond) return formattedSecond.text;
    const text =
        `${pad(date.getUTCDate())}/${MONTHS[date.getUTCMonth()]}/${date.getUTCFullYear()}:` +
        `${pad(date.getUTCHours())}:${pad(date.getUTCMinutes())}:${pad(date.getUTCSeconds())} +0000`;
    formattedSecond = { epochSecond, text };
    return text;
}

/**
 * Content types whose bodies API Gateway passes as text; every other body (images, octet streams,
 * PDFs...) arrives base64-encoded with `isBase64Encoded: true`. A body without a content type is
 * passed as text: the platform's handlers read such bodies as JSON. A text body whose bytes are
 * not UTF-8 is passed base64-encoded too (`createEvent`).
 */
const TEXT_CONTENT_TYPE =
    /^(text\/[^;]*|application\/(json|[\w.+-]*\+json|xml|[\w.+-]*\+xml|x-www-form-urlencoded|javascript|ecmascript|graphql|x-ndjson|yaml|x-yaml))\s*(;.*)?$/i;

export function isTextContentType(contentType: string | undefined): boolean {
    return contentType === undefined || contentType.trim() === "" || TEXT_CONTENT_TYPE.test(contentType.trim());
}

/**
 * Lower-cases header names and joins repeated headers with commas, as API Gateway does. The
 * `cookie` header is left out: its values travel in `cookies`.
 */
export function eventHeaders(rawHeaders: readonly string[]): { headers: Record<string, string>; cookies: string[] } {
    const headers: Record<string, string> = {};
    const cookies: string[] = [];
    for (let index = 0; index + 1 < rawHeaders.length; index += 2) {
        const name = rawHeaders[index].toLowerCase();
        const value = rawHeaders[index + 1];
        if (name === "cookie") {
            for (const cookie of value.split(";")) {
                const trimmed = cookie.trim();
                if (trimmed !== "") cookies.push(trimmed);
            }
            continue;
        }
        headers[name] = name in headers ? `${headers[name]},${value}` : value;
    }
    return { headers, cookies };
}

/** `+` is a space in a query string; `decodeURIComponent` alone does not know that. */
function decodeQueryComponent(text: string): string {
    const spaced = text.replace(/\+/g, " ");
    try {
        return decodeURIComponent(spaced);
    } catch {
        return spaced;
    }
}

/** Decoded query parameters, a repeated parameter joined with commas (`?a=1&a=2` -> `{a: "1,2"}`). */
export function queryParameters(rawQueryString: string): Record<string, string> | undefined {
    if (rawQueryString === "") return undefined;
    const parameters: Record<string, string> = {};
    for (const pair of rawQueryString.split("&")) {
        if (pair === "") continue;
        const separator = pair.indexOf("=");
        const name = decodeQueryComponent(separator < 0 ? pair : pair.slice(0, separator));
        const value = separator < 0 ? "" : decodeQueryComponent(pair.slice(separator + 1));
        parameters[name] = name in parameters ? `${parameters[name]},${value}` : value;
    }
    return Object.keys(parameters).length > 0 ? parameters : undefined;
}

/** Splits a request target into its raw path and raw query string. */
export function splitTarget(url: string): { rawPath: string; rawQueryString: string } {
    const question = url.indexOf("?");
    const rawPath = question < 0 ? url : url.slice(0, question);
    return { rawPath: rawPath === "" ? "/" : rawPath, rawQueryString: question < 0 ? "" : url.slice(question + 1) };
}

function decodePath(rawPath: string): string {
    try {
        return decodeURIComponent(rawPath);
    } catch {
        return rawPath;
    }
}

/** A trace header like the one API Gateway adds for X-Ray: `Root=1-<epoch hex>-<96 bits>`. */
function traceId(epochMs: number): string {
    return `Root=1-${Math.floor(epochMs / 1000).toString(16)}-${traceIds().toString("hex")}`;
}

export interface EventOptions {
    request: IncomingRequest;
    routeKey: string;
    pathParameters: Record<string, string>;
    requestId: string;
    /** When the request arrived; `time` and `timeEpoch` come from it. */
    receivedAt: Date;
}

/** Builds the payload 2.0 event for a request that matched `routeKey`. */
export function createEvent(options: EventOptions): HttpApiEvent {
    const { request, receivedAt } = options;
    const { rawPath, rawQueryString } = splitTarget(request.url);
    const { headers, cookies } = eventHeaders(request.rawHeaders);
    const timeEpoch = receivedAt.getTime();

    // Headers API Gateway adds on its way to the function.
    headers["x-forwarded-for"] = headers["x-forwarded-for"] ? `${headers["x-forwarded-for"]}, ${request.sourceIp}` : request.sourceIp;
    headers["x-forwarded-port"] = String(request.port);
    headers["x-forwarded-proto"] = "http";
    headers["x-amzn-trace-id"] ??= traceId(timeEpoch);

    const domainName = (headers.host ?? `127.0.0.1:${request.port}`).replace(/:\d+$/, "");
    const event: HttpApiEvent = {
        version: "2.0",
        routeKey: options.routeKey,
        rawPath,
        rawQueryString,
        headers,
        requestContext: {
            accountId: LOCAL_ACCOUNT_ID,
            apiId: LOCAL_API_ID,
            domainName,
            domainPrefix: domainName.split(".")[0],
            http: {
                method: request.method,
                path: decodePath(rawPath),
                protocol: request.protocol,
                sourceIp: request.sourceIp,
                userAgent: headers["user-agent"] ?? "",
            },
            requestId: options.requestId,
            routeKey: options.routeKey,
            stage: "$default",
            time: formatRequestTime(receivedAt),
            timeEpoch,
        },
        isBase64Encoded: false,
    };
    // API Gateway leaves these fields out, rather than sending them empty, when there is nothing to send.
    if (cookies.length > 0) event.cookies = cookies;
    const query = queryParameters(rawQueryString);
    if (query) event.queryStringParameters = query;
    if (Object.keys(options.pathParameters).length > 0) event.pathParameters = options.pathParameters;
    if (request.body && request.body.length > 0) {
        // A text body that is not UTF-8 cannot become a string without losing bytes (each bad one
        // would turn into U+FFFD): it goes base64-encoded, so the wrapper sees the bytes and refuses them.
        if (isTextContentType(headers["content-type"]) && isUtf8(request.body)) {
            event.body = request.body.toString("utf8");
        } else {
            event.body = request.body.toString("base64");
            event.isBase64Encoded = true;
        }
    }
    return event;
}
