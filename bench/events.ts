/**
 * `npm run bench:events`: events' end-to-end latency in the local runtime. One runtime (over its
 * embedded PostgreSQL) serves the fixture event registry; `BENCH_EVENTS` times (default 1000, after
 * 50 warm-up events), one at a time, a client sends `POST /accounts`, whose handler publishes
 * `account.opened`, and the clock stops when the subscribers' handlers have it: `mailer/welcome`
 * (no database) and `ledger/opened` (a database service, signed in as its own role). Latency is
 * from the request leaving the client to the handler's call, through the local bus, the queue
 * table, the poller's receive, the SQS event and the consumer wrapper. Prints p50, p99 and mean per
 * subscriber and writes `bench/results/events.json`.
 */
import * as fs from "node:fs";
import * as http from "node:http";
import * as os from "node:os";
import * as path from "node:path";
import { startLocalRuntime } from "../local/runtime";
import { deliveries, eventRegistry } from "../testing/fixtures/event-services";

const EVENTS = Number(process.env.BENCH_EVENTS ?? 1000);
const WARM_UP = 50;
const CONSUMERS = ["mailer/welcome", "ledger/opened"] as const;

const percentile = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
const round = (value: number) => Math.round(value * 100) / 100;

function post(agent: http.Agent, url: URL, body: string): Promise<{ status: number; text: string }> {
    return new Promise((resolve, reject) => {
        const request = http.request(
            { host: url.hostname, port: url.port, method: "POST", path: "/accounts", agent, headers: { "content-type": "application/json", "content-length": Buffer.byteLength(body) } },
            (response) => {
                let text = "";
                response.on("data", (chunk) => (text += chunk));
                response.on("end", () => resolve({ status: response.statusCode ?? 0, text }));
            },
        );
        request.on("error", reject);
        request.end(body);
    });
}

/** Resolves when both subscribers have the event for `email`, with the time each got it. */
function delivered(email: string, timeoutMs = 10_000): Promise<Record<(typeof CONSUMERS)[number], number>> {
    const deadline = Date.now() + timeoutMs;
    return new Promise((resolve, reject) => {
        const look = () => {
            const found = CONSUMERS.map((consumer) => deliveries.find((d) => d.consumer === consumer && d.event?.payload.email === email));
            if (found.every(Boolean)) return resolve(Object.fromEntries(CONSUMERS.map((consumer, i) => [consumer, (found[i] as unknown as { at: number }).at])) as never);
            if (Date.now() > deadline) return reject(new Error(`${email} was not delivered within ${timeoutMs} ms`));
            setImmediate(look);
        };
        look();
    });
}

async function main(): Promise<void> {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "bench-events-"));
    fs.chmodSync(dir, 0o755);
    // Each delivery is stamped when the handler is called.
    const push = deliveries.push.bind(deliveries);
    deliveries.push = (...items) => push(...items.map((item) => Object.assign(item, { at: performance.now() })));
    const runtime = await startLocalRuntime({ port: 0, services: eventRegistry, dataDir: path.join(dir, "postgres"), persistent: false, throttling: false, logLevel: "ERROR", writeLog: () => undefined, auth: { kind: "local", dir: path.join(dir, "jwt") } });
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    const url = new URL(runtime.url);
    const latencies: Record<string, number[]> = Object.fromEntries(CONSUMERS.map((consumer) => [consumer, []]));
    try {
        for (let n = 0; n < WARM_UP + EVENTS; n++) {
            const email = `bench-${n}@example.com`;
            const started = performance.now();
            const response = await post(agent, url, JSON.stringify({ email }));
            if (response.status !== 201) throw new Error(`POST /accounts answered ${response.status}: ${response.text}`);
            const at = await delivered(email);
            if (n >= WARM_UP) for (const consumer of CONSUMERS) latencies[consumer].push(at[consumer] - started);
            deliveries.length = 0;
        }
    } finally {
        agent.destroy();
        await runtime.stop();
        fs.rmSync(dir, { recursive: true, force: true });
    }
    const results = Object.fromEntries(
        CONSUMERS.map((consumer) => {
            const sorted = [...latencies[consumer]].sort((a, b) => a - b);
            return [consumer, { events: sorted.length, p50Ms: round(percentile(sorted, 50)), p99Ms: round(percentile(sorted, 99)), meanMs: round(sorted.reduce((a, b) => a + b, 0) / sorted.length), maxMs: round(sorted[sorted.length - 1]) }];
        }),
    );
    for (const [consumer, r] of Object.entries(results)) console.log(`${consumer}: ${r.events} events, p50 ${r.p50Ms} ms, p99 ${r.p99Ms} ms, mean ${r.meanMs} ms, max ${r.maxMs} ms (request sent -> handler called)`);
    fs.mkdirSync(path.join(__dirname, "results"), { recursive: true });
    fs.writeFileSync(path.join(__dirname, "results", "events.json"), `${JSON.stringify({ measuredAt: new Date().toISOString(), node: process.version, results }, null, 2)}\n`);
}

main().then(
    () => process.exit(0),
    (error) => {
        console.error(error);
        process.exit(1);
    },
);
