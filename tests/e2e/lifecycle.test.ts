/**
 * The runtime's life cycle: `local/start.ts` as a user runs it (starts, answers, stops on SIGTERM
 * and on Ctrl-C, leaves no PostgreSQL behind), reloading the registry without restarting the
 * database (watch mode's mechanism), and a bad registry failing before anything starts.
 */
import * as assert from "node:assert/strict";
import { spawn, type ChildProcess } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { defineService } from "../../functions/runtime/service";
import { isContainerService } from "../../functions/runtime/container";
import { services } from "../../infra/registry";
import { mintLocalToken } from "../../local/issuer";
import { freePort } from "../../local/postgres";
import { startLocalRuntime } from "../../local/runtime";
import { REPOSITORY_ROOT } from "../../local/stack-config";
import { probeService } from "./probe-service";
import { processExists, request, startTestRuntime } from "./support";

function temporaryDirectory(): string {
    const directory = fs.mkdtempSync(path.join(os.tmpdir(), "local-e2e-start-"));
    fs.chmodSync(directory, 0o755); // PostgreSQL runs as its own user when we are root
    return directory;
}

const jwtDirOf = (dataDir: string) => path.join(path.dirname(dataDir), "jwt");

/** Runs `local/start.ts` as `npm start` does, in a process group of its own (as a terminal would). */
function startScript(port: number, dataDir: string): { child: ChildProcess; output: () => string; ready: Promise<number> } {
    const started = Date.now();
    const child = spawn(process.execPath, [path.join(REPOSITORY_ROOT, "node_modules", ".bin", "ts-node"), "--transpile-only", "local/start.ts"], {
        cwd: REPOSITORY_ROOT,
        // The local issuer's key beside the database, so the test can mint tokens the server accepts.
        env: { ...process.env, PORT: String(port), LOCAL_DATA_DIR: dataDir, LOCAL_JWT_DIR: jwtDirOf(dataDir), LOG_LEVEL: "WARN", DATABASE_URL: "", LOCAL_CONTAINERS: "process" },
        detached: true,
        stdio: ["ignore", "pipe", "pipe"],
    });
    let output = "";
    child.stdout!.on("data", (chunk) => (output += chunk));
    child.stderr!.on("data", (chunk) => (output += chunk));
    const ready = new Promise<number>((resolve, reject) => {
        child.stdout!.on("data", () => {
            if (output.includes("Ready on")) resolve(Date.now() - started);
        });
        child.on("exit", (code) => reject(new Error(`start.ts exited with ${code} before it was ready:\n${output}`)));
        setTimeout(() => reject(new Error(`start.ts was not ready after 40 s:\n${output}`)), 40_000).unref();
    });
    return { child, output: () => output, ready };
}

/** The exit code; rejects with what the script printed when it takes over 20 s to stop. */
function exited(child: ChildProcess, output: () => string): Promise<number | null> {
    if (child.exitCode !== null) return Promise.resolve(child.exitCode);
    return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`start.ts did not exit within 20 s:\n${output()}`)), 20_000);
        child.on("exit", (code) => {
            clearTimeout(timer);
            resolve(code);
        });
    });
}

function postmasterPid(dataDir: string): number {
    return Number(fs.readFileSync(path.join(dataDir, "postmaster.pid"), "utf8").split("\n")[0]);
}

describe("e2e: local runtime life cycle", () => {
    describe("local/start.ts", () => {
        const dataDir = path.join(temporaryDirectory(), "postgres");
        after(() => fs.rmSync(path.dirname(dataDir), { recursive: true, force: true }));

        for (const [how, stop] of [
            ["SIGTERM", (child: ChildProcess) => process.kill(child.pid!, "SIGTERM")],
            // A terminal's Ctrl-C signals the whole foreground process group, PostgreSQL included.
            ["Ctrl-C (SIGINT to the process group)", (child: ChildProcess) => process.kill(-child.pid!, "SIGINT")],
        ] as const) {
            it(`serves the registry within 30 s, prints the route table, and on ${how} exits 0 leaving no PostgreSQL`, async () => {
                const port = await freePort();
                const run = startScript(port, dataDir);
                try {
                    const startupMs = await run.ready;
                    assert.ok(startupMs < 30_000, `ready after ${startupMs} ms`);
                    const routeCount = services.flatMap((service) => Object.keys(service.routes)).length;
                    assert.match(run.output(), new RegExp(`Serving ${routeCount} route\\(s\\) on http://127\\.0\\.0\\.1:${port}`));
                    assert.match(run.output(), /GET\s+\/users\/\{id\}\s+users\s+512 MB\s+10 s\s+10\s+yes/);
                    // Authorization and throttling per route: the registry's, else the dev stack's limits.
                    assert.match(run.output(), /GET\s+\/users\/\{id\}\s+users\s+512 MB\s+10 s\s+10\s+yes\s+public\s+50\/s, burst 100/);
                    assert.match(run.output(), /POST\s+\/users\s+users\s+512 MB\s+10 s\s+10\s+yes\s+jwt\s+20\/s, burst 40/);
                    assert.match(run.output(), /DELETE\s+\/users\/\{id\}\s+users\s+512 MB\s+10 s\s+10\s+yes\s+jwt \(users:delete\)\s+50\/s, burst 100/);
                    assert.match(run.output(), /JWT: local issuer .*npm run token -- --sub <id>/);
                    const response = await request(`http://127.0.0.1:${port}`, { method: "POST", path: "/auth", body: { request: { type: "Create" } } });
                    assert.equal(response.status, 200);
                    const pid = postmasterPid(dataDir);
                    assert.ok(processExists(pid));
                    // The registry's container services run as processes beside it.
                    const containerPids = [...run.output().matchAll(/Container service \S+ serves on \S+ \(process, pid (\d+)\)/g)].map((match) => Number(match[1]));
                    assert.equal(containerPids.length, services.filter(isContainerService).length);

                    stop(run.child);
                    assert.equal(await exited(run.child, run.output), 0, run.output());
                    assert.match(run.output(), /Stopped\./);
                    assert.equal(processExists(pid), false, `PostgreSQL ${pid} is still running`);
                    for (const containerPid of containerPids) assert.equal(processExists(containerPid), false, `container process ${containerPid} is still running`);
                    assert.equal(fs.existsSync(path.join(dataDir, "postmaster.pid")), false);
                } finally {
                    if (run.child.exitCode === null) process.kill(-run.child.pid!, "SIGKILL");
                }
            });
        }

        it("keeps the data in its directory across restarts: a stored user is still there, no migration runs twice", async () => {
            const ownDir = path.join(temporaryDirectory(), "postgres");
            let id: string | undefined;
            try {
                for (const round of [1, 2]) {
                    const port = await freePort();
                    const run = startScript(port, ownDir);
                    try {
                        await run.ready;
                        const base = `http://127.0.0.1:${port}`;
                        if (round === 1) {
                            assert.match(run.output(), /Migrations: 1 applied/);
                            const authorization = `Bearer ${await mintLocalToken({ sub: "kept", dir: jwtDirOf(ownDir) })}`;
                            id = (await request(base, { method: "POST", path: "/users", body: { email: "kept@example.com", name: "Kept" }, headers: { authorization } })).json.id;
                        } else {
                            assert.match(run.output(), /Migrations: 0 applied, 1 already applied/);
                            const response = await request(base, { path: `/users/${id}` });
                            assert.equal(response.status, 200);
                            assert.equal(response.json.email, "kept@example.com");
                        }
                    } finally {
                        if (run.child.exitCode === null) process.kill(run.child.pid!, "SIGTERM");
                        assert.equal(await exited(run.child, run.output), 0);
                    }
                }
            } finally {
                fs.rmSync(path.dirname(ownDir), { recursive: true, force: true });
            }
        });
    });

    describe("reloading the registry (what --watch does on a change)", () => {
        it("serves a new service and applies its migrations without restarting PostgreSQL; old pools are closed", async () => {
            const t = await startTestRuntime([probeService]);
            try {
                const migrationsDir = temporaryDirectory();
                fs.writeFileSync(path.join(migrationsDir, "0001_create_notes.sql"), "CREATE TABLE notes (id serial PRIMARY KEY, text text NOT NULL);");
                const notes = defineService({
                    name: "notes",
                    description: "Added while the runtime runs",
                    database: true,
                    migrationsDir,
                    routes: {
                        "POST /notes": {
                            handler: async (request, { db }) => {
                                const text = (request.body as { text: string }).text;
                                const { rows } = await db.query<{ id: number }>("INSERT INTO notes (text) VALUES ($1) RETURNING id", [text]);
                                return { statusCode: 201, body: rows[0] };
                            },
                        },
                    },
                });
                assert.equal((await request(t.url, { method: "POST", path: "/notes", body: { text: "a" } })).status, 404);

                const { registry, migrations } = await t.runtime.reload([probeService, notes]);
                assert.equal(registry.routes.length, probeService.routes ? Object.keys(probeService.routes).length + 1 : 0);
                assert.deepEqual(migrations?.applied, ["notes/1_create_notes"]);

                const created = await request(t.url, { method: "POST", path: "/notes", body: { text: "hello" } });
                assert.equal(created.status, 201, created.text);
                assert.deepEqual(created.json, { id: 1 });
                assert.equal((await request(t.url, { path: "/shortcut" })).status, 200);
                assert.ok(processExists(t.postgresPid), "the same PostgreSQL serves on");

                // A reload without migration changes does not run the migrations again.
                const again = await t.runtime.reload([probeService, notes]);
                assert.equal(again.migrations, undefined);
                // The first deployment's pool was closed: only the test's and the current route's connections remain.
                const { rows } = await t.sql.query("SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = 'app' AND pid <> pg_backend_pid()");
                assert.ok(rows[0].n <= 1, `${rows[0].n} other connections`);
                fs.rmSync(migrationsDir, { recursive: true, force: true });
            } finally {
                const pid = t.postgresPid;
                await t.stop();
                assert.equal(processExists(pid), false, "stop() ends PostgreSQL");
            }
        });

        it("keeps serving the previous routes when a reload hits a registry mistake", async () => {
            const t = await startTestRuntime([probeService]);
            try {
                const broken = defineService({ name: "Bad Name", description: "", database: false, routes: { "GET /x": { handler: async () => 1 } } });
                await assert.rejects(t.runtime.reload([broken]), /service "Bad Name": the name must be lower-case/);
                assert.equal((await request(t.url, { path: "/shortcut" })).status, 200);
            } finally {
                await t.stop();
            }
        });
    });

    it("fails on a registry mistake before starting PostgreSQL, with the registry's message", async () => {
        const dataDir = path.join(temporaryDirectory(), "postgres");
        const duplicate = defineService({ name: "dup", description: "d", database: false, routes: { "GET /auth": { handler: async () => 1 } } });
        const clash = defineService({ name: "dup2", description: "d", database: false, routes: { "GET /auth": { handler: async () => 1 } } });
        await assert.rejects(startLocalRuntime({ port: 0, dataDir, services: [duplicate, clash] }), /duplicates route "GET \/auth" of service "dup"/);
        assert.equal(fs.existsSync(dataDir), false, "no database was created");
        fs.rmSync(path.dirname(dataDir), { recursive: true, force: true });
    });
});
