/**
 * The stack's event catalogue as an AsyncAPI 3.0 document: one channel per published event version
 * on the stack's EventBridge bus, whose message is the event as a subscription's queue receives it
 * (EventBridge's envelope around the platform's `detail`, `functions/runtime/queue/event-envelope.ts`)
 * with the contract's payload as JSON Schema; a `send` operation for its producer and a `receive`
 * operation per subscription, with the subscription's queue and dead-letter queue as SQS bindings.
 *
 * Schedules are left out: EventBridge Scheduler sends a schedule's run to the service's own queue,
 * never through the bus, so no other service can take it (`npm run plan` lists them).
 */
import { eventLabel, type EventContract } from "../../functions/runtime/events";
import { subscriptionPattern } from "../../functions/runtime/queue/event-envelope";
import { PROJECT } from "../config/stack-config";
import type { EventFlow, ResolvedSubscription } from "../model";
import { consumerResourceName, eventBusName } from "../naming";
import { payloadJsonSchema } from "../events/schemas";
import type { JsonSchema } from "./json-schema";

/** The AsyncAPI version the document is written in. */
export const ASYNCAPI_VERSION = "3.0.0";
/** The AsyncAPI SQS bindings version the receive operations use: the one the parser holds for AsyncAPI 3.0. */
const SQS_BINDING_VERSION = "0.2.0";
/** The single server: the stack's bus. */
const BUS_SERVER = "eventBus";

/** An AsyncAPI document, as JSON. */
export type AsyncApiDocument = Record<string, unknown> & { asyncapi: string; channels: Record<string, Channel>; operations: Record<string, Operation> };

interface Channel {
    address: string;
    title: string;
    description: string;
    servers: { $ref: string }[];
    messages: Record<string, JsonSchema>;
    [extension: `x-${string}`]: unknown;
}

interface Operation {
    action: "send" | "receive";
    channel: { $ref: string };
    title: string;
    summary: string;
    description?: string;
    messages: { $ref: string }[];
    tags: { name: string }[];
    bindings?: Record<string, unknown>;
}

/** What the document is made from: the stack, its region, and the registry's event flows and subscriptions. */
export interface AsyncApiInput {
    /** The environment (`dev`, `prod`): the bus is that environment's whichever stack of it deploys. */
    environment: string;
    region: string;
    /** The project's version, the document's `info.version`. */
    version: string;
    eventFlows: readonly EventFlow[];
    subscriptions: readonly ResolvedSubscription[];
}

/** `users.user.created.v1`: a channel's key, from the producer, the event and its version. */
export function channelId(event: Pick<EventContract, "source" | "name" | "version">): string {
    return `${event.source}.${event.name}.v${event.version}`;
}

/**
 * The event as a subscription's queue receives it, the body of each SQS message: EventBridge's
 * envelope (`EventBridgeEvent` in event-envelope.ts) around the platform's detail (`EventDetail`),
 * whose `payload` is the contract's.
 */
export function deliveredEventSchema(event: EventContract): JsonSchema {
    const text = { type: "string" };
    return {
        type: "object",
        properties: {
            version: { const: "0", description: "EventBridge's envelope version" },
            id: { ...text, description: "EventBridge's id: new on every send; use detail.eventId to tell a duplicate" },
            "detail-type": { const: event.name },
            source: { const: event.source },
            account: text,
            time: { ...text, format: "date-time", description: "When the producer published it (whole seconds), kept by a re-send" },
            region: text,
            resources: { type: "array", items: text },
            detail: {
                type: "object",
                properties: {
                    eventId: { ...text, description: "The platform's id of the event: the same on every delivery, re-send and redrive" },
                    version: { const: event.version },
                    requestId: { ...text, description: "The id of the request or delivery that published it" },
                    payload: payloadJsonSchema(event),
                },
                required: ["eventId", "version", "payload"],
            },
        },
        required: ["version", "id", "detail-type", "source", "account", "time", "region", "resources", "detail"],
    };
}

function channelFor(flow: EventFlow, busName: string): Channel {
    const { event } = flow;
    return {
        address: event.name,
        title: eventLabel(event),
        description: `${event.description}. Published by ${event.source} on the bus ${busName} as detail-type "${event.name}"; a subscription's rule matches its source, name and version.`,
        servers: [{ $ref: `#/servers/${BUS_SERVER}` }],
        messages: {
            [event.name]: {
                name: event.name,
                title: eventLabel(event),
                summary: event.description,
                contentType: "application/json",
                correlationId: { description: "The request that published the event", location: "$message.payload#/detail/requestId" },
                payload: deliveredEventSchema(event),
            },
        },
        "x-eventbridge": { eventBusName: busName, eventPattern: subscriptionPattern(event) },
    };
}

function messageRef(event: EventContract): { $ref: string } {
    return { $ref: `#/channels/${channelId(event)}/messages/${event.name}` };
}

function sendOperation(flow: EventFlow): Operation {
    const { event } = flow;
    const subscribers = flow.subscribers.map((s) => `${s.service}/${s.subscription}`);
    return {
        action: "send",
        channel: { $ref: `#/channels/${channelId(event)}` },
        title: `${flow.producer} publishes ${event.name} v${event.version}`,
        summary: event.description,
        description: subscribers.length > 0 ? `Taken by ${subscribers.join(", ")}.` : "No subscription takes it yet.",
        messages: [messageRef(event)],
        tags: [{ name: flow.producer }],
    };
}

function receiveOperation(subscription: ResolvedSubscription): Operation {
    const queue = consumerResourceName(subscription.service, subscription.id);
    const deadLetterQueue = `${queue}-dlq`;
    return {
        action: "receive",
        channel: { $ref: `#/channels/${channelId(subscription.event)}` },
        title: `${subscription.service}/${subscription.name} takes ${eventLabel(subscription.event)}`,
        summary: subscription.description,
        description:
            `Delivered to the queue ${queue}, read in batches of up to ${subscription.batchSize} by at most ${subscription.maxConcurrency} ` +
            `concurrent invocations of ${subscription.timeoutSeconds} s; a failed event comes back after the visibility timeout and, after ` +
            `${subscription.maxAttempts} attempts, waits in ${deadLetterQueue}. In AWS each queue's name gets a suffix (the stack's deadLetterQueues ` +
            "output lists them); locally the names are these (npm run queues).",
        messages: [messageRef(subscription.event)],
        tags: [{ name: subscription.service }],
        bindings: {
            sqs: {
                bindingVersion: SQS_BINDING_VERSION,
                queues: [
                    {
                        name: queue,
                        fifoQueue: false,
                        visibilityTimeout: subscription.visibilityTimeoutSeconds,
                        redrivePolicy: { deadLetterQueue: { name: deadLetterQueue }, maxReceiveCount: subscription.maxAttempts },
                    },
                    { name: deadLetterQueue, fifoQueue: false },
                ],
            },
        },
    };
}

/** The AsyncAPI 3.0 document of a stack's events. */
export function asyncApiDocument(input: AsyncApiInput): AsyncApiDocument {
    const busName = eventBusName(PROJECT, input.environment);
    const channels: Record<string, Channel> = {};
    const operations: Record<string, Operation> = {};
    for (const flow of input.eventFlows) {
        channels[channelId(flow.event)] = channelFor(flow, busName);
        operations[`${channelId(flow.event)}.send`] = sendOperation(flow);
    }
    for (const subscription of input.subscriptions) operations[`${subscription.service}.${subscription.name}.receive`] = receiveOperation(subscription);
    return {
        asyncapi: ASYNCAPI_VERSION,
        info: {
            title: `${PROJECT} events (${input.environment})`,
            version: input.version,
            description:
                "Every event the services of this stack publish, with its version, its payload as JSON Schema and its producer, and every " +
                "subscription that takes it. Within a version a payload only gains optional fields (functions/<service>/events.schema.json " +
                "records each version); a consumer must take fields it does not know. Schedules are not events: EventBridge Scheduler sends " +
                "their runs to the service's own queue, so they are not listed here. Generated from the registry: npm run asyncapi -- --stack " +
                `${input.environment}.`,
        },
        defaultContentType: "application/json",
        servers: {
            [BUS_SERVER]: {
                host: `events.${input.region}.amazonaws.com`,
                protocol: "https",
                title: busName,
                description: `The EventBridge bus ${busName}: producers PutEvents to it, a rule per subscription sends each matching event to that subscription's SQS queue.`,
            },
        },
        channels,
        operations,
    };
}
