/**
 * The outbox and the idempotent consumer, each failure forced, on a real PostgreSQL with the
 * platform's tables made by the migration run: a send killed after the commit (the relay sends it
 * later, one shipment), a rollback after publish (nothing sent), one event delivered twice and at
 * once (applied once), the relay and the request racing for the same row (sent once), and 1,000
 * orders under load through the local bus, queues and workers with a consumer failing 10% of first
 * attempts (1,000 shipments, none twice).
 */
import * as assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { createSubscriptionHandler } from "../../functions/runtime/queue/consumer";
import { createDatabase } from "../../functions/runtime/data/database";
import { eventBridgeEvent, sqsRecord, type PutEventsEntry } from "../../functions/runtime/queue/event-envelope";
import { EventBridgeClient, PutEventsCommand } from "@aws-sdk/client-eventbridge";
import { mockClient } from "aws-sdk-client-mock";
import { eventBridgeTransport, EventPublishError, type EventTransport } from "../../functions/runtime/outbox/publisher";
import { createLogger } from "../../functions/runtime/logger";
import { createRouteHandler } from "../../functions/runtime/handler";
import type { Database } from "../../functions/runtime/data/database";
import type { EventCatalog } from "../../functions/runtime/events";
import { discardParked, listParked, OUTBOX_TABLE_SQL, OUTBOX_WRITE_LOG, redriveParked, writeToOutbox } from "../../functions/runtime/outbox/outbox";
import { createRelayRunner, RELAY_LOG_MESSAGE, relayDecision, relayOutbox } from "../../functions/runtime/outbox/relay";
import { outboxWriteFilterPattern } from "../../infra/components/outbox-relay";
import { OUTBOX_RELAY_DEFAULTS } from "../../platform/triggers/outbox-relay";
import { httpApiEvent } from "../../testing/events";
import { matchesFilterPattern, selectedField } from "../../testing/log-metric-filter";
import { EVENTBRIDGE, putEventsEntrySize } from "../../policy/lib/limits";
import { resolveRegistry } from "../../platform/registry/resolution";
import { startLocalEvents } from "../../local/event-runtime";
import { readLocalStackConfig } from "../../local/stack-config";
import { fulfilment, outboxRegistry, shipFailures, shop } from "../../testing/fixtures/outbox-services";
import { describeOutboxes, describeParked, inOutboxOf } from "../../tools/queues";
import { routeCaller } from "../support/invoke";
import { usePostgres } from "../support/postgres";

const silent = createLogger({ write: () => undefined });

/** Hands entries to `deliver`, or fails while `failing` is set. */
function transport(deliver: (entries: readonly PutEventsEntry[]) => Promise<void> | void = () => undefined) {
    const sent: PutEventsEntry[] = [];
    const state = { failing: false };
    const t: EventTransport = {
        async send(entries) {
            if (state.failing) throw new EventPublishError("EventBridge did not answer (test)");
            sent.push(...entries);
            await deliver(entries);
        },
    };
    return { transport: t, sent, state };
}

/** The SQS record a subscription's queue would hand the consumer for an entry. */
function recordOf(entry: PutEventsEntry, attempt = 1) {
    const body = JSON.stringify(eventBridgeEvent(entry, { id: randomUUID(), account: "000000000000", region: "us-east-1" }));
    return sqsRecord({ messageId: randomUUID(), receiptHandle: randomUUID(), body, receiveCount: attempt, sentAt: new Date(), firstReceivedAt: new Date(), senderId: "test" }, { arn: "arn:aws:sqs:us-east-1:000000000000:q", region: "us-east-1" }, "");
}

describe("the transactional outbox and idempotent consumers (real PostgreSQL)", () => {
    const postgres = usePostgres({ services: outboxRegistry });
    const order = (item: string) => ({ body: JSON.stringify({ item }), headers: { "content-type": "application/json" } });
    const consumer = () => createSubscriptionHandler(fulfilment.subscriptions!.ship.handler, { service: "fulfilment", subscription: "ship", event: fulfilment.subscriptions!.ship.event, openDatabase: () => postgres().serviceDb("fulfilment"), logger: silent });
    const shipments = async (item: string) => (await postgres().sql<{ n: number }>("SELECT count(*)::int AS n FROM fulfilment.shipments WHERE item = $1", [item]))[0].n;
    const unsent = async () => (await postgres().sql<{ n: number }>("SELECT count(*)::int AS n FROM shop.platform_outbox WHERE sent_at IS NULL"))[0].n;

    beforeEach(async () => {
        await postgres().sql("DELETE FROM shop.platform_outbox; DELETE FROM shop.orders; DELETE FROM fulfilment.shipments; DELETE FROM fulfilment.platform_applied_events");
    });

    it("creates the outbox and the applied-events tables in each database service's schema, owned by its owner, with DML for its login role", async () => {
        // Act
        const tables = await postgres().sql("SELECT schemaname, tablename, tableowner FROM pg_tables WHERE tablename LIKE 'platform\\_%' ORDER BY 1, 2");
        const grants = await postgres().sql<{ privilege_type: string }>("SELECT privilege_type FROM information_schema.role_table_grants WHERE grantee = 'shop_app' AND table_name = 'platform_outbox' ORDER BY 1");
        // Assess
        assert.deepEqual(tables, [
            { schemaname: "fulfilment", tablename: "platform_applied_events", tableowner: "fulfilment_owner" },
            { schemaname: "fulfilment", tablename: "platform_outbox", tableowner: "fulfilment_owner" },
            { schemaname: "shop", tablename: "platform_applied_events", tableowner: "shop_owner" },
            { schemaname: "shop", tablename: "platform_outbox", tableowner: "shop_owner" },
        ]);
        assert.deepEqual(grants.map((g) => g.privilege_type), ["DELETE", "INSERT", "SELECT", "UPDATE"]);
    });

    it("keeps an event whose send failed after the commit, and the relay sends it later: one shipment", async () => {
        // Prepare: EventBridge does not answer the request's send.
        const ship = consumer();
        const bus = transport(async (entries) => void (await ship({ Records: entries.map((entry) => recordOf(entry)) })));
        bus.state.failing = true;
        // Act
        const placed = await routeCaller(shop, () => postgres().serviceDb("shop"), bus.transport)("POST /orders", order("kettle"));
        const leftBehind = await unsent();
        bus.state.failing = false;
        const report = await relayOutbox(postgres().serviceDb("shop"), bus.transport, { eventBusName: "test-bus" });
        // Assess
        assert.equal(placed.status, 201, JSON.stringify(placed.body));
        assert.equal(leftBehind, 1);
        assert.deepEqual({ sent: report.sent, unsent: report.unsent }, { sent: 1, unsent: 0 });
        assert.equal(JSON.parse(bus.sent[0].Detail).eventId, placed.body.eventId);
        assert.equal(await shipments("kettle"), 1);
    });

    it("re-sends a row whose send went out but whose mark was lost, and the consumer applies it once", async () => {
        // Prepare: the request's send reaches EventBridge, then the mark's COMMIT never happens (the row stays unsent).
        const ship = consumer();
        const bus = transport(async (entries) => void (await ship({ Records: entries.map((entry) => recordOf(entry)) })));
        const placed = await routeCaller(shop, () => postgres().serviceDb("shop"), bus.transport)("POST /orders", order("teapot"));
        await postgres().sql("UPDATE shop.platform_outbox SET sent_at = NULL");
        // Act
        const report = await relayOutbox(postgres().serviceDb("shop"), bus.transport, { eventBusName: "test-bus" });
        // Assess
        assert.equal(placed.status, 201);
        assert.equal(report.sent, 1);
        assert.equal(bus.sent.length, 2, "sent twice: at least once");
        assert.equal(await shipments("teapot"), 1, "applied once");
    });

    for (const [item, status] of [["regret-1", 409], ["refuse-1", 422]] as const) {
        it(`sends nothing and keeps nothing when the handler answers ${status} after publishing`, async () => {
            // Prepare
            const bus = transport();
            // Act
            const answer = await routeCaller(shop, () => postgres().serviceDb("shop"), bus.transport)("POST /orders", order(item));
            const report = await relayOutbox(postgres().serviceDb("shop"), bus.transport, { eventBusName: "test-bus" });
            // Assess
            assert.equal(answer.status, status);
            assert.deepEqual(bus.sent, []);
            assert.equal(report.sent, 0);
            assert.deepEqual(await postgres().sql("SELECT * FROM shop.platform_outbox"), []);
            assert.deepEqual(await postgres().sql("SELECT * FROM shop.orders WHERE item = $1", [item]), []);
        });
    }

    it("applies an event delivered twice in a row, and twice at once, exactly once", async () => {
        // Prepare
        const bus = transport();
        await routeCaller(shop, () => postgres().serviceDb("shop"), bus.transport)("POST /orders", order("mug"));
        await routeCaller(shop, () => postgres().serviceDb("shop"), bus.transport)("POST /orders", order("cup"));
        const [mug, cup] = bus.sent;
        // Act: in a row through one container; at once through two containers (two connections).
        const one = consumer();
        const first = await one({ Records: [recordOf(mug)] });
        const again = await one({ Records: [recordOf(mug, 2)] });
        const [left, right] = await Promise.all([consumer()({ Records: [recordOf(cup)] }), consumer()({ Records: [recordOf(cup)] })]);
        // Assess
        for (const answer of [first, again, left, right]) assert.deepEqual(answer.batchItemFailures, []);
        assert.equal(await shipments("mug"), 1);
        assert.equal(await shipments("cup"), 1);
    });

    it("applies a delivery whose handler failed on its next attempt: the failure rolled its record back", async () => {
        // Prepare
        const bus = transport();
        await routeCaller(shop, () => postgres().serviceDb("shop"), bus.transport)("POST /orders", order("spoon"));
        shipFailures.spoon = 1;
        // Act
        const failed = await consumer()({ Records: [recordOf(bus.sent[0])] });
        const between = await shipments("spoon");
        const retried = await consumer()({ Records: [recordOf(bus.sent[0], 2)] });
        // Assess
        assert.equal(failed.batchItemFailures.length, 1);
        assert.equal(between, 0, "the failed attempt's insert was rolled back with its record");
        assert.deepEqual(retried.batchItemFailures, []);
        assert.equal(await shipments("spoon"), 1);
    });

    it("sends a row once when the relay and the request race for it: the holder sends, the other skips", async () => {
        // Prepare: the request's send is held at EventBridge while the relay runs.
        let release!: () => void;
        const held = new Promise<void>((resolve) => (release = resolve));
        let sends = 0;
        const slow: EventTransport = {
            async send() {
                sends++;
                if (sends === 1) await held;
            },
        };
        // Act
        const request = routeCaller(shop, () => postgres().serviceDb("shop"), slow)("POST /orders", order("saucer"));
        while ((await postgres().sql("SELECT 1 FROM shop.platform_outbox")).length === 0) await new Promise((resolve) => setTimeout(resolve, 5));
        await new Promise((resolve) => setTimeout(resolve, 50));
        // The relay is another function: a connection of its own.
        const relayDb = createDatabase({ connectionString: postgres().serviceUrl("shop") });
        const report = await relayOutbox(relayDb, slow, { eventBusName: "test-bus" }).finally(() => relayDb.end());
        release();
        const answer = await request;
        // Assess
        assert.equal(answer.status, 201);
        assert.equal(sends, 1, "one send: the relay skipped the row the request held");
        assert.equal(await unsent(), 0);
        assert.equal(report.sent, 0);
    });

    describe("events too large, and events EventBridge refuses for good", () => {
        /** Writes events straight into shop's outbox (as the request path does), `detailBytes` of detail each. */
        const writeEvents = async (labels: string[], detailBytes = 100) => {
            const entries: PutEventsEntry[] = labels.map((label) => {
                const head = JSON.stringify({ eventId: `${label}-${randomUUID()}`, version: 1, payload: { orderId: randomUUID(), note: "" } });
                const detail = head.replace('"note":""', `"note":"${label}${"x".repeat(Math.max(0, detailBytes - head.length - label.length))}"`);
                return { EventBusName: "test-bus", Source: "shop", DetailType: "order.noted", Detail: detail, Time: new Date() };
            });
            return postgres().serviceDb("shop").transaction((tx) => writeToOutbox(tx, entries));
        };
        /** A transport that records each request, and refuses the entries whose note starts with a key of `refuse` with that code. */
        const requests = (refuse: Record<string, string> = {}) => {
            const batches: PutEventsEntry[][] = [];
            const t: EventTransport = {
                async send(entries) {
                    batches.push([...entries]);
                    const failed = entries.flatMap((entry, index) => {
                        const note = JSON.parse(entry.Detail).payload.note as string;
                        const code = Object.entries(refuse).find(([prefix]) => note.startsWith(prefix))?.[1];
                        return code ? [{ index, errorCode: code, errorMessage: `refused (test)` }] : [];
                    });
                    if (failed.length > 0) throw new EventPublishError(`EventBridge refused ${failed.length} of ${entries.length} event(s)`, undefined, failed);
                },
            };
            return { transport: t, batches, notes: () => batches.flat().map((entry) => (JSON.parse(entry.Detail).payload.note as string).replace(/x+$/, "")) };
        };

        it("reads which entries EventBridge refused, by their place in the request, from a partly failed PutEvents", async () => {
            // Prepare: EventBridge takes the first and third entries and refuses the second.
            const eventBridge = mockClient(EventBridgeClient);
            eventBridge.on(PutEventsCommand).resolves({ FailedEntryCount: 1, Entries: [{ EventId: "1" }, { ErrorCode: "MalformedDetail", ErrorMessage: "Detail is malformed." }, { EventId: "3" }] });
            const entry = { EventBusName: "test-bus", Source: "shop", DetailType: "order.placed", Detail: "{}", Time: new Date() };
            try {
                // Act
                const failure = await eventBridgeTransport().send([entry, entry, entry]).catch((error: unknown) => error);
                // Assess
                assert.ok(failure instanceof EventPublishError);
                assert.deepEqual(failure.failedEntries, [{ index: 1, errorCode: "MalformedDetail", errorMessage: "Detail is malformed." }]);
            } finally {
                eventBridge.restore();
            }
        });

        it("refuses a 300 KB event at publish, naming the event and its size, and commits nothing of the request", async () => {
            // Prepare
            const bus = transport();
            // Act
            const answer = await routeCaller(shop, () => postgres().serviceDb("shop"), bus.transport)("POST /orders", { body: JSON.stringify({ item: "huge-note", note: "n".repeat(300 * 1024) }), headers: { "content-type": "application/json" } });
            // Assess: a server error (the producer's bug, logged), nothing written, nothing sent.
            assert.equal(answer.status, 500);
            assert.deepEqual(await postgres().sql("SELECT * FROM shop.orders WHERE item = 'huge-note'"), []);
            assert.deepEqual(await postgres().sql("SELECT event_id FROM shop.platform_outbox"), []);
            assert.deepEqual(bus.sent, []);
        });

        it("names the event and its size in the refusal at publish", async () => {
            // Prepare: the same publish path, with a transport that would take anything.
            const { createEventPublisher } = await import("../../functions/runtime/outbox/publisher");
            const { shopEvents } = await import("../../testing/fixtures/outbox-services");
            const bus = transport();
            const publisher = createEventPublisher(shopEvents, { transport: bus.transport, eventBusName: "test-bus" });
            // Act
            const refusal = await publisher.publish("order.noted", { orderId: randomUUID(), note: "n".repeat(300 * 1024) }).catch((error: Error) => error);
            // Assess
            assert.match(String(refusal), /^EventTooLargeError: Event shop\/order\.noted v1 was not published: its PutEvents entry is 30\d{4} bytes, and EventBridge takes at most 262144 \(256 KB\)/);
            assert.deepEqual(bus.sent, []);
        });

        it("sends ten 30 KB events in more than one request, each within 256 KB and 10 entries, in order", async () => {
            // Prepare
            const labels = Array.from({ length: 10 }, (_, i) => `e${i}-`);
            await writeEvents(labels, 30 * 1024);
            const bus = requests();
            // Act
            const report = await relayOutbox(postgres().serviceDb("shop"), bus.transport, { eventBusName: "test-bus" });
            // Assess
            assert.deepEqual({ sent: report.sent, unsent: report.unsent, parked: report.parked }, { sent: 10, unsent: 0, parked: 0 });
            assert.ok(bus.batches.length > 1, `${bus.batches.length} request(s)`);
            for (const batch of bus.batches) {
                assert.ok(batch.length <= EVENTBRIDGE.putEventsMaxEntries);
                assert.ok(batch.reduce((total, entry) => total + putEventsEntrySize(entry), 0) <= EVENTBRIDGE.putEventsMaxBytes);
            }
            assert.deepEqual(bus.notes(), labels);
        });

        it("parks an event EventBridge refuses for good and sends the ones behind it, now and later, in order", async () => {
            // Prepare: the second of four is invalid for EventBridge, every time.
            await writeEvents(["a-", "poison-", "b-", "c-"]);
            const bus = requests({ "poison-": "MalformedDetail" });
            // Act
            const first = await relayOutbox(postgres().serviceDb("shop"), bus.transport, { eventBusName: "test-bus" });
            await writeEvents(["d-", "e-"]);
            const second = await relayOutbox(postgres().serviceDb("shop"), bus.transport, { eventBusName: "test-bus" });
            // Assess
            assert.deepEqual([first.sent, first.newlyParked, first.parked, first.unsent, first.failure], [3, 1, 1, 0, undefined]);
            assert.deepEqual([second.sent, second.newlyParked, second.parked, second.unsent], [2, 0, 1, 0]);
            assert.deepEqual(bus.notes(), ["a-", "poison-", "b-", "c-", "d-", "e-"]);
            const [parked] = await listParked(postgres().serviceDb("shop"));
            assert.match(parked.reason, /^EventBridge refused it: MalformedDetail: refused \(test\)$/);
            assert.equal(parked.event, "shop/order.noted");
        });

        it("parks a row too large for any request without sending it, and sends the rows behind it", async () => {
            // Prepare: a row over the limit, as one written before the limit was checked at publish.
            await writeEvents(["a-"]);
            await writeEvents(["big-"], EVENTBRIDGE.putEventsMaxBytes);
            await writeEvents(["b-"]);
            const bus = requests();
            // Act
            const report = await relayOutbox(postgres().serviceDb("shop"), bus.transport, { eventBusName: "test-bus" });
            // Assess
            assert.deepEqual([report.sent, report.newlyParked, report.parked, report.unsent], [2, 1, 1, 0]);
            assert.deepEqual(bus.notes(), ["a-", "b-"]);
            const [parked] = await listParked(postgres().serviceDb("shop"));
            assert.match(parked.reason, /^its PutEvents entry is 2621\d\d bytes; EventBridge takes at most 262144$/);
            assert.ok(parked.sizeBytes > EVENTBRIDGE.putEventsMaxBytes);
        });

        it("keeps a throttled event unsent, in its place, and sends it on the next run", async () => {
            // Prepare
            await writeEvents(["a-", "slow-", "b-"]);
            const throttled = requests({ "slow-": "ThrottlingException" });
            // Act
            const first = await relayOutbox(postgres().serviceDb("shop"), throttled.transport, { eventBusName: "test-bus" });
            const later = requests();
            const second = await relayOutbox(postgres().serviceDb("shop"), later.transport, { eventBusName: "test-bus" });
            // Assess
            assert.deepEqual([first.sent, first.newlyParked, first.unsent], [2, 0, 1]);
            assert.match(first.failure ?? "", /EventBridge refused 1 of 3/);
            assert.deepEqual([second.sent, second.unsent, second.parked], [1, 0, 0]);
            assert.deepEqual(later.notes(), ["slow-"]);
        });

        it("lets an operator list, redrive (then sent at once) and discard parked events through the relay's commands", async () => {
            // Prepare: two events parked while EventBridge refused their source.
            await writeEvents(["p1-", "p2-"]);
            await relayOutbox(postgres().serviceDb("shop"), requests({ "p1-": "NotAuthorizedForSourceException", "p2-": "NotAuthorizedForSourceException" }).transport, { eventBusName: "test-bus" });
            const bus = requests();
            const relay = createRelayRunner({ openDatabase: () => postgres().serviceDb("shop"), transport: bus.transport, eventBusName: "test-bus", logger: silent });
            // Act
            const listed = (await relay.handle({ parked: "list" })) as { parked: { eventId: string }[] };
            const [first, second] = listed.parked.map((event) => event.eventId);
            const redriven = (await relay.handle({ parked: "redrive", eventIds: [first] })) as { redriven: number; report: { sent: number; parked: number } };
            const discarded = await relay.handle({ parked: "discard", eventIds: [second] });
            // Assess
            assert.equal(listed.parked.length, 2);
            assert.deepEqual([redriven.redriven, redriven.report.sent, redriven.report.parked], [1, 1, 1]);
            assert.deepEqual(bus.notes(), ["p1-"]);
            assert.deepEqual(discarded, { discarded: 1 });
            assert.deepEqual(await listParked(postgres().serviceDb("shop")), []);
            assert.deepEqual(await postgres().sql("SELECT event_id FROM shop.platform_outbox WHERE sent_at IS NULL"), []);
            // A discard names its events: none is dropped by leaving them out.
            assert.equal(await discardParked(postgres().serviceDb("shop"), []), 0);
            assert.equal(await redriveParked(postgres().serviceDb("shop")), 0);
        });

        it("shows each outbox's unsent and parked events to npm run queues, and lets it unpark them", async () => {
            // Prepare: one event parked, one left unsent by a failed send.
            await writeEvents(["stuck-"]);
            await relayOutbox(postgres().serviceDb("shop"), requests({ "stuck-": "InvalidArgument" }).transport, { eventBusName: "test-bus" });
            await writeEvents(["waiting-"]);
            const admin = createDatabase({ connectionString: postgres().server.url });
            try {
                // Act
                const listing = await describeOutboxes(admin, ["shop", "fulfilment"]);
                const parked = await describeParked(admin, "shop");
                const unparked = await inOutboxOf(admin, "shop", (tx) => redriveParked(tx));
                // Assess
                assert.deepEqual(listing, ["shop/outbox: 1 unsent, 1 parked (npm run queues -- parked shop)", "fulfilment/outbox: 0 unsent, 0 parked"]);
                assert.equal(parked.length, 1);
                assert.match(parked[0], /^stuck--\S+  shop\/order\.noted  \d+ bytes  published \S+  parked \S+  EventBridge refused it: InvalidArgument: refused \(test\)$/);
                assert.equal(unparked, 1);
                assert.deepEqual(await describeOutboxes(admin, ["shop"]), ["shop/outbox: 2 unsent, 0 parked"]);
            } finally {
                await admin.end();
            }
        });

        it("adds the parking columns to an outbox made before them, keeping its rows", async () => {
            // Prepare: the outbox as the first version of the platform made it, with an unsent row.
            await postgres().sql("DROP SCHEMA IF EXISTS legacy_outbox CASCADE; CREATE SCHEMA legacy_outbox");
            const inLegacy = (statement: string) => postgres().sql(`SET search_path TO legacy_outbox; ${statement}`);
            for (const statement of OUTBOX_TABLE_SQL.filter((sql) => !sql.includes("parked_at") && !sql.includes("park_reason"))) await inLegacy(statement);
            await inLegacy("INSERT INTO platform_outbox (event_id, source, detail_type, detail, published_at) VALUES ('old-1', 'shop', 'order.placed', '{}', now())");
            // Act: the migration run's statements, as on every run.
            for (const statement of OUTBOX_TABLE_SQL) await inLegacy(statement);
            // Assess
            const columns = await postgres().sql<{ column_name: string }>("SELECT column_name FROM information_schema.columns WHERE table_schema = 'legacy_outbox' AND table_name = 'platform_outbox' ORDER BY ordinal_position");
            assert.deepEqual(columns.map((c) => c.column_name), ["position", "event_id", "source", "detail_type", "detail", "published_at", "sent_at", "parked_at", "park_reason"]);
            assert.deepEqual(await postgres().sql("SELECT event_id, parked_at FROM legacy_outbox.platform_outbox"), [{ event_id: "old-1", parked_at: null }]);
            await postgres().sql("DROP SCHEMA legacy_outbox CASCADE");
        });
    });

    describe("the outbox write marker (what wakes a relay on an alarm)", () => {
        /**
         * A database whose transactions record, in `timeline`, the moment their work is done and
         * the COMMIT is sent, beside a logger that records the marker lines it writes there too.
         */
        function watched() {
            const timeline: string[] = [];
            const lines: string[] = [];
            const db = postgres().serviceDb("shop");
            const watchedDb: Database = {
                ...db,
                transaction: (work) =>
                    db.transaction(async (tx) => {
                        const result = await work(tx);
                        timeline.push("COMMIT");
                        return result;
                    }),
                withConnectDeadline: () => watchedDb,
            };
            const log = createLogger({
                fields: { service: "shop", route: "POST /orders" },
                write: (line) => {
                    if ((JSON.parse(line) as { message: string }).message === OUTBOX_WRITE_LOG.message) {
                        timeline.push("marker");
                        lines.push(line);
                    }
                },
            });
            const placeOrder = createRouteHandler(shop.routes!["POST /orders"]!.handler as never, {
                service: "shop",
                routeKey: "POST /orders",
                openDatabase: () => watchedDb,
                logger: log,
                events: { catalog: shop.events as EventCatalog, eventBusName: "test-bus", transport: transport().transport },
            });
            return { timeline, lines, placeOrder: (body: object) => placeOrder(httpApiEvent({ routeKey: "POST /orders", body: JSON.stringify(body), headers: { "content-type": "application/json" } })) };
        }
        const committed = async (item: string) => (await postgres().sql<{ n: number }>("SELECT count(*)::int AS n FROM shop.platform_outbox o JOIN shop.orders r ON o.detail LIKE '%' || r.id::text || '%' WHERE r.item = $1", [item]))[0].n;

        it("logs the marker before the COMMIT of a request that wrote events, with the service and how many, and the rows then commit", async () => {
            // Prepare
            const { timeline, lines, placeOrder } = watched();
            // Act: each request's first transaction is its unit of work; the sends after it commit their own.
            const one = await placeOrder({ item: "marker-1" });
            const afterOne = timeline.splice(0);
            const two = await placeOrder({ item: "marker-2", note: "gift wrap" });
            const afterTwo = timeline.splice(0);
            // Assess
            assert.deepEqual([one.statusCode, two.statusCode], [201, 201]);
            for (const steps of [afterOne, afterTwo]) {
                assert.deepEqual(steps.slice(0, 2), ["marker", "COMMIT"], steps.join(", "));
                assert.equal(steps.filter((step) => step === "marker").length, 1);
            }
            assert.deepEqual(
                lines.map((line) => JSON.parse(line)).map((entry) => [entry.level, entry.service, entry[OUTBOX_WRITE_LOG.countField]]),
                [
                    ["INFO", "shop", 1],
                    ["INFO", "shop", 2],
                ],
            );
            assert.deepEqual([await committed("marker-1"), await committed("marker-2")], [1, 2]);
        });

        for (const [item, status] of [["regret-marker", 409], ["refuse-marker", 422]] as const) {
            it(`logs no marker when the handler publishes and then answers ${status}: the unit of work rolls back`, async () => {
                // Prepare
                const { timeline, placeOrder } = watched();
                // Act
                const answer = await placeOrder({ item });
                // Assess
                assert.equal(answer.statusCode, status);
                assert.deepEqual(timeline, []);
            });
        }

        it("logs no marker when a unit of work commits without writing events (a subscription's delivery and its dedupe record)", async () => {
            // Prepare
            const written: string[] = [];
            const ship = createSubscriptionHandler(fulfilment.subscriptions!.ship.handler, {
                service: "fulfilment",
                subscription: "ship",
                event: fulfilment.subscriptions!.ship.event,
                openDatabase: () => postgres().serviceDb("fulfilment"),
                logger: createLogger({ level: "DEBUG", write: (line) => void written.push(line) }),
            });
            const bus = transport();
            await routeCaller(shop, () => postgres().serviceDb("shop"), bus.transport)("POST /orders", order("no-marker"));
            // Act
            const answer = await ship({ Records: [recordOf(bus.sent[0])] });
            // Assess: it committed (a shipment), and logged no marker.
            assert.deepEqual(answer.batchItemFailures, []);
            assert.equal(await shipments("no-marker"), 1);
            assert.ok(written.length > 0, "the consumer logs");
            assert.deepEqual(written.filter((line) => JSON.parse(line).message === OUTBOX_WRITE_LOG.message), []);
        });

        it("is matched by the publishing functions' metric filter exactly as the logger writes it, its Service and count read from the line; the relay's report and a near miss are not", async () => {
            // Prepare
            const { lines, placeOrder } = watched();
            await placeOrder({ item: "filtered", note: "fragile" });
            const [marker] = lines;
            const pattern = outboxWriteFilterPattern();
            const relayReport = JSON.stringify({ timestamp: new Date().toISOString(), level: "INFO", message: RELAY_LOG_MESSAGE, service: "shop", unsent: 0 });
            const nearMiss = marker.replace(`"${OUTBOX_WRITE_LOG.message}"`, `"${OUTBOX_WRITE_LOG.message}!"`);
            // Act, Assess
            assert.equal(matchesFilterPattern(pattern, marker), true);
            assert.equal(selectedField("$.service", marker), "shop");
            assert.equal(selectedField(`$.${OUTBOX_WRITE_LOG.countField}`, marker), 2);
            assert.equal(matchesFilterPattern(pattern, relayReport), false);
            assert.equal(matchesFilterPattern(pattern, nearMiss), false);
            assert.equal(matchesFilterPattern(pattern, `not json ${OUTBOX_WRITE_LOG.message}`), false);
            assert.equal(OUTBOX_RELAY_DEFAULTS.metrics.writes, "OutboxWrites");
        });
    });

    it("decides to connect only when a publishing function ran within the lookback, events were left unsent, or it is asked", () => {
        // Act, Assess
        assert.equal(relayDecision({ producerInvocations: 0, reportedUnsent: 0 }).run, false);
        assert.equal(relayDecision({ producerInvocations: 3, reportedUnsent: 0 }).run, true);
        assert.equal(relayDecision({ producerInvocations: 0, reportedUnsent: 2 }).run, true);
        assert.equal(relayDecision({ producerInvocations: 0, reportedUnsent: 0, force: true }).run, true);
    });

    it("ships 1,000 orders placed by 50 clients through the local bus, queues and workers, a tenth failing their first attempt and a twentieth of the sends lost: 1,000 shipments, none twice", async function () {
        this.timeout(480_000);
        // Prepare
        const registry = resolveRegistry(outboxRegistry, readLocalStackConfig().functionDefaults);
        // The visibility timeout scaled down to the consumer's own timeout, no shorter: a message never
        // comes back while its delivery may still be running (which would spend its attempts on a slow machine).
        const ship = registry.subscriptions.find((subscription) => subscription.service === "fulfilment" && subscription.name === "ship")!;
        const visibilityTimeoutScale = ship.timeoutSeconds / ship.visibilityTimeoutSeconds;
        // The services' sessions kept by earlier tests count in their roles' connection limits, which
        // the workers need whole: the load starts with none of them open, as a fresh runtime does.
        await postgres().sql("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename IN ('shop_app', 'fulfilment_app')");
        const warnings: string[] = [];
        const writeLog = (line: string) => {
            if (/"level":"(WARN|ERROR)"/.test(line) && !line.includes("asked to fail") && warnings.length < 3) warnings.push(line.slice(0, 400));
        };
        const events = await startLocalEvents(registry, { adminUrl: postgres().server.url, serviceDatabaseUrl: postgres().serviceUrl, writeLog, visibilityTimeoutScale, relayIntervalMs: 200 });
        let sends = 0;
        const lossy: EventTransport = {
            async send(entries) {
                if (++sends % 20 === 0) throw new EventPublishError("lost (test)");
                await events.bus.send(entries);
            },
        };
        const items = Array.from({ length: 1000 }, (_, i) => `load-${i}`);
        for (const item of items.filter((_, i) => i % 10 === 0)) shipFailures[item] = 1;
        // Ten route containers, each with its connection, as ten warm Lambda containers.
        const databases = Array.from({ length: 10 }, () => createDatabase({ connectionString: postgres().serviceUrl("shop") }));
        try {
            // Act
            const idle = databases.map((db) => routeCaller(shop, () => db, lossy));
            let next = 0;
            const statuses: number[] = [];
            await Promise.all(
                Array.from({ length: 50 }, async () => {
                    while (next < items.length) {
                        const item = items[next++];
                        while (idle.length === 0) await new Promise((resolve) => setTimeout(resolve, 1));
                        const container = idle.pop()!;
                        statuses.push((await container("POST /orders", order(item))).status);
                        idle.push(container);
                    }
                }),
            );
            // Wait for the condition, not for a time: as long as shipments keep coming (a slow, shared
            // machine), up to a minute without progress, and never past the test's own timeout.
            const stallMs = 60_000;
            const giveUpAt = Date.now() + 360_000;
            let counts: { shipped: number; distinct: number } = { shipped: 0, distinct: 0 };
            let progressAt = Date.now();
            while (Date.now() - progressAt < stallMs && Date.now() < giveUpAt) {
                const [now] = await postgres().sql<{ shipped: number; distinct: number }>("SELECT count(*)::int AS shipped, count(DISTINCT item)::int AS distinct FROM fulfilment.shipments WHERE item LIKE 'load-%'");
                if (now.shipped !== counts.shipped) progressAt = Date.now();
                counts = now;
                if (counts.shipped >= 1000 && (await unsent()) === 0) break;
                await new Promise((resolve) => setTimeout(resolve, 200));
            }
            const pending = await postgres().sql("SELECT queue, count(*)::int AS n FROM platform.local_queue_messages GROUP BY queue");
            // Assess
            assert.deepEqual([...new Set(statuses)], [201]);
            assert.deepEqual(counts, { shipped: 1000, distinct: 1000 }, `still queued: ${JSON.stringify(pending)}; unsent: ${await unsent()}; first warnings: ${warnings.join("\n")}`);
            assert.equal(await unsent(), 0);
            assert.deepEqual(await postgres().sql("SELECT queue FROM platform.local_queue_messages WHERE queue LIKE '%-dlq'"), []);
        } finally {
            await events.stop();
            await Promise.all(databases.map((db) => db.end()));
        }
    });
});
