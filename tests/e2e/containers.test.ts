/**
 * A container service behind the local gateway, over real HTTP, with a fixture registry (the echo
 * process in testing/fixtures/echo-container): the request reaches it as sent, with the same JWT,
 * scope, CORS and throttling answers as a function route; the claims arrive as headers only the
 * gateway sets; its own answers pass through; a slow one is the gateway's 504; one that exits
 * answers 503 until it is started again; its environment is its task's, database included.
 */
import * as assert from "node:assert/strict";
import { ping } from "../../testing/fixtures/registry";
import { echoContainer } from "../../testing/fixtures/registries";
import { request, startTestRuntime, type TestRuntime } from "../../testing/local-runtime";

const ORIGIN = "http://localhost:5173";

async function until<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 15_000): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
        const value = await probe();
        if (value !== undefined) return value;
        await new Promise((resolve) => setTimeout(resolve, 50));
    }
    throw new Error(`timed out waiting for ${what}`);
}

describe("e2e: a container service behind the local gateway", function () {
    this.timeout(120_000);
    let t: TestRuntime;
    const echo = echoContainer({
        database: true,
        timeoutSeconds: 2,
        routes: {
            "GET /echo/public": {},
            "POST /echo/private": { auth: "jwt", scopes: ["echo:write"] },
            "GET /echo/{proxy+}": { auth: "jwt" },
            "GET /echo/limited": { throttle: { rateLimit: 1, burstLimit: 1 } },
        },
    });

    before(async () => {
        // Health checks every second: the three failures that replace a process take seconds, not 15 s.
        t = await startTestRuntime([ping, echo], { throttling: true, containerHealthCheckIntervalMs: 1_000 });
    });
    after(async () => {
        await t?.stop();
    });

    it("passes a public request to the process as sent, and drops claim headers the client made up", async () => {
        // Act
        const response = await request(t.url, { path: "/echo/public?b=2&a=1", headers: { "x-jwt-sub": "mallory", "x-apigw-request-id": "forged", "x-custom": "kept" } });
        // Assess
        assert.equal(response.status, 200, response.text);
        assert.deepEqual([response.json.method, response.json.path, response.json.query], ["GET", "/echo/public", { b: "2", a: "1" }]);
        assert.equal(response.json.headers["x-custom"], "kept");
        assert.equal(response.json.headers["x-jwt-sub"], undefined);
        assert.equal(response.json.headers["x-apigw-request-id"], response.headers["apigw-requestid"]);
    });

    it("answers a protected route without a token with the authorizer's 401, as for a function route", async () => {
        const container = await request(t.url, { path: "/echo/anything" });
        assert.equal(container.status, 401);
        assert.deepEqual(container.json, { message: "Unauthorized" });
    });

    it("answers a token without the route's scope with 403", async () => {
        const response = await request(t.url, { method: "POST", path: "/echo/private", headers: await t.authHeader({ scopes: ["other:scope"] }), body: { x: 1 } });
        assert.equal(response.status, 403);
        assert.deepEqual(response.json, { message: "Forbidden" });
    });

    it("hands the process the verified claims as headers, overwriting the client's copies, with the body", async () => {
        // Prepare
        const headers = { ...(await t.authHeader({ sub: "ada", scopes: ["echo:write"] })), "x-jwt-sub": "mallory", "x-jwt-scope": "admin" };
        // Act
        const response = await request(t.url, { method: "POST", path: "/echo/private", headers, body: { order: 42 } });
        // Assess
        assert.equal(response.status, 200, response.text);
        assert.equal(response.json.headers["x-jwt-sub"], "ada");
        assert.equal(response.json.headers["x-jwt-scope"], "echo:write");
        assert.equal(response.json.body, '{"order":42}');
        assert.equal(response.json.headers["content-type"], "application/json");
    });

    it("returns the process's own status, headers and body, with the gateway's CORS headers", async () => {
        const response = await request(t.url, { path: "/echo/x/teapot", headers: { ...(await t.authHeader()), origin: ORIGIN } });
        assert.equal(response.status, 418);
        assert.equal(response.headers["x-echo"], "yes");
        assert.equal(response.headers["access-control-allow-origin"], ORIGIN);
        assert.equal(response.json.path, "/echo/x/teapot");
    });

    it("answers a CORS preflight itself, without a token", async () => {
        const response = await request(t.url, { method: "OPTIONS", path: "/echo/private", headers: { origin: ORIGIN, "access-control-request-method": "POST" } });
        assert.equal(response.status, 204);
        assert.equal(response.headers["access-control-allow-origin"], ORIGIN);
    });

    it("throttles a container route by its own limits", async () => {
        const statuses: number[] = [];
        for (let i = 0; i < 4; i++) statuses.push((await request(t.url, { path: "/echo/limited" })).status);
        assert.equal(statuses[0], 200);
        assert.ok(statuses.slice(1).includes(429), statuses.join(","));
    });

    it("answers 504 when the process does not answer within the route's timeout", async () => {
        const started = Date.now();
        const response = await request(t.url, { path: "/echo/x/slow?ms=4000", headers: await t.authHeader() });
        assert.equal(response.status, 504);
        assert.deepEqual(response.json, { message: "Gateway Timeout" });
        assert.ok(Date.now() - started < 3_500, `${Date.now() - started} ms`);
    });

    it("gives the process its task's environment and its database connection", async () => {
        // Act
        const response = await request(t.url, { path: "/echo/x/whoami", headers: await t.authHeader() });
        // Assess
        assert.equal(response.status, 200, response.text);
        const { env, database } = response.json;
        assert.deepEqual([env.SERVICE_NAME, env.GREETING, env.DB_HOST, env.DB_NAME], ["echo", "hello", "127.0.0.1", "app"]);
        assert.notEqual(env.PORT, undefined);
        // Its own login role, as the service's functions sign in.
        assert.deepEqual(database, { user: "echo_app", database: "app" });
    });

    it("answers 503 while a process that exited is down, then serves again from a new process", async () => {
        // Prepare
        const auth = await t.authHeader();
        const before = (await request(t.url, { path: "/echo/x/pid", headers: auth })).json.pid;
        // Act: the process exits right after answering.
        await request(t.url, { path: "/echo/x/crash", headers: auth });
        const during = await until("the 503", async () => {
            const response = await request(t.url, { path: "/echo/x/pid", headers: auth });
            return response.status === 503 ? response : undefined;
        });
        const after = await until("a new process", async () => {
            const response = await request(t.url, { path: "/echo/x/pid", headers: auth });
            return response.status === 200 ? response : undefined;
        });
        // Assess
        assert.deepEqual(during.json, { message: "Service Unavailable" });
        assert.notEqual(after.json.pid, before);
        assert.equal((await request(t.url, { path: "/ping" })).status, 200, "function routes keep serving throughout");
    });

    it("replaces a process that keeps failing its health check, as ECS replaces an unhealthy task", async function () {
        this.timeout(60_000);
        // Prepare
        const auth = await t.authHeader();
        const before = (await request(t.url, { path: "/echo/x/pid", headers: auth })).json.pid;
        // Act: the process still answers, but its health check fails from now on.
        await request(t.url, { path: "/echo/x/sicken", headers: auth });
        const after = await until(
            "a healthy process",
            async () => {
                const response = await request(t.url, { path: "/echo/x/pid", headers: auth });
                return response.status === 200 && response.json.pid !== before ? response : undefined;
            },
            40_000,
        );
        // Assess
        assert.notEqual(after.json.pid, before);
        assert.ok(t.containerNotices.some((notice) => /failed 3 health checks; replacing it/.test(notice)), t.containerNotices.join("\n"));
    });

    it("starts the process again on a reload (watch mode), and serves from the new one", async () => {
        // Prepare
        const auth = await t.authHeader();
        const before = (await request(t.url, { path: "/echo/x/pid", headers: auth })).json.pid;
        // Act
        await t.runtime.reload([ping, echo]);
        const after = await until("the reloaded process", async () => {
            const response = await request(t.url, { path: "/echo/x/pid", headers: auth });
            return response.status === 200 && response.json.pid !== before ? response : undefined;
        });
        // Assess
        assert.notEqual(after.json.pid, before);
    });
});
