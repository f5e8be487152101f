/**
 * The context every handler gets (`HandlerContext`), built the same way for a route, a
 * subscription and a schedule: its logger, its request id, the service's database (opened once
 * per container, its connects given up in time to answer), and a publisher of the service's own
 * events.
 *
 * In a database service that publishes (and in every subscription of a database service, whose
 * dedupe record must commit with the handler's writes), the handler runs in a unit of work
 * (`unit-of-work.ts`): `ctx.db` is the request's transaction and `publish` writes into the
 * service's outbox in it (`outbox.ts`). `finish` commits it when the handler succeeded (else rolls
 * it back), then sends what the request published; a send that fails leaves the rows to the relay.
 * Just before a COMMIT that carries events it logs the outbox write marker (`logOutboxWrite`).
 */
import type { Context as LambdaContext } from "aws-lambda";
import { CONNECT_DEADLINE_MARGIN_MS, type Database } from "./data/database";
import type { PutEventsEntry } from "./queue/event-envelope";
import { createEventPublisher, type EventTransport } from "./outbox/publisher";
import type { EventCatalog } from "./events";
import type { Logger } from "./logger";
import { logOutboxWrite, sendFromOutbox, writeToOutbox } from "./outbox/outbox";
import type { HandlerContext } from "./service";
import { createUnitOfWork } from "./data/unit-of-work";

/** The subset of the Lambda context the wrappers read; the local runtime provides the same. */
export type InvocationContext = Pick<LambdaContext, "awsRequestId" | "getRemainingTimeInMillis">;

/** How a service's handlers publish: its catalog, the stack's bus and the way entries leave. */
export interface EventPublishing {
    catalog: EventCatalog;
    eventBusName: string;
    transport: EventTransport;
}

/** What a wrapper gives its handlers besides the logger, for the life of a container. */
export interface ServiceResources {
    /** Opens the service's database; called once per container, on the first invocation. */
    openDatabase?: () => Database;
    /** The service's events: absent for a service that publishes none. */
    events?: EventPublishing;
}

/** One invocation's context, and the step that ends its unit of work. */
export interface Invocation {
    context: HandlerContext;
    /**
     * After the handler: commits its unit of work when it succeeded (a lost `COMMIT` rejects with
     * `DatabaseUnavailableError`), else rolls it back; then sends the events it published. Nothing
     * to do for a handler without a unit of work.
     */
    finish(succeeded: boolean): Promise<void>;
}

export interface ContextOptions {
    /** The service whose handlers these are: named in the outbox write marker (`logOutboxWrite`). */
    service: string;
    /** Run each handler in a unit of work (on the service's database). @default when the service has a database and publishes */
    unitOfWork?: boolean;
    /**
     * In a database service that publishes, a handler without a unit of work may not publish (the
     * outbox is written inside one): why, for the error its `publish` then throws.
     * @default "it runs without a transaction"
     */
    publishingRefused?: string;
}

/** Builds each invocation's context; the database is opened at the first and kept. */
export function createContextFactory(resources: ServiceResources, options: ContextOptions): (requestId: string, log: Logger, invocation?: InvocationContext) => Invocation {
    let database: Database | undefined;
    const transactional = Boolean(resources.openDatabase) && (options.unitOfWork ?? Boolean(resources.events));
    return (requestId, log, invocation) => {
        if (resources.openDatabase) database ??= resources.openDatabase();
        // Connects give up in time for a clean answer before the platform ends the invocation.
        const connectDeadline = invocation ? Date.now() + invocation.getRemainingTimeInMillis() - CONNECT_DEADLINE_MARGIN_MS : undefined;
        const db = connectDeadline === undefined ? database : database?.withConnectDeadline(connectDeadline);
        const unit = transactional && db ? createUnitOfWork(db) : undefined;
        const published: string[] = [];
        const events = resources.events;
        const transport: EventTransport = unit
            ? { send: async (entries) => void published.push(...(await writeToOutbox(await unit.transaction(), entries))) }
            : resources.openDatabase && events
              ? { send: async (entries) => refusePublishing(entries, options.publishingRefused ?? "it runs without a transaction") }
              : (events?.transport ?? { send: async () => undefined });
        return {
            context: {
                log,
                requestId,
                db: unit ? unit.db : db,
                events: createEventPublisher(events?.catalog, { transport, eventBusName: events?.eventBusName ?? "", requestId, log }),
                remainingTimeMs: () => invocation?.getRemainingTimeInMillis() ?? Number.POSITIVE_INFINITY,
                // No `secrets`: a service that declares any gets them from its handler's wrapper (`entry/secrets.ts`).
            } as HandlerContext,
            finish: async (succeeded) => {
                if (!unit) return;
                // Before the COMMIT: a crash right after it still leaves the marker that wakes the relay.
                if (succeeded && published.length > 0) logOutboxWrite(log, options.service, published.length);
                await unit.settle(succeeded);
                if (succeeded && published.length > 0 && events) await sendPublished(db!, events, published, log);
            },
        };
    };
}

/**
 * Sending a database service's event straight to the bus, outside the transaction that writes its
 * data, could announce a write that then rolls back (or lose the event of one that commits): the
 * handler's bug, refused where it publishes. The wrapper answers 500 and logs this message.
 */
function refusePublishing(entries: readonly PutEventsEntry[], reason: string): never {
    throw new Error(`${entries.map((entry) => entry.DetailType).join(", ")} not published: ${reason}.`);
}

/** The request path's send, right after its commit: its own rows only. A failure is the relay's to repair, never the request's. */
async function sendPublished(db: Database, events: EventPublishing, eventIds: string[], log: Logger): Promise<void> {
    try {
        let sent = 0;
        let parked = 0;
        for (;;) {
            const result = await sendFromOutbox(db, events.transport, { eventBusName: events.eventBusName, eventIds });
            sent += result.sent;
            parked += result.parked;
            if (result.failure) {
                log.warn("events left in the outbox for the relay", { eventIds, error: result.failure });
                return;
            }
            if (result.sent + result.parked === 0) break;
        }
        (parked > 0 ? log.warn : log.debug).call(log, "events sent from the outbox", { eventIds, sent, parked });
    } catch (error) {
        log.warn("events left in the outbox for the relay", { eventIds, error });
    }
}
