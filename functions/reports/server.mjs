// The reports service: a long-lived process that computes reports and keeps them warm.
// It needs nothing but Node's standard library. The platform starts it with PORT (and
// SERVICE_NAME, LOG_LEVEL); the gateway in front sets x-jwt-sub (the verified caller) and
// x-apigw-request-id, and drops any copy a client sent. Locally it runs as a process with
// HOST=127.0.0.1, so nothing but the gateway reaches it; in its image HOST is unset and it
// listens on every interface, as a Fargate task must.
import * as http from "node:http";

const port = Number(process.env.PORT ?? 8080);
const host = process.env.HOST || undefined;
const service = process.env.SERVICE_NAME ?? "reports";
/** The largest report: a sieve of this size takes ~0.3 s and 20 MB, and is kept once computed. */
const MAX_BELOW = 20_000_000;
/** Reports kept in memory, least recently used first out. */
const CACHE_SIZE = 64;
const cache = new Map();

const LEVELS = ["DEBUG", "INFO", "WARN", "ERROR"];
const threshold = Math.max(0, LEVELS.indexOf(String(process.env.LOG_LEVEL ?? "INFO").toUpperCase()));

function log(level, message, fields = {}) {
    if (LEVELS.indexOf(level) < threshold) return;
    process.stdout.write(`${JSON.stringify({ timestamp: new Date().toISOString(), level, service, message, ...fields })}\n`);
}

function send(res, statusCode, body, requestId) {
    const text = JSON.stringify(body);
    res.writeHead(statusCode, { "content-type": "application/json", "content-length": Buffer.byteLength(text), ...(requestId ? { "x-request-id": requestId } : {}) });
    res.end(text);
}

function error(res, statusCode, code, message, requestId) {
    send(res, statusCode, { error: { code, message, requestId } }, requestId);
}

/** The primes below `below`: how many, and the largest (a sieve of Eratosthenes). */
function primesBelow(below) {
    const composite = new Uint8Array(below);
    let count = 0;
    let largest = null;
    for (let n = 2; n < below; n++) {
        if (composite[n]) continue;
        count++;
        largest = n;
        for (let multiple = n * n; multiple < below; multiple += n) composite[multiple] = 1;
    }
    return { count, largest };
}

function primesReport(below) {
    const kept = cache.get(below);
    if (kept) {
        cache.delete(below);
        cache.set(below, kept);
        return { ...kept, cached: true };
    }
    const started = process.hrtime.bigint();
    const { count, largest } = primesBelow(below);
    const report = { below, count, largest, computedInMs: Number((process.hrtime.bigint() - started) / 1_000_000n) };
    cache.set(below, report);
    if (cache.size > CACHE_SIZE) cache.delete(cache.keys().next().value);
    return { ...report, cached: false };
}

const server = http.createServer((req, res) => {
    const requestId = req.headers["x-apigw-request-id"];
    const url = new URL(req.url ?? "/", "http://localhost");
    if (req.method === "GET" && url.pathname === "/health") return send(res, 200, { status: "ok" });
    if (req.method === "GET" && url.pathname === "/reports/primes") {
        const raw = url.searchParams.get("below");
        const below = raw !== null && /^\d+$/.test(raw) ? Number(raw) : NaN;
        if (!Number.isSafeInteger(below) || below < 2 || below > MAX_BELOW) {
            return error(res, 400, "validation_error", `Invalid query: below must be an integer from 2 to ${MAX_BELOW}.`, requestId);
        }
        const report = primesReport(below);
        log("INFO", "primes report", { requestId, below, cached: report.cached, computedInMs: report.computedInMs });
        return send(res, 200, { ...report, requestedBy: req.headers["x-jwt-sub"] ?? null }, requestId);
    }
    return error(res, 404, "not_found", `No report at ${req.method} ${url.pathname}.`, requestId);
});

server.listen(port, host, () => log("INFO", `listening on ${host ?? "every interface"}, port ${port}`));

// ECS sends SIGTERM before it stops a task (and the local runtime before a restart): finish what is in flight.
for (const signal of ["SIGTERM", "SIGINT"]) {
    process.on(signal, () => {
        log("INFO", `${signal}: closing`);
        server.close(() => process.exit(0));
        server.closeIdleConnections();
        setTimeout(() => process.exit(0), 5000).unref();
    });
}
