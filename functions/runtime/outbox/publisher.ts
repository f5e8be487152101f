/**
 * The one publish path: `ctx.events.publish(name, payload)` checks the payload against the
 * service's own contract, gives the event its id, builds the `PutEvents` entry and hands it to a
 * transport: EventBridge in the cloud (`eventBridgeTransport`), the local bus in `npm start`. A
 * transactional outbox slots in here as another transport (one that writes the entry into the
 * producer's schema inside its transaction, and a relay that sends what is left).
 */
import { randomUUID } from "node:crypto";
import type { PutEventsEntry } from "../queue/event-envelope";
import { putEventsEntry } from "../queue/event-envelope";
import { EventPayloadError, eventLabel, missingEventOf, parsePayload, type EventCatalog, type PublishedPayload } from "../events";
import type { Logger } from "../logger";
import { EVENTBRIDGE, putEventsEntrySize } from "../limits";

/** Where published entries go. Resolves once the entries are accepted; rejects with `EventPublishError` otherwise. */
export interface EventTransport {
    send(entries: readonly PutEventsEntry[]): Promise<void>;
}

/** What `publish` resolves with: the id the consumers see as the event's `id`. */
export interface PublishedEvent {
    eventId: string;
}

/** Publishes the events a service declares; the name and the payload's type come from its catalog. */
export interface EventPublisher<Catalog extends EventCatalog = EventCatalog> {
    publish<Name extends keyof Catalog & string>(name: Name, payload: PublishedPayload<Catalog[Name]>): Promise<PublishedEvent>;
}

/** One entry of a `PutEvents` request that EventBridge refused, by its place in the request. */
export interface FailedEntry {
    index: number;
    errorCode: string;
    errorMessage?: string;
}

/**
 * The event could not be handed over (EventBridge refused it or did not answer). The route wrapper
 * answers 503. `failedEntries` lists the entries EventBridge refused when it answered (the others
 * were taken); absent when the request as a whole failed.
 */
export class EventPublishError extends Error {
    constructor(
        message: string,
        cause?: unknown,
        readonly failedEntries?: readonly FailedEntry[],
    ) {
        super(message, { cause });
        this.message = message;
        this.cause = cause;
        this.name = "EventPublishError";
    }
}

/**
 * An event larger than one `PutEvents` request may carry: no attempt could ever send it, so it is
 * refused where it is published, before anything commits. The producer's bug, like an invalid payload.
 */
export class EventTooLargeError extends Error {
    constructor(
        readonly event: string,
        readonly sizeBytes: number,
    ) {
        const message =
            `Event ${event} was not published: its PutEvents entry is ${sizeBytes} bytes, and EventBridge takes at most ${EVENTBRIDGE.putEventsMaxBytes} (256 KB). ` +
            "Publish a reference to the data (its id, or where it is stored) instead of the data.";
        super(message);
        // Set again: in a serialized closure `super(...)` becomes `Error.call(this, ...)`, which sets nothing on `this`.
        this.message = message;
        this.name = "EventTooLargeError";
    }
}

/** Duck-typed, like `isHttpError`: a serialized closure and a module may hold different copies of the class. */
export function isEventPublishError(error: unknown): error is EventPublishError {
    return error instanceof Error && error.name === "EventPublishError";
}

export interface PublisherOptions {
    transport: EventTransport;
    eventBusName: string;
    /** The request (or delivery) publishing: its id travels with the event into the consumers' logs. */
    requestId?: string;
    log?: Logger;
    /** @default random UUIDs */
    newEventId?: () => string;
}

/**
 * A publisher for one request. An event the catalog does not declare, or a payload that does not
 * match its contract, throws `EventPayloadError` before anything is sent: the producer's bug is
 * reported where it is made, and no consumer ever receives it.
 */
export function createEventPublisher<Catalog extends EventCatalog>(catalog: Catalog | undefined, options: PublisherOptions): EventPublisher<Catalog> {
    const newEventId = options.newEventId ?? randomUUID;
    return {
        async publish(name, payload) {
            const found = catalog?.[name];
            const contract = found && !missingEventOf(found) ? found : undefined;
            if (!contract) {
                const declared = Object.keys(catalog ?? {});
                throw new EventPayloadError(name, [{ field: "(name)", problem: `is not an event this service declares (${declared.length > 0 ? declared.join(", ") : "it declares none"})` }]);
            }
            const parsed = parsePayload(contract, payload, "reject");
            if (!parsed.ok) throw new EventPayloadError(eventLabel(contract), parsed.issues);
            const eventId = newEventId();
            const entry = putEventsEntry(contract, parsed.value, { eventId, requestId: options.requestId, time: new Date(), eventBusName: options.eventBusName });
            const size = putEventsEntrySize(entry);
            if (size > EVENTBRIDGE.putEventsMaxBytes) throw new EventTooLargeError(eventLabel(contract), size);
            await options.transport.send([entry]);
            options.log?.info("event published", { event: eventLabel(contract), eventId });
            return { eventId };
        },
    };
}

/** What the SDK's `PutEventsCommand` answers, as much as is read. */
interface PutEventsOutput {
    FailedEntryCount?: number;
    Entries?: { EventId?: string; ErrorCode?: string; ErrorMessage?: string }[];
}

/**
 * EventBridge's `PutEvents`, with the SDK the Lambda runtime provides (not bundled), loaded at the
 * first publish so that functions that never publish do not pay for it. An entry EventBridge
 * refuses (`FailedEntryCount`, e.g. throttled or too large) is an error: `PutEvents` answers 200
 * for a partly failed request.
 */
export function eventBridgeTransport(): EventTransport {
    let client: { send(command: unknown): Promise<PutEventsOutput> } | undefined;
    let PutEventsCommand: new (input: { Entries: PutEventsEntry[] }) => unknown;
    return {
        async send(entries) {
            if (!client) {
                const sdk = require("@aws-sdk/client-eventbridge") as typeof import("@aws-sdk/client-eventbridge");
                client = new sdk.EventBridgeClient({}) as never;
                PutEventsCommand = sdk.PutEventsCommand as never;
            }
            let output: PutEventsOutput;
            try {
                output = await client!.send(new PutEventsCommand({ Entries: [...entries] }));
            } catch (error) {
                throw new EventPublishError(`EventBridge did not take the event: ${(error as Error).message}`, error);
            }
            if ((output.FailedEntryCount ?? 0) > 0) {
                // Each result stands at its entry's place in the request.
                const failed = (output.Entries ?? []).flatMap((entry, index) => (entry.ErrorCode ? [{ index, errorCode: entry.ErrorCode, errorMessage: entry.ErrorMessage }] : []));
                const failures = failed.map((entry) => `${entry.errorCode}: ${entry.errorMessage}`);
                throw new EventPublishError(`EventBridge refused ${output.FailedEntryCount} of ${entries.length} event(s): ${failures.join("; ")}`, undefined, failed);
            }
        },
    };
}
