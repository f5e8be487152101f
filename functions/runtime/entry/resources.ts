/**
 * What an entry needs from where it runs: the service's database, the stack's bus and where log
 * lines go. Two providers make it: `lambda.ts` reads a deployed function's environment, and the
 * local runtime hands over its own (a database URL, the local bus, its log writer). An entry never
 * asks where it runs; it only reads its provider.
 */
import type { Database } from "../data/database";
import type { EventCatalog } from "../events";
import { logLevelFromEnvironment } from "../environment";
import type { ServiceResources } from "../handler-context";
import { createLogger, type Logger } from "../logger";
import type { EventTransport } from "../outbox/publisher";

export interface ResourcesProvider {
    /** Opens the service's database, once per execution environment: given for a function that uses it. */
    openDatabase?: () => Database;
    /** The stack's bus and how entries leave for it: given for a function of a service that publishes. */
    eventBus?: { eventBusName: string; transport: EventTransport };
    /** A logger with the entry's fields. @default JSON on standard output, at the level the environment names */
    logger?: (fields: Record<string, string>) => Logger;
}

/** What a handler of a service uses: the fields of its definition the provider's resources are picked by. */
export interface ServiceUse {
    service: string;
    /** The service's own events: absent for a service that publishes none. */
    events?: EventCatalog;
}

/** The service's database and publisher, as the handler's wrapper takes them. */
export function serviceResources(use: ServiceUse, provider: ResourcesProvider): ServiceResources {
    return {
        openDatabase: provider.openDatabase,
        events: use.events && provider.eventBus ? { catalog: use.events, ...provider.eventBus } : undefined,
    };
}

/** The entry's logger: the provider's, or JSON on standard output. */
export function entryLogger(provider: ResourcesProvider, fields: Record<string, string>): Logger {
    return provider.logger?.(fields) ?? createLogger({ level: logLevelFromEnvironment(), fields });
}
