/**
 * A body over the limit, from clients that send it all before they read the answer: Python's
 * `http.client` and `urllib` (real Python processes) must get the gateway's 413 with its JSON body,
 * not a broken pipe or a reset; a client that never stops sending is still cut off.
 */
import * as assert from "node:assert/strict";
import { spawn } from "node:child_process";
import * as http from "node:http";
import { defineService } from "../../functions/runtime/service";
import { resolveRegistry } from "../../platform/registry/resolution";
import { createLocalServer, type LocalServer } from "../../local/server";

const MB = 1024 * 1024;

/** Runs `script` in python3 with the server's port as its only argument; resolves with the JSON it prints. */
function python(script: string, port: number): Promise<any> {
    return new Promise((resolve, reject) => {
        const child = spawn("python3", ["-c", script, String(port)], { stdio: ["ignore", "pipe", "pipe"] });
        let output = "";
        child.stdout.on("data", (chunk) => (output += chunk));
        child.stderr.on("data", (chunk) => (output += chunk));
        child.on("error", reject);
        child.on("exit", (code) => {
            try {
                resolve(JSON.parse(output));
            } catch {
                reject(new Error(`python3 exited with ${code}: ${output}`));
            }
        });
    });
}

// Sends the whole 7 MB body, then reads the response: what every simple client does.
const HTTP_CLIENT = `
import http.client, json, sys
try:
    connection = http.client.HTTPConnection("127.0.0.1", int(sys.argv[1]), timeout=20)
    connection.request("POST", "/things", body=b"a" * (7 * 1024 * 1024), headers={"content-type": "application/json"})
    response = connection.getresponse()
    print(json.dumps({"status": response.status, "connection": response.getheader("connection"), "body": response.read().decode()}))
except Exception as error:
    print(json.dumps({"error": type(error).__name__ + ": " + str(error)}))
`;

const URLLIB = `
import json, sys, urllib.error, urllib.request
try:
    urllib.request.urlopen(urllib.request.Request("http://127.0.0.1:%s/things" % sys.argv[1], data=b"a" * (7 * 1024 * 1024), method="POST"), timeout=20)
    print(json.dumps({"error": "no HTTP error"}))
except urllib.error.HTTPError as error:
    print(json.dumps({"status": error.code, "body": error.read().decode()}))
except Exception as error:
    print(json.dumps({"error": type(error).__name__ + ": " + str(error)}))
`;

describe("faults: a body over 6 MB from a client that sends it all before reading", () => {
    let server: LocalServer;
    let port: number;
    let invocations = 0;

    before(async () => {
        const things = defineService({
            name: "things",
            description: "Counts what reaches it",
            database: false,
            routes: { "POST /things": { handler: async () => ({ invocation: ++invocations }) } },
        });
        server = createLocalServer({ routes: resolveRegistry([things], { memoryMb: 256, timeoutSeconds: 5 }).routes, throttling: false });
        port = Number(new URL(await server.listen(0)).port);
    });
    after(() => server.close());

    it("python http.client gets the 413 and its JSON body, then a clean close (no broken pipe, no reset)", async () => {
        // Act
        const result = await python(HTTP_CLIENT, port);
        // Assess
        assert.deepEqual(result, { status: 413, connection: "close", body: '{"message":"Request Entity Too Large"}' });
        assert.equal(invocations, 0, "the function never ran");
    });

    it("python urllib gets the 413 as an HTTPError with the JSON body", async () => {
        const result = await python(URLLIB, port);
        assert.deepEqual(result, { status: 413, body: '{"message":"Request Entity Too Large"}' });
    });

    it("a client that keeps sending gets the 413 first, and is cut off once it has sent far more than the limit", async () => {
        // Prepare: a chunked body that never ends.
        let sent = 0;
        let status: number | undefined;
        // Act
        const outcome = await new Promise<string>((resolve) => {
            const req = http.request({ host: "127.0.0.1", port, method: "POST", path: "/things", agent: false }, (res) => {
                status = res.statusCode;
                res.resume();
            });
            req.on("error", (error: NodeJS.ErrnoException) => resolve(error.code ?? error.message));
            req.on("close", () => resolve("closed"));
            const chunk = Buffer.alloc(MB, 0x61);
            const pump = () => {
                while (sent < 100 * MB) {
                    sent += chunk.length;
                    if (!req.write(chunk)) return void req.once("drain", pump);
                }
            };
            pump();
        });
        // Assess
        assert.equal(status, 413);
        assert.ok(["ECONNRESET", "EPIPE", "closed"].includes(outcome), outcome);
        assert.ok(sent < 40 * MB, `${sent / MB} MB were accepted before the cut`);
        assert.equal(invocations, 0);
    });
});
