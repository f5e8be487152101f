import * as assert from "node:assert/strict";
import * as http from "node:http";
import { createAccessLog, FLUSH_INTERVAL_MS, formatAccessLine } from "../../local/access-log";
import { defineService } from "../../functions/runtime/service";
import { resolveRegistry } from "../../platform/registry/resolution";
import { createLocalServer } from "../../local/server";

const entry = (n: number) => ({ method: "GET", path: `/ping/${n}`, statusCode: 200, durationMs: n, requestId: `id-${n}`, routeKey: "GET /ping/{n}" });

function get(url: string): Promise<number> {
    return new Promise((resolve, reject) => {
        http.get(url, (response) => {
            response.resume();
            response.on("end", () => resolve(response.statusCode ?? 0));
        }).on("error", reject);
    });
}

describe("the local gateway's access log", () => {
    it("writes one line per request in the access log's format", () => {
        assert.equal(formatAccessLine(entry(3)), "GET /ping/3 -> 200 in 3 ms (GET /ping/{n}, id-3)");
        assert.equal(formatAccessLine({ ...entry(4), routeKey: undefined, statusCode: 404 }), "GET /ping/4 -> 404 in 4 ms (no route, id-4)");
    });

    it("writes nothing while a request is answered, then the lines gathered within the interval in one write", async () => {
        // Prepare
        const writes: string[] = [];
        const log = createAccessLog((text) => writes.push(text), 10);
        // Act
        log.record(entry(1));
        const duringTheTurn = writes.length;
        await new Promise((resolve) => setImmediate(resolve));
        log.record(entry(2));
        const afterTheTurn = writes.length;
        // A timer of 30 ms runs after the log's timer of 10 ms, however busy the machine is.
        await new Promise((resolve) => setTimeout(resolve, 30));
        // Assess
        assert.equal(duringTheTurn, 0);
        assert.equal(afterTheTurn, 0);
        assert.deepEqual(writes, [`${formatAccessLine(entry(1))}\n${formatAccessLine(entry(2))}\n`]);
    });

    it("writes at the end of the turn, without waiting for the interval, once 64 KB are gathered", async () => {
        const writes: string[] = [];
        const log = createAccessLog((text) => writes.push(text), 60_000);
        const count = Math.ceil((64 * 1024) / formatAccessLine(entry(1)).length) + 1;
        for (let n = 0; n < count; n++) log.record(entry(n));
        assert.equal(writes.length, 0);
        await new Promise((resolve) => setImmediate(resolve));
        assert.equal(writes.length, 1);
        assert.equal(writes[0].split("\n").length - 1, count);
        log.flush();
        assert.equal(writes.length, 1);
    });

    it("writes what is queued at once on flush, and nothing twice", async () => {
        const writes: string[] = [];
        const log = createAccessLog((text) => writes.push(text));
        log.record(entry(1));
        log.flush();
        assert.deepEqual(writes, [`${formatAccessLine(entry(1))}\n`]);
        await new Promise((resolve) => setTimeout(resolve, 2 * FLUSH_INTERVAL_MS));
        log.flush();
        assert.equal(writes.length, 1);
    });

    it("logs each request the gateway answers, with its route and an id in API Gateway's format", async () => {
        // Prepare
        const ping = defineService({ name: "ping", description: "d", database: false, routes: { "GET /ping": { handler: () => ({ ok: true }) } } });
        const writes: string[] = [];
        const log = createAccessLog((text) => writes.push(text));
        const server = createLocalServer({ routes: resolveRegistry([ping], { memoryMb: 128, timeoutSeconds: 5 }).routes, onRequest: log.record, writeLog: () => undefined });
        const url = await server.listen(0);
        try {
            // Act
            const statuses = await Promise.all([get(`${url}/ping`), get(`${url}/nowhere`)]);
            log.flush();
            // Assess
            assert.deepEqual(statuses.sort(), [200, 404]);
            const lines = writes.join("").trimEnd().split("\n").sort();
            assert.equal(lines.length, 2);
            assert.match(lines[0], /^GET \/nowhere -> 404 in \d+ ms \(no route, [A-Za-z0-9+/]{15}=\)$/);
            assert.match(lines[1], /^GET \/ping -> 200 in \d+ ms \(GET \/ping, [A-Za-z0-9+/]{15}=\)$/);
        } finally {
            await server.close();
        }
    });
});
