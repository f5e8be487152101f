/**
 * What Lambda's SQS poller does for one queue, locally: it receives batches (up to the consumer's
 * batch size, hidden for the queue's visibility timeout), runs at most the mapping's maximum
 * concurrency of them at once, each in an execution environment of the consumer's function
 * (`local/lambda-pool.ts`), hands the consumer the SQS event of
 * the batch, and deletes the messages that did not fail (`batchItemFailures`). A failed message
 * comes back when its visibility timeout ends, until its attempts are used up; then the store moves
 * it to the dead-letter queue. An invocation that throws or runs past its timeout deletes nothing.
 */
import { createHash } from "node:crypto";
import type { SQSBatchResponse, SQSEvent } from "aws-lambda";
import { createScheduleEntry, scheduleEntry } from "../functions/runtime/entry/schedule";
import { createSubscriptionEntry, subscriptionEntry } from "../functions/runtime/entry/subscription";
import { withSecrets } from "../functions/runtime/entry/secrets";
import { DEFAULT_SECRETS_FILE, localServiceSecrets } from "./secrets";
import { sqsRecord } from "../functions/runtime/queue/event-envelope";
import type { EventTransport } from "../functions/runtime/outbox/publisher";
import type { Logger } from "../functions/runtime/logger";
import { LOCAL_REGION, type LocalQueue } from "./event-bus";
import { localResources, localServiceDatabase } from "./function-resources";
import { createLambdaPool, type InvocationOutcomes, type LambdaPool } from "./lambda-pool";
import type { LocalQueueStore, ReceivedMessage } from "./queue-store";

export interface QueueWorkerOptions {
    store: LocalQueueStore;
    /** Where a database consumer signs in: its service's login role. */
    serviceDatabaseUrl?: (service: string) => string;
    /** Where the services' secrets are (`local/secrets.ts`). @default DEFAULT_SECRETS_FILE */
    secretsFile?: string;
    /** Where its own events go. */
    transport: EventTransport;
    logger: (queue: LocalQueue) => Logger;
    /**
     * Multiplies the queue's visibility timeout: 1 is the cloud's (six times the consumer's timeout);
     * tests use less, so a retry comes in milliseconds, not minutes. @default 1
     */
    visibilityTimeoutScale?: number;
    /** Longest wait between two looks at an idle queue. @default 1000 */
    pollIntervalMs?: number;
    /** Told about an invocation that failed outright. @default none */
    onNotice?: (message: string) => void;
}

export interface QueueWorker {
    readonly queue: LocalQueue;
    /** Look now: a message was just sent. */
    wake(): void;
    /** Stops receiving and waits for the batches in flight. */
    stop(): Promise<void>;
}

/** What the poller makes of an invocation: the batch response, or the whole batch back. */
const BATCH_OUTCOMES: InvocationOutcomes<SQSBatchResponse, SQSBatchResponse | "timeout" | "failed"> = {
    result: (response) => response,
    failed: () => "failed",
    timeout: () => "timeout",
};

/**
 * The consumer's function. The poller itself keeps at most the mapping's maximum concurrency of
 * batches in flight; the pool sets no ceiling of its own, so a batch that ran past its timeout
 * (its environment busy until its handler settles) does not hold up the next one: Lambda too starts
 * a fresh environment then.
 */
function createConsumerPool(queue: LocalQueue, options: QueueWorkerOptions): LambdaPool<SQSEvent, SQSBatchResponse> {
    const { consumer } = queue;
    return createLambdaPool<SQSEvent, SQSBatchResponse>({
        timeoutSeconds: consumer.timeoutSeconds,
        concurrency: Infinity,
        openDatabase: consumer.database && options.serviceDatabaseUrl ? localServiceDatabase(options.serviceDatabaseUrl(consumer.service), consumer.timeoutSeconds) : undefined,
        createHandler(openDatabase) {
            const logger = options.logger(queue);
            const secrets = consumer.secrets.length > 0 ? localServiceSecrets(options.secretsFile ?? DEFAULT_SECRETS_FILE, consumer.service, consumer.secrets, logger) : undefined;
            const resources = localResources({ openDatabase, transport: options.transport, logger });
            const withOwnSecrets = <Definition extends Parameters<typeof withSecrets>[0]>(definition: Definition) => (secrets ? withSecrets(definition, secrets) : definition);
            return consumer.kind === "subscription"
                ? createSubscriptionEntry(withOwnSecrets(subscriptionEntry(consumer)), resources)
                : createScheduleEntry(withOwnSecrets(scheduleEntry(consumer)), resources);
        },
    });
}

export function startQueueWorker(queue: LocalQueue, options: QueueWorkerOptions): QueueWorker {
    const { consumer } = queue;
    const { store } = options;
    const visibilityTimeoutMs = Math.max(1, Math.round(consumer.visibilityTimeoutSeconds * 1000 * (options.visibilityTimeoutScale ?? 1)));
    const pollIntervalMs = options.pollIntervalMs ?? 1000;
    const pool = createConsumerPool(queue, options);
    const inFlight = new Set<Promise<void>>();
    let stopped = false;
    let wakeUp: (() => void) | undefined;
    // Set by a wake that finds the loop between two looks and not in a pause (receiving, or asking
    // when the next message is due): the next pause then returns at once, so that message is not
    // left for a whole poll interval.
    let wokenSinceLook = false;
    const wake = () => {
        wokenSinceLook = true;
        wakeUp?.();
    };

    /** One invocation with one batch; deletes what did not fail. */
    const processBatch = async (messages: ReceivedMessage[]) => {
        const event = { Records: messages.map((message) => sqsRecord(message, { arn: queue.arn, region: LOCAL_REGION }, createHash("md5").update(message.body).digest("hex"))) };
        const outcome = await pool.invoke(event, BATCH_OUTCOMES);
        if (outcome === "timeout" || outcome === "failed") {
            // Lambda returns the whole batch: every message comes back after its visibility timeout.
            options.onNotice?.(`${consumer.service}/${consumer.name}: the invocation ${outcome === "timeout" ? `ran past its ${consumer.timeoutSeconds} s timeout` : "failed"}; its ${messages.length} message(s) come back`);
            return;
        }
        const failed = new Set((outcome?.batchItemFailures ?? []).map((failure) => failure.itemIdentifier));
        await store.delete(queue.name, messages.filter((message) => !failed.has(message.messageId)).map((message) => message.receiptHandle));
    };

    /** Waits `ms`, or less when woken (a message was sent, a batch finished, a stop). */
    const pause = (ms: number) =>
        new Promise<void>((resolve) => {
            if (wokenSinceLook) {
                wokenSinceLook = false;
                return resolve();
            }
            const timer = setTimeout(done, ms);
            function done() {
                clearTimeout(timer);
                wakeUp = undefined;
                wokenSinceLook = false;
                resolve();
            }
            wakeUp = done;
        });

    const loop = async () => {
        while (!stopped) {
            if (inFlight.size >= consumer.maxConcurrency) {
                await pause(pollIntervalMs);
                continue;
            }
            let messages: ReceivedMessage[];
            wokenSinceLook = false;
            try {
                messages = await store.receive(queue.name, { max: consumer.batchSize, visibilityTimeoutMs, maxReceiveCount: consumer.maxAttempts, deadLetterQueue: queue.deadLetterName });
            } catch {
                // The database is away a moment (a restart): look again after the interval.
                await pause(pollIntervalMs);
                continue;
            }
            if (messages.length === 0) {
                let waitMs = pollIntervalMs;
                try {
                    const next = await store.nextVisibleAt(queue.name);
                    if (next) waitMs = Math.min(pollIntervalMs, Math.max(5, next.getTime() - store.now().getTime()));
                } catch {
                    // as above
                }
                if (!stopped) await pause(waitMs);
                continue;
            }
            const batch: Promise<void> = processBatch(messages)
                .catch((error) => options.onNotice?.(`${consumer.service}/${consumer.name}: ${(error as Error).message}; the batch comes back`))
                .finally(() => {
                    inFlight.delete(batch);
                    wake();
                });
            inFlight.add(batch);
        }
    };
    const running = loop();

    return {
        queue,
        wake,
        async stop() {
            stopped = true;
            wake();
            await running;
            await Promise.all([...inFlight]);
            await pool.close();
        },
    };
}
