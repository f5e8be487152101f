/**
 * A service's schedule: an EventBridge Scheduler schedule with its own role, retry policy and
 * dead-letter queue, whose target is the schedule's queue; the queue feeds the schedule's
 * Function like a subscription's (`consumer-queue.ts`).
 *
 * Why a queue between the schedule and the function rather than invoking it: Scheduler's retries
 * and dead-letter queue cover only deliveries that fail, and Lambda retries a failing asynchronous
 * invocation at most twice before it drops the event. Through a queue, a failing run is retried as
 * often as the schedule says (its `retries`), then kept in the dead-letter queue with every other
 * failed message of the stack: listed, alarmed on and redriven the same way, in the cloud and
 * locally. An on-failure destination would have kept it too, in another shape and with its own
 * tooling, and with two retries at most.
 */
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { functionUse } from "../../functions/runtime/entry/lambda";
import { entryCode } from "../function-packaging";
import { createScheduleEntry, scheduleEntry } from "../../functions/runtime/entry/schedule";
import { consumerTriggerLabel } from "../../functions/runtime/queue/trigger-label";
import { scheduleTargetInput } from "../../functions/runtime/queue/schedule-input";
import { NAME_RULES } from "../../policy/lib/limits";
import { ComponentTypes } from "../../policy/lib/types";
import { fitName } from "../../platform/naming";
import type { ResolvedSchedule } from "../../platform/model";
import { createConsumerQueue } from "./consumer-queue";
import { Function } from "./function";
import { schedulerAssumeRolePolicy, triggerEnvironment, type DatabaseConnection, type FunctionSettings } from "./function-settings";
import { EVENT_DELIVERY_RETRY } from "./queue-subscription";

/** What a Schedule needs. Fields without a default are required. */
export interface ScheduleArgs {
    schedule: ResolvedSchedule;
    /** The service's role, and its permissions (the function and the mapping wait for them). */
    role: aws.iam.Role;
    permissions: pulumi.Input<pulumi.Resource>;
    settings: FunctionSettings;
    /** The database and its network, for a database service. @default none */
    database?: DatabaseConnection;
    /** The stack's event bus, for a service that publishes. @default none */
    eventBusName?: pulumi.Input<string>;
    /** The service's secret (`ServiceSecret`), for a service that declares secrets: its ARN reaches the function's environment. @default none */
    secretArn?: pulumi.Input<string>;
}

export class Schedule extends pulumi.ComponentResource {
    readonly function: Function;
    readonly queue: aws.sqs.Queue;
    readonly deadLetterQueue: aws.sqs.Queue;

    constructor(name: string, args: ScheduleArgs, opts?: pulumi.ComponentResourceOptions) {
        super(ComponentTypes.schedule, name, {}, opts);
        const { schedule, settings } = args;
        const tags = settings.tags;

        this.function = new Function(
            name,
            {
                service: schedule.service,
                functionId: schedule.id,
                description: `Schedule ${schedule.name}: ${schedule.description}`,
                code: entryCode(createScheduleEntry, scheduleEntry(schedule), functionUse(schedule)),
                role: args.role,
                permissions: args.permissions,
                memoryMb: schedule.memoryMb,
                timeoutSeconds: schedule.timeoutSeconds,
                database: schedule.database ? args.database : undefined,
                environment: triggerEnvironment(
                    schedule.service,
                    { label: consumerTriggerLabel("schedule", schedule.name, `${schedule.expression} ${schedule.timeZone}`) },
                    schedule.events ? args.eventBusName : undefined,
                ),
                settings,
                secretArn: args.secretArn,
            },
            { parent: this },
        );
        const { queue, deadLetterQueue } = createConsumerQueue(name, schedule, this.function, args.permissions, tags, this);
        this.queue = queue;
        this.deadLetterQueue = deadLetterQueue;

        // The schedule's own role: it may send to its queue and its dead-letter queue, nothing else.
        const role = new aws.iam.Role(
            schedulerRoleName(name),
            {
                description: `EventBridge Scheduler: ${schedule.service}/${schedule.name}`,
                assumeRolePolicy: schedulerAssumeRolePolicy(this),
                tags,
            },
            { parent: this },
        );
        const permissions = new aws.iam.RolePolicy(
            schedulerRoleName(name),
            {
                role: role.id,
                policy: pulumi.all([queue.arn, deadLetterQueue.arn]).apply(([queueArn, deadLetterArn]) =>
                    JSON.stringify({ Version: "2012-10-17", Statement: [{ Sid: "SendRuns", Effect: "Allow", Action: "sqs:SendMessage", Resource: [queueArn, deadLetterArn] }] }),
                ),
            },
            { parent: this },
        );
        new aws.scheduler.Schedule(
            name,
            {
                description: `${schedule.service}/${schedule.name}: ${schedule.description}`.slice(0, 512),
                scheduleExpression: schedule.expression,
                scheduleExpressionTimezone: schedule.timeZone,
                flexibleTimeWindow: { mode: "OFF" },
                state: "ENABLED",
                target: {
                    arn: queue.arn,
                    roleArn: role.arn,
                    input: scheduleTargetInput(schedule.service, schedule.name),
                    retryPolicy: EVENT_DELIVERY_RETRY,
                    deadLetterConfig: { arn: deadLetterQueue.arn },
                },
            },
            { parent: this, dependsOn: [permissions] },
        );
        this.registerOutputs({ queueUrl: queue.url, deadLetterQueueUrl: deadLetterQueue.url });
    }
}

/** The schedule's role's logical name within IAM's limit (Pulumi appends 8 characters). */
export function schedulerRoleName(name: string): string {
    return fitName(`${name}-scheduler`, NAME_RULES.iamRole);
}
