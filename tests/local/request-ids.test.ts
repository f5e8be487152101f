import * as assert from "node:assert/strict";
import { createEvent, formatRequestTime, newInvocationId, newRequestId } from "../../local/event";

/** API Gateway's request id: 11 bytes in base64. */
const GATEWAY_REQUEST_ID = /^[A-Za-z0-9+/]{15}=$/;
const UUID_V4 = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

function traceIdOf(): string {
    const event = createEvent({
        request: { method: "GET", url: "/x", rawHeaders: ["host", "127.0.0.1"], body: undefined, sourceIp: "127.0.0.1", protocol: "HTTP/1.1", port: 3000 },
        routeKey: "GET /x",
        pathParameters: {},
        requestId: newRequestId(),
        receivedAt: new Date("2026-12-05T10:00:00Z"),
    });
    return event.headers["x-amzn-trace-id"]!;
}

describe("the local gateway's request ids", () => {
    it("gives each request an id in API Gateway's format, never the same twice", () => {
        const ids = Array.from({ length: 10_000 }, newRequestId);
        for (const id of ids.slice(0, 100)) assert.match(id, GATEWAY_REQUEST_ID);
        assert.equal(new Set(ids).size, ids.length);
    });

    it("draws randomness once per process: ids share a random prefix and differ in a counter", () => {
        const [a, b] = [newRequestId(), newRequestId()].map((id) => Buffer.from(id, "base64"));
        assert.deepEqual(a.subarray(0, 5), b.subarray(0, 5));
        assert.equal(b.readUIntBE(5, 6) - a.readUIntBE(5, 6), 1);
    });

    it("gives each invocation a Lambda-shaped request id (a version 4 UUID), never the same twice", () => {
        const ids = Array.from({ length: 10_000 }, newInvocationId);
        for (const id of ids.slice(0, 100)) assert.match(id, UUID_V4);
        assert.equal(new Set(ids).size, ids.length);
    });

    it("adds an X-Ray trace header of API Gateway's shape, different for each request", () => {
        const traces = Array.from({ length: 1000 }, traceIdOf);
        for (const trace of traces.slice(0, 10)) assert.match(trace, /^Root=1-[0-9a-f]{8}-[0-9a-f]{24}$/);
        assert.equal(traces[0].slice(7, 15), Math.floor(Date.parse("2026-12-05T10:00:00Z") / 1000).toString(16));
        assert.equal(new Set(traces).size, traces.length);
    });

    it("formats each request's time in API Gateway's format, the second it arrived in, also after a request of another second", () => {
        const times = ["2026-12-05T10:00:00.100Z", "2026-12-05T10:00:00.900Z", "2026-12-05T10:00:01.000Z", "2026-01-31T23:59:59.999Z", "2026-12-05T10:00:00.500Z"];
        assert.deepEqual(
            times.map((time) => formatRequestTime(new Date(time))),
            ["05/Dec/2026:10:00:00 +0000", "05/Dec/2026:10:00:00 +0000", "05/Dec/2026:10:00:01 +0000", "31/Jan/2026:23:59:59 +0000", "05/Dec/2026:10:00:00 +0000"],
        );
    });
});
