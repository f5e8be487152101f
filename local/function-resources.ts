/**
 * The resources provider of a local function (`functions/runtime/entry/resources.ts`). A deployed
 * function's provider reads Lambda's environment; this one is handed what the local runtime has:
 * the service's login role on the embedded PostgreSQL, the local bus and the runtime's log writer.
 */
import { createDatabase, statementTimeoutFor, type Database } from "../functions/runtime/data/database";
import type { ResourcesProvider } from "../functions/runtime/entry/resources";
import type { Logger } from "../functions/runtime/logger";
import type { EventTransport } from "../functions/runtime/outbox/publisher";
import { LOCAL_EVENT_BUS } from "./event-bus";

export interface LocalResources {
    /** Opens the service's database: the Lambda pool's, one per execution environment. */
    openDatabase?: () => Database;
    /** Where the function's events go (`local/event-bus.ts`). @default none: a function that publishes fails */
    transport?: EventTransport;
    /** Its logger. @default JSON on standard output */
    logger?: Logger;
}

export function localResources(resources: LocalResources): ResourcesProvider {
    const { openDatabase, transport, logger } = resources;
    return {
        openDatabase,
        eventBus: transport ? { eventBusName: LOCAL_EVENT_BUS, transport } : undefined,
        logger: logger ? () => logger : undefined,
    };
}

/**
 * How a local function opens its service's database: the call the deployed one makes, with the
 * service role's connection string and the statement timeout the cloud sets from the function's
 * timeout.
 */
export function localServiceDatabase(connectionString: string, timeoutSeconds: number, options: { connectRetryWindowMs?: number } = {}): () => Database {
    return () => createDatabase({ connectionString, statementTimeoutMs: statementTimeoutFor(timeoutSeconds), ...options });
}
