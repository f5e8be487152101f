/**
 * The benchmark behind issue 5 (`npm run bench`): what each function's archive weighs and how fast
 * it starts on Node 22, how the offline program run scales with the number of routes, and the
 * local server's throughput next to a bare `node:http` server. Prints a table and writes
 * `bench/results/latest.json`. Medians over `BENCH_RUNS` runs (default 5); every timed run of the
 * program and every cold load is a fresh process.
 *
 *   npm run bench                       # everything
 *   BENCH_ONLY=archives npm run bench   # archives | offline | server (comma-separated)
 */
import { spawn, spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as http from "node:http";
import * as os from "node:os";
import * as path from "node:path";
import { performance } from "node:perf_hooks";
import { startLocalPostgres } from "../local/postgres";
import {
    apiGatewayEvent,
    copyPackages,
    isolatedTempDir,
    lambdaFunctions,
    LOCAL_SECRET_ARN,
    materializeFunction,
    node22Path,
    startFunction,
    startSecretsEndpoint,
    type MaterializedFunction,
} from "../tools/archive";
import { REPOSITORY_ROOT, runProgramOffline } from "../tools/offline";

const RUNS = Number(process.env.BENCH_RUNS ?? 5);
const WARM_INVOCATIONS = Number(process.env.BENCH_WARM ?? 50);
const ONLY = new Set((process.env.BENCH_ONLY ?? "archives,offline,server").split(","));
const SYNTHETIC_SIZES = (process.env.BENCH_ROUTES ?? "10,50,200").split(",").map(Number);
const TS_NODE = ["-r", "ts-node/register/transpile-only"];

const median = (values: number[]): number => {
    const sorted = [...values].sort((a, b) => a - b);
    const middle = Math.floor(sorted.length / 2);
    return sorted.length % 2 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
};
const round = (value: number, digits = 1) => Math.round(value * 10 ** digits) / 10 ** digits;

/** A request each function answers, with fresh data so that repeated invocations stay valid. */
function eventFor(name: string, n: number): unknown {
    const id = "00000000-0000-4000-8000-" + String(n).padStart(12, "0");
    switch (name) {
        case "auth-post-auth":
            return apiGatewayEvent({ routeKey: "POST /auth", path: "/auth", headers: { "content-type": "application/json" }, body: JSON.stringify({ request: { type: "Create" } }) });
        case "users-post-users":
            return apiGatewayEvent({ routeKey: "POST /users", path: "/users", headers: { "content-type": "application/json" }, body: JSON.stringify({ email: `bench-${process.pid}-${n}-${Date.now()}@example.com`, name: "Bench" }) });
        case "users-get-users":
            return apiGatewayEvent({ routeKey: "GET /users", path: "/users", query: [["limit", "20"]] });
        case "users-get-users-id":
            return apiGatewayEvent({ routeKey: "GET /users/{id}", path: `/users/${id}`, pathParameters: { id } });
        case "users-patch-users-id":
            return apiGatewayEvent({ routeKey: "PATCH /users/{id}", path: `/users/${id}`, pathParameters: { id }, headers: { "content-type": "application/json" }, body: JSON.stringify({ name: "Renamed" }) });
        case "users-delete-users-id":
            return apiGatewayEvent({ routeKey: "DELETE /users/{id}", path: `/users/${id}`, pathParameters: { id } });
        default:
            return { migrationSetHash: "bench" }; // the migration function
    }
}

interface ArchiveResult {
    name: string;
    zippedKB: number;
    unzippedKB: number;
    files: number;
    packages: string[];
    coldLoadMs: number;
    firstInvokeMs: number;
    warmP50Ms: number;
}

async function benchArchives(): Promise<ArchiveResult[]> {
    const run = await runProgramOffline({ stack: "dev" });
    const workDir = isolatedTempDir("bench-artifacts-");
    const postgresDir = fs.mkdtempSync(path.join(os.tmpdir(), "bench-pg-"));
    fs.chmodSync(postgresDir, 0o777);
    const runtimeModules = copyPackages(["@aws-sdk/client-secrets-manager"], path.join(workDir, "runtime"));
    const functions: MaterializedFunction[] = [];
    for (const resource of lambdaFunctions(run.resources)) functions.push(await materializeFunction(resource, path.join(workDir, "functions")));
    const [postgres, secrets] = await Promise.all([startLocalPostgres({ dataDir: path.join(postgresDir, "data"), persistent: false }), startSecretsEndpoint()]);
    const database = {
        DB_HOST: "127.0.0.1",
        DB_PORT: String(postgres.port),
        DB_NAME: "app",
        DB_SECRET_ARN: LOCAL_SECRET_ARN,
        DB_TLS: "disable",
        AWS_ENDPOINT_URL_SECRETS_MANAGER: secrets.url,
        AWS_ACCESS_KEY_ID: "AKIAOFFLINEEXAMPLE",
        AWS_SECRET_ACCESS_KEY: "offline",
    };
    const results: ArchiveResult[] = [];
    try {
        // The migration function first, so the route functions find their tables.
        functions.sort((a, b) => (a.name === "migrations-function" ? -1 : b.name === "migrations-function" ? 1 : a.name.localeCompare(b.name)));
        for (const fn of functions) {
            const environment = fn.environment.DB_SECRET_ARN ? database : {};
            const loads: number[] = [];
            const firsts: number[] = [];
            const warm: number[] = [];
            for (let i = 0; i < RUNS; i++) {
                const lambda = startFunction(fn, { runtimeModules, environment });
                try {
                    loads.push((await lambda.load()).loadMs);
                    firsts.push((await lambda.invoke(eventFor(fn.name, i * 1000))).ms);
                    if (i === 0) for (let n = 1; n <= WARM_INVOCATIONS; n++) warm.push((await lambda.invoke(eventFor(fn.name, n))).ms);
                } finally {
                    await lambda.stop();
                }
            }
            results.push({
                name: fn.name,
                zippedKB: round(fn.zippedBytes / 1024),
                unzippedKB: round(fn.unzippedBytes / 1024),
                files: fn.files.length,
                packages: fn.packages,
                coldLoadMs: round(median(loads)),
                firstInvokeMs: round(median(firsts)),
                warmP50Ms: round(median(warm), 2),
            });
        }
    } finally {
        await postgres.stop();
        await secrets.close();
        fs.rmSync(workDir, { recursive: true, force: true });
        fs.rmSync(postgresDir, { recursive: true, force: true });
    }
    return results;
}

interface OfflineResult {
    registry: string;
    functions: number;
    resources: number;
    medianMs: number;
    runsMs: number[];
    msPerFunction: number;
}

function benchOffline(): OfflineResult[] {
    const results: OfflineResult[] = [];
    for (const registry of ["sample", ...SYNTHETIC_SIZES.map(String)]) {
        const runs: Array<{ functions: number; resources: number; ms: number }> = [];
        for (let i = 0; i < RUNS; i++) {
            const child = spawnSync(process.execPath, [...TS_NODE, path.join(__dirname, "lib", "offline-run.ts"), registry], { cwd: REPOSITORY_ROOT, encoding: "utf8", maxBuffer: 64 * 1024 * 1024 });
            const line = child.stdout.split("\n").find((text) => text.startsWith('{"registry"'));
            if (!line) throw new Error(`offline run of ${registry} failed:\n${child.stderr.slice(-4000)}`);
            runs.push(JSON.parse(line));
            process.stderr.write(`  offline ${registry}: ${Math.round(runs[runs.length - 1].ms)} ms\n`);
        }
        const medianMs = median(runs.map((run) => run.ms));
        results.push({ registry, functions: runs[0].functions, resources: runs[0].resources, medianMs: Math.round(medianMs), runsMs: runs.map((run) => Math.round(run.ms)), msPerFunction: round(medianMs / runs[0].functions) });
    }
    return results;
}

/** Requests per second against `url` with `concurrency` keep-alive connections for `durationMs`. */
async function load(url: string, concurrency = 16, durationMs = 3000): Promise<number> {
    const agent = new http.Agent({ keepAlive: true, maxSockets: concurrency });
    const end = performance.now() + durationMs;
    let done = 0;
    const worker = async () => {
        while (performance.now() < end) {
            await new Promise<void>((resolve, reject) => {
                http.get(url, { agent }, (response) => {
                    response.resume();
                    response.on("end", () => (response.statusCode === 200 ? resolve() : reject(new Error(`status ${response.statusCode}`))));
                }).on("error", reject);
            });
            done++;
        }
    };
    const started = performance.now();
    await Promise.all(Array.from({ length: concurrency }, worker));
    agent.destroy();
    return done / ((performance.now() - started) / 1000);
}

async function serve(mode: "local" | "bare"): Promise<{ url: string; stop(): void }> {
    const child = spawn(process.execPath, [...TS_NODE, path.join(__dirname, "lib", "serve.ts"), mode], { cwd: REPOSITORY_ROOT, stdio: ["ignore", "pipe", "inherit"] });
    const url = await new Promise<string>((resolve, reject) => {
        let output = "";
        child.stdout!.on("data", (chunk) => {
            output += chunk;
            const line = output.split("\n").find((text) => text.startsWith('{"url"'));
            if (line) resolve(JSON.parse(line).url);
        });
        child.on("exit", (code) => reject(new Error(`serve ${mode} exited with ${code}`)));
    });
    return { url, stop: () => child.kill() };
}

async function benchServer(): Promise<{ localRps: number; bareRps: number; ratio: number }> {
    const local: number[] = [];
    const bare: number[] = [];
    for (let i = 0; i < Math.max(3, Math.min(RUNS, 5)); i++) {
        for (const [mode, into] of [["local", local], ["bare", bare]] as const) {
            const server = await serve(mode);
            try {
                await load(`${server.url}/ping`, 16, 500); // warm-up
                into.push(await load(`${server.url}/ping`));
            } finally {
                server.stop();
            }
        }
    }
    const localRps = Math.round(median(local));
    const bareRps = Math.round(median(bare));
    return { localRps, bareRps, ratio: round(localRps / bareRps, 2) };
}

function table(headers: string[], rows: Array<Array<string | number>>): string {
    const widths = headers.map((header, i) => Math.max(header.length, ...rows.map((row) => String(row[i]).length)));
    const line = (cells: Array<string | number>) => "| " + cells.map((cell, i) => (typeof cell === "number" ? String(cell).padStart(widths[i]) : String(cell).padEnd(widths[i]))).join(" | ") + " |";
    return [line(headers), "|" + widths.map((w) => "-".repeat(w + 2)).join("|") + "|", ...rows.map(line)].join("\n");
}

async function main(): Promise<void> {
    const result: Record<string, unknown> = {
        date: new Date().toISOString(),
        machine: { cpus: os.cpus().length, cpu: os.cpus()[0]?.model, memoryGB: Math.round(os.totalmem() / 2 ** 30), node: process.version, lambdaNode: node22Path() && spawnSync(node22Path(), ["--version"], { encoding: "utf8" }).stdout.trim() },
        runs: RUNS,
    };
    if (ONLY.has("archives")) {
        const archives = await benchArchives();
        result.archives = archives;
        const zipped = archives.map((a) => a.zippedKB);
        result.archiveSummary = { medianZippedKB: median(zipped), maxZippedKB: Math.max(...zipped), maxColdLoadMs: Math.max(...archives.map((a) => a.coldLoadMs)) };
        console.log(`\nFunction archives (Node ${String((result.machine as { lambdaNode: string }).lambdaNode)}, medians of ${RUNS} cold starts; warm p50 over ${WARM_INVOCATIONS} invocations)\n`);
        console.log(table(["function", "zipped KB", "unzipped KB", "files", "cold load ms", "first invoke ms", "warm p50 ms"], archives.map((a) => [a.name, a.zippedKB, a.unzippedKB, a.files, a.coldLoadMs, a.firstInvokeMs, a.warmP50Ms])));
        console.log(`median zipped ${median(zipped)} KB, largest ${Math.max(...zipped)} KB`);
    }
    if (ONLY.has("offline")) {
        const offline = benchOffline();
        result.offline = offline;
        console.log(`\nOffline program run (dev stack, fresh process each, median of ${RUNS})\n`);
        console.log(table(["registry", "functions", "resources", "median ms", "ms per function"], offline.map((o) => [o.registry, o.functions, o.resources, o.medianMs, o.msPerFunction])));
    }
    if (ONLY.has("server")) {
        const server = await benchServer();
        result.server = server;
        console.log(`\nLocal server on a trivial route vs bare node:http (16 keep-alive connections, 3 s, median)\n`);
        console.log(table(["local req/s", "bare req/s", "ratio"], [[server.localRps, server.bareRps, server.ratio]]));
    }
    const out = path.join(__dirname, "results", "latest.json");
    fs.mkdirSync(path.dirname(out), { recursive: true });
    fs.writeFileSync(out, JSON.stringify(result, null, 2) + "\n");
    console.log(`\nwrote ${path.relative(REPOSITORY_ROOT, out)}`);
}

main().then(
    () => process.exit(0),
    (error) => {
        console.error(error);
        process.exit(1);
    },
);
