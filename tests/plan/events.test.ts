/**
 * The plan's events over the fixture event registry (`accounts` publishes, `ledger` and `mailer`
 * subscribe, `ledger` purges on a schedule): each flow from its producer to its subscribers and
 * each schedule with the settings that deploy; the cost per million events per subscriber and in
 * total, and per million runs, worked out here from the price table; the idle polling; `--json`
 * and `--compare`. What the plan must list is derived from the registry's resolution, and what it
 * lists is read from the resources, so each test fails if the plan stopped reading them.
 */
import { strict as assert } from "assert";
import * as fs from "node:fs";
import * as path from "node:path";
import { consumerTriggerLabel, consumerTriggerOf } from "../../functions/runtime/queue/trigger-label";
import { eventLabel } from "../../functions/runtime/events";
import { EVENT_DELIVERY_RETRY } from "../../infra/components/queue-subscription";
import { CONSUMER_QUEUE_DEFAULTS } from "../../infra/components/consumer-queue";
import { EVENT_FORWARDER_DEFAULTS } from "../../infra/components/event-handover";
import { parseStackConfig } from "../../platform/config/stack-config";
import { resolveRegistry } from "../../platform/registry/resolution";
import { publishesThroughOutbox } from "../../platform/triggers/outbox-relay";
import { type ResolvedQueueConsumer } from "../../platform/model";
import { SQS, SQS_EVENT_SOURCE_POLLING } from "../../policy/lib/limits";
import { Types } from "../../policy/lib/types";
import { main } from "../../tools/plan";
import { readStackConfig, REPOSITORY_ROOT, runProgramOffline } from "../../tools/offline";
import { type RegisteredResource } from "../../tools/registered-resource";
import { DEFAULT_ASSUMPTIONS, usd } from "../../tools/plan/cost";
import { batchingCost, type BatchingCost } from "../../tools/plan/event-cost";
import { eventFlows, patternEvents, plannedSchedules } from "../../tools/plan/events";
import { compare, planStack, type StackPlan } from "../../tools/plan/model";
import { formatComparison } from "../../tools/plan/render";
import { HOURS_PER_MONTH, PRICES } from "../../tools/plan/pricing";
import { fixtureServices } from "../../testing/fixtures";
import { eventRegistry } from "../../testing/fixtures/event-services";

const MILLION = 1_000_000;
const STACKS = ["dev", "prod"] as const;

/** The registry resolved for a stack, as the program resolves it. */
function resolvedFor(stack: string) {
    return resolveRegistry(eventRegistry, parseStackConfig(stack, readStackConfig(stack)).functionDefaults);
}

/** What a million messages must cost a consumer at `perBatch` messages a batch, from the price table (events of 1 KB: one chunk). */
function expectedBatching(consumer: ResolvedQueueConsumer, perBatch: number) {
    const batches = MILLION / perBatch;
    const requestsPerBatch = Math.ceil(perBatch / 10);
    const sqsRequests = MILLION + 2 * batches * requestsPerBatch; // a send per event; a receive and a delete per 10 of a batch
    const lambdaRequests = batches * PRICES.lambda.perRequest;
    const lambdaCompute = batches * (consumer.memoryMb / 1024) * (DEFAULT_ASSUMPTIONS.averageDurationMs / 1000) * PRICES.lambda.perGbSecond.arm64;
    const sqs = sqsRequests * PRICES.sqs.perRequest;
    return { sqsRequests, sqs, lambdaRequests, lambdaCompute, delivery: sqs + lambdaRequests + lambdaCompute };
}

function near(actual: number, expected: number, what: string): void {
    assert.ok(Math.abs(actual - expected) < 1e-9, `${what}: ${actual} != ${expected}`);
}

function assertBatching(actual: BatchingCost, expected: ReturnType<typeof expectedBatching>, what: string): void {
    assert.equal(actual.sqsRequests.send + actual.sqsRequests.receive + actual.sqsRequests.delete, expected.sqsRequests, `${what} SQS requests`);
    near(actual.sqs, expected.sqs, `${what} SQS`);
    near(actual.lambdaRequests, expected.lambdaRequests, `${what} Lambda requests`);
    near(actual.lambdaCompute, expected.lambdaCompute, `${what} Lambda compute`);
    near(actual.delivery, expected.delivery, `${what} delivery`);
}

async function run(argv: string[]): Promise<{ code: number; out: string; err: string }> {
    let out = "";
    let err = "";
    const code = await main(argv, { out: (t) => (out += `${t}\n`), err: (t) => (err += `${t}\n`), typeCheck: false, services: eventRegistry });
    return { code, out, err };
}

describe("plan: events, schedules and their cost", function () {
    this.timeout(180_000);
    const plans = new Map<string, StackPlan>();
    let devText = "";
    before(async () => {
        for (const stack of STACKS) plans.set(stack, await planStack({ stack, services: eventRegistry }));
        const text = await run(["--stack", "dev"]);
        assert.equal(text.code, 0, text.out + text.err);
        devText = text.out;
    });

    for (const stack of STACKS) {
        it(`${stack}: lists each event from its producer to every subscriber, with its queue, batch, attempts, concurrency, timeouts and dead-letter queue`, () => {
            // Prepare
            const plan = plans.get(stack)!;
            const expected = resolvedFor(stack).subscriptions;
            // Act
            const listed = plan.events.flows.flatMap((flow) => flow.subscribers.map((s) => ({ flow, s })));
            // Assess
            assert.deepEqual(plan.events.buses, [`serverless-microservices-${stack}`]);
            assert.equal(listed.length, expected.length);
            for (const subscription of expected) {
                const name = `${subscription.service}-subscription-${subscription.name}`;
                const found = listed.filter(({ flow, s }) => `${flow.producer}/${flow.event} v${flow.version}` === eventLabel(subscription.event) && s.subscription === subscription.name && s.service === subscription.service);
                assert.equal(found.length, 1, `${subscription.service}/${subscription.name}`);
                const { flow, s } = found[0];
                assert.equal(flow.bus, `serverless-microservices-${stack}`);
                assert.deepEqual(
                    [s.rule, s.queue, s.batchSize, s.maxReceiveCount, s.maxConcurrency, s.timeoutSeconds, s.memoryMb, s.visibilityTimeoutSeconds, s.deadLetterQueue, s.deadLetterRetentionSeconds, s.reportsBatchItemFailures],
                    [name, name, subscription.batchSize, subscription.maxAttempts, subscription.maxConcurrency, subscription.timeoutSeconds, subscription.memoryMb, subscription.visibilityTimeoutSeconds, `${name}-dlq`, CONSUMER_QUEUE_DEFAULTS.deadLetterRetentionSeconds, true],
                );
                assert.deepEqual(s.delivery, { maximumRetryAttempts: EVENT_DELIVERY_RETRY.maximumRetryAttempts, maximumEventAgeSeconds: EVENT_DELIVERY_RETRY.maximumEventAgeInSeconds, deadLetterQueue: `${name}-dlq` });
            }
        });

        it(`${stack}: lists each schedule with its expression, time zone, target queue, retries, dead-letter queue and consumer`, () => {
            const plan = plans.get(stack)!;
            const expected = resolvedFor(stack).schedules;
            // Besides the registry's schedules: each outbox's check where relays are checked every minute, straight at its function's live alias.
            const checked = parseStackConfig(stack, readStackConfig(stack)).events.relayWake === "every-minute";
            const checks = checked ? resolvedFor(stack).services.filter(publishesThroughOutbox).map((service) => `${service.name}-outbox-relay-check`) : [];
            assert.equal(plan.events.schedules.length, expected.length + checks.length);
            for (const name of checks) {
                const check = plan.events.schedules.find((listed) => listed.name === name);
                // Its target is the check's live alias, never the unqualified function ($LATEST).
                assert.deepEqual([check?.expression, check?.queue, String(check?.target).split(":").at(-2)?.startsWith(`${name}-`), String(check?.target).split(":").at(-1)], ["rate(1 minute)", undefined, true, "live"], name);
            }
            for (const schedule of expected) {
                const name = `${schedule.service}-schedule-${schedule.name}`;
                const s = plan.events.schedules.find((listed) => listed.name === name);
                assert.ok(s, name);
                assert.deepEqual(
                    [s.schedule, s.service, s.expression, s.timeZone, s.queue, s.maxReceiveCount, s.deadLetterQueue, s.functionName, s.timeoutSeconds, s.memoryMb, s.batchSize],
                    [schedule.name, schedule.service, schedule.expression, schedule.timeZone, name, schedule.retries + 1, `${name}-dlq`, name, schedule.timeoutSeconds, schedule.memoryMb, 1],
                );
                assert.deepEqual(s.delivery, { maximumRetryAttempts: EVENT_DELIVERY_RETRY.maximumRetryAttempts, maximumEventAgeSeconds: EVENT_DELIVERY_RETRY.maximumEventAgeInSeconds, deadLetterQueue: `${name}-dlq` });
            }
        });
    }

    it("prices the event fixture's outbox relays: dev's woken by an alarm (its metrics, no GetMetricData) and prod's checked every minute, and says how long a left-over event waits in each", () => {
        // Prepare
        const items = (plan: StackPlan) => plan.cost.idle.lines.map((l) => l.item);
        const [dev, prod] = [plans.get("dev")!, plans.get("prod")!];
        const wake = dev.cost.idle.lines.find((l) => l.item === "Outbox wake alarms: alarm metrics");
        // Assess: the stack files choose the modes.
        assert.deepEqual([parseStackConfig("dev", readStackConfig("dev")).events.relayWake, parseStackConfig("prod", readStackConfig("prod")).events.relayWake], ["on-alarm", "every-minute"]);
        assert.ok(wake, items(dev).join(", "));
        assert.equal(wake.quantity % 2, 0, "two metrics per wake alarm: the outbox writes and the relay's backlog");
        assert.ok(wake.quantity > 0);
        assert.equal(Math.round(wake.amount * 100) / 100, Math.round(wake.quantity * 0.1 * 100) / 100, "$0.10 per alarm metric a month");
        assert.deepEqual(items(dev).filter((item) => item.startsWith("Outbox checks")), []);
        assert.ok(items(prod).includes("Outbox checks: CloudWatch GetMetricData"));
        assert.deepEqual(items(prod).filter((item) => item.startsWith("Outbox wake")), []);
        assert.match(devText, /^Note: Outbox relays woken by an alarm \(events\.relayWake on-alarm\): an event a request left unsent .* waits for the alarm's return to OK, \d+(-\d+)? period\(s\) of 60 s after the service's last write.*minutes, not seconds/m);
        assert.ok(!dev.cost.notes.some((note) => /checked every minute/.test(note)));
        assert.ok(prod.cost.notes.some((note) => /checked every minute .* waits about a minute/.test(note)));
    });

    it("keeps AWS's own events out of the stack's event flows: the alarm state changes that wake dev's outbox relays are no event of a service", () => {
        // Prepare: dev wakes its relays on an alarm, through a rule on the default bus.
        const plan = plans.get("dev")!;
        assert.equal(parseStackConfig("dev", readStackConfig("dev")).events.relayWake, "on-alarm");
        // Assess
        assert.deepEqual(plan.events.flows.filter((flow) => flow.producer.startsWith("aws.")), []);
        assert.deepEqual(plan.events.flows.flatMap((flow) => flow.subscribers).filter((subscriber) => /outbox-relay-wake/.test(subscriber.rule)), []);
        assert.ok(plan.events.flows.length > 0, "the services' own flows are still listed");
    });

    it("prints the flows and the schedules in the text plan", () => {
        assert.match(devText, /^EVENTS \(bus serverless-microservices-dev\)$/m);
        for (const subscription of resolvedFor("dev").subscriptions) {
            const name = `${subscription.service}-subscription-${subscription.name}`;
            assert.match(devText, new RegExp(`^ {2}${eventLabel(subscription.event)}: \\d subscribers?$`, "m"));
            assert.match(
                devText,
                new RegExp(`^ {4}${subscription.service}/${subscription.name}\\s+${name}\\s+${subscription.batchSize}\\s+${subscription.maxAttempts}\\s+${subscription.maxConcurrency}\\s+${name} \\(${subscription.memoryMb} MB, ${subscription.timeoutSeconds} s\\)\\s+${subscription.visibilityTimeoutSeconds} s\\s+${name}-dlq \\(14 d\\)\\s+185 retries over 24 h, then ${name}-dlq$`, "m"),
                name,
            );
        }
        for (const schedule of resolvedFor("dev").schedules) {
            const expression = schedule.expression.replace(/[()*?]/g, "\\$&");
            assert.match(devText, new RegExp(`^ {2}${schedule.service}/${schedule.name}\\s+${expression}\\s+${schedule.timeZone}\\s+${schedule.service}-schedule-${schedule.name}\\s+1\\s+${schedule.retries + 1}\\s`, "m"));
        }
    });

    it("reads the flows from the resources: a rule without its target has no subscriber, a queue without its mapping no consumer", async () => {
        // Prepare: the dev run without the mailer's target, and without the ledger's opened mapping.
        const { resources } = await runProgramOffline({ stack: "dev", services: eventRegistry });
        const without = resources.filter(
            (r) => !(r.type === Types.eventTarget && r.name === "mailer-subscription-welcome") && !(r.type === Types.lambdaEventSourceMapping && r.name === "ledger-subscription-opened"),
        );
        // Act
        const opened = eventFlows(without).find((flow) => flow.event === "account.opened")!;
        // Assess
        assert.deepEqual(opened.subscribers.map((s) => s.rule), ["ledger-subscription-opened"]);
        assert.deepEqual([opened.subscribers[0].queue, opened.subscribers[0].batchSize, opened.subscribers[0].functionName], ["ledger-subscription-opened", undefined, undefined]);
    });

    it("follows a schedule's target by its ARN, and takes AWS's defaults for a time zone and retry policy left out", async () => {
        // Prepare
        const { resources } = await runProgramOffline({ stack: "dev", services: eventRegistry });
        const edited = resources.map((r): RegisteredResource => {
            if (r.type !== Types.schedulerSchedule) return r;
            const { scheduleExpressionTimezone: _zone, ...inputs } = r.inputs;
            const { retryPolicy: _retry, deadLetterConfig: _dlq, ...target } = inputs.target;
            return { ...r, inputs: { ...inputs, target }, outputs: { ...inputs, target } };
        });
        // Act
        const [schedule] = plannedSchedules(edited);
        // Assess
        assert.deepEqual([schedule.timeZone, schedule.queue, schedule.delivery], ["UTC", "ledger-schedule-purge", { maximumRetryAttempts: 185, maximumEventAgeSeconds: 86_400 }]);
    });

    it("reads every event a pattern matches, and none from a pattern that is not JSON", () => {
        assert.deepEqual(patternEvents(JSON.stringify({ source: ["a", "b"], "detail-type": ["x"], detail: { version: [1, 2] } })), [
            { producer: "a", event: "x", version: 1 },
            { producer: "a", event: "x", version: 2 },
            { producer: "b", event: "x", version: 1 },
            { producer: "b", event: "x", version: 2 },
        ]);
        assert.deepEqual(patternEvents(JSON.stringify({ source: ["a"], "detail-type": ["x"] })), [{ producer: "a", event: "x" }]);
        assert.deepEqual(patternEvents("{not json"), []);
    });

    it("names a consumer from its TRIGGER label, and nothing from another value", () => {
        assert.deepEqual(consumerTriggerOf(consumerTriggerLabel("subscription", "welcome", "users/user.created v1")), { kind: "subscription", name: "welcome" });
        assert.deepEqual(consumerTriggerOf(consumerTriggerLabel("schedule", "purge", "cron(15 3 * * ? *) UTC")), { kind: "schedule", name: "purge" });
        assert.equal(consumerTriggerOf("GET /users"), undefined);
        assert.equal(consumerTriggerOf(undefined), undefined);
    });

    for (const stack of STACKS) {
        it(`${stack}: prices a million of each event per subscriber, at full batches and one per batch, from the price table${stack === "dev" ? ", the publish with its handover through the producer's bucket" : ""}`, () => {
            // Prepare
            const plan = plans.get(stack)!;
            const e = plan.cost.perMillionEvents;
            // Dev hands the producer's events over through its bucket: a put and a get each, and a forwarder invocation.
            const handover =
                stack === "dev"
                    ? MILLION * (PRICES.s3.perPutRequest + PRICES.s3.perGetRequest + PRICES.lambda.perRequest) +
                      MILLION * (EVENT_FORWARDER_DEFAULTS.memoryMb / 1024) * (e.assumptions.averageDurationMs / 1000) * PRICES.lambda.perGbSecond.arm64
                    : undefined;
            const publish = MILLION * PRICES.eventBridge.perCustomEvent + (handover ?? 0);
            // Assess
            let totalFull = 0;
            let totalOne = 0;
            for (const flow of e.flows) {
                near(flow.publish, publish, `${flow.event} publish`);
                if (handover === undefined) assert.equal(flow.handover, undefined, flow.event);
                else near(flow.handover!, handover, `${flow.event} handover`);
                let full = publish;
                let one = publish;
                for (const s of flow.subscribers) {
                    const subscription = resolvedFor(stack).subscriptions.find((r) => `${r.service}/${r.name}` === s.consumer)!;
                    assert.ok(subscription, s.consumer);
                    const expectedFull = expectedBatching(subscription, subscription.batchSize);
                    const expectedOne = expectedBatching(subscription, 1);
                    assertBatching(s.fullBatches, expectedFull, `${s.consumer} full`);
                    assertBatching(s.oneMessagePerBatch, expectedOne, `${s.consumer} one`);
                    near(s.aloneFullBatches, publish + expectedFull.delivery, `${s.consumer} alone`);
                    near(s.aloneOneMessagePerBatch, publish + expectedOne.delivery, `${s.consumer} alone, one per batch`);
                    full += expectedFull.delivery;
                    one += expectedOne.delivery;
                }
                // The publish is billed once per event, whatever subscribes.
                near(flow.totalFullBatches, full, `${flow.event} total`);
                near(flow.totalOneMessagePerBatch, one, `${flow.event} total, one per batch`);
                totalFull += full;
                totalOne += one;
            }
            assert.equal(e.flows.reduce((n, f) => n + f.subscribers.length, 0), resolvedFor(stack).subscriptions.length);
            near(e.totalFullBatches, totalFull, "every event");
            near(e.totalOneMessagePerBatch, totalOne, "every event, one per batch");
        });
    }

    it("prices a million runs of each schedule: a Scheduler invocation and one message per batch", () => {
        const plan = plans.get("dev")!;
        const expected = resolvedFor("dev").schedules;
        assert.equal(plan.cost.perMillionEvents.schedules.length, expected.length);
        for (const schedule of expected) {
            const s = plan.cost.perMillionEvents.schedules.find((c) => c.consumer === `${schedule.service}/${schedule.name}`)!;
            assert.ok(s, schedule.name);
            near(s.total, MILLION * PRICES.scheduler.perInvocation + expectedBatching(schedule, 1).delivery, schedule.name);
        }
    });

    it("bills each 64 KB chunk of an event: a larger event costs more sends and receives", () => {
        // Prepare
        const consumer = { memoryMb: 256, architecture: "arm64" };
        const big = { ...DEFAULT_ASSUMPTIONS, eventBytes: 100 * 1024 };
        // Act
        const cost = batchingCost(consumer, 10, big);
        // Assess: 2 chunks a send; a receive of 10 x 100 KB is 16 chunks; deletes carry no payload.
        assert.deepEqual(cost.sqsRequests, { send: 2 * MILLION, receive: (MILLION / 10) * Math.ceil((10 * 100) / 64), delete: MILLION / 10 });
    });

    it("counts a receive and a delete per 10 messages of a larger batch", () => {
        const cost = batchingCost({ memoryMb: 256, architecture: "arm64" }, 25, DEFAULT_ASSUMPTIONS);
        assert.deepEqual(cost.sqsRequests, { send: MILLION, receive: (MILLION / 25) * 3, delete: (MILLION / 25) * 3 });
        assert.equal(SQS.messagesPerRequest, 10);
    });

    it("prints the cost per million events in the text plan, and the idle polling of each mapped queue", () => {
        // Prepare
        const e = plans.get("dev")!.cost.perMillionEvents;
        const mapped = resolvedFor("dev").subscriptions.length + resolvedFor("dev").schedules.length;
        const perQueue = SQS_EVENT_SOURCE_POLLING.idlePollers * (3600 / SQS_EVENT_SOURCE_POLLING.longPollSeconds) * HOURS_PER_MONTH * PRICES.sqs.perRequest;
        // Assess
        assert.match(devText, /^Per million events, per subscriber, at full batches and at one message per batch/m);
        for (const flow of e.flows) {
            assert.match(devText, new RegExp(`^ {2}${flow.event}: publish \\+ every subscriber\\s+full / 1\\s+\\${usd(flow.totalFullBatches)} / \\${usd(flow.totalOneMessagePerBatch)}$`, "m"));
            for (const s of flow.subscribers) {
                assert.match(devText, new RegExp(`^ {4}${s.consumer}\\s+${s.batchSize} \\(full\\)\\s.*\\${usd(s.fullBatches.delivery)}\\s+\\${usd(s.aloneFullBatches)}$`, "m"), s.consumer);
            }
        }
        assert.match(devText, new RegExp(`^ {2}A million of every event\\s+full / 1\\s+\\${usd(e.totalFullBatches)} / \\${usd(e.totalOneMessagePerBatch)}$`, "m"));
        near(e.idlePolling.total, mapped * perQueue, "idle polling");
        const idle = plans.get("dev")!.cost.idle.lines.find((l) => l.item === "SQS polling of idle queues");
        assert.ok(idle, "an idle line for the polling");
        near(idle.amount, mapped * perQueue, "idle polling line");
    });

    it("has no events, schedules, event cost or polling where the registry has none", async () => {
        const plan = await planStack({ stack: "dev", services: fixtureServices });
        assert.deepEqual([plan.events.buses, plan.events.flows, plan.events.schedules], [[], [], []]);
        assert.deepEqual([plan.cost.perMillionEvents.flows, plan.cost.perMillionEvents.idlePolling.total], [[], 0]);
        assert.equal(plan.cost.idle.lines.find((l) => l.item === "SQS polling of idle queues"), undefined);
    });

    it("quotes the plan's figures in docs/costs.md: a lone subscriber of 256 MB at full batches of 10 and at one per batch", () => {
        // Prepare: a subscriber of the dev plan with the platform's defaults.
        const subscriber = plans.get("dev")!.cost.perMillionEvents.flows.flatMap((f) => f.subscribers).find((s) => s.batchSize === 10 && s.memoryMb === 256)!;
        assert.ok(subscriber);
        const costs = fs.readFileSync(path.join(REPOSITORY_ROOT, "docs", "costs.md"), "utf8");
        // Assess
        for (const figure of [usd(subscriber.aloneFullBatches), usd(subscriber.aloneOneMessagePerBatch), usd(subscriber.fullBatches.sqs), usd(subscriber.oneMessagePerBatch.sqs)]) {
            assert.ok(costs.includes(figure), `docs/costs.md quotes ${figure}`);
        }
    });

    it("carries the flows, schedules and event costs in --json", async () => {
        const result = await run(["--stack", "dev", "--json"]);
        assert.equal(result.code, 0, result.err);
        const parsed = JSON.parse(result.out) as StackPlan;
        const dev = plans.get("dev")!;
        assert.deepEqual(parsed.events, JSON.parse(JSON.stringify(dev.events)));
        assert.deepEqual(parsed.cost.perMillionEvents, JSON.parse(JSON.stringify(dev.cost.perMillionEvents)));
        assert.ok(parsed.events.flows.length > 0 && parsed.events.schedules.length > 0);
    });

    it("compares the events of two stacks: each subscriber's settings and what a million events cost in each", async () => {
        // Prepare
        const [dev, prod] = [plans.get("dev")!, plans.get("prod")!];
        // Act
        const rows = compare(dev, prod);
        const text = formatComparison(dev, prod, rows);
        const json = await run(["--stack", "dev", "--compare", "prod", "--json"]);
        // Assess
        for (const [index, plan] of [dev, prod].entries()) {
            for (const flow of plan.cost.perMillionEvents.flows) {
                for (const s of flow.subscribers) {
                    const row = rows.find((r) => r.section === "per million events" && r.item === `${flow.event} -> ${s.consumer}`);
                    assert.equal(row?.values[index], `${usd(s.fullBatches.delivery)} / ${usd(s.oneMessagePerBatch.delivery)}`, `${plan.stack} ${s.consumer}`);
                }
            }
        }
        const settings = rows.filter((r) => r.section === "events");
        assert.equal(settings.length, resolvedFor("dev").subscriptions.length + resolvedFor("dev").schedules.length + resolvedFor("dev").services.filter(publishesThroughOutbox).length);
        assert.match(text, /^ {2}EVENTS\s+dev\s+prod$/m);
        assert.match(text, /^ {2}PER MILLION EVENTS\s+dev\s+prod$/m);
        assert.equal(json.code, 0, json.err);
        const parsed = JSON.parse(json.out);
        assert.deepEqual(parsed.stacks.map((s: StackPlan) => s.events.flows.length), [dev.events.flows.length, prod.events.flows.length]);
        assert.ok(parsed.comparison.some((r: { section: string }) => r.section === "per million events"));
    });
});
