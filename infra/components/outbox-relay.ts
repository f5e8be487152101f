/**
 * The outbox relay of a database service that publishes (`functions/runtime/outbox-relay.ts`):
 *
 * - the relay: a function in the VPC, running as the service's role (it signs in as the service's
 *   login role and publishes only the service's own events), that sends what the outbox holds;
 * - what wakes it, per the stack's `events.relayWake` (docs/events.md), so an idle cluster can pause:
 *   - `every-minute`: its check, a function outside the VPC with no database access and a role of
 *     its own (`cloudwatch:GetMetricData`, and invoking the relay alone), run every minute by an
 *     EventBridge Scheduler schedule, which invokes the relay only when something may be pending;
 *   - `on-alarm`: a metric filter on each publishing function's log group turning the outbox write
 *     marker (`OUTBOX_WRITE_LOG`) into `OutboxWrites`, one alarm over those writes and the relay's
 *     backlog, and a rule on the account's default bus that invokes the relay (and any extra
 *     target) on each of the alarm's changes to ALARM and back to OK: nothing runs per minute;
 * - metric filters on the relay's log group: its reported backlog (`OutboxUnsent`), the age of
 *   the oldest unsent event (`OutboxOldestUnsentSeconds`) and the rows parked for an operator
 *   (`OutboxParked`), which the monitoring alarms on.
 *
 * On demand: `aws lambda invoke --function-name <relay>` (or the check with `{"force": true}`); with
 * the payload `{"parked": "list"}`, `{"parked": "redrive"}` or `{"parked": "discard", "eventIds":
 * [...]}`, the relay lists, redrives or discards its parked rows (`ParkedCommand`).
 */
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { ENVIRONMENT } from "../../functions/runtime/environment";
import { lambdaRelayCheckCode } from "../../functions/runtime/entry/lambda";
import { entryCode, identifiedCode } from "../function-packaging";
import { createRelayEntry } from "../../functions/runtime/entry/relay";
import { OUTBOX_WRITE_LOG } from "../../functions/runtime/outbox/outbox";
import { RELAY_LOG_MESSAGE } from "../../functions/runtime/outbox/relay";
import type { RelayCheckSettings } from "../../functions/runtime/outbox/relay-check";
import { AWS_DEFAULTS, EVENTBRIDGE, NAME_RULES } from "../../policy/lib/limits";
import { ComponentTypes } from "../../policy/lib/types";
import { fitName } from "../../platform/naming";
import type { RelayWakeMode } from "../../platform/config/stack-config";
import { OUTBOX_RELAY_DEFAULTS, wakeEvaluationPeriods } from "../../platform/triggers/outbox-relay";
import type { ResolvedService } from "../../platform/model";
import { deferredResource, Function, LIVE_ALIAS } from "./function";
import { EVENT_DELIVERY_RETRY } from "./queue-subscription";
import { lambdaAssumeRolePolicy, functionRolePolicy, schedulerAssumeRolePolicy, triggerEnvironment, type DatabaseConnection, type FunctionSettings } from "./function-settings";

/** What an OutboxRelay needs. Fields without a default are required. */
export interface OutboxRelayArgs {
    /** The publishing database service. */
    service: ResolvedService;
    /** The service's role and its permissions: the relay runs as it. */
    role: aws.iam.Role;
    permissions: pulumi.Input<pulumi.Resource>;
    settings: FunctionSettings;
    /** The database and its network. */
    database: DatabaseConnection;
    /** The stack's bus, where the relay sends. */
    eventBusName: pulumi.Input<string>;
    /**
     * The service's functions that may publish, their log groups (by function id, which names each
     * one's metric filter) and their longest timeout: what wakes the relay watches.
     */
    producers: { functionNames: pulumi.Input<string>[]; logGroups: { functionId: string; name: pulumi.Input<string> }[]; longestTimeoutSeconds: number };
    /** What wakes the relay: the stack's `events.relayWake`. */
    wake: OutboxRelayWake;
}

/** What wakes an outbox relay, and for `on-alarm` what the alarm is called and whom else it wakes. */
export type OutboxRelayWake =
    | { mode: Extract<RelayWakeMode, "every-minute"> }
    | {
          mode: Extract<RelayWakeMode, "on-alarm">;
          /** The wake alarm's name (`alarmName`): alarm names are unique per account and region. */
          alarmName: string;
          /**
           * Functions (ARNs, an alias's for a released one) invoked with the alarm's state change
           * as well as the relay, each with its own invoke permission for the rule. @default none
           */
          extraTargets?: pulumi.Input<string>[];
      };

export class OutboxRelay extends pulumi.ComponentResource {
    /** The relay: the service's role's permissions must cover its log group. */
    readonly relay: Function;
    /** The check (`every-minute` only). */
    readonly check?: Function;
    /** The wake alarm (`on-alarm` only). */
    readonly wakeAlarm?: aws.cloudwatch.MetricAlarm;
    readonly relayTimeoutSeconds = OUTBOX_RELAY_DEFAULTS.relayTimeoutSeconds;
    readonly checkTimeoutSeconds = OUTBOX_RELAY_DEFAULTS.checkTimeoutSeconds;

    constructor(name: string, args: OutboxRelayArgs, opts?: pulumi.ComponentResourceOptions) {
        super(ComponentTypes.outboxRelay, name, {}, opts);
        const { service, settings } = args;
        const tags = settings.tags;
        const d = OUTBOX_RELAY_DEFAULTS;

        this.relay = new Function(
            name,
            {
                service: service.name,
                functionId: "outbox-relay",
                description: `Outbox relay of ${service.name}: sends the events its requests left unsent`,
                code: entryCode(createRelayEntry, { service: service.name }, { database: true, publishes: true }),
                role: args.role,
                permissions: args.permissions,
                memoryMb: d.memoryMb,
                timeoutSeconds: d.relayTimeoutSeconds,
                database: args.database,
                environment: triggerEnvironment(service.name, { label: `outbox relay of ${service.name}` }, args.eventBusName),
                settings,
            },
            { parent: this },
        );
        for (const [metricName, field] of [[d.metrics.unsent, "unsent"], [d.metrics.oldestUnsentSeconds, "oldestUnsentSeconds"], [d.metrics.parked, "parked"]] as const) {
            new aws.cloudwatch.LogMetricFilter(
                `${name}-${field}`,
                {
                    logGroupName: this.relay.logGroup.name,
                    pattern: `{ $.message = "${RELAY_LOG_MESSAGE}" }`,
                    metricTransformation: { namespace: d.metricNamespace, name: metricName, value: `$.${field}`, dimensions: { Service: "$.service" }, unit: field === "oldestUnsentSeconds" ? "Seconds" : "Count" },
                },
                { parent: this },
            );
        }

        if (args.wake.mode === "every-minute") this.check = this.createCheck(name, args);
        else this.wakeAlarm = this.createWakeAlarm(name, args, args.wake);
        this.registerOutputs({ relayFunctionName: this.relay.name, checkFunctionName: this.check?.name, wakeAlarmArn: this.wakeAlarm?.arn });
    }

    /** The check every minute: a function reading metrics, run by a schedule, that invokes the relay when something may be pending. */
    private createCheck(name: string, args: OutboxRelayArgs): Function {
        const { service, settings } = args;
        const tags = settings.tags;
        const d = OUTBOX_RELAY_DEFAULTS;
        const checkName = `${name}-check`;
        const checkRole = new aws.iam.Role(fitName(`${checkName}-role`, NAME_RULES.iamRole), { description: `Outbox relay check of ${service.name}`, assumeRolePolicy: lambdaAssumeRolePolicy(), tags }, { parent: this });
        // Made after the check (it names its log group); the check waits for it.
        const checkPermissions = deferredResource<aws.iam.RolePolicy>();
        const checkSettings = pulumi.all([this.relay.name, pulumi.all(args.producers.functionNames)]).apply(([relayFunctionName, producerFunctionNames]): RelayCheckSettings => ({
            service: service.name,
            relayFunctionName,
            relayQualifier: LIVE_ALIAS,
            producerFunctionNames,
            backlogMetric: { namespace: d.metricNamespace, metricName: d.metrics.unsent },
            lookbackSeconds: args.producers.longestTimeoutSeconds + d.metricDelaySeconds,
        }));
        const check = new Function(
            checkName,
            {
                service: service.name,
                functionId: "outbox-relay-check",
                description: `Outbox relay check of ${service.name}: runs the relay only when an event may be pending`,
                code: identifiedCode(lambdaRelayCheckCode(), lambdaRelayCheckCode),
                role: checkRole,
                permissions: checkPermissions.resource,
                memoryMb: d.memoryMb,
                timeoutSeconds: d.checkTimeoutSeconds,
                environment: { [ENVIRONMENT.serviceName]: service.name, [ENVIRONMENT.outboxRelayCheck]: checkSettings.apply((value) => JSON.stringify(value)) },
                settings,
            },
            { parent: this },
        );
        checkPermissions.resolve(
            new aws.iam.RolePolicy(
                `${checkName}-permissions`,
                {
                    role: checkRole.id,
                    policy: functionRolePolicy([check.logGroup.arn], undefined, [
                        // GetMetricData takes no resource narrower than "*".
                        { Sid: "ReadMetrics", Effect: "Allow", Action: "cloudwatch:GetMetricData", Resource: "*" },
                        this.relay.targetArn.apply((arn) => ({ Sid: "InvokeTheRelay", Effect: "Allow", Action: "lambda:InvokeFunction", Resource: arn })),
                    ]),
                },
                { parent: this },
            ),
        );

        // A missed check is repeated by the next minute's; its dead-letter queue keeps what Scheduler could not deliver.
        const deadLetterQueue = new aws.sqs.Queue(`${checkName}-dlq`, { sqsManagedSseEnabled: true, messageRetentionSeconds: AWS_DEFAULTS.sqsQueue.messageRetentionSeconds, tags }, { parent: this });
        const schedulerRole = new aws.iam.Role(
            fitName(`${checkName}-scheduler`, NAME_RULES.iamRole),
            {
                description: `EventBridge Scheduler: the outbox relay check of ${service.name}`,
                assumeRolePolicy: schedulerAssumeRolePolicy(this),
                tags,
            },
            { parent: this },
        );
        const schedulerPermissions = new aws.iam.RolePolicy(
            fitName(`${checkName}-scheduler`, NAME_RULES.iamRole),
            {
                role: schedulerRole.id,
                policy: pulumi.all([check.targetArn, deadLetterQueue.arn]).apply(([functionArn, queueArn]) =>
                    JSON.stringify({
                        Version: "2012-10-17",
                        Statement: [
                            { Sid: "RunTheCheck", Effect: "Allow", Action: "lambda:InvokeFunction", Resource: functionArn },
                            { Sid: "KeepUndelivered", Effect: "Allow", Action: "sqs:SendMessage", Resource: queueArn },
                        ],
                    }),
                ),
            },
            { parent: this },
        );
        new aws.scheduler.Schedule(
            checkName,
            {
                description: `${service.name}: the outbox relay check`,
                scheduleExpression: d.checkExpression,
                flexibleTimeWindow: { mode: "OFF" },
                state: "ENABLED",
                target: {
                    arn: check.targetArn,
                    roleArn: schedulerRole.arn,
                    input: "{}",
                    // A check is worth nothing a minute later: the next one runs then.
                    retryPolicy: { maximumRetryAttempts: 1, maximumEventAgeInSeconds: EVENTBRIDGE.maximumEventAgeSeconds.min },
                    deadLetterConfig: { arn: deadLetterQueue.arn },
                },
            },
            { parent: this, dependsOn: [schedulerPermissions] },
        );
        return check;
    }

    /**
     * The wake alarm: the service's outbox writes (a metric filter per publishing function) plus the
     * relay's reported backlog, above 0 in any minute, puts it in ALARM; it returns to OK once no
     * minute of the last N had either (N: `wakeEvaluationPeriods`). A rule on the default bus runs
     * the relay on both changes: on ALARM for the writes' events a request may fail to send, on OK
     * for what a commit after the last marker left; a run that leaves events unsent reports them,
     * which puts the alarm back in ALARM. Sustained traffic keeps it in ALARM and wakes nobody: the
     * request path sends its own events, and what it left waits for the return to OK.
     */
    private createWakeAlarm(name: string, args: OutboxRelayArgs, wake: Extract<OutboxRelayWake, { mode: "on-alarm" }>): aws.cloudwatch.MetricAlarm {
        const { service, settings } = args;
        const tags = settings.tags;
        const d = OUTBOX_RELAY_DEFAULTS;
        const wakeName = `${name}-wake`;
        // Free, and each function's marker lines become one metric per service (the dimension).
        for (const logGroup of args.producers.logGroups) {
            new aws.cloudwatch.LogMetricFilter(
                `${wakeName}-writes-${logGroup.functionId}`,
                {
                    logGroupName: logGroup.name,
                    pattern: outboxWriteFilterPattern(),
                    metricTransformation: { namespace: d.metricNamespace, name: d.metrics.writes, value: `$.${OUTBOX_WRITE_LOG.countField}`, dimensions: { Service: "$.service" }, unit: "Count" },
                },
                { parent: this },
            );
        }
        const metric = (metricName: string, stat: "Sum" | "Maximum") => ({ namespace: d.metricNamespace, metricName, dimensions: { Service: service.name }, period: d.wakePeriodSeconds, stat });
        const evaluationPeriods = wakeEvaluationPeriods(args.producers.longestTimeoutSeconds);
        const alarm = new aws.cloudwatch.MetricAlarm(
            wakeName,
            {
                name: wake.alarmName,
                alarmDescription:
                    `Wakes the outbox relay of ${service.name}: ALARM when its functions wrote events to the outbox or the relay left some unsent, ` +
                    `OK ${evaluationPeriods} minute(s) after the last; each change runs the relay (an EventBridge rule, not an alarm action). Not a page.`,
                comparisonOperator: "GreaterThanThreshold",
                threshold: 0,
                evaluationPeriods,
                datapointsToAlarm: 1,
                // No marker and no backlog reported: nothing to send, not a lack of data to worry about.
                treatMissingData: "notBreaching",
                metricQueries: [
                    { id: "wake", expression: "SUM([writes, unsent])", label: `${service.name} outbox writes and unsent events`, returnData: true },
                    { id: "writes", metric: metric(d.metrics.writes, "Sum"), returnData: false },
                    { id: "unsent", metric: metric(d.metrics.unsent, "Maximum"), returnData: false },
                ],
                tags,
            },
            { parent: this },
        );

        const rule = new aws.cloudwatch.EventRule(
            fitName(wakeName, NAME_RULES.eventRule),
            {
                description: `Runs the outbox relay of ${service.name} when its wake alarm changes state`,
                eventPattern: alarm.arn.apply((alarmArn) => JSON.stringify(alarmStateChangePattern(alarmArn))),
                tags,
            },
            { parent: this },
        );
        // What the rule could not deliver after its retries: a lost wake would leave events until the next change.
        const deadLetterQueue = new aws.sqs.Queue(`${wakeName}-dlq`, { sqsManagedSseEnabled: true, messageRetentionSeconds: AWS_DEFAULTS.sqsQueue.messageRetentionSeconds, tags }, { parent: this });
        new aws.sqs.QueuePolicy(
            `${wakeName}-dlq`,
            {
                queueUrl: deadLetterQueue.url,
                policy: pulumi.all([deadLetterQueue.arn, rule.arn]).apply(([queueArn, ruleArn]) =>
                    JSON.stringify({
                        Version: "2012-10-17",
                        Statement: [
                            { Sid: "FromTheWakeRule", Effect: "Allow", Principal: { Service: "events.amazonaws.com" }, Action: "sqs:SendMessage", Resource: queueArn, Condition: { ArnEquals: { "aws:SourceArn": ruleArn } } },
                        ],
                    }),
                ),
            },
            { parent: this },
        );
        const targets: { id: string; arn: pulumi.Input<string>; function: pulumi.Input<string>; qualifier?: pulumi.Input<string> }[] = [
            { id: wakeName, arn: this.relay.targetArn, function: this.relay.name, qualifier: this.relay.alias?.name },
            ...(wake.extraTargets ?? []).map((arn, index) => {
                // An alias's ARN: the permission names the function and the alias apart, as the relay's does.
                const parts = pulumi.output(arn).apply(qualifiedFunctionArn);
                // An unqualified ARN leaves the qualifier out: the provider takes an undefined output as an absent input.
                return { id: `${wakeName}-extra-${index}`, arn, function: parts.function, qualifier: parts.qualifier as pulumi.Output<string> };
            }),
        ];
        for (const target of targets) {
            // Before the target: a rule invoking a function without the permission fails its first deliveries.
            const permission = new aws.lambda.Permission(
                target.id,
                { action: "lambda:InvokeFunction", function: target.function, qualifier: target.qualifier, principal: "events.amazonaws.com", sourceArn: rule.arn },
                { parent: this },
            );
            new aws.cloudwatch.EventTarget(
                target.id,
                { rule: rule.name, arn: target.arn, retryPolicy: EVENT_DELIVERY_RETRY, deadLetterConfig: { arn: deadLetterQueue.arn } },
                { parent: this, dependsOn: [permission] },
            );
        }
        return alarm;
    }
}

/** A function ARN with its qualifier (`...:function:<name>:<alias or version>`) apart; none when it has none. */
export function qualifiedFunctionArn(arn: string): { function: string; qualifier: string | undefined } {
    const parts = arn.split(":");
    return parts.length === 8 ? { function: parts.slice(0, 7).join(":"), qualifier: parts[7] } : { function: arn, qualifier: undefined };
}

/** The metric filter pattern that selects the outbox write marker (`OUTBOX_WRITE_LOG`) in a function's JSON log. */
export function outboxWriteFilterPattern(): string {
    return `{ $.message = "${OUTBOX_WRITE_LOG.message}" }`;
}

/** The event pattern of an alarm's changes to ALARM and back to OK, on the account's default bus. */
export function alarmStateChangePattern(alarmArn: string) {
    return { source: ["aws.cloudwatch"], "detail-type": ["CloudWatch Alarm State Change"], resources: [alarmArn], detail: { state: { value: ["ALARM", "OK"] } } };
}

/** The relay's metrics, for the monitoring's alarm. */
export function outboxMetric(service: string, which: keyof typeof OUTBOX_RELAY_DEFAULTS.metrics) {
    return { namespace: OUTBOX_RELAY_DEFAULTS.metricNamespace, metricName: OUTBOX_RELAY_DEFAULTS.metrics[which], dimensions: { Service: service } };
}
