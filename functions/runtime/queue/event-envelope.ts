/**
 * The shapes an event takes on its way, built and read in one place: the `PutEvents` entry a
 * producer sends, the EventBridge event a rule delivers to a subscription's queue (the body of the
 * SQS message the consumer reads), the rule's pattern, and the SQS records the consumer receives.
 * The cloud's EventBridge and SQS make these shapes themselves; the local runtime makes them here,
 * so a consumer cannot tell one from the other.
 *
 * Every event carries in its `detail` an id the platform assigns when it is published (`eventId`),
 * not EventBridge's own `id`, which is new on every `PutEvents`: a re-sent event keeps its
 * `eventId`, so a consumer can tell a duplicate by it.
 */
import type { SQSRecord } from "aws-lambda";
import type { EventContract } from "../events";

/** The event's `detail`: the platform's metadata around the producer's payload. */
export interface EventDetail<Payload = unknown> {
    /** Assigned by the platform when the event is published; the same on every delivery and re-send. */
    eventId: string;
    /** The contract's version the payload was checked against. */
    version: number;
    /** The id of the request (or delivery) that published it: consumers log it as theirs. */
    requestId?: string;
    payload: Payload;
}

/** One entry of a `PutEvents` request (the field names are EventBridge's). */
export interface PutEventsEntry {
    EventBusName: string;
    Source: string;
    DetailType: string;
    /** JSON of an `EventDetail`. */
    Detail: string;
    /** When it was published: kept by a re-send, so `time` says when it happened, not when it was sent. */
    Time: Date;
}

/** The event EventBridge delivers to a target: the body of the subscription queue's message. */
export interface EventBridgeEvent<Payload = unknown> {
    version: "0";
    id: string;
    "detail-type": string;
    source: string;
    account: string;
    time: string;
    region: string;
    resources: string[];
    detail: EventDetail<Payload>;
}

/** The PutEvents entry for an event whose payload was checked against `contract`. */
export function putEventsEntry(
    contract: Pick<EventContract, "source" | "name" | "version">,
    payload: unknown,
    meta: { eventId: string; requestId?: string; time: Date; eventBusName: string },
): PutEventsEntry {
    const detail: EventDetail = { eventId: meta.eventId, version: contract.version, ...(meta.requestId ? { requestId: meta.requestId } : {}), payload };
    return { EventBusName: meta.eventBusName, Source: contract.source, DetailType: contract.name, Detail: JSON.stringify(detail), Time: meta.time };
}

/** What EventBridge makes of an entry when it delivers it: its own `id`, the account and region, `time` in whole seconds. */
export function eventBridgeEvent(entry: PutEventsEntry, delivery: { id: string; account: string; region: string }): EventBridgeEvent {
    return {
        version: "0",
        id: delivery.id,
        "detail-type": entry.DetailType,
        source: entry.Source,
        account: delivery.account,
        time: entry.Time.toISOString().replace(/\.\d{3}Z$/, "Z"),
        region: delivery.region,
        resources: [],
        detail: JSON.parse(entry.Detail) as EventDetail,
    };
}

/** The rule's event pattern: this producer, this event, this version. */
export function subscriptionPattern(contract: Pick<EventContract, "source" | "name" | "version">) {
    return { source: [contract.source], "detail-type": [contract.name], detail: { version: [contract.version] } };
}

/** Whether an entry matches a subscription's pattern, as the rule would decide (the local bus). */
export function matchesSubscription(entry: PutEventsEntry, contract: Pick<EventContract, "source" | "name" | "version">): boolean {
    if (entry.Source !== contract.source || entry.DetailType !== contract.name) return false;
    try {
        return (JSON.parse(entry.Detail) as Partial<EventDetail>).version === contract.version;
    } catch {
        return false;
    }
}

/** A queue as the SQS records of its messages name it. */
export interface QueueAddress {
    /** `arn:aws:sqs:<region>:<account>:<name>` */
    arn: string;
    region: string;
}

/** A message as a queue holds it, for the record Lambda's poller builds from it. */
export interface QueuedMessage {
    messageId: string;
    receiptHandle: string;
    body: string;
    /** How many times it has been received, this time included. */
    receiveCount: number;
    sentAt: Date;
    firstReceivedAt: Date;
    senderId: string;
}

/** The record Lambda hands a consumer for one SQS message (field names and string types are Lambda's). */
export function sqsRecord(message: QueuedMessage, queue: QueueAddress, md5OfBody: string): SQSRecord {
    return {
        messageId: message.messageId,
        receiptHandle: message.receiptHandle,
        body: message.body,
        attributes: {
            ApproximateReceiveCount: String(message.receiveCount),
            SentTimestamp: String(message.sentAt.getTime()),
            SenderId: message.senderId,
            ApproximateFirstReceiveTimestamp: String(message.firstReceivedAt.getTime()),
        },
        messageAttributes: {},
        md5OfBody,
        eventSource: "aws:sqs",
        eventSourceARN: queue.arn,
        awsRegion: queue.region,
    };
}
