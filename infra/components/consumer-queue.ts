/**
 * The queue in front of a consumer function, the same for a subscription and a schedule: the queue
 * (encrypted with SQS's own keys, which EventBridge and Scheduler can use; the AWS-managed
 * `alias/aws/sqs` key they cannot), its dead-letter queue (kept 14 days, the longest SQS keeps a
 * message), the redrive after the consumer's attempts, a visibility timeout of at least six times
 * the function's timeout, and the event source mapping that reports batch item failures and caps
 * the function's concurrency.
 */
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { AWS_DEFAULTS, SQS } from "../../policy/lib/limits";
import type { ResolvedQueueConsumer } from "../../platform/model";

/** The queues' own settings, decided here. */
export const CONSUMER_QUEUE_DEFAULTS = {
    /** SQS's default: four days to recover a consumer before messages expire. */
    messageRetentionSeconds: AWS_DEFAULTS.sqsQueue.messageRetentionSeconds,
    /** The longest SQS allows: two weeks to read and redrive what failed. */
    deadLetterRetentionSeconds: SQS.messageRetentionSeconds.max,
    /** Long polling for the mapping's receives. */
    receiveWaitTimeSeconds: 20,
} as const;

export interface ConsumerQueue {
    queue: aws.sqs.Queue;
    deadLetterQueue: aws.sqs.Queue;
    mapping: aws.lambda.EventSourceMapping;
}

/**
 * The queues and mapping of `consumer`, children of `parent`, named `<name>` and `<name>-dlq`.
 * The mapping waits for `permissions`: Lambda checks at creation that the function's role may read the queue.
 */
export function createConsumerQueue(
    name: string,
    consumer: ResolvedQueueConsumer,
    fn: { targetArn: pulumi.Output<string> },
    permissions: pulumi.Input<pulumi.Resource>,
    tags: Record<string, string>,
    parent: pulumi.Resource,
): ConsumerQueue {
    const deadLetterQueue = new aws.sqs.Queue(
        `${name}-dlq`,
        { messageRetentionSeconds: CONSUMER_QUEUE_DEFAULTS.deadLetterRetentionSeconds, sqsManagedSseEnabled: true, tags },
        { parent },
    );
    const queue = new aws.sqs.Queue(
        name,
        {
            visibilityTimeoutSeconds: consumer.visibilityTimeoutSeconds,
            messageRetentionSeconds: CONSUMER_QUEUE_DEFAULTS.messageRetentionSeconds,
            receiveWaitTimeSeconds: CONSUMER_QUEUE_DEFAULTS.receiveWaitTimeSeconds,
            sqsManagedSseEnabled: true,
            redrivePolicy: deadLetterQueue.arn.apply((deadLetterTargetArn) => JSON.stringify({ deadLetterTargetArn, maxReceiveCount: consumer.maxAttempts })),
            tags,
        },
        { parent },
    );
    const mapping = new aws.lambda.EventSourceMapping(
        name,
        {
            eventSourceArn: queue.arn,
            // The alias, never $LATEST: a gradual release shifts a queue's consumers too.
            functionName: fn.targetArn,
            batchSize: consumer.batchSize,
            maximumBatchingWindowInSeconds: consumer.batchWindowSeconds > 0 ? consumer.batchWindowSeconds : undefined,
            // Only the messages the function names come back; the others of the batch are done.
            functionResponseTypes: ["ReportBatchItemFailures"],
            scalingConfig: { maximumConcurrency: consumer.maxConcurrency },
            tags,
        },
        { parent, dependsOn: [permissions] },
    );
    return { queue, deadLetterQueue, mapping };
}
