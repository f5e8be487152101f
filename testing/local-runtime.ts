/**
 * What the end-to-end suites share: a local runtime on a free port over a fresh embedded
 * PostgreSQL in a temporary directory (a copy of an initialised cluster, `postgres-template.ts`),
 * with its own local token issuer there, a plain HTTP client (node:http, so every header and byte
 * sent is under the test's control), the typed client of the API (`typedApi`), and a snapshot of a table for "nothing changed" checks.
 */
import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as http from "node:http";
import * as os from "node:os";
import * as path from "node:path";
import * as pg from "pg";
import type { HttpApiEvent } from "../functions/runtime/http/payload";
import type { RegisteredService } from "../functions/runtime/container";
import { serviceSchema } from "../functions/runtime/data/service-data";
import type { LocalAuthSettings } from "../local/authorizer";
import { mintLocalToken, type MintOptions } from "../local/issuer";
import { SQS } from "../policy/lib/limits";
import { setLocalSecret } from "../local/secrets";
import { startLocalRuntime, type LocalRuntime } from "../local/runtime";
import type { Client } from "openapi-fetch";
import { createApiClient, type ServiceModulePaths } from "../platform/api/client";
import { seedPostgresDataFolder } from "./postgres-template";

export interface TestRuntime {
    runtime: LocalRuntime;
    url: string;
    /** A connection of the test's own, to look at what the API stored. */
    sql: pg.Client;
    /** The handlers' JSON log lines, parsed. */
    logs: Record<string, unknown>[];
    /** Every event the wrapper received, oldest first. */
    events: HttpApiEvent[];
    /** What the runtime said about its container services (started, exited, restarted). */
    containerNotices: string[];
    /** The embedded PostgreSQL's postmaster pid, to prove it is gone after `stop`. */
    postgresPid: number;
    /** The local issuer's key directory of this runtime. */
    jwtDir: string;
    /** A token from this runtime's local issuer (default subject "e2e-user", valid for an hour). */
    token(options?: Partial<MintOptions>): Promise<string>;
    /** `{ authorization: "Bearer <token>" }` for such a token. */
    authHeader(options?: Partial<MintOptions>): Promise<Record<string, string>>;
    stop(): Promise<void>;
}

export interface TestRuntimeOptions {
    /** @default the local issuer, keys in the test's temporary directory */
    auth?: LocalAuthSettings;
    /** Route throttling; off unless a suite tests it, so fast test traffic is never throttled. @default false */
    throttling?: boolean;
    /** Scales the consumers' visibility timeouts, so a retry comes in milliseconds. @default 1 */
    visibilityTimeoutScale?: number;
    /** The schedules' clock. @default the system clock */
    scheduleClock?: () => Date;
    /** The queues' clock. @default the database's clock */
    queueClock?: () => Date;
    /**
     * The services' secret values, by service and name, written to the runtime's own secrets file
     * (never the developer's `.data/secrets.json`). @default none
     */
    secrets?: Readonly<Record<string, Readonly<Record<string, string>>>>;
    /** Time between a container service's health checks. @default the runtime's (5 s) */
    containerHealthCheckIntervalMs?: number;
}

/**
 * A `visibilityTimeoutScale` that brings a failed message back after its consumer's own timeout
 * instead of after the cloud's multiple of it: sooner, yet never while its delivery may still be
 * running, however slow the machine (a shorter one hands a slow delivery out twice and spends its
 * attempts).
 */
export const RETRY_AFTER_CONSUMER_TIMEOUT = 1 / SQS.visibilityTimeoutFactor;

/**
 * Starts the runtime with `services` and a throwaway database. A test that serves the real registry
 * imports it (`infra/services`), so that what reads the registry is seen in the imports
 * (`tools/test-selection.ts`).
 */
export async function startTestRuntime(services: readonly RegisteredService[], options: TestRuntimeOptions = {}): Promise<TestRuntime> {
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "local-e2e-"));
    // PostgreSQL runs as its own user when we are root; it must be able to reach its directory.
    fs.chmodSync(dataDir, 0o755);
    const logs: Record<string, unknown>[] = [];
    const events: HttpApiEvent[] = [];
    const containerNotices: string[] = [];
    const jwtDir = path.join(dataDir, "jwt");
    let runtime: LocalRuntime;
    try {
        await seedPostgresDataFolder(path.join(dataDir, "postgres"));
        const secretsFile = path.join(dataDir, "secrets.json");
        for (const [service, values] of Object.entries(options.secrets ?? {})) for (const [name, value] of Object.entries(values)) setLocalSecret(secretsFile, service, name, value);
        runtime = await startLocalRuntime({
            secretsFile,
            auth: options.auth ?? { kind: "local", dir: jwtDir },
            throttling: options.throttling ?? false,
            port: 0,
            services,
            dataDir: path.join(dataDir, "postgres"),
            persistent: false,
            logLevel: "DEBUG",
            writeLog: (line) => logs.push(JSON.parse(line) as Record<string, unknown>),
            onEvent: (event) => events.push(event),
            onContainerNotice: (message) => containerNotices.push(message),
            containerMode: "process",
            visibilityTimeoutScale: options.visibilityTimeoutScale,
            scheduleClock: options.scheduleClock,
            queueClock: options.queueClock,
            containerHealthCheckIntervalMs: options.containerHealthCheckIntervalMs,
        });
    } catch (error) {
        fs.rmSync(dataDir, { recursive: true, force: true });
        throw error;
    }
    const postgresPid = Number(fs.readFileSync(path.join(dataDir, "postgres", "postmaster.pid"), "utf8").split("\n")[0]);
    const sql = new pg.Client({ connectionString: runtime.databaseUrl });
    await sql.connect();
    const token = (tokenOptions: Partial<MintOptions> = {}) => mintLocalToken({ sub: "e2e-user", dir: jwtDir, ...tokenOptions });
    return {
        runtime,
        url: runtime.url,
        sql,
        logs,
        events,
        containerNotices,
        postgresPid,
        jwtDir,
        token,
        async authHeader(tokenOptions) {
            return { authorization: `Bearer ${await token(tokenOptions)}` };
        },
        async stop() {
            await sql.end().catch(() => undefined);
            await runtime.stop();
            fs.rmSync(dataDir, { recursive: true, force: true });
        },
    };
}

/** True while a process with this pid exists. */
export function processExists(pid: number): boolean {
    try {
        process.kill(pid, 0);
        return true;
    } catch (error) {
        return (error as NodeJS.ErrnoException).code === "EPERM";
    }
}

export interface TestResponse {
    status: number;
    headers: http.IncomingHttpHeaders;
    raw: Buffer;
    text: string;
    /** The body parsed as JSON; `undefined` when it is empty or not JSON. */
    json: any;
}

export interface TestRequest {
    method?: string;
    /** Path and query string, sent exactly as given. */
    path: string;
    /** A list value sends the header once per value. */
    headers?: Record<string, string | string[]>;
    /** An object is sent as JSON (with `content-type: application/json` unless headers say otherwise). */
    body?: string | Buffer | object;
}

/** An answer as the tests read it, its body as text and, when it is JSON, parsed. */
function testResponse(status: number, headers: http.IncomingHttpHeaders, raw: Buffer): TestResponse {
    const text = raw.toString("utf8");
    let json: unknown;
    try {
        json = text === "" ? undefined : JSON.parse(text);
    } catch {
        json = undefined;
    }
    return { status, headers, raw, text, json };
}

/** One request over a fresh connection; never rejects on an HTTP error status. */
export function request(baseUrl: string, options: TestRequest): Promise<TestResponse> {
    const headers: Record<string, string | string[]> = { ...(options.headers ?? {}) };
    let body: Buffer | undefined;
    if (Buffer.isBuffer(options.body)) body = options.body;
    else if (typeof options.body === "string") body = Buffer.from(options.body);
    else if (options.body !== undefined) {
        body = Buffer.from(JSON.stringify(options.body));
        if (!Object.keys(headers).some((name) => name.toLowerCase() === "content-type")) headers["content-type"] = "application/json";
    }
    if (body) headers["content-length"] = String(body.length);
    const url = new URL(baseUrl);
    return new Promise((resolve, reject) => {
        const req = http.request(
            { host: url.hostname, port: url.port, method: options.method ?? "GET", path: options.path, headers, agent: false },
            (res) => {
                const chunks: Buffer[] = [];
                res.on("data", (chunk: Buffer) => chunks.push(chunk));
                res.on("end", () => resolve(testResponse(res.statusCode ?? 0, res.headers, Buffer.concat(chunks))));
                res.on("error", reject);
            },
        );
        req.on("error", reject);
        req.end(body);
    });
}

/** Shorthand for a JSON request to `url`; `defaults` (e.g. an authorization header) go with every request. */
export const api = (baseUrl: string, defaults: Record<string, string> = {}) => ({
    get: (path: string, headers?: Record<string, string>) => request(baseUrl, { path, headers: { ...defaults, ...headers } }),
    post: (path: string, body?: TestRequest["body"], headers?: Record<string, string>) =>
        request(baseUrl, { method: "POST", path, body, headers: { ...defaults, ...headers } }),
    patch: (path: string, body?: TestRequest["body"], headers?: Record<string, string>) =>
        request(baseUrl, { method: "PATCH", path, body, headers: { ...defaults, ...headers } }),
    delete: (path: string, headers?: Record<string, string>) => request(baseUrl, { method: "DELETE", path, headers: { ...defaults, ...headers } }),
});

/** Every row of a service's table (which has an `id`, in the service's own schema), in a stable order, for before/after comparisons. */
export async function snapshotRows(sql: pg.Client, service: string, table: string): Promise<unknown[]> {
    return (await sql.query(`SELECT * FROM ${pg.escapeIdentifier(serviceSchema(service))}.${pg.escapeIdentifier(table)} ORDER BY id`)).rows;
}

/** Every row of the users sample's table. */
export const snapshotUsers = (sql: pg.Client) => snapshotRows(sql, "users", "users");

export const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** The platform's JSON error shape: `{"error":{"code","message","requestId"}}`, the id echoed in `x-request-id`. */
export function assertPlatformError(response: TestResponse, status: number, code: string): void {
    assert.equal(response.status, status, `expected ${status}, got ${response.status}: ${response.text}`);
    assert.match(String(response.headers["content-type"]), /^application\/json/);
    assert.equal(response.json?.error?.code, code, response.text);
    assert.equal(typeof response.json.error.message, "string");
    assert.equal(response.json.error.requestId, response.headers["x-request-id"]);
}

/** What a typed client's call answered, exactly as sent (raw bytes, headers), for assertions. */
const typedAnswers = new WeakMap<Response, TestResponse>();

/**
 * The typed client (`platform/api/client.ts`) of a test runtime: paths, parameters and bodies are
 * checked at compile time against the generated types of the service modules (registered or not,
 * as the samples' tests serve them). Each answer is kept byte for byte for
 * `answered`, so a test asserts on what the client received, whatever its content type.
 */
export function typedApi(baseUrl: string, headers: Record<string, string> = {}): Client<ServiceModulePaths> {
    const client = createApiClient<ServiceModulePaths>(baseUrl, undefined, { headers });
    client.use({
        async onResponse({ response }) {
            const received: http.IncomingHttpHeaders = {};
            for (const [name, value] of response.headers) received[name] = value;
            // openapi-fetch gets an empty answer of the same status: the test reads `answered`.
            const emptied = new Response(null, { status: response.status, headers: { "content-length": "0" } });
            typedAnswers.set(emptied, testResponse(response.status, received, Buffer.from(await response.arrayBuffer())));
            return emptied;
        },
    });
    return client;
}

/** The answer to a typed client's call, as `request` gives one. */
export async function answered(call: Promise<{ response: Response }>): Promise<TestResponse> {
    const { response } = await call;
    const answer = typedAnswers.get(response);
    assert.ok(answer, "the call was made with typedApi");
    return answer;
}
