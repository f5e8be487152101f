import * as assert from "node:assert/strict";
import * as http from "node:http";
import { createAccessLog, formatAccessLine } from "../../local/access-log";
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

    it("writes nothing while a request is answered, then the lines of a turn of the event loop in one write", async () => {
        // Prepare
        const writes: string[] = [];
        const log = createAccessLog((text) => writes.push(text));
        // Act
        log.record(entry(1));
        log.record(entry(2));
        const duringTheTurn = writes.length;
        await new Promise((resolve) => setImmediate(resolve));
        // Assess
        assert.equal(duringTheTurn, 0);
        assert.deepEqual(writes, [`${formatAccessLine(entry(1))}\n${formatAccessLine(entry(2))}\n`]);
    });

    it("writes what is queued at once on flush, and nothing twice", async () => {
        const writes: string[] = [];
        const log = createAccessLog((text) => writes.push(text));
        log.record(entry(1));
        log.flush();
        assert.deepEqual(writes, [`${formatAccessLine(entry(1))}\n`]);
        await new Promise((resolve) => setImmediate(resolve));
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
            await new Promise((resolve) => setImmediate(resolve));
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
