/**
 * A publishing database service's outbox relay: run by its check (or by an operator's invocation,
 * which may carry a command about parked rows, `ParkedCommand`).
 */
import type { InvocationContext } from "../handler-context";
import { createRelayRunner, type ParkedCommandResult, type RelayReport } from "../outbox/relay";
import { entryLogger, type ResourcesProvider } from "./resources";

export interface RelayEntry {
    /** The service whose outbox the relay sends. */
    service: string;
}

export type RelayHandler = (event?: unknown, context?: Pick<InvocationContext, "getRemainingTimeInMillis">) => Promise<RelayReport | ParkedCommandResult>;

export function createRelayEntry(relay: RelayEntry, provider: ResourcesProvider): RelayHandler {
    const { openDatabase, eventBus } = provider;
    if (!openDatabase || !eventBus) throw new Error(`The outbox relay of service "${relay.service}" needs the service's database and the stack's bus.`);
    const runner = createRelayRunner({
        openDatabase,
        transport: eventBus.transport,
        eventBusName: eventBus.eventBusName,
        logger: entryLogger(provider, { service: relay.service, function: "outbox-relay" }),
    });
    return async (event, context) => runner.handle(event, context);
}
