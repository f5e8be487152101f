/**
 * `npm run bench:outbox`: 50 clients place 1,000 orders (`testing/fixtures/outbox-services`) on a
 * real embedded PostgreSQL through the route wrapper, a twentieth of the request path's sends
 * lost, and the events go through the local bus, queues and workers to a database consumer that
 * fails a tenth of first attempts. Reports events produced, delivered (consumer invocations),
 * applied, duplicated and lost; the relay's lag (commit to the consumer's row, p50/p99); and a
 * write request's latency with the outbox against the same handler publishing straight to the bus.
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { createDatabase } from "../functions/runtime/data/database";
import { EventPublishError, type EventTransport } from "../functions/runtime/outbox/publisher";
import { createRouteHandler } from "../functions/runtime/handler";
import { createLogger } from "../functions/runtime/logger";
import { migrationRunRequest } from "../platform/data-plan";
import { resolveRegistry } from "../platform/registry/resolution";
import { applyMigrations } from "../functions/runtime/data/migrations";
import { startLocalEvents } from "../local/event-runtime";
import { startLocalPostgres } from "../local/postgres";
import { localLogin, loginSecretFile, readOrCreateLoginSecret } from "../local/service-login";
import { readLocalStackConfig } from "../local/stack-config";
import { outboxRegistry, shipFailures, shop } from "../testing/fixtures/outbox-services";
import { httpApiEvent } from "../testing/events";

const percentile = (values: number[], p: number) => [...values].sort((a, b) => a - b)[Math.min(values.length - 1, Math.floor((p / 100) * values.length))];

async function main() {
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "bench-outbox-"));
    fs.chmodSync(dataDir, 0o755);
    const server = await startLocalPostgres({ dataDir: path.join(dataDir, "data"), persistent: false });
    const login = localLogin(server.url, readOrCreateLoginSecret(loginSecretFile(path.join(dataDir, "data"), true)));
    const stack = readLocalStackConfig();
    const registry = resolveRegistry(outboxRegistry, stack.functionDefaults);
    const admin = createDatabase({ connectionString: server.url });
    await applyMigrations(admin, migrationRunRequest(registry, stack.database.connectionsPerFunction, "password"), registry.migrations, { passwordOf: login.passwordOf });
    const events = await startLocalEvents(registry, { adminUrl: server.url, serviceDatabaseUrl: login.serviceDatabaseUrl, writeLog: () => undefined, visibilityTimeoutScale: 0.05, relayIntervalMs: 1000 });
    const silent = createLogger({ write: () => undefined });
    const containers = Array.from({ length: 10 }, () => createDatabase({ connectionString: login.serviceDatabaseUrl("shop") }));
    const route = shop.routes["POST /orders"]!;

    /** 50 clients over 10 containers; returns each request's latency. */
    const run = async (prefix: string, count: number, transport: EventTransport, outbox: boolean) => {
        const publishStraight = {
            publish: async (name: string, payload: unknown) => {
                await transport.send([{ EventBusName: "local", Source: "shop", DetailType: name, Detail: JSON.stringify({ eventId: crypto.randomUUID(), version: 1, payload }), Time: new Date() }]);
                return { eventId: "" };
            },
        };
        // Without the outbox: the same handler, its writes in autocommit, its publish straight to the bus.
        const idle = containers.map((db) =>
            outbox
                ? createRouteHandler(route.handler as never, { service: "shop", routeKey: "POST /orders", logger: silent, openDatabase: () => db, events: { catalog: shop.events!, eventBusName: "local", transport } })
                : createRouteHandler(((request: never, context: object) => route.handler(request, { ...context, events: publishStraight } as never)) as never, { service: "shop", routeKey: "POST /orders", logger: silent, openDatabase: () => db }),
        );
        const latencies: number[] = [];
        let next = 0;
        await Promise.all(
            Array.from({ length: 50 }, async () => {
                while (next < count) {
                    const item = `${prefix}-${next++}`;
                    while (idle.length === 0) await new Promise((resolve) => setTimeout(resolve, 1));
                    const handler = idle.pop()!;
                    const started = process.hrtime.bigint();
                    const answer = await handler(httpApiEvent({ routeKey: "POST /orders", body: JSON.stringify({ item }), headers: { "content-type": "application/json" } }));
                    latencies.push(Number(process.hrtime.bigint() - started) / 1e6);
                    if (answer.statusCode !== 201) throw new Error(`${item}: ${answer.statusCode} ${answer.body}`);
                    idle.push(handler);
                }
            }),
        );
        return latencies;
    };

    // The load: 1,000 orders, a twentieth of the request path's sends lost, a tenth of first deliveries failing.
    let sends = 0;
    const lossy: EventTransport = { send: async (entries) => (++sends % 20 === 0 ? Promise.reject(new EventPublishError("lost")) : events.bus.send(entries)) };
    for (let i = 0; i < 1000; i += 10) shipFailures[`load-${i}`] = 1;
    const started = Date.now();
    await run("load", 1000, lossy, true);
    const query = async <T>(sql: string) => (await admin.query<T>(sql)).rows;
    for (;;) {
        const [{ applied }] = await query<{ applied: number }>("SELECT count(*)::int AS applied FROM fulfilment.platform_applied_events");
        if (applied >= 1000 || Date.now() - started > 180_000) break;
        await new Promise((resolve) => setTimeout(resolve, 100));
    }
    const [counts] = await query<{ produced: number; applied: number; shipped: number; distinct: number; unsent: number }>(
        `SELECT (SELECT count(*) FROM shop.platform_outbox)::int AS produced, (SELECT count(*) FROM fulfilment.platform_applied_events)::int AS applied,
                (SELECT count(*) FROM fulfilment.shipments)::int AS shipped, (SELECT count(DISTINCT item) FROM fulfilment.shipments)::int AS distinct,
                (SELECT count(*) FROM shop.platform_outbox WHERE sent_at IS NULL)::int AS unsent`,
    );
    const lags = (await query<{ ms: number }>(`SELECT extract(epoch FROM a.applied_at - o.published_at)::float8 * 1000 AS ms FROM shop.platform_outbox o JOIN fulfilment.platform_applied_events a ON a.event_id = o.event_id`)).map((row) => row.ms);
    const relayed = (await query<{ ms: number }>(`SELECT extract(epoch FROM a.applied_at - o.published_at)::float8 * 1000 AS ms FROM shop.platform_outbox o JOIN fulfilment.platform_applied_events a ON a.event_id = o.event_id WHERE o.sent_at - o.published_at > interval '50 milliseconds'`)).map((row) => row.ms);
    const deliveries = (await query<{ n: number }>("SELECT count(*)::int AS n FROM platform.local_queue_messages"))[0].n;

    // Latency: 2,000 requests each way, a healthy bus, after 200 warm-up.
    const healthy: EventTransport = { send: (entries) => events.bus.send(entries) };
    await run("warm", 200, healthy, true);
    const withOutbox = await run("with", 2000, healthy, true);
    const without = await run("without", 2000, healthy, false);

    const report = {
        load: { clients: 50, produced: counts.produced, applied: counts.applied, shipped: counts.shipped, duplicated: counts.shipped - counts.distinct, lost: counts.produced - counts.distinct, unsent: counts.unsent, requestSendsLost: Math.floor(sends / 20), messagesLeftInQueues: deliveries },
        lagMs: { p50: percentile(lags, 50), p99: percentile(lags, 99), relayedCount: relayed.length, relayedP50: percentile(relayed, 50), relayedP99: percentile(relayed, 99) },
        writeLatencyMs: { withOutbox: { p50: percentile(withOutbox, 50), p99: percentile(withOutbox, 99) }, withoutOutbox: { p50: percentile(without, 50), p99: percentile(without, 99) } },
    };
    console.log(JSON.stringify(report, null, 2));
    await events.stop();
    await Promise.all(containers.map((db) => db.end()));
    await admin.end();
    await server.stop();
    fs.rmSync(dataDir, { recursive: true, force: true });
}

main().catch((error) => {
    console.error(error);
    process.exit(1);
});
