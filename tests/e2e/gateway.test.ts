/**
 * The local API Gateway's fidelity to HTTP APIs (payload format 2.0), proved over real HTTP with a
 * test registry: the event a function receives, route precedence, how responses are mapped, and
 * the gateway's own 404/413/500/503 answers and CORS handling.
 */
import * as assert from "node:assert/strict";
import * as http from "node:http";
import { probeService, slowRouteObservations } from "./probe-service";
import { request, startTestRuntime, type TestRuntime } from "../../testing/local-runtime";

const GATEWAY_REQUEST_ID = /^[A-Za-z0-9+/]{15}=$/;

describe("e2e: local API Gateway fidelity (payload 2.0)", () => {
    let t: TestRuntime;

    before(async () => {
        t = await startTestRuntime([probeService]);
    });
    after(async () => {
        await t?.stop();
    });

    const lastEvent = () => t.events[t.events.length - 1];

    describe("the event a function receives", () => {
        it("carries version, routeKey, raw path and query, lower-case joined headers, cookies, decoded parameters and the JSON body", async () => {
            const response = await request(t.url, {
                method: "POST",
                path: "/echo/abc%20d?b=2&a=1&a=2&empty=&plus=a+b&enc=%C3%A9",
                headers: {
                    "User-Agent": "e2e-test",
                    "X-Multi": ["one", "two"],
                    Cookie: "c1=v1; c2=hello%20world",
                    "Content-Type": "application/json",
                },
                body: '{"x":1}',
            });
            assert.equal(response.status, 200, response.text);
            const event = lastEvent();

            assert.equal(event.version, "2.0");
            assert.equal(event.routeKey, "POST /echo/{id}");
            assert.equal(event.rawPath, "/echo/abc%20d");
            assert.equal(event.rawQueryString, "b=2&a=1&a=2&empty=&plus=a+b&enc=%C3%A9");
            assert.deepEqual(event.queryStringParameters, { b: "2", a: "1,2", empty: "", plus: "a b", enc: "é" });
            assert.deepEqual(event.pathParameters, { id: "abc d" });
            assert.deepEqual(event.cookies, ["c1=v1", "c2=hello%20world"]);
            assert.equal(event.headers["x-multi"], "one,two");
            assert.equal(event.headers["user-agent"], "e2e-test");
            assert.equal(event.headers.cookie, undefined, "API Gateway moves the cookie header into cookies");
            for (const name of Object.keys(event.headers)) assert.equal(name, name.toLowerCase());
            assert.equal(event.headers["x-forwarded-for"], "127.0.0.1");
            assert.equal(event.headers["x-forwarded-proto"], "http");
            assert.match(event.headers["x-amzn-trace-id"] ?? "", /^Root=1-[0-9a-f]{8}-[0-9a-f]{24}$/);
            assert.equal(event.isBase64Encoded, false);
            assert.equal(event.body, '{"x":1}');

            // The wrapper turned the same event into the handler's request.
            assert.deepEqual(response.json.pathParameters, { id: "abc d" });
            assert.deepEqual(response.json.query, { b: "2", a: "1,2", empty: "", plus: "a b", enc: "é" });
            assert.deepEqual(response.json.cookies, { c1: "v1", c2: "hello world" });
            assert.equal(response.json.headers["x-multi"], "one,two");
            assert.equal(response.json.routeKey, "POST /echo/{id}");
        });

        it("has a requestContext like API Gateway's: ids, domain, http fields, $default stage, time and timeEpoch", async () => {
            const before = Date.now();
            const response = await request(t.url, { method: "POST", path: "/echo/1", headers: { "user-agent": "ctx-test" } });
            const context = lastEvent().requestContext;
            assert.equal(context.accountId, "123456789012");
            assert.equal(context.apiId, "local");
            assert.equal(context.domainName, "127.0.0.1");
            assert.equal(context.domainPrefix, "127");
            assert.deepEqual(context.http, { method: "POST", path: "/echo/1", protocol: "HTTP/1.1", sourceIp: "127.0.0.1", userAgent: "ctx-test" });
            assert.match(context.requestId, GATEWAY_REQUEST_ID);
            assert.equal(context.routeKey, "POST /echo/{id}");
            assert.equal(context.stage, "$default");
            assert.match(context.time, /^\d{2}\/(Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)\/\d{4}:\d{2}:\d{2}:\d{2} \+0000$/);
            assert.ok(context.timeEpoch >= before - 1000 && context.timeEpoch <= Date.now());
            // One id across the event, API Gateway's header and the wrapper's header.
            assert.equal(response.headers["apigw-requestid"], context.requestId);
            assert.equal(response.headers["x-request-id"], context.requestId);
        });

        it("leaves out cookies, queryStringParameters, pathParameters and body when the request has none", async () => {
            await request(t.url, { path: "/shortcut" });
            const event = lastEvent();
            assert.equal(event.rawQueryString, "");
            for (const field of ["cookies", "queryStringParameters", "pathParameters", "body"] as const) {
                assert.equal(field in event, false, `${field} should be absent`);
            }
        });

        it("base64-encodes binary bodies and sets isBase64Encoded; text types stay text", async () => {
            const bytes = Buffer.from([0, 1, 2, 0x89, 0x50, 0x4e, 0x47, 254, 255]);
            await request(t.url, { method: "POST", path: "/echo/bin", headers: { "content-type": "image/png" }, body: bytes });
            assert.equal(lastEvent().isBase64Encoded, true);
            assert.deepEqual(Buffer.from(lastEvent().body ?? "", "base64"), bytes);

            for (const contentType of ["text/plain; charset=utf-8", "application/xml", "application/x-www-form-urlencoded", "application/vnd.api+json"]) {
                await request(t.url, { method: "POST", path: "/echo/text", headers: { "content-type": contentType }, body: "a=1&b=é" });
                assert.equal(lastEvent().isBase64Encoded, false, contentType);
                assert.equal(lastEvent().body, "a=1&b=é", contentType);
            }
        });

        it("passes a text body that is not UTF-8 base64-encoded, its bytes intact, and the wrapper answers 400 when it is read", async () => {
            // Read leniently, each bad byte would reach the handler as U+FFFD.
            const bytes = Buffer.concat([Buffer.from('{"name":"A'), Buffer.from([0xff, 0xc0, 0xa2]), Buffer.from('"}')]);
            const response = await request(t.url, { method: "POST", path: "/echo/text", headers: { "content-type": "application/json" }, body: bytes });
            assert.equal(lastEvent().isBase64Encoded, true);
            assert.deepEqual(Buffer.from(lastEvent().body ?? "", "base64"), bytes);
            assert.equal(response.status, 400, response.text);
            assert.deepEqual([response.json.error.code, response.json.error.message], ["validation_error", "The request body is not valid UTF-8."]);
        });
    });

    describe("route matching", () => {
        it("prefers a literal segment over a {param} segment", async () => {
            assert.deepEqual((await request(t.url, { path: "/echo/me" })).json, { matched: "GET /echo/me" });
            assert.deepEqual((await request(t.url, { path: "/echo/you" })).json, { matched: "GET /echo/{id}", id: "you" });
        });

        it("lets {proxy+} take every remaining segment, for any method, below more specific routes", async () => {
            assert.deepEqual((await request(t.url, { path: "/files/a/b/c.txt" })).json, { matched: "ANY /files/{proxy+}", proxy: "a/b/c.txt" });
            assert.deepEqual((await request(t.url, { method: "DELETE", path: "/files/x" })).json, { matched: "ANY /files/{proxy+}", proxy: "x" });
            assert.deepEqual((await request(t.url, { path: "/files/readme" })).json, { matched: "GET /files/readme" });
            assert.equal(lastEvent().routeKey, "GET /files/readme");
        });

        for (const [label, method, path] of [
            ["an unknown path", "GET", "/nowhere"],
            ["a known path with the wrong method", "DELETE", "/echo/me"],
            ["a greedy route with nothing to take", "GET", "/files"],
            ["a path with an extra segment", "GET", "/echo/me/too"],
        ] as const) {
            it(`answers ${label} with API Gateway's 404 {"message":"Not Found"}`, async () => {
                const response = await request(t.url, { method, path });
                assert.equal(response.status, 404);
                assert.deepEqual(response.json, { message: "Not Found" });
                assert.match(String(response.headers["content-type"]), /^application\/json/);
                assert.match(String(response.headers["apigw-requestid"]), GATEWAY_REQUEST_ID);
            });
        }
    });

    describe("responses", () => {
        it("sends a plain returned object as 200 JSON (the 2.0 shortcut)", async () => {
            const response = await request(t.url, { path: "/shortcut" });
            assert.equal(response.status, 200);
            assert.match(String(response.headers["content-type"]), /^application\/json/);
            assert.deepEqual(response.json, { hello: "world" });
        });

        it("honours statusCode and headers, and sends each cookie as its own Set-Cookie header", async () => {
            const response = await request(t.url, { path: "/response" });
            assert.equal(response.status, 202);
            assert.equal(response.headers["x-custom"], "yes");
            assert.deepEqual(response.headers["set-cookie"], ["session=abc; Path=/; HttpOnly", "theme=dark; Path=/"]);
            assert.deepEqual(response.json, { accepted: true });
        });

        it("decodes an isBase64Encoded body and sends the bytes with an exact Content-Length", async () => {
            const response = await request(t.url, { path: "/binary" });
            assert.equal(response.status, 200);
            assert.equal(response.headers["content-type"], "image/png");
            assert.equal(response.headers["content-length"], "5");
            assert.deepEqual(response.raw, Buffer.from([0, 1, 2, 254, 255]));
        });
    });

    describe("failures", () => {
        it("a handler that throws gets the wrapper's 500 JSON with the request id and none of the error's text", async () => {
            const response = await request(t.url, { path: "/throws" });
            assert.equal(response.status, 500);
            assert.deepEqual(response.json, { error: { code: "internal_error", message: "Internal server error.", requestId: response.headers["x-request-id"] } });
            assert.doesNotMatch(response.text, /hunter2/);
            const logged = t.logs.find((line) => line.requestId === response.headers["x-request-id"] && line.level === "ERROR");
            assert.ok(logged, "the error is logged with the request id");
        });

        it("an invocation that fails outright (the wrapper rejects) gets API Gateway's 500 {\"message\":\"Internal Server Error\"}", async () => {
            const response = await request(t.url, { path: "/rejects" });
            assert.equal(response.status, 500);
            assert.deepEqual(response.json, { message: "Internal Server Error" });
        });

        it("a response API Gateway cannot read (statusCode 42) becomes its 500", async () => {
            const response = await request(t.url, { path: "/bad-status" });
            assert.equal(response.status, 500);
            assert.deepEqual(response.json, { message: "Internal Server Error" });
        });

        it("a handler running past its 1 s timeout gets 503 {\"message\":\"Service Unavailable\"} after about 1 s, with a counting-down context", async () => {
            const started = Date.now();
            const response = await request(t.url, { path: "/slow" });
            const elapsed = Date.now() - started;
            assert.equal(response.status, 503);
            assert.deepEqual(response.json, { message: "Service Unavailable" });
            assert.ok(elapsed >= 950 && elapsed < 2500, `answered after ${elapsed} ms`);
            assert.ok(slowRouteObservations.remainingMsAtStart! > 0 && slowRouteObservations.remainingMsAtStart! <= 1000);
            assert.notEqual(slowRouteObservations.finished, true, "the 503 came before the handler finished");
        });

        it("a body over 6 MB gets 413 {\"message\":\"Request Entity Too Large\"} and never reaches the function", async () => {
            const eventsBefore = t.events.length;
            const response = await request(t.url, { method: "POST", path: "/echo/big", body: Buffer.alloc(6 * 1024 * 1024 + 1, 0x61), headers: { "content-type": "text/plain" } });
            assert.equal(response.status, 413);
            assert.deepEqual(response.json, { message: "Request Entity Too Large" });
            assert.equal(t.events.length, eventsBefore);
        });

        it("a chunked body (no Content-Length) that grows past 6 MB also gets 413, before the client finishes sending", async () => {
            const url = new URL(t.url);
            const status = await new Promise<number>((resolve, reject) => {
                const req = http.request({ host: url.hostname, port: url.port, method: "POST", path: "/echo/chunked", headers: { "content-type": "text/plain" }, agent: false }, (res) => {
                    res.resume();
                    resolve(res.statusCode ?? 0);
                });
                req.on("error", reject);
                const chunk = Buffer.alloc(1024 * 1024, 0x62);
                // 7 MB is sent; the stream is left open, so only an early answer can settle the promise.
                for (let index = 0; index < 7; index++) req.write(chunk);
            });
            assert.equal(status, 413);
        });

        it("a body of exactly 6 MB is accepted", async () => {
            const response = await request(t.url, { method: "POST", path: "/echo/six", body: Buffer.alloc(6 * 1024 * 1024, 0x61), headers: { "content-type": "text/plain" } });
            assert.equal(response.status, 200);
            assert.equal(response.json.bodyLength, 6 * 1024 * 1024);
        });
    });

    describe("CORS from the dev stack's config", () => {
        const allowed = "http://localhost:5173";

        it("answers a preflight from an allowed origin itself with 204 and the access-control headers", async () => {
            const eventsBefore = t.events.length;
            const response = await request(t.url, {
                method: "OPTIONS",
                path: "/echo/x",
                headers: { origin: allowed, "access-control-request-method": "POST", "access-control-request-headers": "content-type" },
            });
            assert.equal(response.status, 204);
            assert.equal(response.headers["access-control-allow-origin"], allowed);
            assert.equal(response.headers["access-control-allow-methods"], "GET,POST,PATCH,DELETE");
            assert.equal(response.headers["access-control-allow-headers"], "content-type,authorization");
            assert.equal(response.headers["access-control-max-age"], "300");
            assert.equal(t.events.length, eventsBefore, "no function sees a preflight");
        });

        it("answers a preflight from another origin with 204 and no access-control headers", async () => {
            const response = await request(t.url, {
                method: "OPTIONS",
                path: "/echo/x",
                headers: { origin: "https://evil.example", "access-control-request-method": "POST" },
            });
            assert.equal(response.status, 204);
            assert.equal(response.headers["access-control-allow-origin"], undefined);
        });

        it("adds access-control-allow-origin to responses for an allowed Origin, replacing the function's own", async () => {
            const response = await request(t.url, { path: "/response", headers: { origin: allowed } });
            assert.equal(response.headers["access-control-allow-origin"], allowed);
            assert.equal(response.headers["access-control-expose-headers"], "x-request-id");
            const other = await request(t.url, { path: "/response", headers: { origin: "https://evil.example" } });
            assert.equal(other.headers["access-control-allow-origin"], undefined);
        });
    });
});
