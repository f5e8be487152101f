/**
 * The event handover through a bucket (`events.delivery: bucket-handover`): the transport a
 * publishing database function uses instead of EventBridge, and the forwarder outside the VPC that
 * puts what the bucket holds on the bus. Over an in-memory bucket and a recording EventBridge, each
 * failure forced: no answer, a partly refused request, entries refused for good, a repeated
 * notification, left-overs for the sweep; then the S3 store through the SDK (aws-sdk-client-mock),
 * and which transport a deployed function's environment picks.
 */
import * as assert from "node:assert/strict";
import { DeleteObjectCommand, GetObjectCommand, ListObjectsV2Command, PutObjectCommand, S3Client } from "@aws-sdk/client-s3";
import { EventBridgeClient, PutEventsCommand } from "@aws-sdk/client-eventbridge";
import { mockClient } from "aws-sdk-client-mock";
import { bucketHandoverTransport, createForwarder, HANDOVER_PREFIXES, handoverKey, s3HandoverStore, SWEEP_AFTER_MS, SWEEP_EVERY_MS, type HandoverObject, type HandoverStore } from "../../functions/runtime/outbox/bucket-handover";
import { EventPublishError, type EventTransport } from "../../functions/runtime/outbox/publisher";
import type { PutEventsEntry } from "../../functions/runtime/queue/event-envelope";
import { createLogger } from "../../functions/runtime/logger";
import { lambdaResources } from "../../functions/runtime/entry/lambda";
import { ENVIRONMENT } from "../../functions/runtime/environment";

const silent = createLogger({ write: () => undefined });
// One stand-in per client class for the file: a second mockClient of the same class would take over the first's.
const s3 = mockClient(S3Client);
const eventBridge = mockClient(EventBridgeClient);

/** A bucket in memory: keys to bodies and when each was written. */
function memoryBucket(now: () => Date = () => new Date()) {
    const objects = new Map<string, { body: string; writtenAt: Date }>();
    const state = { failing: false };
    const store: HandoverStore = {
        async put(key, body) {
            if (state.failing) throw new Error("SlowDown (test)");
            objects.set(key, { body, writtenAt: now() });
        },
        async get(key) {
            return objects.get(key)?.body;
        },
        async delete(key) {
            objects.delete(key);
        },
        async listOlderThan(prefix, before) {
            return [...objects].filter(([key, object]) => key.startsWith(prefix) && object.writtenAt < before).map(([key]) => key).sort();
        },
    };
    return { store, objects, state };
}

/** EventBridge as the forwarder sees it: records what it took; `refuse` decides per entry. */
function recordingBus(refuse: (entry: PutEventsEntry, index: number) => string | undefined = () => undefined) {
    const taken: PutEventsEntry[] = [];
    const state = { unreachable: false };
    const transport: EventTransport = {
        async send(entries) {
            if (state.unreachable) throw new EventPublishError("EventBridge did not take the event: no answer (test)");
            const failed = entries.flatMap((entry, index) => {
                const errorCode = refuse(entry, index);
                return errorCode ? [{ index, errorCode, errorMessage: `${errorCode} (test)` }] : [];
            });
            taken.push(...entries.filter((_, index) => !failed.some((failure) => failure.index === index)));
            if (failed.length > 0) throw new EventPublishError(`EventBridge refused ${failed.length} of ${entries.length} event(s)`, undefined, failed);
        },
    };
    return { transport, taken, state };
}

function entry(eventId: string, time = new Date("2026-12-06T10:00:00.000Z")): PutEventsEntry {
    return { EventBusName: "bus", Source: "shop", DetailType: "order.placed", Detail: JSON.stringify({ eventId, version: 1, payload: { item: eventId } }), Time: time };
}

const notification = (...keys: string[]) => ({ Records: keys.map((key) => ({ eventSource: "aws:s3", s3: { bucket: { name: "b" }, object: { key } } })) });
const eventIdsOf = (entries: readonly PutEventsEntry[]) => entries.map((e) => JSON.parse(e.Detail).eventId);

describe("the event handover through a bucket", () => {
    describe("the transport", () => {
        it("writes each batch as one object under pending/, keyed by when it was written and its first event, the entries' times as ISO text", async () => {
            // Prepare
            const bucket = memoryBucket();
            const transport = bucketHandoverTransport(bucket.store, () => new Date("2026-12-06T10:00:01.234Z"));
            // Act
            await transport.send([entry("e1"), entry("e2")]);
            // Assess
            assert.deepEqual([...bucket.objects.keys()], ["pending/2026-12-06T10:00:01.234Z-e1.json"]);
            const written = JSON.parse(bucket.objects.get("pending/2026-12-06T10:00:01.234Z-e1.json")!.body) as HandoverObject;
            assert.deepEqual(written.entries.map((e) => [JSON.parse(e.Detail).eventId, e.Time, e.Source, e.DetailType, e.EventBusName]), [
                ["e1", "2026-12-06T10:00:00.000Z", "shop", "order.placed", "bus"],
                ["e2", "2026-12-06T10:00:00.000Z", "shop", "order.placed", "bus"],
            ]);
        });

        it("fails with an EventPublishError when the bucket does not take the batch, so the outbox keeps its rows for the relay", async () => {
            const bucket = memoryBucket();
            bucket.state.failing = true;
            await assert.rejects(bucketHandoverTransport(bucket.store).send([entry("e1")]), (error: Error) => error.name === "EventPublishError" && /The event bucket did not take the events: SlowDown/.test(error.message));
            assert.equal(bucket.objects.size, 0);
        });

        it("keys later batches after earlier ones", () => {
            assert.ok(handoverKey([entry("z")], new Date("2026-12-06T10:00:00.000Z")) < handoverKey([entry("a")], new Date("2026-12-06T10:00:00.001Z")));
        });
    });

    describe("the forwarder", () => {
        it("puts the objects a notification names on the bus, times as dates, then deletes them", async () => {
            // Prepare
            const bucket = memoryBucket();
            const bus = recordingBus();
            await bucketHandoverTransport(bucket.store).send([entry("e1"), entry("e2")]);
            const [key] = bucket.objects.keys();
            // Act
            const report = await createForwarder({ store: bucket.store, transport: bus.transport, logger: silent })(notification(key));
            // Assess
            assert.deepEqual(report, { forwarded: 1, gone: 0, refused: 0, failed: [] });
            assert.deepEqual(eventIdsOf(bus.taken), ["e1", "e2"]);
            assert.ok(bus.taken.every((taken) => taken.Time instanceof Date && taken.Time.toISOString() === "2026-12-06T10:00:00.000Z"));
            assert.equal(bucket.objects.size, 0);
        });

        it("tells what a run leaves in the bucket, so that the wake alarm brings it back, and nothing when all went", async () => {
            // Prepare
            const bucket = memoryBucket();
            const bus = recordingBus();
            const leftOver: number[] = [];
            const forward = createForwarder({ store: bucket.store, transport: bus.transport, logger: silent, onLeftOver: (objects) => leftOver.push(objects) });
            await bucketHandoverTransport(bucket.store).send([entry("e1")]);
            const [key] = bucket.objects.keys();
            // Act
            bus.state.unreachable = true;
            await assert.rejects(forward(notification(key)));
            bus.state.unreachable = false;
            await forward(notification(key));
            // Assess
            assert.deepEqual(leftOver, [1]);
        });

        it("counts an object already gone (a repeated notification) and sends nothing again", async () => {
            const bucket = memoryBucket();
            const bus = recordingBus();
            const report = await createForwarder({ store: bucket.store, transport: bus.transport, logger: silent })(notification("pending/2026-12-06T10:00:00.000Z-e1.json"));
            assert.deepEqual(report, { forwarded: 0, gone: 1, refused: 0, failed: [] });
            assert.deepEqual(bus.taken, []);
        });

        it("keeps an object EventBridge did not answer for, and fails the run so that Lambda retries it", async () => {
            // Prepare
            const bucket = memoryBucket();
            const bus = recordingBus();
            bus.state.unreachable = true;
            await bucketHandoverTransport(bucket.store).send([entry("e1")]);
            const [key] = bucket.objects.keys();
            const forward = createForwarder({ store: bucket.store, transport: bus.transport, logger: silent });
            // Act and assess
            await assert.rejects(forward(notification(key)), /1 object\(s\) stay pending: pending\/.*no answer/);
            assert.deepEqual([...bucket.objects.keys()], [key]);
            bus.state.unreachable = false;
            assert.deepEqual(await forward(notification(key)), { forwarded: 1, gone: 0, refused: 0, failed: [] });
            assert.deepEqual(eventIdsOf(bus.taken), ["e1"]);
        });

        it("keeps only the entries EventBridge throttled when it took the others, so a retry sends no event twice", async () => {
            // Prepare: the first request throttles e2 only.
            const bucket = memoryBucket();
            let throttle = true;
            const bus = recordingBus((taken) => (throttle && JSON.parse(taken.Detail).eventId === "e2" ? "ThrottlingException" : undefined));
            await bucketHandoverTransport(bucket.store).send([entry("e1"), entry("e2"), entry("e3")]);
            const [key] = bucket.objects.keys();
            const forward = createForwarder({ store: bucket.store, transport: bus.transport, logger: silent });
            // Act
            await assert.rejects(forward(notification(key)), /stay pending/);
            const left = JSON.parse(bucket.objects.get(key)!.body) as HandoverObject;
            throttle = false;
            await forward(notification(key));
            // Assess
            assert.deepEqual(left.entries.map((e) => JSON.parse(e.Detail).eventId), ["e2"]);
            assert.deepEqual(eventIdsOf(bus.taken), ["e1", "e3", "e2"]);
            assert.equal(bucket.objects.size, 0);
        });

        it("moves entries EventBridge refuses for good to refused/ with the reason, for an operator, and sends the rest", async () => {
            // Prepare
            const bucket = memoryBucket();
            const logged: string[] = [];
            const bus = recordingBus((taken) => (JSON.parse(taken.Detail).eventId === "bad" ? "InvalidArgument" : undefined));
            await bucketHandoverTransport(bucket.store).send([entry("good"), entry("bad")]);
            const [key] = bucket.objects.keys();
            // Act
            const report = await createForwarder({ store: bucket.store, transport: bus.transport, logger: createLogger({ write: (line) => logged.push(line) }) })(notification(key));
            // Assess
            assert.deepEqual(report, { forwarded: 0, gone: 0, refused: 1, failed: [] });
            assert.deepEqual(eventIdsOf(bus.taken), ["good"]);
            const refusedKey = `${HANDOVER_PREFIXES.refused}${key.slice(HANDOVER_PREFIXES.pending.length)}`;
            assert.deepEqual([...bucket.objects.keys()], [refusedKey]);
            const refused = JSON.parse(bucket.objects.get(refusedKey)!.body) as HandoverObject;
            assert.deepEqual([refused.entries.map((e) => JSON.parse(e.Detail).eventId), refused.refused], [["bad"], ["InvalidArgument: InvalidArgument (test)"]]);
            assert.ok(logged.some((line) => /"level":"ERROR".*refused by EventBridge/.test(line)));
        });

        it("sweeps left-overs older than the sweep age, oldest first, when woken without a notification (an alarm's state change), and leaves younger ones to their own runs", async () => {
            // Prepare: two old objects the notifications' runs and retries gave up on, one just written.
            let clock = new Date("2026-12-06T10:00:00.000Z");
            const bucket = memoryBucket(() => clock);
            const bus = recordingBus();
            const transport = bucketHandoverTransport(bucket.store, () => clock);
            await transport.send([entry("old-1")]);
            clock = new Date(clock.getTime() + 1);
            await transport.send([entry("old-2")]);
            clock = new Date(clock.getTime() + SWEEP_AFTER_MS);
            await transport.send([entry("young")]);
            // One millisecond on, old-2 is just past the sweep age, and young is not.
            const forward = createForwarder({ store: bucket.store, transport: bus.transport, logger: silent, now: () => new Date(clock.getTime() + 1) });
            // Act: a wake-up (an alarm's state change) carries no notification.
            const report = await forward({ "detail-type": "CloudWatch Alarm State Change" });
            // Assess
            assert.deepEqual(report, { forwarded: 2, gone: 0, refused: 0, failed: [] });
            assert.deepEqual(eventIdsOf(bus.taken), ["old-1", "old-2"]);
            assert.equal([...bucket.objects.keys()].length, 1);
        });

        it("sweeps on a notification too, at most once per sweep interval of its execution environment (each sweep is a billed list)", async () => {
            // Prepare: a left-over old enough, and a bucket that counts its lists.
            let clock = new Date("2026-12-06T10:00:00.000Z");
            const bucket = memoryBucket(() => clock);
            let lists = 0;
            const counting: HandoverStore = { ...bucket.store, listOlderThan: (prefix, before) => (lists++, bucket.store.listOlderThan(prefix, before)) };
            const bus = recordingBus();
            await bucketHandoverTransport(bucket.store, () => clock).send([entry("left-over")]);
            clock = new Date(clock.getTime() + SWEEP_AFTER_MS + 1);
            const forward = createForwarder({ store: counting, transport: bus.transport, logger: silent, now: () => clock });
            const fresh = async (eventId: string) => {
                await bucketHandoverTransport(bucket.store, () => clock).send([entry(eventId)]);
                return notification(handoverKey([entry(eventId)], clock));
            };
            // Act: three notifications, the last one a sweep interval after the first.
            await forward(await fresh("a"));
            clock = new Date(clock.getTime() + 1_000);
            await forward(await fresh("b"));
            clock = new Date(clock.getTime() + SWEEP_EVERY_MS);
            await forward(await fresh("c"));
            // Assess
            assert.equal(lists, 2);
            assert.deepEqual(eventIdsOf(bus.taken), ["a", "left-over", "b", "c"]);
            assert.equal(bucket.objects.size, 0);
        });

        it("decodes the keys a notification carries URL-encoded and ignores keys outside pending/", async () => {
            // Prepare
            const bucket = memoryBucket();
            const bus = recordingBus();
            await bucket.store.put("pending/2026-12-06T10:00:00.000Z-a b.json", JSON.stringify({ entries: [{ ...entry("spaced"), Time: "2026-12-06T10:00:00.000Z" }] }));
            await bucket.store.put("refused/x.json", JSON.stringify({ entries: [{ ...entry("refused"), Time: "2026-12-06T10:00:00.000Z" }] }));
            // Act
            const report = await createForwarder({ store: bucket.store, transport: bus.transport, logger: silent })(notification("pending/2026-12-06T10%3A00%3A00.000Z-a+b.json", "refused/x.json"));
            // Assess
            assert.deepEqual(report, { forwarded: 1, gone: 0, refused: 0, failed: [] });
            assert.deepEqual(eventIdsOf(bus.taken), ["spaced"]);
            assert.deepEqual([...bucket.objects.keys()], ["refused/x.json"]);
        });
    });

    describe("the bucket through S3's SDK", () => {
        afterEach(() => s3.reset());
        /** A body as the SDK hands it over: a stream with `transformToString`. */
        const body = (text: string) => ({ transformToString: async () => text });

        it("puts JSON, reads an object back, answers undefined for a missing key and deletes, all in the named bucket", async () => {
            // Prepare
            s3.on(PutObjectCommand).resolves({});
            s3.on(GetObjectCommand, { Key: "pending/a.json" }).resolves({ Body: body('{"entries":[]}') } as never);
            s3.on(GetObjectCommand, { Key: "pending/gone.json" }).rejects(Object.assign(new Error("The specified key does not exist."), { name: "NoSuchKey" }));
            s3.on(DeleteObjectCommand).resolves({});
            const store = s3HandoverStore("events-bucket");
            // Act
            await store.put("pending/a.json", '{"entries":[]}');
            const read = await store.get("pending/a.json");
            const missing = await store.get("pending/gone.json");
            await store.delete("pending/a.json");
            // Assess
            assert.deepEqual([read, missing], ['{"entries":[]}', undefined]);
            assert.deepEqual(s3.commandCalls(PutObjectCommand)[0].args[0].input, { Bucket: "events-bucket", Key: "pending/a.json", Body: '{"entries":[]}', ContentType: "application/json" });
            assert.deepEqual(s3.commandCalls(DeleteObjectCommand)[0].args[0].input, { Bucket: "events-bucket", Key: "pending/a.json" });
        });

        it("passes on any other error of a read, so that the object stays for a retry", async () => {
            s3.on(GetObjectCommand).rejects(Object.assign(new Error("Access Denied"), { name: "AccessDenied" }));
            await assert.rejects(s3HandoverStore("events-bucket").get("pending/a.json"), /Access Denied/);
        });

        it("lists every page under the prefix, keeps the objects written before the cut-off and sorts them", async () => {
            // Prepare
            s3.on(ListObjectsV2Command, { ContinuationToken: undefined }).resolves({
                IsTruncated: true,
                NextContinuationToken: "page-2",
                Contents: [
                    { Key: "pending/2.json", LastModified: new Date("2026-12-06T10:00:00Z") },
                    { Key: "pending/3.json", LastModified: new Date("2026-12-06T10:10:00Z") },
                ],
            });
            s3.on(ListObjectsV2Command, { ContinuationToken: "page-2" }).resolves({ IsTruncated: false, Contents: [{ Key: "pending/1.json", LastModified: new Date("2026-12-06T09:00:00Z") }] });
            // Act
            const keys = await s3HandoverStore("events-bucket").listOlderThan("pending/", new Date("2026-12-06T10:05:00Z"));
            // Assess
            assert.deepEqual(keys, ["pending/1.json", "pending/2.json"]);
            assert.deepEqual(
                s3.commandCalls(ListObjectsV2Command).map((call) => call.args[0].input),
                [
                    { Bucket: "events-bucket", Prefix: "pending/", ContinuationToken: undefined },
                    { Bucket: "events-bucket", Prefix: "pending/", ContinuationToken: "page-2" },
                ],
            );
        });
    });

    describe("a deployed database function's transport", () => {
        const saved = { ...process.env };
        afterEach(() => {
            s3.reset();
            eventBridge.reset();
            for (const name of [ENVIRONMENT.eventHandoverBucket, ENVIRONMENT.eventBusName]) {
                if (saved[name] === undefined) delete process.env[name];
                else process.env[name] = saved[name];
            }
        });

        it("hands its events to the bucket its environment names, and calls EventBridge when it names none", async () => {
            // Prepare
            s3.on(PutObjectCommand).resolves({});
            eventBridge.on(PutEventsCommand).resolves({ FailedEntryCount: 0, Entries: [{ EventId: "x" }] });
            process.env[ENVIRONMENT.eventBusName] = "bus";
            const provider = lambdaResources({ database: true, publishes: true });
            // Act
            process.env[ENVIRONMENT.eventHandoverBucket] = "users-events-bucket-1a2b3c4";
            await provider().eventBus!.transport.send([entry("through-the-bucket")]);
            delete process.env[ENVIRONMENT.eventHandoverBucket];
            await provider().eventBus!.transport.send([entry("through-the-endpoint")]);
            // Assess
            assert.deepEqual(s3.commandCalls(PutObjectCommand).map((call) => call.args[0].input.Bucket), ["users-events-bucket-1a2b3c4"]);
            assert.match(String(s3.commandCalls(PutObjectCommand)[0].args[0].input.Body), /through-the-bucket/);
            assert.deepEqual(eventBridge.commandCalls(PutEventsCommand).map((call) => JSON.parse(call.args[0].input.Entries![0].Detail!).eventId), ["through-the-endpoint"]);
        });
    });
});
