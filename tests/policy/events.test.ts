/**
 * The queue, schedule and event rules, and `lambda-timeout-bounds` classifying functions by their
 * trigger: each rule on a compliant stack and with one field changed per failing case; then each
 * rule's violation planted into the program's own offline run of dev and prod (with the fixture
 * registry of event services), where the pack must report it as mandatory.
 */
import { strict as assert } from "assert";
import * as path from "node:path";
import { Types } from "../../policy/lib/types";
import { UNKNOWN_STRING_SENTINEL } from "../../policy/lib/unknown";
import { runProgramOffline } from "../../tools/offline";
import { loadPackConfig, PACK_DIR, runPolicies } from "../../tools/policy-engine";
import { type ResourceRecord } from "../../tools/registered-resource";
import { eventRegistry } from "../../testing/fixtures/event-services";
import { apiChain, functionProps } from "./fixtures";
import { NOT_APPLICABLE, validateResource, validateStack, withField, type Props, type StackSpec } from "./harness";

const QUEUE_ARN = "arn:aws:sqs:us-east-1:123456789012:ledger-opened";
const DLQ_ARN = "arn:aws:sqs:us-east-1:123456789012:ledger-opened-dlq";

function queueProps(overrides: Props = {}): Props {
    return {
        arn: QUEUE_ARN,
        visibilityTimeoutSeconds: 360,
        sqsManagedSseEnabled: true,
        redrivePolicy: JSON.stringify({ deadLetterTargetArn: DLQ_ARN, maxReceiveCount: 5 }),
        ...overrides,
    };
}

function mappingProps(overrides: Props = {}): Props {
    return { eventSourceArn: QUEUE_ARN, functionName: "arn:aws:lambda:us-east-1:123456789012:function:ledger-opened-1a2b3c4", functionResponseTypes: ["ReportBatchItemFailures"], batchSize: 10, ...overrides };
}

/** A queue feeding a 60 s consumer through a mapping, linked as the engine links them. */
function consumerStack(queue: Props = queueProps(), mapping: Props = mappingProps(), fn: Props = { ...functionProps("ledger-opened-1a2b3c4"), timeout: 60 }): StackSpec[] {
    return [
        { type: Types.sqsQueue, name: "opened-queue", props: queue },
        { type: Types.lambdaFunction, name: "opened-consumer", props: fn },
        { type: Types.lambdaEventSourceMapping, name: "opened-mapping", props: mapping, propertyDependencies: { eventSourceArn: ["opened-queue"], functionName: ["opened-consumer"] } },
    ];
}

describe("event, queue and schedule rules", () => {
    describe("sqs-consumer-dead-letter-queue", () => {
        const check = (queue: Props, config?: object) => validateStack("sqs-consumer-dead-letter-queue", consumerStack(queue), config);

        it("accepts a queue feeding a function with a dead-letter queue after 5 attempts", async () => {
            assert.deepEqual(await check(queueProps()), []);
        });

        it("reports a queue feeding a function without a redrive policy", async () => {
            // Prepare
            const queue = withField(queueProps(), "redrivePolicy", undefined);
            // Act
            const reported = await check(queue);
            // Assess
            assert.deepEqual(reported, [{ resource: "opened-queue", message: "Queue feeds a function but has no dead-letter queue: a message that keeps failing is lost when it expires. Set redrivePolicy with a deadLetterTargetArn." }]);
        });

        it("reports a maxReceiveCount above the configured bound, and accepts it when the stack raises the bound", async () => {
            // Prepare
            const queue = queueProps({ redrivePolicy: JSON.stringify({ deadLetterTargetArn: DLQ_ARN, maxReceiveCount: 500 }) });
            // Act
            const strict = await check(queue);
            const raised = await check(queue, { maxReceiveCount: 1000 });
            // Assess
            assert.deepEqual(strict, [{ resource: "opened-queue", message: "Queue's maxReceiveCount 500 is not within 1-100; set it in redrivePolicy." }]);
            assert.deepEqual(raised, []);
        });

        it("leaves alone a queue that feeds no function (a dead-letter queue itself)", async () => {
            const reported = await validateStack("sqs-consumer-dead-letter-queue", [{ type: Types.sqsQueue, name: "alone", props: queueProps({ redrivePolicy: undefined }) }]);
            assert.deepEqual(reported, []);
        });

        it("skips a redrive policy that is unknown during preview", async () => {
            assert.deepEqual(await check(queueProps({ redrivePolicy: UNKNOWN_STRING_SENTINEL })), []);
        });
    });

    describe("sqs-visibility-timeout", () => {
        it("accepts 360 s in front of a 60 s function (6 x 60)", async () => {
            assert.deepEqual(await validateStack("sqs-visibility-timeout", consumerStack()), []);
        });

        it("reports 300 s in front of a 60 s function, following mapping -> queue and -> function", async () => {
            // Prepare
            const stack = consumerStack(queueProps({ visibilityTimeoutSeconds: 300 }));
            // Act
            const reported = await validateStack("sqs-visibility-timeout", stack);
            // Assess
            assert.deepEqual(reported, [
                { resource: "opened-queue", message: "Visibility timeout 300 s is below 6 x the 60 s timeout of the function it feeds (360 s): a message still being handled would be delivered again. Set visibilityTimeoutSeconds to at least 360." },
            ]);
        });

        it("counts the mapping's batching window in", async () => {
            const stack = consumerStack(queueProps(), mappingProps({ maximumBatchingWindowInSeconds: 5 }));
            const reported = await validateStack("sqs-visibility-timeout", stack);
            assert.equal(reported.length, 1);
            assert.match(reported[0].message, /plus its 5 s batching window \(365 s\)/);
        });

        it("takes SQS's 30 s default for a queue that sets none", async () => {
            const reported = await validateStack("sqs-visibility-timeout", consumerStack(queueProps({ visibilityTimeoutSeconds: undefined })));
            assert.match(reported[0].message, /^Visibility timeout 30 s is below/);
        });
    });

    describe("lambda-sqs-batch-item-failures", () => {
        it("accepts a mapping that reports batch item failures", async () => {
            assert.deepEqual(await validateStack("lambda-sqs-batch-item-failures", consumerStack()), []);
        });

        it("reports an SQS mapping without ReportBatchItemFailures", async () => {
            // Prepare
            const stack = consumerStack(queueProps(), mappingProps({ functionResponseTypes: undefined }));
            // Act
            const reported = await validateStack("lambda-sqs-batch-item-failures", stack);
            // Assess
            assert.deepEqual(reported, [{ resource: "opened-mapping", message: 'SQS mapping does not report batch item failures: one failing message returns its whole batch. Set functionResponseTypes to ["ReportBatchItemFailures"].' }]);
        });

        it("knows an SQS source by its ARN when the queue is not in the stack", async () => {
            const reported = await validateStack("lambda-sqs-batch-item-failures", [{ type: Types.lambdaEventSourceMapping, name: "outside", props: mappingProps({ functionResponseTypes: [] }) }]);
            assert.equal(reported.length, 1);
        });

        it("leaves alone a mapping of another source (a Kinesis stream)", async () => {
            const reported = await validateStack("lambda-sqs-batch-item-failures", [{ type: Types.lambdaEventSourceMapping, name: "stream", props: mappingProps({ eventSourceArn: "arn:aws:kinesis:us-east-1:123456789012:stream/s", functionResponseTypes: [] }) }]);
            assert.deepEqual(reported, []);
        });
    });

    describe("sqs-queue-encryption", () => {
        const targeted = (queue: Props): StackSpec[] => [
            { type: Types.sqsQueue, name: "ledger-opened", props: queue },
            { type: Types.eventTarget, name: "ledger-opened", props: { arn: QUEUE_ARN }, propertyDependencies: { arn: ["ledger-opened"] } },
        ];

        it("accepts SSE-SQS", async () => {
            assert.deepEqual(await validateStack("sqs-queue-encryption", targeted(queueProps())), []);
        });

        it("reports a queue without encryption", async () => {
            const reported = await validateStack("sqs-queue-encryption", targeted(queueProps({ sqsManagedSseEnabled: false })));
            assert.deepEqual(reported, [{ resource: "ledger-opened", message: "Queue is not encrypted at rest. Set sqsManagedSseEnabled: true (or kmsMasterKeyId)." }]);
        });

        it("reports alias/aws/sqs on a queue an EventBridge rule sends to, and accepts it on one no rule sends to", async () => {
            // Prepare
            const queue = queueProps({ sqsManagedSseEnabled: undefined, kmsMasterKeyId: "alias/aws/sqs" });
            // Act
            const ruleTarget = await validateStack("sqs-queue-encryption", targeted(queue));
            const internal = await validateStack("sqs-queue-encryption", [{ type: Types.sqsQueue, name: "internal", props: queue }]);
            // Assess
            assert.equal(ruleTarget.length, 1);
            assert.match(ruleTarget[0].message, /^Queue uses alias\/aws\/sqs, which EventBridge and Scheduler cannot use/);
            assert.deepEqual(internal, []);
        });
    });

    describe("scheduler-retry-dead-letter", () => {
        const schedule = (target: Props) => ({ type: Types.schedulerSchedule, props: { scheduleExpression: "rate(1 day)", target } });
        const good = { arn: QUEUE_ARN, roleArn: "arn:aws:iam::123456789012:role/s", retryPolicy: { maximumRetryAttempts: 185, maximumEventAgeInSeconds: 86400 }, deadLetterConfig: { arn: DLQ_ARN } };

        it("accepts a schedule with a retry policy and a dead-letter queue", async () => {
            assert.deepEqual(await validateResource("scheduler-retry-dead-letter", schedule(good)), []);
        });

        it("reports a schedule without a dead-letter queue", async () => {
            const messages = await validateResource("scheduler-retry-dead-letter", schedule({ ...good, deadLetterConfig: undefined }));
            assert.deepEqual(messages, ["Schedule's target has no dead-letter queue: a run that cannot be delivered is dropped. Set target.deadLetterConfig.arn."]);
        });

        it("reports a schedule that never retries", async () => {
            const messages = await validateResource("scheduler-retry-dead-letter", schedule({ ...good, retryPolicy: { maximumRetryAttempts: 0 } }));
            assert.deepEqual(messages, ["Schedule's target has no retry policy with at least one retry: a failed delivery of a run is not tried again. Set target.retryPolicy."]);
        });

        it("is not applicable to a queue", async () => {
            assert.equal(await validateResource("scheduler-retry-dead-letter", { type: Types.sqsQueue, props: queueProps() }), NOT_APPLICABLE);
        });
    });

    describe("eventbridge-target-dead-letter", () => {
        const target = (props: Props) => ({ type: Types.eventTarget, props: { rule: "r", arn: QUEUE_ARN, ...props } });

        it("accepts a target with a retry policy and a dead-letter queue", async () => {
            assert.deepEqual(await validateResource("eventbridge-target-dead-letter", target({ retryPolicy: { maximumRetryAttempts: 185, maximumEventAgeInSeconds: 86400 }, deadLetterConfig: { arn: DLQ_ARN } })), []);
        });

        it("reports a target with neither", async () => {
            const messages = await validateResource("eventbridge-target-dead-letter", target({}));
            assert.deepEqual(messages, [
                "Target has no retry policy: how long EventBridge keeps trying is left to its default. Set retryPolicy.",
                "Target has no dead-letter queue: an event it cannot deliver is dropped. Set deadLetterConfig.arn.",
            ]);
        });
    });

    describe("lambda-timeout-bounds by trigger", () => {
        it("holds a function behind a route to 29 s", async () => {
            // Prepare: the API chain's function at 60 s.
            const stack = apiChain({ functionTimeout: 60 });
            // Act
            const reported = await validateStack("lambda-timeout-bounds", stack);
            // Assess
            assert.equal(reported.length, 1);
            assert.match(reported[0].message, /^Timeout of a function behind the HTTP API 60 s is above the maximum of 29 s/);
        });

        it("lets a queue's consumer run 900 s, not 901, and not the 29 s of a route", async () => {
            const at900 = await validateStack("lambda-timeout-bounds", consumerStack(queueProps(), mappingProps(), { ...functionProps("c"), timeout: 900 }));
            const at901 = await validateStack("lambda-timeout-bounds", consumerStack(queueProps(), mappingProps(), { ...functionProps("c"), timeout: 901 }));
            assert.deepEqual(at900, []);
            assert.deepEqual(at901, [{ resource: "opened-consumer", message: "Timeout of a function fed by an SQS queue 901 s is above the maximum of 900 s; set timeout between 1 and 900 s." }]);
        });

        it("holds a consumer to a stack's own queueMaxSeconds", async () => {
            const reported = await validateStack("lambda-timeout-bounds", consumerStack(), { queueMaxSeconds: 30 });
            assert.equal(reported.length, 1);
            assert.match(reported[0].message, /above the maximum of 30 s/);
        });

        it("lets the function a deployment invokes run 300 s with no suppression", async () => {
            // Prepare
            const stack: StackSpec[] = [
                { type: Types.lambdaFunction, name: "migrations-function", props: { ...functionProps("migrations-function-1a2b3c4"), timeout: 300 } },
                { type: Types.lambdaInvocation, name: "migrations-run", props: { functionName: "migrations-function-1a2b3c4", input: "{}" }, propertyDependencies: { functionName: ["migrations-function"] } },
            ];
            // Act
            const reported = await validateStack("lambda-timeout-bounds", stack);
            // Assess
            assert.deepEqual(reported, []);
        });

        it("holds a function no trigger reaches to the route bound, the strictest", async () => {
            const reported = await validateStack("lambda-timeout-bounds", [{ type: Types.lambdaFunction, name: "loose", props: { ...functionProps("loose"), timeout: 60 } }]);
            assert.deepEqual(reported, [{ resource: "loose", message: "Timeout 60 s is above the maximum of 29 s; set timeout between 1 and 29 s." }]);
        });
    });
});

describe("event rules over the program's offline run", function () {
    this.timeout(120_000);
    /** One planted violation per rule: which resource, the input, the value. */
    const plants: { rule: string; pick: (r: ResourceRecord) => boolean; field: string; value: unknown }[] = [
        { rule: "sqs-consumer-dead-letter-queue", pick: (r) => r.type === Types.sqsQueue && r.name === "ledger-subscription-opened", field: "redrivePolicy", value: undefined },
        { rule: "sqs-visibility-timeout", pick: (r) => r.type === Types.sqsQueue && r.name === "ledger-subscription-opened", field: "visibilityTimeoutSeconds", value: 60 },
        { rule: "lambda-sqs-batch-item-failures", pick: (r) => r.type === Types.lambdaEventSourceMapping && r.name === "mailer-subscription-welcome", field: "functionResponseTypes", value: [] },
        { rule: "sqs-queue-encryption", pick: (r) => r.type === Types.sqsQueue && r.name === "mailer-subscription-welcome", field: "sqsManagedSseEnabled", value: false },
        { rule: "scheduler-retry-dead-letter", pick: (r) => r.type === Types.schedulerSchedule, field: "target.deadLetterConfig", value: undefined },
        { rule: "eventbridge-target-dead-letter", pick: (r) => r.type === Types.eventTarget && r.name === "ledger-subscription-closed", field: "deadLetterConfig", value: undefined },
        { rule: "lambda-timeout-bounds", pick: (r) => r.type === Types.lambdaFunction && r.name === "ledger-subscription-opened", field: "timeout", value: 901 },
        { rule: "lambda-permission-source", pick: (r) => r.type === Types.lambdaPermission && r.name === "accounts-post-accounts", field: "sourceArn", value: undefined },
    ];

    for (const stack of ["dev", "prod"]) {
        describe(stack, () => {
            let resources: ResourceRecord[];
            const config = loadPackConfig(path.join(PACK_DIR, `config.${stack}.json`));

            before(async () => {
                resources = (await runProgramOffline({ stack, services: eventRegistry })).resources;
            });

            it("passes with the subscriptions and the schedule as the program builds them (consumers at 60 s, the migration function at 300 s)", async () => {
                const result = await runPolicies(resources, config);
                assert.deepEqual(result.violations.filter((v) => v.level === "mandatory"), []);
            });

            for (const plant of plants) {
                it(`reports ${plant.rule} as mandatory when its violation is planted`, async () => {
                    // Prepare
                    const target = resources.find(plant.pick)!;
                    assert.ok(target, `no resource for ${plant.rule}`);
                    // A top-level input is set in place: a function's inputs hold its code, which cannot be cloned.
                    const set = (props: Props) => (plant.field.includes(".") ? withField(props, plant.field, plant.value) : { ...props, [plant.field]: plant.value });
                    const changed = resources.map((r) => (r === target ? { ...r, inputs: set(r.inputs), outputs: set(r.outputs ?? {}) } : r));
                    // Act
                    const result = await runPolicies(changed, config);
                    // Assess
                    const found = result.violations.filter((v) => v.policy === plant.rule);
                    assert.ok(found.length > 0, `${plant.rule} not reported`);
                    assert.ok(found.every((v) => v.level === "mandatory" && v.resourceName === target.name), JSON.stringify(found));
                });
            }
        });
    }
});
