/**
 * The one API Gateway v2 event builder (`local/event.ts`) against events in the shape AWS sends
 * (`testing/events/http-api-v2-*.json`, after AWS's documented payload 2.0 sample with the
 * lower-case header names real deployments deliver): the same keys and value types, header casing,
 * cookies, query parameters, time format and base64 rule. The test helpers build their events
 * through it, so they are checked too.
 */
import * as assert from "node:assert/strict";
import type { HttpApiEvent } from "../../functions/runtime/http/payload";
import { createEvent, type IncomingRequest } from "../../local/event";
import { httpApiEvent, httpApiFixture, httpApiFixtureNames } from "../../testing/events";

/** The keys of every object, recursively, with `typeof` at the leaves: what a handler can rely on. */
function shapeOf(value: unknown): unknown {
    if (Array.isArray(value)) return value.map(shapeOf);
    if (value !== null && typeof value === "object") {
        return Object.fromEntries(
            Object.keys(value)
                .sort()
                .map((key) => [key, shapeOf((value as Record<string, unknown>)[key])]),
        );
    }
    return value === null ? "null" : typeof value;
}

const HOST = "a1b2c3d4e5.execute-api.us-east-1.amazonaws.com";

/** What the client sent for each fixture: header names in the client's casing, a repeated header, cookies in one header. */
const SENT: Record<string, Omit<IncomingRequest, "protocol" | "port">> = {
    "post-json": {
        method: "POST",
        url: "/users?source=signup&tag=a&tag=b",
        rawHeaders: ["Host", HOST, "User-Agent", "curl/8.5.0", "Accept", "application/json", "Content-Type", "application/json", "Content-Length", "51", "X-Client-Tag", "one", "X-Client-Tag", "two", "Cookie", "session=abc123; theme=dark"],
        body: Buffer.from(JSON.stringify({ email: "grace@example.com", name: "Grace Hopper" })),
        sourceIp: "203.0.113.7",
    },
    "get-path-parameters": {
        method: "GET",
        url: "/users/a5b7713e-54b3-4396-b79c-9244759bb2ac",
        rawHeaders: ["Host", HOST, "User-Agent", "Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0", "Accept", "*/*"],
        body: undefined,
        sourceIp: "198.51.100.23",
    },
    "put-binary": {
        method: "PUT",
        url: "/files/logo.png?overwrite=true",
        rawHeaders: ["Host", HOST, "User-Agent", "python-requests/2.32.3", "Content-Type", "image/png", "Content-Length", "12"],
        body: Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 0x0d]),
        sourceIp: "192.0.2.44",
    },
};

function built(name: string): { fixture: HttpApiEvent; event: HttpApiEvent } {
    const fixture = httpApiFixture(name);
    const event = createEvent({
        request: { ...SENT[name], protocol: "HTTP/1.1", port: 443 },
        routeKey: fixture.routeKey,
        pathParameters: (fixture.pathParameters ?? {}) as Record<string, string>,
        requestId: fixture.requestContext.requestId,
        receivedAt: new Date(fixture.requestContext.timeEpoch),
    });
    return { fixture, event };
}

describe("API Gateway v2 events: the builder against AWS-shaped fixtures", () => {
    it("has a client request for every fixture, and a fixture for every client request", () => {
        assert.deepEqual(httpApiFixtureNames(), Object.keys(SENT).sort());
    });

    for (const name of Object.keys(SENT)) {
        describe(`http-api-v2-${name}.json`, () => {
            it("has the same keys and value types, nothing more and nothing less", () => {
                // Prepare, Act
                const { fixture, event } = built(name);
                // Assess
                assert.deepEqual(shapeOf(event), shapeOf(fixture));
            });

            it("lower-cases header names, joins repeated headers with commas and moves cookies out of the headers", () => {
                const { fixture, event } = built(name);
                assert.deepEqual(Object.keys(event.headers).sort(), Object.keys(fixture.headers).sort());
                for (const header of Object.keys(event.headers)) assert.equal(header, header.toLowerCase());
                assert.equal(event.headers.cookie, undefined);
                assert.deepEqual(event.cookies, fixture.cookies);
                for (const header of ["host", "user-agent", "content-type", "content-length", "x-client-tag", "x-forwarded-for", "x-forwarded-port"]) {
                    assert.equal(event.headers[header], fixture.headers[header], header);
                }
                assert.match(event.headers["x-amzn-trace-id"]!, /^Root=1-[0-9a-f]{8}-[0-9a-f]{24}$/);
            });

            it("carries the path, query, route and request context as API Gateway fills them", () => {
                const { fixture, event } = built(name);
                assert.equal(event.rawPath, fixture.rawPath);
                assert.equal(event.rawQueryString, fixture.rawQueryString);
                assert.deepEqual(event.queryStringParameters, fixture.queryStringParameters);
                assert.deepEqual(event.pathParameters, fixture.pathParameters);
                assert.equal(event.routeKey, fixture.routeKey);
                assert.deepEqual(event.requestContext.http, fixture.requestContext.http);
                assert.equal(event.requestContext.routeKey, fixture.requestContext.routeKey);
                assert.equal(event.requestContext.stage, fixture.requestContext.stage);
                assert.equal(event.requestContext.domainName, fixture.requestContext.domainName);
                assert.equal(event.requestContext.domainPrefix, fixture.requestContext.domainPrefix);
                assert.equal(event.requestContext.time, fixture.requestContext.time);
                assert.equal(event.requestContext.timeEpoch, fixture.requestContext.timeEpoch);
            });

            it("sends a text body as text and any other body base64-encoded", () => {
                const { fixture, event } = built(name);
                assert.equal(event.isBase64Encoded, fixture.isBase64Encoded);
                assert.equal(event.body, fixture.body);
            });

            it("is what the test helper httpApiEvent builds for the same request", () => {
                // Prepare
                const { fixture } = built(name);
                const sent = SENT[name];
                const headers: Record<string, string> = {};
                let cookies: string[] | undefined;
                for (let i = 0; i < sent.rawHeaders.length; i += 2) {
                    const [header, value] = [sent.rawHeaders[i], sent.rawHeaders[i + 1]];
                    if (header === "Cookie") cookies = value.split("; ");
                    else headers[header] = header in headers ? `${headers[header]},${value}` : value;
                }
                const [path, query] = sent.url.split("?");
                // Act
                const event = httpApiEvent({ routeKey: fixture.routeKey, path, query, headers, cookies, body: sent.body, pathParameters: fixture.pathParameters as Record<string, string> | undefined });
                // Assess: the shape, except the user agent and accept headers the helper adds when not given.
                const expected = shapeOf(fixture) as { headers: Record<string, unknown> };
                expected.headers = { accept: "string", ...expected.headers };
                assert.deepEqual(shapeOf(event), expected);
                assert.equal(event.body, fixture.body);
                assert.equal(event.isBase64Encoded, fixture.isBase64Encoded);
            });
        });
    }

    it("the helper's base64 option encodes a text body the way API Gateway encodes binary ones", () => {
        // Prepare
        const body = JSON.stringify({ name: "Zoë" });
        // Act
        const event = httpApiEvent({ routeKey: "POST /things", headers: { "content-type": "application/json" }, body, base64: true });
        // Assess
        assert.equal(event.isBase64Encoded, true);
        assert.equal(Buffer.from(event.body!, "base64").toString("utf8"), body);
    });
});
