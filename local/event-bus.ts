/**
 * The local runtime's EventBridge: the transport `ctx.events.publish` sends to in `npm start`. Each
 * entry becomes the event EventBridge would deliver (`eventBridgeEvent`, the envelope builder the
 * cloud path defines) in every subscription queue whose rule it matches (`matchesSubscription`:
 * producer, name and version), in the queue store, before `publish` resolves: an event that was
 * published is stored, as one that EventBridge accepted is.
 */
import { randomUUID } from "node:crypto";
import { eventBridgeEvent, matchesSubscription, type PutEventsEntry } from "../functions/runtime/queue/event-envelope";
import { EventPublishError, type EventTransport } from "../functions/runtime/outbox/publisher";
import { consumerResourceName } from "../platform/naming";
import type { ResolvedRegistry, ResolvedSchedule, ResolvedSubscription } from "../platform/model";
import { LOCAL_ACCOUNT_ID } from "./event";
import type { LocalQueueStore } from "./queue-store";

/** The region the local events and queues say they are in. */
export const LOCAL_REGION = "us-east-1";
/** The local bus's name, what a publishing function's `EVENT_BUS_NAME` would hold. */
export const LOCAL_EVENT_BUS = "local";
/** Who sent a message, as SQS's `SenderId` says: EventBridge for events, Scheduler for runs. */
export const LOCAL_SENDERS = { events: "AIDAEVENTBRIDGELOCAL", scheduler: "AIDASCHEDULERLOCAL", redrive: "AIDAREDRIVELOCAL" } as const;

/** A queue consumer's queues, named as the cloud names their resources. */
export interface LocalQueue {
    consumer: ResolvedSubscription | ResolvedSchedule;
    name: string;
    deadLetterName: string;
    /** `arn:aws:sqs:<region>:<account>:<name>`, the records' `eventSourceARN`. */
    arn: string;
}

/** Every subscription's and schedule's queues of a registry. */
export function localQueuesOf(registry: Pick<ResolvedRegistry, "subscriptions" | "schedules">): LocalQueue[] {
    return [...registry.subscriptions, ...registry.schedules].map((consumer) => {
        const name = consumerResourceName(consumer.service, consumer.id);
        return { consumer, name, deadLetterName: `${name}-dlq`, arn: `arn:aws:sqs:${LOCAL_REGION}:${LOCAL_ACCOUNT_ID}:${name}` };
    });
}

/** The queue of `<service>/<subscription or schedule>`, as the commands name it. */
export function findLocalQueue(queues: readonly LocalQueue[], address: string): LocalQueue | undefined {
    const [service, name] = address.split("/");
    return queues.find((queue) => queue.consumer.service === service && queue.consumer.name === name);
}

export class LocalEventBus implements EventTransport {
    constructor(
        private readonly store: LocalQueueStore,
        private queues: readonly LocalQueue[],
        /** Told which queues received messages, so their workers look at once. */
        private readonly onDelivered: (queues: string[]) => void = () => undefined,
    ) {}

    /** The queues of a reloaded registry. */
    setQueues(queues: readonly LocalQueue[]): void {
        this.queues = queues;
    }

    async send(entries: readonly PutEventsEntry[]): Promise<void> {
        const delivered: string[] = [];
        try {
            for (const entry of entries) {
                const event = eventBridgeEvent(entry, { id: randomUUID(), account: LOCAL_ACCOUNT_ID, region: LOCAL_REGION });
                for (const queue of this.queues) {
                    if (queue.consumer.kind !== "subscription" || !matchesSubscription(entry, queue.consumer.event)) continue;
                    await this.store.send(queue.name, [JSON.stringify(event)], LOCAL_SENDERS.events);
                    delivered.push(queue.name);
                }
            }
        } catch (error) {
            throw new EventPublishError(`The local event bus did not take the event: ${(error as Error).message}`, error);
        }
        if (delivered.length > 0) this.onDelivered(delivered);
    }
}
