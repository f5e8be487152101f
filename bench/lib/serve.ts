/**
 * A server for the throughput comparison, in its own process: `serve.ts local|bare`. `local` is the
 * local runtime's server on one trivial route (`GET /ping`); `bare` is a plain `node:http` server
 * answering the same JSON. Prints `{"url": ...}` once listening.
 */
import * as http from "node:http";
import type { AddressInfo } from "node:net";
import { defineService } from "../../functions/runtime/service";
import { resolveRegistry } from "../../platform/registry/resolution";
import { createLocalServer } from "../../local/server";

const BODY = JSON.stringify({ ok: true });

async function main(): Promise<void> {
    const mode = process.argv[2];
    if (mode === "bare") {
        const server = http.createServer((_request, response) => {
            response.writeHead(200, { "content-type": "application/json", "content-length": Buffer.byteLength(BODY) });
            response.end(BODY);
        });
        server.listen(0, "127.0.0.1", () => console.log(JSON.stringify({ url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` })));
        return;
    }
    const ping = defineService({ name: "ping", description: "Trivial route for the benchmark", database: false, routes: { "GET /ping": { handler: () => ({ ok: true }) } } });
    const { routes } = resolveRegistry([ping], { memoryMb: 128, timeoutSeconds: 5 });
    // Log lines are dropped so that the comparison measures the server, not the terminal.
    const server = createLocalServer({ routes, writeLog: () => undefined, logLevel: "ERROR" });
    console.log(JSON.stringify({ url: await server.listen(0, "127.0.0.1") }));
}

void main();
