/**
 * What Lambda's SQS poller does for one queue, locally: it receives batches (up to the consumer's
 * batch size, hidden for the queue's visibility timeout), runs at most the mapping's maximum
 * concurrency of them at once, each in a "container" of its own (its own wrapper instance and
 * database connection, like a Lambda execution environment), hands the consumer the SQS event of
 * the batch, and deletes the messages that did not fail (`batchItemFailures`). A failed message
 * comes back when its visibility timeout ends, until its attempts are used up; then the store moves
 * it to the dead-letter queue. An invocation that throws or runs past its timeout deletes nothing.
 */
import { createHash, randomUUID } from "node:crypto";
import type { SQSBatchResponse } from "aws-lambda";
import { createScheduleHandler, createSubscriptionHandler, type QueueHandler } from "../functions/runtime/queue/consumer";
import { createDatabase, statementTimeoutFor, type Database } from "../functions/runtime/data/database";
import { sqsRecord } from "../functions/runtime/queue/event-envelope";
import type { EventTransport } from "../functions/runtime/outbox/publisher";
import type { Logger } from "../functions/runtime/logger";
import { LOCAL_EVENT_BUS, LOCAL_REGION, type LocalQueue } from "./event-bus";
import type { LocalQueueStore, ReceivedMessage } from "./queue-store";

export interface QueueWorkerOptions {
    store: LocalQueueStore;
    /** Where a database consumer signs in: its service's login role. */
    serviceDatabaseUrl?: (service: string) => string;
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

interface Container {
    invoke: QueueHandler;
    database?: Database;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function createContainer(queue: LocalQueue, options: QueueWorkerOptions): Container {
    const { consumer } = queue;
    const database =
        consumer.database && options.serviceDatabaseUrl
            ? createDatabase({ connectionString: options.serviceDatabaseUrl(consumer.service), statementTimeoutMs: statementTimeoutFor(consumer.timeoutSeconds) })
            : undefined;
    const resources = {
        openDatabase: database ? () => database : undefined,
        events: consumer.events ? { catalog: consumer.events, eventBusName: LOCAL_EVENT_BUS, transport: options.transport } : undefined,
        logger: options.logger(queue),
    };
    const invoke =
        consumer.kind === "subscription"
            ? createSubscriptionHandler(consumer.handler, { ...resources, service: consumer.service, subscription: consumer.name, event: consumer.event })
            : createScheduleHandler(consumer.handler, { ...resources, service: consumer.service, schedule: consumer.name });
    return { invoke, database };
}

export function startQueueWorker(queue: LocalQueue, options: QueueWorkerOptions): QueueWorker {
    const { consumer } = queue;
    const { store } = options;
    const visibilityTimeoutMs = Math.max(1, Math.round(consumer.visibilityTimeoutSeconds * 1000 * (options.visibilityTimeoutScale ?? 1)));
    const pollIntervalMs = options.pollIntervalMs ?? 1000;
    const idle: Container[] = [];
    const containers: Container[] = [];
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

    const takeContainer = () => {
        const container = idle.pop();
        if (container) return container;
        const made = createContainer(queue, options);
        containers.push(made);
        return made;
    };

    /** One invocation with one batch; deletes what did not fail. */
    const processBatch = async (container: Container, messages: ReceivedMessage[]) => {
        const event = { Records: messages.map((message) => sqsRecord(message, { arn: queue.arn, region: LOCAL_REGION }, createHash("md5").update(message.body).digest("hex"))) };
        const deadline = Date.now() + consumer.timeoutSeconds * 1000;
        const context = { awsRequestId: randomUUID(), getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()) };
        let timer: NodeJS.Timeout | undefined;
        const timedOut = new Promise<"timeout">((resolve) => (timer = setTimeout(() => resolve("timeout"), consumer.timeoutSeconds * 1000)));
        let outcome: SQSBatchResponse | "timeout" | "failed";
        try {
            outcome = await Promise.race([container.invoke(event, context), timedOut]);
        } catch {
            outcome = "failed";
        } finally {
            clearTimeout(timer);
        }
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
            const container = takeContainer();
            const batch: Promise<void> = processBatch(container, messages)
                .catch((error) => options.onNotice?.(`${consumer.service}/${consumer.name}: ${(error as Error).message}; the batch comes back`))
                .finally(() => {
                    inFlight.delete(batch);
                    idle.push(container);
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
            await Promise.all(containers.map((container) => container.database?.end().catch(() => undefined)));
        },
    };
}
