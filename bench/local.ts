/**
 * `npm run bench:local`: the local gateway next to its floor, side by side in one run. The gateway
 * is `npm start` as a person runs it (access log on, into a file; throttling off, since this
 * measures the runtime and not the dev stack's limits; the background type check off, so that it
 * does not share the CPU with the first round); the floor is a plain `node:http` server in a
 * process of its own (`lib/bare-server.ts`) answering the same requests: `POST /auth` with the
 * `auth` sample's JSON, `GET /users/{id}` with the `users` sample's SELECT run by `pg` on the same
 * database as the same role. One load generator (autocannon, keep-alive, the same connection count
 * for both), a warm-up of each target first, then `BENCH_ROUNDS` rounds (default 3) that take the
 * targets in turn, each for `BENCH_SECONDS` (default 5): first as fast as each answers (requests
 * per second, the serving process's CPU time per request), then each at one fixed rate, the same
 * for both sides (half of what the gateway answered in the warm-up), whose p99 is a request's own
 * latency rather than the queue's that a saturated run measures. Every answer must be a 200:
 * anything else stops the benchmark, since its figures would measure a failure. Prints the medians
 * over the rounds and the ratios gateway / bare; writes `bench/results/local.json`.
 *
 *   npm run bench:local
 *   BENCH_CONNECTIONS=50 BENCH_SECONDS=10 npm run bench:local
 *   BENCH_BASELINE=/path/to/a/checkout-of-main npm run bench:local   # its gateway too, in the same rounds
 *   BENCH_ROUTES="POST /auth" BENCH_NODE_OPTIONS="--cpu-prof --cpu-prof-dir=/tmp/prof" npm run bench:local   # profile the gateway
 */
import { spawn, spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as http from "node:http";
import * as os from "node:os";
import * as path from "node:path";
import { mintLocalToken } from "../local/issuer";
import { freePort } from "../local/postgres";
import { REPOSITORY_ROOT } from "../local/stack-config";
import { table } from "./lib/table";
import { median, round } from "./lib/archives";
import { startNpmStart } from "./lib/npm-start";

// autocannon ships no type declarations; this is the part of its API used here.
const autocannon = require("autocannon") as (options: LoadOptions) => LoadRun;
interface LoadOptions {
    url: string;
    connections: number;
    duration: number;
    /** Requests per second over all connections; none: as fast as answers come. */
    overallRate?: number;
    method: string;
    headers: Record<string, string>;
    body?: string;
}
interface LoadRun extends PromiseLike<{ errors: number; timeouts: number; requests: { total: number }; duration: number }> {
    on(event: "response", listener: (client: unknown, statusCode: number, bytes: number, responseTimeMs: number) => void): void;
}

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 5);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 10);
const WARM_UP_SECONDS = 2;
/** The latency run's rate: this share of the gateway's throughput in the warm-up, for both sides. */
const FIXED_RATE_SHARE = 0.5;
/**
 * Another checkout (with its dependencies installed), e.g. of main, whose gateway is measured in the
 * same rounds: a before and after side by side, under the same load. @default none
 */
const BASELINE = process.env.BENCH_BASELINE ? path.resolve(process.env.BENCH_BASELINE) : undefined;
/** Only these routes (comma-separated), e.g. `BENCH_ROUTES="POST /auth"` to profile one. @default both */
const ONLY_ROUTES = process.env.BENCH_ROUTES?.split(",").map((route) => route.trim());

interface Target {
    name: string;
    route: string;
    side: "gateway" | "bare" | "baseline";
    /** The serving process, whose CPU time is read. */
    pid: number;
    url: string;
    method: string;
    headers: Record<string, string>;
    body?: string;
}

interface Measurement {
    rps: number;
    p50Ms: number;
    p99Ms: number;
    /** CPU time the serving process spent per request (PostgreSQL's own left out). */
    cpuUsPerRequest: number;
}

/** User and system CPU time of a process so far, in milliseconds (from /proc). */
function cpuMs(pid: number): number {
    const fields = fs.readFileSync(`/proc/${pid}/stat`, "utf8").replace(/^.*\) /, "").split(" ");
    // utime and stime are the 14th and 15th fields of the line, the 12th and 13th after the command.
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / CLOCK_TICKS;
}
const CLOCK_TICKS = Number(spawnSync("getconf", ["CLK_TCK"], { encoding: "utf8" }).stdout.trim()) || 100;

/** The process in `npm start`'s group that runs the runtime (npm and its shell only wait for it). */
function runtimePid(group: number): number {
    for (const entry of fs.readdirSync("/proc")) {
        if (!/^\d+$/.test(entry)) continue;
        try {
            const stat = fs.readFileSync(`/proc/${entry}/stat`, "utf8").replace(/^.*\) /, "").split(" ");
            const argv = fs.readFileSync(`/proc/${entry}/cmdline`, "utf8").split("\0");
            if (Number(stat[2]) === group && argv.some((arg) => arg.endsWith("local/start.ts")) && !argv.includes("-c")) return Number(entry);
        } catch {
            // gone meanwhile
        }
    }
    throw new Error(`no process of npm start's group ${group} runs local/start.ts`);
}

/** `POST /auth` as the `auth` sample takes it. */
const AUTH = { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ request: { type: "Create" } }) };

const percentile = (sorted: Float64Array, p: number) => sorted[Math.min(sorted.length - 1, Math.floor((sorted.length * p) / 100))];

/** One timed run against `target`, at `rate` requests per second or as fast as it answers; throws on any answer but a 200. */
async function measure(target: Target, seconds: number, rate?: number): Promise<Measurement> {
    const cpuBefore = cpuMs(target.pid);
    const latencies: number[] = [];
    const statuses = new Map<number, number>();
    const run = autocannon({ url: target.url, connections: CONNECTIONS, duration: seconds, overallRate: rate, method: target.method, headers: target.headers, body: target.body });
    run.on("response", (_client, statusCode, _bytes, responseTimeMs) => {
        statuses.set(statusCode, (statuses.get(statusCode) ?? 0) + 1);
        latencies.push(responseTimeMs);
    });
    const result = await run;
    const refused = [...statuses].filter(([status]) => status !== 200);
    if (refused.length > 0 || result.errors > 0 || result.timeouts > 0) {
        throw new Error(`${target.side} ${target.route} answered ${JSON.stringify(Object.fromEntries(statuses))} with ${result.errors} errors and ${result.timeouts} timeouts: its figures would measure a failure`);
    }
    const sorted = Float64Array.from(latencies).sort();
    const cpuUsPerRequest = ((cpuMs(target.pid) - cpuBefore) * 1000) / latencies.length;
    return { rps: latencies.length / result.duration, p50Ms: percentile(sorted, 50), p99Ms: percentile(sorted, 99), cpuUsPerRequest };
}

function request(url: string, method: string, headers: Record<string, string>, body?: string): Promise<{ status: number; body: string }> {
    return new Promise((resolve, reject) => {
        const req = http.request(url, { method, headers }, (response) => {
            let text = "";
            response.on("data", (chunk) => (text += chunk));
            response.on("end", () => resolve({ status: response.statusCode ?? 0, body: text }));
        });
        req.on("error", reject);
        req.end(body);
    });
}

function startBareServer(dataDir: string, poolSize: number): Promise<{ url: string; pid: number; stop(): Promise<void> }> {
    const child = spawn(process.execPath, [...process.execArgv, path.join(__dirname, "lib", "bare-server.ts"), dataDir, String(poolSize)], { cwd: REPOSITORY_ROOT, stdio: ["ignore", "pipe", "inherit"] });
    const exited = new Promise<void>((resolve) => child.on("exit", () => resolve()));
    return new Promise((resolve, reject) => {
        let output = "";
        child.stdout!.on("data", (chunk) => {
            output += chunk;
            const line = output.split("\n").find((text) => text.startsWith('{"url"'));
            if (line) resolve({ url: JSON.parse(line).url, pid: child.pid!, stop: () => (child.kill("SIGTERM"), exited) });
        });
        void exited.then(() => reject(new Error(`the bare server exited:\n${output}`)));
    });
}

async function main(): Promise<void> {
    const root = fs.mkdtempSync(path.join(os.tmpdir(), "bench-local-"));
    fs.chmodSync(root, 0o755); // PostgreSQL runs as its own user when we are root
    const dataDir = path.join(root, "postgres");
    const loadBefore = os.loadavg();
    const env = { LOCAL_THROTTLING: "off", LOCAL_TYPECHECK: "off", ...(process.env.BENCH_NODE_OPTIONS ? { NODE_OPTIONS: process.env.BENCH_NODE_OPTIONS } : {}) };
    const gateway = startNpmStart({ port: await freePort(), dataDir, logFile: path.join(root, "npm-start.log"), env });
    const baselineDir = path.join(root, "baseline");
    const baseline = BASELINE ? startNpmStart({ port: await freePort(), dataDir: path.join(baselineDir, "postgres"), logFile: path.join(root, "baseline.log"), env, cwd: BASELINE }) : undefined;
    let bare: { url: string; pid: number; stop(): Promise<void> } | undefined;
    try {
        /** The targets of one running gateway: its URL, a user of its own to read, a token its issuer signed. */
        const targetsOf = async (side: "gateway" | "baseline", run: NonNullable<typeof baseline>, jwtDir: string) => {
            const { url } = await run.ready;
            const token = await mintLocalToken({ sub: "bench-user", dir: jwtDir });
            const authorization = { authorization: `Bearer ${token}` };
            const created = await request(`${url}/users`, "POST", { ...authorization, "content-type": "application/json" }, JSON.stringify({ email: "bench@example.com", name: "Bench" }));
            if (created.status !== 201) throw new Error(`POST /users answered ${created.status}: ${created.body}`);
            const userId = (JSON.parse(created.body) as { id: string }).id;
            const pid = runtimePid(run.child.pid!);
            return {
                userId,
                authorization,
                targets: [
                    { name: `${side} POST /auth`, route: "POST /auth", side, pid, url: `${url}/auth`, ...AUTH },
                    { name: `${side} GET /users/{id}`, route: "GET /users/{id}", side, pid, url: `${url}/users/${userId}`, method: "GET", headers: authorization },
                ] satisfies Target[],
            };
        };
        const ours = await targetsOf("gateway", gateway, path.join(root, "jwt"));
        const theirs = baseline ? await targetsOf("baseline", baseline, path.join(baselineDir, "jwt")) : undefined;
        // The gateway's container ceiling for the users service's routes: its reserved concurrency.
        bare = await startBareServer(dataDir, 10);
        const allTargets: Target[] = [
            ours.targets[0],
            ...(theirs ? [theirs.targets[0]] : []),
            { name: "bare POST /auth", route: "POST /auth", side: "bare", pid: bare.pid, url: `${bare.url}/auth`, ...AUTH },
            ours.targets[1],
            ...(theirs ? [theirs.targets[1]] : []),
            { name: "bare GET /users/{id}", route: "GET /users/{id}", side: "bare", pid: bare.pid, url: `${bare.url}/users/${ours.userId}`, method: "GET", headers: ours.authorization },
        ];
        const targets = allTargets.filter((target) => ONLY_ROUTES === undefined || ONLY_ROUTES.includes(target.route));
        const routes = [...new Set(targets.map((target) => target.route))];
        // The warm-up also sets the fixed rate of each route: a share of what its gateway answered.
        const warmUp = new Map<string, Measurement>();
        for (const target of targets) warmUp.set(target.name, await measure(target, WARM_UP_SECONDS));
        const rateOf = new Map(routes.map((route) => [route, Math.max(1, Math.round(FIXED_RATE_SHARE * warmUp.get(targets.find((t) => t.route === route && t.side === "gateway")!.name)!.rps))]));
        const saturated = new Map<string, Measurement[]>(targets.map((target) => [target.name, []]));
        const fixed = new Map<string, Measurement[]>(targets.map((target) => [target.name, []]));
        for (let round = 1; round <= ROUNDS; round++) {
            for (const target of targets) {
                const result = await measure(target, SECONDS);
                saturated.get(target.name)!.push(result);
                process.stderr.write(`  round ${round}: ${target.name}: ${Math.round(result.rps)} req/s, p99 ${round2(result.p99Ms)} ms, ${Math.round(result.cpuUsPerRequest)} µs CPU per request\n`);
            }
            for (const target of targets) {
                const result = await measure(target, SECONDS, rateOf.get(target.route));
                fixed.get(target.name)!.push(result);
                process.stderr.write(`  round ${round}: ${target.name} at ${rateOf.get(target.route)} req/s: p50 ${round2(result.p50Ms)} ms, p99 ${round2(result.p99Ms)} ms\n`);
            }
        }
        const medianOf = (measurements: Measurement[], pick: (m: Measurement) => number, digits = 2) => round(median(measurements.map(pick)), digits);
        const summary = targets.map((target) => {
            const full = saturated.get(target.name)!;
            const paced = fixed.get(target.name)!;
            return {
                ...target,
                rps: Math.round(median(full.map((m) => m.rps))),
                p50Ms: medianOf(full, (m) => m.p50Ms),
                p99Ms: medianOf(full, (m) => m.p99Ms),
                cpuUsPerRequest: Math.round(median(full.map((m) => m.cpuUsPerRequest))),
                fixedRate: { rps: rateOf.get(target.route)!, p50Ms: medianOf(paced, (m) => m.p50Ms), p99Ms: medianOf(paced, (m) => m.p99Ms) },
                rounds: full.map((m, i) => ({ rps: Math.round(m.rps), p99Ms: round2(m.p99Ms), cpuUsPerRequest: Math.round(m.cpuUsPerRequest), fixedRateP99Ms: round2(paced[i].p99Ms) })),
            };
        });
        const ratios = routes.flatMap((route) => {
            const ofBare = summary.find((s) => s.route === route && s.side === "bare")!;
            return summary
                .filter((s) => s.route === route && s.side !== "bare")
                .map((of) => ({
                    route: `${route} (${of.side})`,
                    rpsRatio: round(of.rps / ofBare.rps, 2),
                    fixedRateP99Ratio: round(of.fixedRate.p99Ms / ofBare.fixedRate.p99Ms, 2),
                    saturatedP99Ratio: round(of.p99Ms / ofBare.p99Ms, 2),
                }));
        });
        const result = {
            date: new Date().toISOString(),
            machine: { cpus: os.cpus().length, cpu: os.cpus()[0]?.model, node: process.version, loadAverageBefore: loadBefore.map((value) => round(value, 2)) },
            connections: CONNECTIONS,
            seconds: SECONDS,
            rounds: ROUNDS,
            targets: summary.map(({ headers: _headers, body: _body, url: _url, pid: _pid, ...rest }) => rest),
            ratios,
        };
        console.log(`\nLocal gateway (npm start, access log to a file) vs bare node:http, ${CONNECTIONS} keep-alive connections, ${ROUNDS} interleaved rounds of ${SECONDS} s, medians`);
        console.log(`load average before the run: ${loadBefore.map((value) => value.toFixed(2)).join(", ")} (${os.cpus().length} CPUs)\n`);
        console.log(
            table(
                ["target", "req/s", "p50 ms", "p99 ms", "server CPU µs/request", "fixed rate req/s", "p50 ms ", "p99 ms "],
                summary.map((s) => [s.name, s.rps, s.p50Ms, s.p99Ms, s.cpuUsPerRequest, s.fixedRate.rps, s.fixedRate.p50Ms, s.fixedRate.p99Ms]),
            ),
        );
        console.log("");
        console.log(table(["route (which gateway)", "gateway/bare req/s", "gateway/bare p99 at the fixed rate", "gateway/bare p99 flat out"], ratios.map((r) => [r.route, r.rpsRatio, r.fixedRateP99Ratio, r.saturatedP99Ratio])));
        if (BASELINE) console.log(`baseline: the gateway of ${BASELINE}`);
        console.log(`\nreq/s, p50, p99: as fast as each answers; fixed rate: both sides sent the same ${Math.round(FIXED_RATE_SHARE * 100)} % of what the gateway answered in the warm-up, so p99 is a request's own time, not the queue's`);
        const out = path.join(__dirname, "results", "local.json");
        fs.mkdirSync(path.dirname(out), { recursive: true });
        fs.writeFileSync(out, JSON.stringify(result, null, 2) + "\n");
        console.log(`\nwrote ${path.relative(REPOSITORY_ROOT, out)}`);
    } finally {
        await bare?.stop();
        await Promise.all([gateway.stop(), baseline?.stop()]);
        fs.rmSync(root, { recursive: true, force: true });
    }
}

function round2(value: number): number {
    return round(value, 2);
}

main().then(
    () => process.exit(0),
    (error) => {
        console.error(error);
        process.exit(1);
    },
);
