/**
 * Events in the local runtime, end to end, over the fixture event registry (`accounts` publishes,
 * `ledger` and `mailer` subscribe, `ledger` purges on a schedule): a request's event reaches every
 * subscriber with the request's id; a batch with one failing message retries only that message; a
 * message that keeps failing lands in the dead-letter queue after its attempts, is listed and
 * redriven with the functions `npm run queues` uses; a schedule fires at its time in its time zone,
 * and on demand.
 *
 * The queues keep the cloud's visibility timeouts (six times a consumer's timeout); the tests move
 * the queues' clock past one when a failed message is due again, so no message comes back while
 * its delivery may still run, however slow the machine. How fast an event arrives is measured by
 * `npm run bench:events`, not asserted here.
 */
import * as assert from "node:assert/strict";
import { putEventsEntry } from "../../functions/runtime/queue/event-envelope";
import { findLocalQueue } from "../../local/event-bus";
import { fireSchedule } from "../../local/schedules";
import { describeDeadLetters } from "../../tools/queues";
import { accountEvents, deliveries, eventRegistry, failures } from "../../testing/fixtures/event-services";
import { eventually } from "../../testing/eventually";
import { api, startTestRuntime, type TestRuntime } from "../../testing/local-runtime";

const deliveredTo = (consumer: string, email: string) => deliveries.filter((d) => d.consumer === consumer && d.event?.payload.email === email);

// 03:00 in Berlin on a winter day: the fixture's purge schedule, cron(0 3 * * ? *) Europe/Berlin.
const PURGE_RUN = new Date("2026-12-02T02:00:00Z");

describe("e2e: events in the local runtime", function () {
    this.timeout(60_000);
    let t: TestRuntime;
    let client: ReturnType<typeof api>;
    // The schedules' clock stands 1.5 s before the purge's run when the schedules start (its first reading).
    let clockOffsetMs: number | undefined;
    const scheduleClock = () => new Date(Date.now() + (clockOffsetMs ??= PURGE_RUN.getTime() - Date.now() - 1500));
    // The queues' clock runs with the system's, plus the time the tests let pass at once.
    let queueTimePassedMs = 0;
    const queueClock = () => new Date(Date.now() + queueTimePassedMs);
    /** Ends the visibility timeout of `consumer`'s queue for every message received so far. */
    const endVisibilityTimeout = (consumer: string) => {
        queueTimePassedMs += findLocalQueue(t.runtime.events.queues, consumer)!.consumer.visibilityTimeoutSeconds * 1000 + 1;
    };

    before(async () => {
        t = await startTestRuntime(eventRegistry, { scheduleClock, queueClock });
        client = api(t.url, await t.authHeader());
    });
    after(async () => {
        await t?.stop();
    });

    it("fires a schedule at its time in its time zone, with the run's scheduled time", async () => {
        const run = await eventually(() => deliveries.find((d) => d.consumer === "ledger/purge"), "the 03:00 Berlin purge ran");
        assert.equal(run.run!.scheduledTime, "2026-12-02T02:00:00Z");
        assert.equal(run.run!.attempt, 1);
    });

    it("delivers a published event to every subscriber, with the producing request's id", async () => {
        // Act
        const response = await client.post("/accounts", { email: "ada@example.com" });
        // Assess
        assert.equal(response.status, 201, response.text);
        const [ledger] = await eventually(() => deliveredTo("ledger/opened", "ada@example.com").length === 1 && deliveredTo("ledger/opened", "ada@example.com"), "ledger got it");
        const [mailer] = await eventually(() => deliveredTo("mailer/welcome", "ada@example.com").length === 1 && deliveredTo("mailer/welcome", "ada@example.com"), "mailer got it");
        for (const delivery of [ledger, mailer]) {
            assert.equal(delivery.event!.id, response.json.eventId);
            assert.equal(delivery.requestId, response.headers["x-request-id"]);
            assert.deepEqual([delivery.event!.source, delivery.event!.name, delivery.event!.version, delivery.event!.attempt], ["accounts", "account.opened", 1, 1]);
        }
    });

    it("retries only the failing message of a batch", async () => {
        // Prepare: three events in one PutEvents call, so they reach the queue together; the second fails once.
        const emails = ["b1@example.com", "b2@example.com", "b3@example.com"];
        failures["b2@example.com"] = 1;
        const entries = emails.map((email, index) =>
            putEventsEntry(accountEvents["account.opened"], { accountId: `00000000-0000-4000-8000-00000000000${index}`, email }, { eventId: crypto.randomUUID(), time: new Date(), eventBusName: "local" }),
        );
        const queue = findLocalQueue(t.runtime.events.queues, "ledger/opened")!;
        const inQueue = async () => (await t.runtime.events.store.list(queue.name)).map((message) => JSON.parse(message.body).detail.payload.email as string).filter((email) => emails.includes(email));
        // Act: the batch is handled, and its visibility timeout ends.
        await t.runtime.events.bus.send(entries);
        await eventually(() => deliveredTo("ledger/opened", "b1@example.com").length === 1 && deliveredTo("ledger/opened", "b3@example.com").length === 1, "the others were handled");
        await eventually(async () => failures["b2@example.com"] === 0 && (await inQueue()).join() === "b2@example.com", "only the failed one is left in the queue");
        endVisibilityTimeout("ledger/opened");
        // Assess
        await eventually(() => deliveredTo("ledger/opened", "b2@example.com").length === 1, "the failed one came back");
        assert.deepEqual(
            emails.map((email) => deliveredTo("ledger/opened", email).map((d) => d.event!.attempt)),
            [[1], [2], [1]],
        );
    });

    it("moves a message that fails every attempt to the dead-letter queue, lists it, and redrives it", async () => {
        // Prepare: ledger/opened has 3 attempts.
        failures["poison@example.com"] = 3;
        const queue = findLocalQueue(t.runtime.events.queues, "ledger/opened")!;
        const ownMessage = async (queueName: string) => (await t.runtime.events.store.list(queueName)).find((message) => JSON.parse(message.body).detail.eventId === response.json.eventId);
        // Act: each attempt fails, and its visibility timeout ends; the receive after the third moves it.
        const response = await client.post("/accounts", { email: "poison@example.com" });
        assert.equal(response.status, 201);
        for (let attempt = 1; attempt <= 3; attempt++) {
            await eventually(async () => failures["poison@example.com"] === 3 - attempt && (await ownMessage(queue.name))?.receiveCount === attempt, `attempt ${attempt} failed`);
            endVisibilityTimeout("ledger/opened");
        }
        // Assess: in the dead-letter queue after its three receives, never handled.
        const listed = await eventually(() => ownMessage(queue.deadLetterName), `it reached ${queue.deadLetterName}`);
        assert.equal(listed.receiveCount, 3);
        const lines = (await describeDeadLetters(t.runtime.events.store, queue)).filter((line) => line.startsWith(`${listed.messageId} `));
        assert.equal(lines.length, 1);
        assert.match(lines[0], new RegExp(`^${listed.messageId} .* attempts 3 `));
        assert.equal(deliveredTo("ledger/opened", "poison@example.com").length, 0);
        // Act: the failures are used up; redrive.
        assert.equal(await t.runtime.events.store.redrive(queue.deadLetterName, queue.name, [listed.messageId]), 1);
        // Assess
        const [redriven] = await eventually(() => deliveredTo("ledger/opened", "poison@example.com").length === 1 && deliveredTo("ledger/opened", "poison@example.com"), "redriven");
        assert.equal(redriven.event!.id, response.json.eventId);
        assert.equal(redriven.event!.attempt, 1);
        assert.equal(await ownMessage(queue.deadLetterName), undefined);
    });

    it("fires a schedule on demand (npm run queues -- fire)", async () => {
        // Prepare
        const queue = findLocalQueue(t.runtime.events.queues, "ledger/purge")!;
        const before = deliveries.filter((d) => d.consumer === "ledger/purge").length;
        // Act
        const executionId = await fireSchedule(t.runtime.events.store, queue);
        // Assess
        const run = await eventually(() => deliveries.find((d) => d.consumer === "ledger/purge" && d.run?.executionId === executionId), "the run on demand");
        assert.equal(deliveries.filter((d) => d.consumer === "ledger/purge").length, before + 1);
        assert.equal(run.run!.attempt, 1);
    });
});
