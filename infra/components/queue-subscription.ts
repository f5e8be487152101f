/**
 * A service's subscription to another service's event: the rule on the stack's bus that matches
 * the producer, the event's name and its version; the rule's target, the subscription's queue,
 * with a retry policy and the dead-letter queue for deliveries EventBridge gives up on; the queue
 * policy that admits that rule alone (`aws:SourceArn`); and the consumer's queue, dead-letter
 * queue, mapping and Function (`consumer-queue.ts`, `function.ts`).
 */
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { consumerTriggerLabel } from "../../functions/runtime/queue/trigger-label";
import { subscriptionPattern } from "../../functions/runtime/queue/event-envelope";
import { eventLabel } from "../../functions/runtime/events";
import { functionUse } from "../../functions/runtime/entry/lambda";
import { entryCode } from "../function-packaging";
import { createSubscriptionEntry, subscriptionEntry } from "../../functions/runtime/entry/subscription";
import { EVENTBRIDGE } from "../../policy/lib/limits";
import { ComponentTypes } from "../../policy/lib/types";
import type { ResolvedSubscription } from "../../platform/model";
import { createConsumerQueue } from "./consumer-queue";
import { Function } from "./function";
import { triggerEnvironment, type DatabaseConnection, type FunctionSettings } from "./function-settings";

/**
 * How long EventBridge keeps trying to deliver an event to a subscription's queue, and how often:
 * the most it allows (a day, 185 attempts). A delivery fails only while the queue refuses it (its
 * policy, its key); the event then waits in the dead-letter queue instead of being dropped.
 */
export const EVENT_DELIVERY_RETRY = { maximumRetryAttempts: EVENTBRIDGE.retryAttempts.max, maximumEventAgeInSeconds: EVENTBRIDGE.maximumEventAgeSeconds.max } as const;

/** What a QueueSubscription needs. Fields without a default are required. */
export interface QueueSubscriptionArgs {
    subscription: ResolvedSubscription;
    /** The stack's bus: where the rule listens. */
    eventBusName: pulumi.Input<string>;
    /** The service's secret (`ServiceSecret`), for a service that declares secrets: its ARN reaches the function's environment. @default none */
    secretArn?: pulumi.Input<string>;
    /** The service's role, and its permissions (the function and the mapping wait for them). */
    role: aws.iam.Role;
    permissions: pulumi.Input<pulumi.Resource>;
    settings: FunctionSettings;
    /** The database and its network, for a database service. @default none */
    database?: DatabaseConnection;
}

export class QueueSubscription extends pulumi.ComponentResource {
    readonly function: Function;
    readonly queue: aws.sqs.Queue;
    readonly deadLetterQueue: aws.sqs.Queue;
    readonly rule: aws.cloudwatch.EventRule;

    constructor(name: string, args: QueueSubscriptionArgs, opts?: pulumi.ComponentResourceOptions) {
        super(ComponentTypes.queueSubscription, name, {}, opts);
        const { subscription, settings } = args;
        const tags = settings.tags;

        this.function = new Function(
            name,
            {
                service: subscription.service,
                functionId: subscription.id,
                description: `Subscription ${subscription.name}: ${subscription.description}`,
                code: entryCode(createSubscriptionEntry, subscriptionEntry(subscription), functionUse(subscription)),
                role: args.role,
                permissions: args.permissions,
                memoryMb: subscription.memoryMb,
                timeoutSeconds: subscription.timeoutSeconds,
                database: subscription.database ? args.database : undefined,
                environment: triggerEnvironment(
                    subscription.service,
                    { label: consumerTriggerLabel("subscription", subscription.name, eventLabel(subscription.event)) },
                    subscription.events ? args.eventBusName : undefined,
                ),
                settings,
                secretArn: args.secretArn,
            },
            { parent: this },
        );
        const { queue, deadLetterQueue } = createConsumerQueue(name, subscription, this.function, args.permissions, tags, this);
        this.queue = queue;
        this.deadLetterQueue = deadLetterQueue;

        this.rule = new aws.cloudwatch.EventRule(
            name,
            {
                eventBusName: args.eventBusName,
                description: `${eventLabel(subscription.event)} to ${subscription.service}/${subscription.name}`,
                eventPattern: JSON.stringify(subscriptionPattern(subscription.event)),
                tags,
            },
            { parent: this },
        );
        // Only this rule may send to the queues: no other rule, account or principal.
        for (const [suffix, target] of [["", queue], ["-dlq", deadLetterQueue]] as const) {
            new aws.sqs.QueuePolicy(
                `${name}${suffix}`,
                {
                    queueUrl: target.url,
                    policy: pulumi.all([target.arn, this.rule.arn]).apply(([queueArn, ruleArn]) =>
                        JSON.stringify({
                            Version: "2012-10-17",
                            Statement: [
                                {
                                    Sid: "FromTheSubscriptionRule",
                                    Effect: "Allow",
                                    Principal: { Service: "events.amazonaws.com" },
                                    Action: "sqs:SendMessage",
                                    Resource: queueArn,
                                    Condition: { ArnEquals: { "aws:SourceArn": ruleArn } },
                                },
                            ],
                        }),
                    ),
                },
                { parent: this },
            );
        }
        new aws.cloudwatch.EventTarget(
            name,
            {
                rule: this.rule.name,
                eventBusName: args.eventBusName,
                arn: queue.arn,
                retryPolicy: EVENT_DELIVERY_RETRY,
                deadLetterConfig: { arn: deadLetterQueue.arn },
            },
            { parent: this },
        );
        this.registerOutputs({ queueUrl: queue.url, deadLetterQueueUrl: deadLetterQueue.url });
    }
}
