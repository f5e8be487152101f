/**
 * The outbox relay of a database service that publishes (`functions/runtime/outbox-relay.ts`):
 *
 * - the relay: a function in the VPC, running as the service's role (it signs in as the service's
 *   login role and publishes only the service's own events), that sends what the outbox holds;
 * - its check: a function outside the VPC with no database access and a role of its own
 *   (`cloudwatch:GetMetricData`, and invoking the relay alone), run every minute by an EventBridge
 *   Scheduler schedule, which invokes the relay only when something may be pending, so an idle
 *   cluster can pause;
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
import { lambdaCode, lambdaRelayCheckCode } from "../../functions/runtime/entry/lambda";
import { createRelayEntry } from "../../functions/runtime/entry/relay";
import { RELAY_LOG_MESSAGE } from "../../functions/runtime/outbox/relay";
import type { RelayCheckSettings } from "../../functions/runtime/outbox/relay-check";
import { AWS_DEFAULTS, EVENTBRIDGE, NAME_RULES } from "../../policy/lib/limits";
import { ComponentTypes } from "../../policy/lib/types";
import { fitName } from "../../platform/naming";
import { OUTBOX_RELAY_DEFAULTS } from "../../platform/triggers/outbox-relay";
import type { ResolvedService } from "../../platform/model";
import { deferredResource, Function, LIVE_ALIAS } from "./function";
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
    /** The service's functions that may publish, and their longest timeout: what the check watches. */
    producers: { functionNames: pulumi.Input<string>[]; longestTimeoutSeconds: number };
}

export class OutboxRelay extends pulumi.ComponentResource {
    /** The relay: the service's role's permissions must cover its log group. */
    readonly relay: Function;
    readonly check: Function;
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
                code: lambdaCode(createRelayEntry, { service: service.name }, { database: true, publishes: true }),
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
        this.check = new Function(
            checkName,
            {
                service: service.name,
                functionId: "outbox-relay-check",
                description: `Outbox relay check of ${service.name}: runs the relay only when an event may be pending`,
                code: lambdaRelayCheckCode(),
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
                    policy: functionRolePolicy([this.check.logGroup.arn], undefined, [
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
                policy: pulumi.all([this.check.targetArn, deadLetterQueue.arn]).apply(([functionArn, queueArn]) =>
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
                    arn: this.check.targetArn,
                    roleArn: schedulerRole.arn,
                    input: "{}",
                    // A check is worth nothing a minute later: the next one runs then.
                    retryPolicy: { maximumRetryAttempts: 1, maximumEventAgeInSeconds: EVENTBRIDGE.maximumEventAgeSeconds.min },
                    deadLetterConfig: { arn: deadLetterQueue.arn },
                },
            },
            { parent: this, dependsOn: [schedulerPermissions] },
        );
        this.registerOutputs({ relayFunctionName: this.relay.name, checkFunctionName: this.check.name });
    }
}

/** The relay's metrics, for the monitoring's alarm. */
export function outboxMetric(service: string, which: keyof typeof OUTBOX_RELAY_DEFAULTS.metrics) {
    return { namespace: OUTBOX_RELAY_DEFAULTS.metricNamespace, metricName: OUTBOX_RELAY_DEFAULTS.metrics[which], dimensions: { Service: service } };
}
