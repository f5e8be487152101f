/**
 * `npm run bench:containers`: the local gateway's latency for a container route against a function
 * route. One local runtime (over its embedded PostgreSQL) serves a trivial function route
 * (`GET /ping`), a trivial container route (`GET /echo/public`, the fixture echo process) and the
 * reports sample's protected route (`GET /reports/primes?below=1000`, computed once and then kept
 * warm). Each is called `BENCH_REQUESTS` times (default 2000) after 200 warm-up calls, first one
 * request at a time, then from `BENCH_CLIENTS` concurrent clients (default 8), over keep-alive
 * connections; it prints p50, p99 and mean per route and writes `bench/results/containers.json`.
 */
import * as fs from "node:fs";
import * as http from "node:http";
import * as os from "node:os";
import * as path from "node:path";
import reports from "../functions/reports/service";
import { mintLocalToken } from "../local/issuer";
import { startLocalRuntime } from "../local/runtime";
import { echoContainer } from "../testing/fixtures/registries";
import { ping } from "../testing/fixtures/registry";

const REQUESTS = Number(process.env.BENCH_REQUESTS ?? 2000);
const CLIENTS = Number(process.env.BENCH_CLIENTS ?? 8);
const WARM_UP = 200;

interface Target {
    name: string;
    path: string;
    headers?: Record<string, string>;
}

function get(agent: http.Agent, url: URL, target: Target): Promise<number> {
    const started = process.hrtime.bigint();
    return new Promise((resolve, reject) => {
        const req = http.get({ host: url.hostname, port: url.port, path: target.path, headers: target.headers, agent }, (res) => {
            res.resume();
            res.on("end", () => {
                if (res.statusCode !== 200) reject(new Error(`${target.name}: ${res.statusCode}`));
                else resolve(Number(process.hrtime.bigint() - started) / 1e6);
            });
        });
        req.on("error", reject);
    });
}

function percentile(sorted: number[], p: number): number {
    return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
}

async function measure(url: URL, target: Target, clients: number): Promise<{ p50: number; p99: number; mean: number; requests: number }> {
    const agent = new http.Agent({ keepAlive: true, maxSockets: clients });
    for (let i = 0; i < WARM_UP; i++) await get(agent, url, target);
    const durations: number[] = [];
    let issued = 0;
    await Promise.all(
        Array.from({ length: clients }, async () => {
            while (issued < REQUESTS) {
                issued++;
                durations.push(await get(agent, url, target));
            }
        }),
    );
    agent.destroy();
    durations.sort((a, b) => a - b);
    const round = (ms: number) => Math.round(ms * 100) / 100;
    return { p50: round(percentile(durations, 50)), p99: round(percentile(durations, 99)), mean: round(durations.reduce((a, b) => a + b, 0) / durations.length), requests: durations.length };
}

async function main(): Promise<void> {
    const root = fs.mkdtempSync(path.join(os.tmpdir(), "bench-containers-"));
    fs.chmodSync(root, 0o755); // PostgreSQL runs as its own user when we are root
    const jwtDir = path.join(root, "jwt");
    const runtime = await startLocalRuntime({
        port: 0,
        services: [ping, echoContainer(), reports],
        dataDir: path.join(root, "postgres"),
        persistent: false,
        auth: { kind: "local", dir: jwtDir },
        throttling: false,
        containerMode: "process",
        logLevel: "ERROR",
        writeLog: () => undefined,
        onContainerNotice: () => undefined,
    });
    const token = await mintLocalToken({ sub: "bench", dir: jwtDir });
    const targets: Target[] = [
        { name: "function GET /ping", path: "/ping" },
        { name: "container GET /echo/public", path: "/echo/public" },
        { name: "container GET /reports/primes (jwt, warm)", path: "/reports/primes?below=1000", headers: { authorization: `Bearer ${token}` } },
    ];
    const url = new URL(runtime.url);
    const results: Record<string, Record<string, unknown>> = {};
    try {
        for (const clients of [1, CLIENTS]) {
            for (const target of targets) {
                const figures = await measure(url, target, clients);
                results[`${target.name}, ${clients} client(s)`] = figures;
                console.log(`${target.name.padEnd(45)} ${String(clients).padStart(2)} client(s): p50 ${figures.p50} ms, p99 ${figures.p99} ms, mean ${figures.mean} ms (${figures.requests} requests)`);
            }
        }
    } finally {
        await runtime.stop();
        fs.rmSync(root, { recursive: true, force: true });
    }
    const file = path.join(__dirname, "results", "containers.json");
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, `${JSON.stringify({ node: process.version, requests: REQUESTS, warmUp: WARM_UP, results }, null, 2)}\n`);
    console.log(`Wrote ${path.relative(process.cwd(), file)}`);
}

main().catch((error) => {
    console.error(error);
    process.exit(1);
});
