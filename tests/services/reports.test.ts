/**
 * The reports sample, a container service: its process on its own (the report, its cache, its
 * errors, a clean stop), its Dockerfile against its registry entry (the image is never built
 * here), and its route through the local gateway with the JWT checks of any protected route.
 */
import * as assert from "node:assert/strict";
import { spawn, type ChildProcess } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import reports from "../../functions/reports/service";
import { dockerfileProblems } from "../../platform/containers/validation";
import { freePort } from "../../local/postgres";
import { request, startTestRuntime, type TestRuntime } from "../../testing/local-runtime";
import { listeningAddresses } from "../../testing/listening";

const FOLDER = path.join(__dirname, "..", "..", "functions", "reports");

async function waitForHealth(url: string): Promise<void> {
    for (let attempt = 0; attempt < 100; attempt++) {
        try {
            if ((await request(url, { path: "/health" })).status === 200) return;
        } catch {
            // not listening yet
        }
        await new Promise((resolve) => setTimeout(resolve, 50));
    }
    throw new Error("the reports process did not come up");
}

describe("reports service (container)", function () {
    this.timeout(60_000);

    describe("its process", () => {
        let child: ChildProcess;
        let url: string;

        before(async () => {
            const port = await freePort();
            // Prepare: the command the registry declares, with the environment the platform sets.
            const [program, ...args] = reports.local.command;
            child = spawn(program, args, { cwd: FOLDER, env: { PATH: process.env.PATH, PORT: String(port), SERVICE_NAME: "reports" }, stdio: "ignore" });
            url = `http://127.0.0.1:${port}`;
            await waitForHealth(url);
        });
        after(() => {
            if (child.exitCode === null) child.kill("SIGKILL");
        });

        it("counts the primes below a number and names the largest", async () => {
            const response = await request(url, { path: "/reports/primes?below=100", headers: { "x-jwt-sub": "ada" } });
            assert.equal(response.status, 200, response.text);
            assert.deepEqual([response.json.below, response.json.count, response.json.largest, response.json.requestedBy], [100, 25, 97, "ada"]);
        });

        it("keeps a computed report warm for the requests after it", async () => {
            const first = await request(url, { path: "/reports/primes?below=2000000" });
            const second = await request(url, { path: "/reports/primes?below=2000000" });
            assert.deepEqual([first.json.cached, second.json.cached], [false, true]);
            assert.deepEqual([first.json.count, second.json.count], [148933, 148933]);
        });

        for (const bad of ["", "1", "abc", "20000001", "-5", "2.5"]) {
            it(`answers 400 in the platform's error shape for below=${JSON.stringify(bad)}`, async () => {
                const response = await request(url, { path: `/reports/primes?below=${bad}`, headers: { "x-apigw-request-id": "req-7" } });
                assert.equal(response.status, 400);
                assert.deepEqual(response.json, { error: { code: "validation_error", message: "Invalid query: below must be an integer from 2 to 20000000.", requestId: "req-7" } });
                assert.equal(response.headers["x-request-id"], "req-7");
            });
        }

        it("answers 404 in the platform's error shape for a path it does not serve", async () => {
            const response = await request(url, { path: "/reports/nothing" });
            assert.equal(response.status, 404);
            assert.equal(response.json.error.code, "not_found");
        });

        it("listens on every interface without HOST, as its image must on Fargate", () => {
            assert.deepEqual(listeningAddresses(Number(new URL(url).port)).filter((address) => address !== "::" && address !== "0.0.0.0"), []);
            assert.ok(listeningAddresses(Number(new URL(url).port)).length > 0);
        });

        it("stops cleanly on SIGTERM, as ECS stops a task", async () => {
            const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
            child.kill("SIGTERM");
            assert.equal(await exited, 0);
        });
    });

    describe("its Dockerfile", () => {
        const dockerfile = fs.readFileSync(path.join(FOLDER, "Dockerfile"), "utf8");

        it("runs as a user other than root, exposes the declared port and starts the command the local runtime runs", () => {
            assert.deepEqual(dockerfileProblems(dockerfile, { port: reports.port, command: reports.local.command }, "reports"), []);
            assert.match(dockerfile, /^USER node$/m);
            assert.match(dockerfile, new RegExp(`^EXPOSE ${reports.port}$`, "m"));
            assert.match(dockerfile, new RegExp(`^CMD ${JSON.stringify(reports.local.command).replace(/[[\]]/g, "\\$&").replace(/,/g, ", ")}$`, "m"));
        });

        it("builds from Node 24 on Alpine, whose busybox wget the default health check uses", () => {
            assert.match(dockerfile, /^FROM node:24-alpine$/m);
        });
    });

    describe("through the local gateway", () => {
        let t: TestRuntime;

        before(async () => {
            t = await startTestRuntime([reports]);
        });
        after(async () => {
            await t?.stop();
        });

        it("runs the process bound to 127.0.0.1 only, so nothing but the gateway reaches it (and its trusted x-jwt-sub)", () => {
            const started = t.containerNotices.map((notice) => /Container service reports serves on 127\.0\.0\.1:(\d+) \(process/.exec(notice)?.[1]).find(Boolean);
            assert.ok(started, t.containerNotices.join("\n"));
            assert.deepEqual(listeningAddresses(Number(started)), ["127.0.0.1"]);
        });

        it("answers 401 without a token, like a protected function route", async () => {
            const response = await request(t.url, { path: "/reports/primes?below=10" });
            assert.equal(response.status, 401);
            assert.deepEqual(response.json, { message: "Unauthorized" });
        });

        it("answers with the caller the token names, whatever x-jwt-sub the client sent", async () => {
            const response = await request(t.url, { path: "/reports/primes?below=10", headers: { ...(await t.authHeader({ sub: "grace" })), "x-jwt-sub": "mallory" } });
            assert.equal(response.status, 200, response.text);
            assert.deepEqual([response.json.count, response.json.requestedBy], [4, "grace"]);
            assert.equal(response.headers["x-request-id"], response.headers["apigw-requestid"]);
        });
    });
});
