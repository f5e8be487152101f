/**
 * The context every handler gets (`HandlerContext`), built the same way for a route, a
 * subscription and a schedule: its logger, its request id, the service's database (opened once
 * per container, its connects given up in time to answer), and a publisher of the service's own
 * events.
 */
import type { Context as LambdaContext } from "aws-lambda";
import { CONNECT_DEADLINE_MARGIN_MS, type Database } from "./database";
import { createEventPublisher, type EventTransport } from "./event-publisher";
import type { EventCatalog } from "./events";
import type { Logger } from "./logger";
import type { HandlerContext } from "./service";

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

/** Builds each invocation's context; the database is opened at the first and kept. */
export function createContextFactory(resources: ServiceResources): (requestId: string, log: Logger, invocation?: InvocationContext) => HandlerContext {
    let database: Database | undefined;
    return (requestId, log, invocation) => {
        if (resources.openDatabase) database ??= resources.openDatabase();
        // Connects give up in time for a clean answer before the platform ends the invocation.
        const connectDeadline = invocation ? Date.now() + invocation.getRemainingTimeInMillis() - CONNECT_DEADLINE_MARGIN_MS : undefined;
        return {
            log,
            requestId,
            db: connectDeadline === undefined ? database : database?.withConnectDeadline(connectDeadline),
            events: createEventPublisher(resources.events?.catalog, {
                transport: resources.events?.transport ?? { send: async () => undefined },
                eventBusName: resources.events?.eventBusName ?? "",
                requestId,
                log,
            }),
            remainingTimeMs: () => invocation?.getRemainingTimeInMillis() ?? Number.POSITIVE_INFINITY,
        };
    };
}
