import * as assert from "node:assert/strict";
import { badRequest, conflict, notFound } from "../../functions/runtime/errors";
import { createRouteHandler } from "../../functions/runtime/handler";
import { createLogger } from "../../functions/runtime/logger";
import type { ApiRequest, RouteHandler } from "../../functions/runtime/service";
import { httpApiEvent } from "../../testing/events";

/** A wrapper around `handler` whose log lines are collected. */
function wrap(handler: RouteHandler) {
    const lines: Record<string, unknown>[] = [];
    const logger = createLogger({ level: "DEBUG", write: (line) => lines.push(JSON.parse(line)), fields: { service: "test" } });
    return { invoke: createRouteHandler(handler, { service: "test", routeKey: "POST /things", logger }), lines };
}

describe("the route handler wrapper", () => {
    it("turns an API Gateway v2 event into a typed request", async () => {
        // Prepare
        let seen: ApiRequest | undefined;
        const { invoke } = wrap(async (request) => {
            seen = request;
            return { ok: true };
        });
        // Act
        await invoke(
            httpApiEvent({
                routeKey: "POST /things/{id}",
                path: "/things/42",
                pathParameters: { id: "42" },
                query: "tag=a&tag=b&q=%C3%A9t%C3%A9",
                headers: { "Content-Type": "application/json", "X-Trace": "t1" },
                cookies: ["session=abc%20def", "theme=dark"],
                body: { name: "Ada" },
                requestId: "rid-1",
            }),
        );
        // Assess
        assert.ok(seen);
        assert.equal(seen.method, "POST");
        assert.equal(seen.path, "/things/42");
        assert.equal(seen.routeKey, "POST /things/{id}");
        assert.deepEqual(seen.pathParameters, { id: "42" });
        assert.deepEqual(seen.query, { tag: "a,b", q: "été" });
        assert.equal(seen.headers["x-trace"], "t1");
        assert.equal(seen.headers["content-type"], "application/json");
        assert.deepEqual(seen.cookies, { session: "abc def", theme: "dark" });
        assert.deepEqual(seen.body, { name: "Ada" });
        assert.equal(seen.requestId, "rid-1");
    });

    it("decodes base64-encoded bodies", async () => {
        let body: unknown;
        const { invoke } = wrap(async (request) => (body = request.body));
        await invoke(httpApiEvent({ routeKey: "POST /things", body: Buffer.from(JSON.stringify({ name: "Zoë" })), headers: { "content-type": "application/json" }, base64: true }));
        assert.deepEqual(body, { name: "Zoë" });
    });

    for (const [label, bytes] of [
        ["a stray continuation byte", [0x7b, 0x22, 0x61, 0x22, 0x3a, 0x22, 0x80, 0x22, 0x7d]],
        ["an overlong encoding", [0x7b, 0x22, 0x61, 0x22, 0x3a, 0x22, 0xc0, 0xa2, 0x22, 0x7d]],
        ["a truncated sequence", [0x7b, 0x22, 0x61, 0x22, 0x3a, 0x22, 0xe2, 0x82, 0x22, 0x7d]],
        ["an encoded surrogate", [0x7b, 0x22, 0x61, 0x22, 0x3a, 0x22, 0xed, 0xa0, 0x80, 0x22, 0x7d]],
    ] as const) {
        it(`answers 400 to a base64 body holding ${label}, read as JSON or as text, and never hands the handler U+FFFD`, async () => {
            // Prepare
            const seen: unknown[] = [];
            const event = () => httpApiEvent({ routeKey: "POST /things", body: Buffer.from(bytes), headers: { "content-type": "application/json" }, base64: true, requestId: "rid-utf8" });
            const asJson = wrap(async (request) => seen.push(request.body));
            const asText = wrap(async (request) => seen.push(request.rawBody));
            // Act
            const responses = [await asJson.invoke(event()), await asText.invoke(event())];
            // Assess
            for (const response of responses) {
                assert.equal(response.statusCode, 400);
                assert.deepEqual(JSON.parse(response.body!), { error: { code: "validation_error", message: "The request body is not valid UTF-8.", requestId: "rid-utf8" } });
            }
            assert.deepEqual(seen, []);
        });
    }

    it("gives a binary body of another type as no JSON body, without refusing its bytes", async () => {
        let body: unknown = "unread";
        const { invoke } = wrap(async (request) => void (body = request.body));
        const response = await invoke(httpApiEvent({ routeKey: "POST /things", body: Buffer.from([0x89, 0x50, 0xff, 0xfe]), headers: { "content-type": "image/png" }, base64: true }));
        assert.deepEqual([response.statusCode, body], [204, undefined]);
    });

    it("answers 400 with the JSON error shape when the handler reads a body that is not JSON", async () => {
        const { invoke } = wrap(async (request) => request.body);
        const response = await invoke(httpApiEvent({ routeKey: "POST /things", body: "{not json", headers: { "content-type": "application/json" }, requestId: "rid-2" }));
        assert.equal(response.statusCode, 400);
        assert.deepEqual(JSON.parse(response.body!), { error: { code: "validation_error", message: "The request body is not valid JSON.", requestId: "rid-2" } });
    });

    it("sends a plain returned value as 200 JSON (the 2.0 shortcut) with the request id header", async () => {
        const { invoke } = wrap(async () => ({ hello: "world" }));
        const response = await invoke(httpApiEvent({ routeKey: "POST /things", requestId: "rid-3" }));
        assert.deepEqual(response, { statusCode: 200, headers: { "x-request-id": "rid-3", "content-type": "application/json" }, body: '{"hello":"world"}' });
    });

    it("keeps status, headers and cookies of a full response, and base64-encodes Buffers", async () => {
        const { invoke } = wrap(async () => ({ statusCode: 201, headers: { "Cache-Control": "no-store" }, cookies: ["a=1; Secure"], body: Buffer.from([0, 1, 2]) }));
        const response = await invoke(httpApiEvent({ routeKey: "POST /things", requestId: "rid-4" }));
        assert.equal(response.statusCode, 201);
        assert.deepEqual(response.cookies, ["a=1; Secure"]);
        assert.equal(response.headers!["cache-control"], "no-store");
        assert.equal(response.headers!["content-type"], "application/octet-stream");
        assert.equal(response.isBase64Encoded, true);
        assert.equal(response.body, "AAEC");
    });

    it("answers 204 with no body when the handler returns nothing, and 200 JSON for null", async () => {
        // Prepare
        const nothing = wrap(async () => undefined);
        const nullish = wrap(async () => null);
        // Act
        const empty = await nothing.invoke(httpApiEvent({ routeKey: "POST /things", requestId: "rid-204" }));
        const withNull = await nullish.invoke(httpApiEvent({ routeKey: "POST /things", requestId: "rid-null" }));
        // Assess
        assert.deepEqual(empty, { statusCode: 204, headers: { "x-request-id": "rid-204" } });
        assert.equal(withNull.statusCode, 200);
    });

    it("sends no body with a 204", async () => {
        const { invoke } = wrap(async () => ({ statusCode: 204, body: { ignored: true } }));
        const response = await invoke(httpApiEvent({ routeKey: "POST /things" }));
        assert.equal(response.statusCode, 204);
        assert.equal(response.body, undefined);
    });

    for (const [status, code, make] of [
        [400, "validation_error", () => badRequest("name must not be empty")],
        [404, "not_found", () => notFound("No thing with this id.")],
        [409, "conflict", () => conflict("Already exists.")],
    ] as const) {
        it(`maps a thrown ${code} to ${status} JSON and logs it at INFO`, async () => {
            const error = make();
            const { invoke, lines } = wrap(async () => {
                throw error;
            });
            const response = await invoke(httpApiEvent({ routeKey: "POST /things", requestId: "rid-5" }));
            assert.equal(response.statusCode, status);
            assert.deepEqual(JSON.parse(response.body!), { error: { code, message: error.message, requestId: "rid-5" } });
            assert.deepEqual(lines.map((line) => [line.level, line.message, line.requestId, line.statusCode]), [["INFO", "request rejected", "rid-5", status]]);
        });
    }

    it("answers an unexpected error with a 500 that carries the request id and no internals, and logs the stack", async () => {
        const { invoke, lines } = wrap(async () => {
            throw new Error("connection string postgres://secret@host");
        });
        const response = await invoke(httpApiEvent({ routeKey: "POST /things", requestId: "rid-6" }));
        assert.equal(response.statusCode, 500);
        assert.deepEqual(JSON.parse(response.body!), { error: { code: "internal_error", message: "Internal server error.", requestId: "rid-6" } });
        assert.equal(response.headers!["x-request-id"], "rid-6");
        assert.doesNotMatch(response.body!, /secret|stack|at /);
        assert.equal(lines[0].level, "ERROR");
        assert.match(String((lines[0].error as { stack: string }).stack), /connection string/);
    });

    it("writes structured JSON log lines that carry the request id", async () => {
        const { invoke, lines } = wrap(async (_request, { log }) => {
            log.info("did a thing", { thingId: 7 });
            log.debug("details");
            return {};
        });
        await invoke(httpApiEvent({ routeKey: "POST /things", requestId: "rid-7" }));
        assert.deepEqual(lines.map((line) => [line.level, line.message, line.requestId, line.service]), [["INFO", "did a thing", "rid-7", "test"], ["DEBUG", "details", "rid-7", "test"]]);
        assert.equal(lines[0].thingId, 7);
        assert.match(String(lines[0].timestamp), /^\d{4}-\d\d-\d\dT/);
    });

    it("drops log lines below the configured level", () => {
        const lines: string[] = [];
        const log = createLogger({ level: "WARN", write: (line) => lines.push(line) });
        log.info("quiet");
        log.warn("loud");
        assert.deepEqual(lines.map((line) => JSON.parse(line).message), ["loud"]);
    });

    it("opens the database once per container, on the first request", async () => {
        let opened = 0;
        const fakeDb = {
            query: async () => ({ rows: [], rowCount: 0 }),
            transaction: async () => undefined,
            withConnectDeadline: () => fakeDb,
            end: async () => undefined,
        };
        const invoke = createRouteHandler(async (_req, ctx) => ({ same: ctx.db === fakeDb }), {
            service: "test",
            routeKey: "GET /x",
            openDatabase: () => {
                opened++;
                return fakeDb as never;
            },
            logger: createLogger({ write: () => undefined }),
        });
        assert.equal(opened, 0);
        const first = await invoke(httpApiEvent({ routeKey: "GET /x" }));
        await invoke(httpApiEvent({ routeKey: "GET /x" }));
        assert.equal(opened, 1);
        assert.deepEqual(JSON.parse(first.body!), { same: true });
    });
});
