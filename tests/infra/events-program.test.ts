/**
 * The program under mocks with the fixture event services, for dev and prod: the stack's bus; per
 * subscription its rule, queue, dead-letter queue, queue policies, target and mapping with their
 * settings; per schedule its Scheduler schedule, role, queue and mapping; the producer's and the
 * consumers' permissions; the EventBridge endpoint; the queue alarms; and that a bad registry
 * registers nothing.
 */
import * as assert from "node:assert/strict";
import { subscriptionPattern } from "../../functions/runtime/queue/event-envelope";
import { scheduleTargetInput } from "../../functions/runtime/queue/schedule-input";
import type { AnyService } from "../../functions/runtime/service";
import { resolveRegistry } from "../../platform/registry/resolution";
import { Types } from "../../policy/lib/types";
import { lastRegistered, runProgramOffline, type OfflineRun } from "../../tools/offline";
import { type RegisteredResource } from "../../tools/registered-resource";
import { accounts, eventRegistry, ledger, mailer } from "../../testing/fixtures/event-services";
import { ofType, one } from "../../testing/graph";

const DEFAULTS = { memoryMb: 256, timeoutSeconds: 10 };
const policyOf = (run: OfflineRun, role: string) => JSON.parse(one(run, Types.iamRolePolicy, role).inputs.policy);
const statement = (document: { Statement: { Sid: string; Resource?: unknown }[] }, sid: string) => document.Statement.find((s) => s.Sid === sid);

describe("events under mocks", function () {
    this.timeout(120_000);
    const runs = new Map<string, OfflineRun>();
    before(async () => {
        for (const stack of ["dev", "prod"]) runs.set(stack, await runProgramOffline({ stack, services: eventRegistry }));
    });
    const registry = resolveRegistry(eventRegistry, DEFAULTS);

    for (const stack of ["dev", "prod"]) {
        describe(stack, () => {
            const run = () => runs.get(stack)!;
            const byUrn = (urn: string) => run().resources.find((r) => r.urn === urn)!;

            it("has one event bus, named after the project and the stack", () => {
                const bus = one(run(), Types.eventBus);
                assert.equal(bus.inputs.name, `serverless-microservices-${stack}`);
                assert.equal(run().outputs.eventBusName, `serverless-microservices-${stack}`);
            });

            for (const subscription of registry.subscriptions) {
                const name = `${subscription.service}-subscription-${subscription.name}`;
                it(`${subscription.service}/${subscription.name}: a rule for its producer, event and version, whose target is its queue, with a retry policy and its dead-letter queue`, () => {
                    // Prepare
                    const rule = one(run(), Types.eventRule, name);
                    const target = one(run(), Types.eventTarget, name);
                    const queue = one(run(), Types.sqsQueue, name);
                    const dlq = one(run(), Types.sqsQueue, `${name}-dlq`);
                    // Assess
                    assert.equal(rule.inputs.eventBusName, `serverless-microservices-${stack}`);
                    assert.deepEqual(JSON.parse(rule.inputs.eventPattern), subscriptionPattern(subscription.event));
                    assert.equal(target.inputs.arn, queue.outputs.arn);
                    assert.deepEqual(target.inputs.retryPolicy, { maximumRetryAttempts: 185, maximumEventAgeInSeconds: 86400 });
                    assert.equal(target.inputs.deadLetterConfig.arn, dlq.outputs.arn);
                });

                it(`${subscription.service}/${subscription.name}: an encrypted queue hiding a message 6 x the consumer's timeout, redriven after its attempts to a 14-day dead-letter queue`, () => {
                    const queue = one(run(), Types.sqsQueue, name);
                    const dlq = one(run(), Types.sqsQueue, `${name}-dlq`);
                    assert.equal(queue.inputs.sqsManagedSseEnabled, true);
                    assert.equal(dlq.inputs.sqsManagedSseEnabled, true);
                    assert.equal(queue.inputs.visibilityTimeoutSeconds, 6 * subscription.timeoutSeconds);
                    assert.deepEqual(JSON.parse(queue.inputs.redrivePolicy), { deadLetterTargetArn: dlq.outputs.arn, maxReceiveCount: subscription.maxAttempts });
                    assert.equal(dlq.inputs.messageRetentionSeconds, 14 * 24 * 3600);
                });

                it(`${subscription.service}/${subscription.name}: queue policies that admit only its rule`, () => {
                    const rule = one(run(), Types.eventRule, name);
                    for (const suffix of ["", "-dlq"]) {
                        const policy = JSON.parse(one(run(), Types.sqsQueuePolicy, `${name}${suffix}`).inputs.policy);
                        assert.deepEqual(policy.Statement, [
                            {
                                Sid: "FromTheSubscriptionRule",
                                Effect: "Allow",
                                Principal: { Service: "events.amazonaws.com" },
                                Action: "sqs:SendMessage",
                                Resource: one(run(), Types.sqsQueue, `${name}${suffix}`).outputs.arn,
                                Condition: { ArnEquals: { "aws:SourceArn": rule.outputs.arn } },
                            },
                        ]);
                    }
                });

                it(`${subscription.service}/${subscription.name}: a mapping to the function's live alias that reports batch item failures, with its batch size and concurrency ceiling`, () => {
                    const mapping = one(run(), Types.lambdaEventSourceMapping, name);
                    const fn = one(run(), Types.lambdaFunction, name);
                    assert.equal(mapping.inputs.eventSourceArn, one(run(), Types.sqsQueue, name).outputs.arn);
                    assert.equal(mapping.inputs.functionName, `${fn.outputs.arn}:live`, "the live alias, never $LATEST");
                    assert.deepEqual(mapping.inputs.functionResponseTypes, ["ReportBatchItemFailures"]);
                    assert.deepEqual(mapping.inputs.scalingConfig, { maximumConcurrency: subscription.maxConcurrency });
                    assert.equal(mapping.inputs.batchSize, subscription.batchSize);
                    assert.equal(fn.inputs.timeout, subscription.timeoutSeconds);
                    assert.equal(fn.inputs.reservedConcurrentExecutions, undefined, "a consumer reserves nothing: its mapping caps it");
                    // Its log group has the stack's retention, its function the platform's settings.
                    const logGroup = one(run(), Types.logGroup, name);
                    assert.equal(logGroup.inputs.name, `/serverless-microservices/${stack}/${subscription.service}/subscription-${subscription.name}`);
                    assert.equal(fn.inputs.loggingConfig.logGroup, logGroup.inputs.name);
                    assert.equal(fn.inputs.runtime, "nodejs24.x");
                });
            }

            it("ledger/purge: a Scheduler schedule in its time zone, delivering the platform's input to its queue, with retries and a dead-letter queue", () => {
                // Prepare
                const schedule = one(run(), Types.schedulerSchedule, "ledger-schedule-purge");
                const queue = one(run(), Types.sqsQueue, "ledger-schedule-purge");
                const dlq = one(run(), Types.sqsQueue, "ledger-schedule-purge-dlq");
                // Assess
                assert.equal(schedule.inputs.scheduleExpression, "cron(0 3 * * ? *)");
                assert.equal(schedule.inputs.scheduleExpressionTimezone, "Europe/Berlin");
                assert.deepEqual(schedule.inputs.flexibleTimeWindow, { mode: "OFF" });
                assert.equal(schedule.inputs.target.arn, queue.outputs.arn);
                assert.equal(schedule.inputs.target.input, scheduleTargetInput("ledger", "purge"));
                assert.deepEqual(schedule.inputs.target.retryPolicy, { maximumRetryAttempts: 185, maximumEventAgeInSeconds: 86400 });
                assert.equal(schedule.inputs.target.deadLetterConfig.arn, dlq.outputs.arn);
                // Handler failures: the queue's redrive after the schedule's retries.
                assert.equal(JSON.parse(queue.inputs.redrivePolicy).maxReceiveCount, 2);
                assert.deepEqual(one(run(), Types.lambdaEventSourceMapping, "ledger-schedule-purge").inputs.functionResponseTypes, ["ReportBatchItemFailures"]);
            });

            it("ledger/purge: its own role, which Scheduler alone assumes and which may only send to its two queues", () => {
                const schedule = one(run(), Types.schedulerSchedule, "ledger-schedule-purge");
                const role = one(run(), Types.iamRole, "ledger-schedule-purge-scheduler");
                assert.equal(schedule.inputs.target.roleArn, role.outputs.arn);
                assert.deepEqual(JSON.parse(role.inputs.assumeRolePolicy).Statement[0].Principal, { Service: "scheduler.amazonaws.com" });
                assert.deepEqual(policyOf(run(), "ledger-schedule-purge-scheduler").Statement, [
                    { Sid: "SendRuns", Effect: "Allow", Action: "sqs:SendMessage", Resource: [one(run(), Types.sqsQueue, "ledger-schedule-purge").outputs.arn, one(run(), Types.sqsQueue, "ledger-schedule-purge-dlq").outputs.arn] },
                ]);
            });

            it(`lets ${stack === "dev" ? "the producer's forwarder (dev hands events over through a bucket)" : "the producer"} put events on the stack's bus only with its own source, and nobody else`, () => {
                const bus = one(run(), Types.eventBus);
                // Dev's producer writes to its bucket; its forwarder, outside the VPC, is the one that calls EventBridge.
                const publisher = stack === "dev" ? "accounts-events-forwarder-permissions" : "accounts-permissions";
                if (stack === "dev") assert.equal(statement(policyOf(run(), "accounts-permissions"), "PublishOwnEvents"), undefined);
                assert.deepEqual(statement(policyOf(run(), publisher), "PublishOwnEvents"), {
                    Sid: "PublishOwnEvents",
                    Effect: "Allow",
                    Action: "events:PutEvents",
                    Resource: bus.outputs.arn,
                    Condition: { StringEquals: { "events:source": "accounts" } },
                });
                assert.equal(statement(policyOf(run(), "ledger-permissions"), "PublishOwnEvents"), undefined);
                assert.equal(statement(policyOf(run(), "mailer-permissions"), "PublishOwnEvents"), undefined);
            });

            it("lets each consumer read only its own queues", () => {
                const arns = (names: string[]) => names.map((n) => one(run(), Types.sqsQueue, n).outputs.arn);
                assert.deepEqual(statement(policyOf(run(), "ledger-permissions"), "ConsumeOwnQueues"), {
                    Sid: "ConsumeOwnQueues",
                    Effect: "Allow",
                    Action: ["sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes", "sqs:ChangeMessageVisibility"],
                    Resource: arns(["ledger-subscription-opened", "ledger-subscription-closed", "ledger-schedule-purge"]),
                });
                assert.deepEqual(statement(policyOf(run(), "mailer-permissions"), "ConsumeOwnQueues")?.Resource, arns(["mailer-subscription-welcome"]));
                assert.equal(statement(policyOf(run(), "accounts-permissions"), "ConsumeOwnQueues"), undefined);
            });

            it("names the bus in the environment of the producer's functions only, and puts the database consumers in the VPC", () => {
                const env = (name: string) => one(run(), Types.lambdaFunction, name).inputs.environment.variables;
                assert.equal(env("accounts-post-accounts").EVENT_BUS_NAME, `serverless-microservices-${stack}`);
                assert.equal(env("ledger-subscription-opened").EVENT_BUS_NAME, undefined);
                assert.equal(env("ledger-subscription-opened").DB_USER, "ledger_app");
                assert.ok(one(run(), Types.lambdaFunction, "ledger-subscription-opened").inputs.vpcConfig);
                assert.equal(one(run(), Types.lambdaFunction, "mailer-subscription-welcome").inputs.vpcConfig, undefined);
            });

            it(stack === "dev" ? "has no events interface endpoint: dev hands events over through S3's gateway endpoint" : "reaches EventBridge from the private subnets through an events interface endpoint, which the producer's function is created after", () => {
                if (stack === "dev") {
                    assert.equal(ofType(run(), Types.vpcEndpoint).filter((endpoint) => endpoint.name === "network-events").length, 0);
                    assert.equal(one(run(), Types.vpcEndpoint, "network-s3").inputs.vpcEndpointType, "Gateway");
                    return;
                }
                const endpoint = one(run(), Types.vpcEndpoint, "network-events");
                assert.equal(endpoint.inputs.vpcEndpointType, "Interface");
                assert.equal(endpoint.inputs.privateDnsEnabled, true);
                assert.ok(one(run(), Types.lambdaFunction, "accounts-post-accounts").dependencies.includes(endpoint.urn));
            });

            it("waits for the role's permissions before a consumer's function and mapping exist", () => {
                const permissions = one(run(), Types.iamRolePolicy, "ledger-permissions");
                assert.ok(one(run(), Types.lambdaFunction, "ledger-subscription-opened").dependencies.includes(permissions.urn));
                assert.ok(one(run(), Types.lambdaEventSourceMapping, "ledger-subscription-opened").dependencies.includes(permissions.urn));
            });

            it("exports each consumer's dead-letter queue", () => {
                assert.deepEqual(Object.keys(run().outputs.deadLetterQueues).sort(), ["ledger", "mailer"]);
                assert.equal(run().outputs.deadLetterQueues.mailer["subscription-welcome"], one(run(), Types.sqsQueue, "mailer-subscription-welcome-dlq").outputs.name);
            });

            if (stack === "prod") {
                it("alarms on every dead letter and on an old oldest message, per queue", () => {
                    const alarms = ofType(run(), Types.metricAlarm).filter((a) => a.inputs.namespace === "AWS/SQS");
                    const consumers = registry.subscriptions.length + registry.schedules.length;
                    assert.equal(alarms.length, 2 * consumers);
                    const deadLetters = alarms.find((a) => a.inputs.name === "serverless-microservices-prod-ledger-subscription-opened-dead-letters")!;
                    assert.deepEqual([deadLetters.inputs.metricName, deadLetters.inputs.comparisonOperator, deadLetters.inputs.threshold], ["ApproximateNumberOfMessagesVisible", "GreaterThanThreshold", 0]);
                    assert.deepEqual(deadLetters.inputs.dimensions, { QueueName: one(run(), Types.sqsQueue, "ledger-subscription-opened-dlq").outputs.name });
                    const oldest = alarms.find((a) => a.inputs.name === "serverless-microservices-prod-mailer-subscription-welcome-oldest-message")!;
                    assert.deepEqual([oldest.inputs.metricName, oldest.inputs.threshold], ["ApproximateAgeOfOldestMessage", 300]);
                    // The consumer functions get the function alarms too.
                    assert.ok(ofType(run(), Types.metricAlarm).some((a) => a.inputs.name === "serverless-microservices-prod-ledger-subscription-opened-errors"));
                });

                it("gives each service's queues a row on that service's dashboard", () => {
                    const deadLetterGraphs = (dashboardName: string) => {
                        const body = JSON.parse(ofType(run(), Types.dashboard).find((d) => d.inputs.dashboardName === dashboardName)!.inputs.dashboardBody);
                        return body.widgets.filter((w: { properties: { title?: string } }) => w.properties.title === "Dead letters").length;
                    };
                    assert.deepEqual(["ledger", "mailer"].map((service) => deadLetterGraphs(`serverless-microservices-prod-${service}`)), [1, 1]);
                    assert.equal(deadLetterGraphs("serverless-microservices-prod"), 0);
                });
            }
        });
    }

    it("needs no events endpoint when only services outside the VPC publish", async () => {
        // Prepare: the producer without its database; nothing else needs the VPC.
        const outside = { ...accounts, database: false } as unknown as AnyService;
        // Act
        const run = await runProgramOffline({ stack: "dev", services: [outside, mailer] });
        // Assess
        assert.equal(ofType(run, Types.vpcEndpoint).length, 0);
        assert.equal(ofType(run, Types.eventBus).length, 1);
    });

    it("registers nothing for a subscription to an event no service publishes", async () => {
        await assert.rejects(runProgramOffline({ stack: "dev", services: [ledger] }), /subscription "opened": subscribes to accounts\/account.opened v1, but no service "accounts" is in the registry/);
        assert.deepEqual(lastRegistered.filter((r: RegisteredResource) => r.type !== "pulumi:pulumi:Stack").map((r) => r.urn), []);
    });

    it("has no bus for a registry without events", async () => {
        const run = await runProgramOffline({ stack: "dev", services: [{ ...accounts, events: undefined } as AnyService] });
        assert.equal(ofType(run, Types.eventBus).length, 0);
    });
});
