/**
 * The runtime's life cycle: `local/start.ts` as a user runs it with whatever `infra/registry.ts`
 * holds (starts, prints every route, type-checks the service files in the background, answers,
 * stops on SIGTERM and on Ctrl-C, leaves no PostgreSQL behind), reloading the registry without
 * restarting the database (watch mode's mechanism), and a bad registry failing before anything starts.
 */
import * as assert from "node:assert/strict";
import { spawn, type ChildProcess } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import * as pg from "pg";
import { defineService } from "../../functions/runtime/service";
import { functionConcurrencyCeiling } from "../../platform/data-plan";
import { functionBoundsFor } from "../../platform/function-bounds";
import { resolveRegistry } from "../../platform/registry/resolution";
import { placeholderSecretsFile } from "../../testing/local-secrets";
import { services } from "../../infra/services";
import { freePort, readSuperuserPassword, runningAdminUrl, superuserPasswordFile } from "../../local/postgres";
import { startLocalRuntime } from "../../local/runtime";
import { readLocalStackConfig, REPOSITORY_ROOT } from "../../local/stack-config";
import { probeService } from "./probe-service";
import { seedPostgresDataFolder } from "../../testing/postgres-template";
import { waitFor } from "../../testing/runtime-process";
import { processExists, request, startTestRuntime } from "../../testing/local-runtime";
import { TYPE_CHECK_PATIENCE_MS } from "../../testing/eventually";

function temporaryDirectory(): string {
    const directory = fs.mkdtempSync(path.join(os.tmpdir(), "local-e2e-start-"));
    fs.chmodSync(directory, 0o755); // PostgreSQL runs as its own user when we are root
    return directory;
}

const jwtDirOf = (dataDir: string) => path.join(path.dirname(dataDir), "jwt");
/** The real registry as `npm start` resolves it: the dev stack's defaults, reservations and policy bounds. */
const devStack = readLocalStackConfig("dev");
const registry = resolveRegistry(services, devStack.functionDefaults, { stack: "dev", reservations: devStack.concurrency.reservations, bounds: functionBoundsFor("dev") });
const escape = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");


/**
 * Runs `local/start.ts` as `npm start` does, in a process group of its own (as a terminal would),
 * with its background type check unless `typeCheck` is false.
 */
function startScript(port: number, dataDir: string, { typeCheck = true } = {}): { child: ChildProcess; output: () => string; ready: Promise<void> } {
    const child = spawn(process.execPath, [path.join(REPOSITORY_ROOT, "node_modules", ".bin", "ts-node"), "--transpile-only", "local/start.ts"], {
        cwd: REPOSITORY_ROOT,
        // The local issuer's key beside the database, so the test can mint tokens the server accepts.
        env: {
            ...process.env,
            PORT: String(port),
            LOCAL_DATA_DIR: dataDir,
            LOCAL_JWT_DIR: jwtDirOf(dataDir),
            // Whatever secrets the registry declares, set (npm start refuses unset ones).
            LOCAL_SECRETS_FILE: placeholderSecretsFile(path.dirname(dataDir), services),
            LOG_LEVEL: "WARN",
            DATABASE_URL: "",
            LOCAL_CONTAINERS: "process",
            ...(typeCheck ? {} : { LOCAL_TYPECHECK: "off" }),
        },
        detached: true,
        stdio: ["ignore", "pipe", "pipe"],
    });
    let output = "";
    child.stdout!.on("data", (chunk) => (output += chunk));
    child.stderr!.on("data", (chunk) => (output += chunk));
    const ready = new Promise<void>((resolve, reject) => {
        child.stdout!.on("data", () => {
            if (output.includes("Ready on")) resolve();
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
    describe("local/start.ts", function () {
        this.timeout(TYPE_CHECK_PATIENCE_MS + 60_000);
        const dataDir = path.join(temporaryDirectory(), "postgres");
        after(() => fs.rmSync(path.dirname(dataDir), { recursive: true, force: true }));

        // The first start makes the data folder (initdb), the second starts it again. The first also
        // checks the service files' types in the background; the check does not change with the
        // signal, so the second runs without it. How long a start takes: `npm run bench:start`.
        for (const [how, stop, typeCheck] of [
            ["SIGTERM", (child: ChildProcess) => process.kill(child.pid!, "SIGTERM"), true],
            // A terminal's Ctrl-C signals the whole foreground process group, PostgreSQL included.
            ["Ctrl-C (SIGINT to the process group)", (child: ChildProcess) => process.kill(-child.pid!, "SIGINT"), false],
        ] as const) {
            it(`serves every route of the registry, prints the route table, and on ${how} exits 0 leaving no PostgreSQL`, async () => {
                const port = await freePort();
                const run = startScript(port, dataDir, { typeCheck });
                try {
                    await run.ready;
                    assert.match(run.output(), new RegExp(`Serving ${registry.apiRoutes.length} route\\(s\\) on http://127\\.0\\.0\\.1:${port}`));
                    // Each route with its settings: memory and timeout, concurrency, database,
                    // authorization and throttling (the route's own, else the dev stack's).
                    const { api, database } = devStack;
                    const auth = (route: { auth: string; scopes: string[] }) => (route.auth === "jwt" ? `jwt${route.scopes.length > 0 ? ` \\(${route.scopes.map(escape).join(" \\| ")}\\)` : ""}` : "public");
                    const throttle = (route: { throttle?: { rateLimit: number; burstLimit: number } }) => {
                        const limits = route.throttle ?? { rateLimit: api.throttlingRateLimit, burstLimit: api.throttlingBurstLimit };
                        return `${limits.rateLimit}/s, burst ${limits.burstLimit}`;
                    };
                    for (const route of registry.routes) {
                        const concurrency = functionConcurrencyCeiling(route, database.connectionsPerFunction);
                        const line = `${route.method}\\s+${escape(route.path)}\\s+${route.service}\\s+${route.memoryMb} MB\\s+${route.timeoutSeconds} s\\s+${concurrency}\\s+${route.database ? "yes" : "no"}\\s+${auth(route)}\\s+${throttle(route)}`;
                        assert.match(run.output(), new RegExp(line), route.routeKey);
                    }
                    for (const container of registry.containers) {
                        for (const route of container.routes) {
                            const line = `${route.method}\\s+${escape(route.path)}\\s+${escape(`${container.name} (container)`)}\\s+${container.memoryMb} MB\\s+${route.timeoutSeconds} s\\s+1 process\\s+${container.database ? "yes" : "no"}\\s+${auth(route)}\\s+${throttle(route)}`;
                            assert.match(run.output(), new RegExp(line), route.routeKey);
                        }
                    }
                    assert.match(run.output(), /JWT: local issuer .*npm run token -- --sub <id>/);
                    // Where the database is and how to get a session, never its password.
                    assert.match(run.output(), /PostgreSQL: 127\.0\.0\.1:\d+, TCP only; a session as its superuser: npm run psql -- --superuser \(password in \S+-superuser-password\)/);
                    assert.ok(!run.output().includes(readSuperuserPassword(dataDir)!), "the superuser's password is printed");
                    assert.ok(!/postgres:\/\/[^\s@]*:[^\s@]*@/.test(run.output()), "a connection string with a password is printed");
                    assert.equal(fs.statSync(superuserPasswordFile(dataDir)).mode & 0o777, 0o600);
                    const response = await request(`http://127.0.0.1:${port}`, { path: "/no-route-has-this-path" });
                    assert.deepEqual([response.status, response.json], [404, { message: "Not Found" }]);
                    if (typeCheck) {
                        // The service files are type-checked beside it, after it is ready.
                        await waitFor(() => /Type check: /.test(run.output()), TYPE_CHECK_PATIENCE_MS, `no type check result:\n${run.output()}`);
                        // Checked now, or answered from the last clean check's stamp (tests/local/type-check.test.ts tells the two apart).
                        assert.match(run.output(), /\nType check: no errors \(\d+ files, (unchanged since the last check, )?\d+\.\d s\)\.\n/);
                        assert.ok(run.output().indexOf("Ready on") < run.output().indexOf("Type check:"), "ready first");
                    }
                    const pid = postmasterPid(dataDir);
                    assert.ok(processExists(pid));
                    // The registry's container services run as processes beside it.
                    const containerPids = [...run.output().matchAll(/Container service \S+ serves on \S+ \(process, pid (\d+)\)/g)].map((match) => Number(match[1]));
                    assert.equal(containerPids.length, registry.containers.length);

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

        it("keeps the data in its directory across restarts: a stored row is still there, no migration runs twice", async () => {
            const ownDir = path.join(temporaryDirectory(), "postgres");
            // A cluster with nothing of the runtime's in it yet, as initdb leaves it (the first start above runs initdb itself).
            await seedPostgresDataFolder(ownDir);
            const count = registry.migrations.length;
            try {
                for (const round of [1, 2]) {
                    const port = await freePort();
                    const run = startScript(port, ownDir, { typeCheck: false });
                    try {
                        await run.ready;
                        const sql = new pg.Client({ connectionString: runningAdminUrl(ownDir) });
                        await sql.connect();
                        try {
                            if (round === 1) {
                                assert.match(run.output(), new RegExp(`Migrations: ${count} applied`));
                                await sql.query("CREATE TABLE kept (id int PRIMARY KEY, note text); INSERT INTO kept VALUES (1, 'still here')");
                            } else {
                                assert.match(run.output(), new RegExp(`Migrations: 0 applied, ${count} already applied`));
                                assert.deepEqual((await sql.query("SELECT note FROM kept")).rows, [{ note: "still here" }]);
                            }
                        } finally {
                            await sql.end();
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
                await assert.rejects(t.runtime.reload([broken]), /service "Bad Name" \(tests\/e2e\/lifecycle\.test\.ts\): the name must be lower-case/);
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
