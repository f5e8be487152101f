/**
 * The outbox's cloud resources under mocks, for dev and prod, over the event fixture registry
 * (`accounts` publishes from its database; `ledger` keeps data and publishes nothing; `mailer` has
 * no database): per publishing database service a relay in the VPC running as the service's role,
 * the relay's metric filters and, in prod, the alarm on the oldest unsent event; what wakes the
 * relay per the stack's `events.relayWake`: in prod (every-minute) a check outside the VPC with a
 * role that may only read metrics and invoke that relay, and its every-minute schedule; in dev
 * (on-alarm) a metric filter on every publishing function's log, one wake alarm, and a rule on
 * the default bus that invokes the relay on its state changes, with no check and no schedule;
 * the policy pack passes over both stacks.
 */
import * as assert from "node:assert/strict";
import * as path from "node:path";
import { ENVIRONMENT } from "../../functions/runtime/environment";
import { OUTBOX_WRITE_LOG } from "../../functions/runtime/outbox/outbox";
import { RELAY_LOG_MESSAGE } from "../../functions/runtime/outbox/relay";
import { EVENT_DELIVERY_RETRY } from "../../infra/components/queue-subscription";
import { parseStackConfig } from "../../platform/config/stack-config";
import { MONITORING_DEFAULTS } from "../../infra/components/monitoring";
import { resolveRegistry } from "../../platform/registry/resolution";
import { OUTBOX_RELAY_DEFAULTS, publishesThroughOutbox, wakeEvaluationPeriods } from "../../platform/triggers/outbox-relay";
import { Types } from "../../policy/lib/types";
import { loadPackConfig, PACK_DIR, runPolicies } from "../../tools/policy-engine";
import { readStackConfig, runProgramOffline, type OfflineRun } from "../../tools/offline";
import { eventRegistry } from "../../testing/fixtures/event-services";
import { ofType, one } from "../../testing/graph";

const policyOf = (run: OfflineRun, name: string) => JSON.parse(one(run, Types.iamRolePolicy, name).inputs.policy) as { Statement: { Sid: string; Action: string | string[]; Resource: string | string[]; Condition?: unknown }[] };
const ALARM = "aws:cloudwatch/metricAlarm:MetricAlarm";
const FILTER = "aws:cloudwatch/logMetricFilter:LogMetricFilter";
const wakeOf = (stack: string) => parseStackConfig(stack, readStackConfig(stack)).events.relayWake;

describe("the outbox relay under mocks", function () {
    this.timeout(120_000);
    const runs = new Map<string, OfflineRun>();
    before(async () => {
        for (const stack of ["dev", "prod"]) runs.set(stack, await runProgramOffline({ stack, services: eventRegistry }));
    });
    const registry = resolveRegistry(eventRegistry, { memoryMb: 256, timeoutSeconds: 10 });
    const outboxes = registry.services.filter(publishesThroughOutbox);

    it("wakes dev's relays on an alarm and checks prod's every minute (the stack files' events.relayWake)", () => {
        assert.deepEqual([wakeOf("dev"), wakeOf("prod")], ["on-alarm", "every-minute"]);
    });

    it("gives a relay to the services that publish from a database, and to no other; a check only where the relay is checked every minute", () => {
        // Assess: the fixture has one of each kind, so the filter is not vacuous.
        assert.deepEqual(outboxes.map((service) => service.name), ["accounts"]);
        for (const [stack, run] of runs) {
            const checked = wakeOf(stack) === "every-minute";
            assert.deepEqual(
                ofType(run, Types.lambdaFunction).filter((fn) => /outbox/.test(fn.name)).map((fn) => fn.name).sort(),
                outboxes.flatMap((service) => [`${service.name}-outbox-relay`, ...(checked ? [`${service.name}-outbox-relay-check`] : [])]).sort(),
                stack,
            );
        }
    });

    for (const stack of ["dev", "prod"]) {
        for (const service of outboxes) {
            describe(`${stack}: ${service.name}`, () => {
                const checked = wakeOf(stack) === "every-minute";
                // The check's own cases, in a stack that has one.
                const checkedIt = (title: string, test: () => void) => (checked ? it(title, test) : undefined);
                const run = () => runs.get(stack)!;
                const relay = () => one(run(), Types.lambdaFunction, `${service.name}-outbox-relay`);
                const check = () => one(run(), Types.lambdaFunction, `${service.name}-outbox-relay-check`);
                const serviceFunctions = () => ofType(run(), Types.lambdaFunction).filter((fn) => fn.inputs.environment?.variables?.SERVICE_NAME === service.name && !/outbox|events-forwarder/.test(fn.name));

                it("runs the relay in the VPC as the service's role, signed in as its login role, sending to the stack's bus", () => {
                    // Prepare
                    const routeFunction = serviceFunctions()[0];
                    // Assess
                    assert.equal(relay().inputs.role, routeFunction.inputs.role);
                    assert.deepEqual(relay().inputs.vpcConfig, routeFunction.inputs.vpcConfig);
                    assert.ok(relay().inputs.vpcConfig.subnetIds.length > 0);
                    const variables = relay().inputs.environment.variables;
                    assert.equal(variables.DB_USER, `${service.name}_app`);
                    assert.equal(variables[ENVIRONMENT.eventBusName], `serverless-microservices-${stack}`);
                    assert.deepEqual([relay().inputs.timeout, relay().inputs.memorySize], [OUTBOX_RELAY_DEFAULTS.relayTimeoutSeconds, OUTBOX_RELAY_DEFAULTS.memoryMb]);
                });

                it(`the service's role may write the relay's logs, ${stack === "dev" ? "hand events only to its own bucket (dev hands them over)" : "publish only with the service's source"}, and sign in only as its login role`, () => {
                    // Prepare
                    const document = policyOf(run(), `${service.name}-permissions`);
                    const statement = (sid: string) => document.Statement.find((s) => s.Sid === sid)!;
                    // Assess
                    assert.ok((statement("OwnLogGroups").Resource as string[]).some((arn) => arn.endsWith(`/${service.name}/outbox-relay:*`)));
                    if (stack === "dev") {
                        assert.equal(statement("PublishOwnEvents"), undefined, "in dev only the service's forwarder puts events on the bus");
                        assert.match(String(statement("HandOverOwnEvents").Resource), /^arn:aws:s3:::[^/]+\/pending\/\*$/);
                    } else {
                        assert.deepEqual(statement("PublishOwnEvents").Condition, { StringEquals: { "events:source": service.name } });
                    }
                    assert.match(statement("DatabaseConnect").Resource as string, new RegExp(`:dbuser:[^/]+/${service.name}_app$`));
                });

                checkedIt("runs the check outside the VPC, with no database, on a role of its own that may only read metrics, write its logs and invoke its relay's live alias", () => {
                    // Prepare
                    const document = policyOf(run(), `${service.name}-outbox-relay-check-permissions`);
                    const actions = document.Statement.flatMap((s) => [s.Action].flat());
                    // Assess
                    assert.equal(check().inputs.vpcConfig, undefined);
                    assert.notEqual(check().inputs.role, relay().inputs.role);
                    const variables = check().inputs.environment.variables;
                    for (const name of ["DB_HOST", "DB_USER", "DB_SECRET_ARN", ENVIRONMENT.eventBusName]) assert.equal(variables[name], undefined, name);
                    assert.deepEqual(actions.sort(), ["cloudwatch:GetMetricData", "lambda:InvokeFunction", "logs:CreateLogStream", "logs:PutLogEvents", "xray:PutTelemetryRecords", "xray:PutTraceSegments"]);
                    assert.equal(document.Statement.find((s) => s.Sid === "InvokeTheRelay")!.Resource, `${relay().outputs.arn}:live`);
                    assert.deepEqual(document.Statement.find((s) => s.Sid === "OwnLogGroups")!.Resource, [`arn:aws:logs:us-east-1:123456789012:log-group:${check().inputs.loggingConfig.logGroup}:*`]);
                });

                checkedIt("tells the check its relay and the alias to invoke it through, every function of the service that may publish (not the relay), the backlog metric and a lookback of their longest timeout plus the metrics' delay", () => {
                    // Prepare
                    const settings = JSON.parse(check().inputs.environment.variables[ENVIRONMENT.outboxRelayCheck]);
                    const producers = serviceFunctions();
                    // Assess
                    assert.equal(settings.relayFunctionName, relay().outputs.name);
                    assert.equal(settings.relayQualifier, "live");
                    assert.deepEqual([...settings.producerFunctionNames].sort(), producers.map((fn) => fn.outputs.name).sort());
                    assert.deepEqual(settings.backlogMetric, { namespace: OUTBOX_RELAY_DEFAULTS.metricNamespace, metricName: OUTBOX_RELAY_DEFAULTS.metrics.unsent });
                    assert.equal(settings.lookbackSeconds, Math.max(...producers.map((fn) => fn.inputs.timeout)) + OUTBOX_RELAY_DEFAULTS.metricDelaySeconds);
                });

                checkedIt("runs the check every minute from Scheduler through its live alias, whose role may only invoke that alias and keep what it could not deliver in its dead-letter queue", () => {
                    // Prepare
                    const schedule = one(run(), Types.schedulerSchedule, `${service.name}-outbox-relay-check`);
                    const dlq = one(run(), Types.sqsQueue, `${service.name}-outbox-relay-check-dlq`);
                    const document = policyOf(run(), `${service.name}-outbox-relay-check-scheduler`);
                    // Assess
                    assert.equal(schedule.inputs.scheduleExpression, "rate(1 minute)");
                    assert.equal(schedule.inputs.target.arn, `${check().outputs.arn}:live`);
                    assert.equal(schedule.inputs.target.deadLetterConfig.arn, dlq.outputs.arn);
                    assert.ok(schedule.inputs.target.retryPolicy.maximumRetryAttempts >= 0);
                    assert.equal(dlq.inputs.sqsManagedSseEnabled, true);
                    assert.deepEqual(
                        document.Statement.map((s) => [s.Action, s.Resource]),
                        [
                            ["lambda:InvokeFunction", `${check().outputs.arn}:live`],
                            ["sqs:SendMessage", dlq.outputs.arn],
                        ],
                    );
                });

                it("turns the relay's report lines into the unsent, oldest-unsent and parked metrics of the service", () => {
                    // Prepare
                    const filters = ofType(run(), "aws:cloudwatch/logMetricFilter:LogMetricFilter").filter((filter) => filter.inputs.logGroupName === relay().inputs.loggingConfig.logGroup);
                    // Assess
                    assert.deepEqual(
                        filters.map((filter) => [filter.inputs.pattern, filter.inputs.metricTransformation.namespace, filter.inputs.metricTransformation.name, filter.inputs.metricTransformation.value]).sort(),
                        [
                            [`{ $.message = "${RELAY_LOG_MESSAGE}" }`, OUTBOX_RELAY_DEFAULTS.metricNamespace, OUTBOX_RELAY_DEFAULTS.metrics.oldestUnsentSeconds, "$.oldestUnsentSeconds"],
                            [`{ $.message = "${RELAY_LOG_MESSAGE}" }`, OUTBOX_RELAY_DEFAULTS.metricNamespace, OUTBOX_RELAY_DEFAULTS.metrics.parked, "$.parked"],
                            [`{ $.message = "${RELAY_LOG_MESSAGE}" }`, OUTBOX_RELAY_DEFAULTS.metricNamespace, OUTBOX_RELAY_DEFAULTS.metrics.unsent, "$.unsent"],
                        ],
                    );
                });

                it(stack === "prod" ? "alarms when the oldest unsent event has waited the threshold" : "registers no outbox alarm (dev has no monitoring)", () => {
                    // Prepare
                    const alarms = ofType(run(), ALARM).filter((alarm) => alarm.inputs.metricName === OUTBOX_RELAY_DEFAULTS.metrics.oldestUnsentSeconds);
                    // Assess
                    if (stack !== "prod") return assert.deepEqual(alarms, []);
                    assert.equal(alarms.length, 1);
                    const [alarm] = alarms;
                    assert.equal(alarm.inputs.name, `serverless-microservices-prod-${service.name}-outbox-oldest-unsent`);
                    assert.deepEqual([alarm.inputs.namespace, alarm.inputs.dimensions, alarm.inputs.threshold], [OUTBOX_RELAY_DEFAULTS.metricNamespace, { Service: service.name }, MONITORING_DEFAULTS.thresholds.outboxOldestUnsentSeconds]);
                });

                it(stack === "prod" ? "alarms on the first parked event and keeps the alarm's state while the relay sleeps" : "registers no parked-event alarm (dev has no monitoring)", () => {
                    // Prepare
                    const alarms = ofType(run(), ALARM).filter((alarm) => alarm.inputs.metricName === OUTBOX_RELAY_DEFAULTS.metrics.parked);
                    // Assess
                    if (stack !== "prod") return assert.deepEqual(alarms, []);
                    assert.equal(alarms.length, 1);
                    const [alarm] = alarms;
                    assert.equal(alarm.inputs.name, `serverless-microservices-prod-${service.name}-outbox-parked`);
                    assert.deepEqual(
                        [alarm.inputs.namespace, alarm.inputs.dimensions, alarm.inputs.statistic, alarm.inputs.comparisonOperator, alarm.inputs.threshold, alarm.inputs.treatMissingData],
                        [OUTBOX_RELAY_DEFAULTS.metricNamespace, { Service: service.name }, "Maximum", "GreaterThanOrEqualToThreshold", 1, "ignore"],
                    );
                    assert.match(alarm.inputs.alarmDescription, /\{"parked": "redrive"\}/);
                });

                const wakeIt = (title: string, test: () => void) => (checked ? undefined : it(title, test));
                const wakeAlarm = () => one(run(), ALARM, `${service.name}-outbox-relay-wake`);
                const wakeRule = () => one(run(), Types.eventRule, `${service.name}-outbox-relay-wake`);
                const writeFilters = () => ofType(run(), FILTER).filter((filter) => filter.inputs.metricTransformation.name === OUTBOX_RELAY_DEFAULTS.metrics.writes);

                if (checked) {
                    it("has no wake alarm, rule or outbox write filter: the check wakes the relay", () => {
                        assert.deepEqual(ofType(run(), ALARM).filter((alarm) => /outbox-wake/.test(alarm.inputs.name ?? "")), []);
                        assert.deepEqual(ofType(run(), Types.eventRule).filter((rule) => /wake/.test(rule.name)), []);
                        assert.deepEqual(writeFilters(), []);
                    });
                }

                wakeIt("has no check, no schedule, and no role that may read metrics", () => {
                    // Prepare
                    const actions = ofType(run(), Types.iamRolePolicy).flatMap((policy) => (JSON.parse(policy.inputs.policy).Statement as { Action: string | string[] }[]).flatMap((s) => [s.Action].flat()));
                    // Assess
                    assert.deepEqual(ofType(run(), Types.lambdaFunction).filter((fn) => /check/.test(fn.name)), []);
                    assert.deepEqual(ofType(run(), Types.schedulerSchedule).filter((schedule) => /outbox/.test(schedule.name)), []);
                    assert.ok(!actions.includes("cloudwatch:GetMetricData"), "no GetMetricData permission");
                });

                wakeIt("turns the outbox write marker in the log of every function of the service that may publish (not the relay), and of its event forwarder (what it leaves in the bucket), into the service's OutboxWrites", () => {
                    // Prepare
                    const producers = serviceFunctions();
                    const forwarders = ofType(run(), Types.lambdaFunction).filter((fn) => fn.name === `${service.name}-events-forwarder`);
                    // Assess: one filter per producer, on its own log group.
                    assert.ok(producers.length > 0);
                    assert.equal(forwarders.length, 1, "dev hands events over through a bucket");
                    assert.deepEqual(writeFilters().map((filter) => filter.inputs.logGroupName).sort(), [...producers, ...forwarders].map((fn) => fn.inputs.loggingConfig.logGroup).sort());
                    for (const filter of writeFilters()) {
                        assert.equal(filter.inputs.pattern, `{ $.message = "${OUTBOX_WRITE_LOG.message}" }`);
                        assert.deepEqual(filter.inputs.metricTransformation, {
                            namespace: OUTBOX_RELAY_DEFAULTS.metricNamespace,
                            name: OUTBOX_RELAY_DEFAULTS.metrics.writes,
                            value: `$.${OUTBOX_WRITE_LOG.countField}`,
                            dimensions: { Service: "$.service" },
                            unit: "Count",
                        });
                    }
                });

                wakeIt("alarms when the service wrote events or the relay left some unsent in any minute, and returns to OK only after the producers' longest timeout and a margin", () => {
                    // Prepare
                    const alarm = wakeAlarm().inputs;
                    const longest = Math.max(...serviceFunctions().map((fn) => fn.inputs.timeout));
                    const metricOf = (id: string) => alarm.metricQueries.find((query: { id: string }) => query.id === id).metric;
                    // Assess
                    assert.equal(alarm.name, `serverless-microservices-${stack}-${service.name}-outbox-wake`);
                    assert.deepEqual([alarm.comparisonOperator, alarm.threshold, alarm.datapointsToAlarm, alarm.treatMissingData], ["GreaterThanThreshold", 0, 1, "notBreaching"]);
                    assert.equal(alarm.evaluationPeriods, wakeEvaluationPeriods(longest));
                    assert.ok(alarm.evaluationPeriods * 60 >= longest + OUTBOX_RELAY_DEFAULTS.wakeMarginSeconds);
                    assert.equal(alarm.metricQueries.filter((query: { returnData: boolean }) => query.returnData).length, 1);
                    assert.equal(alarm.metricQueries.find((query: { returnData: boolean }) => query.returnData).expression, "SUM([writes, unsent])");
                    assert.deepEqual(metricOf("writes"), { namespace: OUTBOX_RELAY_DEFAULTS.metricNamespace, metricName: OUTBOX_RELAY_DEFAULTS.metrics.writes, dimensions: { Service: service.name }, period: 60, stat: "Sum" });
                    assert.deepEqual(metricOf("unsent"), { namespace: OUTBOX_RELAY_DEFAULTS.metricNamespace, metricName: OUTBOX_RELAY_DEFAULTS.metrics.unsent, dimensions: { Service: service.name }, period: 60, stat: "Maximum" });
                    assert.equal(alarm.alarmActions, undefined, "the rule wakes the relay; nobody is paged");
                    for (const tags of [alarm.tags, wakeRule().inputs.tags]) assert.deepEqual([tags.project, tags.environment], ["serverless-microservices", stack]);
                });

                wakeIt("runs the relay's live alias (and the event forwarder's, which sweeps its bucket) on the alarm's changes to ALARM and to OK, from a rule on the default bus, with retries and a dead-letter queue only that rule may fill", () => {
                    // Prepare
                    const rule = wakeRule();
                    const targets = ofType(run(), Types.eventTarget).filter((target) => target.inputs.rule === rule.outputs.name);
                    const permissions = ofType(run(), Types.lambdaPermission).filter((permission) => permission.inputs.sourceArn === rule.outputs.arn);
                    const dlq = one(run(), Types.sqsQueue, `${service.name}-outbox-relay-wake-dlq`);
                    const queuePolicy = JSON.parse(one(run(), Types.sqsQueuePolicy, `${service.name}-outbox-relay-wake-dlq`).inputs.policy);
                    // Assess
                    assert.equal(rule.inputs.eventBusName, undefined, "the account's default bus, where CloudWatch sends alarm changes");
                    assert.deepEqual(JSON.parse(rule.inputs.eventPattern), {
                        source: ["aws.cloudwatch"],
                        "detail-type": ["CloudWatch Alarm State Change"],
                        resources: [wakeAlarm().outputs.arn],
                        detail: { state: { value: ["ALARM", "OK"] } },
                    });
                    const forwarder = one(run(), Types.lambdaFunction, `${service.name}-events-forwarder`);
                    assert.deepEqual(targets.map((target) => [target.inputs.arn, target.inputs.retryPolicy, target.inputs.deadLetterConfig.arn]).sort(), [
                        [`${relay().outputs.arn}:live`, EVENT_DELIVERY_RETRY, dlq.outputs.arn],
                        [`${forwarder.outputs.arn}:live`, EVENT_DELIVERY_RETRY, dlq.outputs.arn],
                    ].sort());
                    assert.deepEqual(permissions.map((permission) => [permission.inputs.function, permission.inputs.qualifier, permission.inputs.principal, permission.inputs.action]).sort(), [
                        [relay().outputs.name, "live", "events.amazonaws.com", "lambda:InvokeFunction"],
                        [forwarder.outputs.arn, "live", "events.amazonaws.com", "lambda:InvokeFunction"],
                    ].sort());
                    assert.equal(dlq.inputs.sqsManagedSseEnabled, true);
                    assert.deepEqual(queuePolicy.Statement.map((statement: { Principal: unknown; Action: string; Condition: unknown }) => [statement.Principal, statement.Action, statement.Condition]), [
                        [{ Service: "events.amazonaws.com" }, "sqs:SendMessage", { ArnEquals: { "aws:SourceArn": rule.outputs.arn } }],
                    ]);
                });

                it("passes the policy pack with no mandatory violation", async () => {
                    // Act
                    const result = await runPolicies(run().resources, loadPackConfig(path.join(PACK_DIR, `config.${stack}.json`)));
                    // Assess: every rule ran, and none found anything to stop a deployment.
                    assert.ok(result.policiesRun > 0);
                    assert.deepEqual(result.violations.filter((violation) => violation.level === "mandatory"), []);
                });
            });
        }
    }
});
