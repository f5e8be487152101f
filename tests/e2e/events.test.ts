/**
 * Events in the local runtime, end to end, over the fixture event registry (`accounts` publishes,
 * `ledger` and `mailer` subscribe, `ledger` purges on a schedule): a request's event reaches every
 * subscriber with the request's id; a batch with one failing message retries only that message; a
 * message that keeps failing lands in the dead-letter queue after its attempts, is listed and
 * redriven with the functions `npm run queues` uses; a schedule fires at its time in its time zone,
 * and on demand.
 */
import * as assert from "node:assert/strict";
import { putEventsEntry } from "../../functions/runtime/event-envelope";
import { findLocalQueue } from "../../local/event-bus";
import { fireSchedule } from "../../local/schedules";
import { describeDeadLetters } from "../../tools/queues";
import { accountEvents, deliveries, eventRegistry, failures } from "../fixtures/event-services";
import { api, startTestRuntime, type TestRuntime } from "./support";

/** Resolves once `check` holds, polling every 10 ms; rejects after `ms`. */
async function eventually<T>(check: () => T | undefined | false, ms: number, what: string): Promise<T> {
    const deadline = Date.now() + ms;
    for (;;) {
        const value = check();
        if (value) return value;
        if (Date.now() > deadline) throw new Error(`not within ${ms} ms: ${what}`);
        await new Promise((resolve) => setTimeout(resolve, 10));
    }
}

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

    before(async () => {
        // 360 s (6 x the consumer's 60 s) becomes 36 ms: retries within the test.
        t = await startTestRuntime(eventRegistry, { visibilityTimeoutScale: 0.0001, scheduleClock });
        client = api(t.url, await t.authHeader());
    });
    after(async () => {
        await t?.stop();
    });

    it("fires a schedule at its time in its time zone, with the run's scheduled time", async () => {
        const run = await eventually(() => deliveries.find((d) => d.consumer === "ledger/purge"), 10_000, "the 03:00 Berlin purge ran");
        assert.equal(run.run!.scheduledTime, "2026-12-02T02:00:00Z");
        assert.equal(run.run!.attempt, 1);
    });

    it("delivers a published event to every subscriber within a second, with the producing request's id", async () => {
        // Act
        const started = Date.now();
        const response = await client.post("/accounts", { email: "ada@example.com" });
        // Assess
        assert.equal(response.status, 201, response.text);
        const [ledger] = await eventually(() => deliveredTo("ledger/opened", "ada@example.com").length === 1 && deliveredTo("ledger/opened", "ada@example.com"), 1000, "ledger got it");
        const [mailer] = await eventually(() => deliveredTo("mailer/welcome", "ada@example.com").length === 1 && deliveredTo("mailer/welcome", "ada@example.com"), 1000, "mailer got it");
        assert.ok(Date.now() - started < 1000);
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
        // Act
        await t.runtime.events.bus.send(entries);
        // Assess
        await eventually(() => deliveredTo("ledger/opened", "b2@example.com").length === 1, 5000, "the failed one came back");
        assert.deepEqual(
            emails.map((email) => deliveredTo("ledger/opened", email).map((d) => d.event!.attempt)),
            [[1], [2], [1]],
        );
    });

    it("moves a message that fails every attempt to the dead-letter queue, lists it, and redrives it", async () => {
        // Prepare: ledger/opened has 3 attempts.
        failures["poison@example.com"] = 3;
        const queue = findLocalQueue(t.runtime.events.queues, "ledger/opened")!;
        // Act
        const response = await client.post("/accounts", { email: "poison@example.com" });
        assert.equal(response.status, 201);
        // Assess: in the dead-letter queue after its three receives, never handled.
        const listed = await waitForDeadLetter(t, queue.deadLetterName);
        assert.equal(listed.receiveCount, 3);
        assert.equal(JSON.parse(listed.body).detail.eventId, response.json.eventId);
        const lines = await describeDeadLetters(t.runtime.events.store, queue);
        assert.equal(lines.length, 1);
        assert.match(lines[0], new RegExp(`^${listed.messageId} .* attempts 3 `));
        assert.equal(deliveredTo("ledger/opened", "poison@example.com").length, 0);
        // Act: the failures are used up; redrive.
        assert.equal(await t.runtime.events.store.redrive(queue.deadLetterName, queue.name), 1);
        // Assess
        const [redriven] = await eventually(() => deliveredTo("ledger/opened", "poison@example.com").length === 1 && deliveredTo("ledger/opened", "poison@example.com"), 5000, "redriven");
        assert.equal(redriven.event!.id, response.json.eventId);
        assert.equal(redriven.event!.attempt, 1);
        assert.deepEqual(await t.runtime.events.store.list(queue.deadLetterName), []);
    });

    it("fires a schedule on demand (npm run queues -- fire)", async () => {
        // Prepare
        const queue = findLocalQueue(t.runtime.events.queues, "ledger/purge")!;
        const before = deliveries.filter((d) => d.consumer === "ledger/purge").length;
        // Act
        const executionId = await fireSchedule(t.runtime.events.store, queue);
        // Assess
        const run = await eventually(() => deliveries.find((d) => d.consumer === "ledger/purge" && d.run?.executionId === executionId), 1000, "the run on demand");
        assert.equal(deliveries.filter((d) => d.consumer === "ledger/purge").length, before + 1);
        assert.equal(run.run!.attempt, 1);
    });
});

async function waitForDeadLetter(t: TestRuntime, deadLetterQueue: string) {
    const deadline = Date.now() + 10_000;
    for (;;) {
        const [message] = await t.runtime.events.store.list(deadLetterQueue);
        if (message) return message;
        if (Date.now() > deadline) throw new Error(`nothing reached ${deadLetterQueue} within 10 s`);
        await new Promise((resolve) => setTimeout(resolve, 20));
    }
}
