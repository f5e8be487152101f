/** A subscription's handler, as its queue's event source mapping invokes it. */
import type { EventContract } from "../events";
import { createSubscriptionHandler, type QueueHandler } from "../queue/consumer";
import type { SubscriptionHandler } from "../service";
import { entryLogger, serviceResources, type ResourcesProvider, type ServiceUse } from "./resources";

/** What the entry takes of a resolved subscription: only this is captured in its archive. */
export interface SubscriptionEntry extends ServiceUse {
    handler: SubscriptionHandler;
    /** The subscription's name in its service. */
    name: string;
    /** The contract subscribed to: what each payload is checked against. */
    event: EventContract;
}

export function subscriptionEntry(subscription: SubscriptionEntry): SubscriptionEntry {
    const { handler, service, name, event, events } = subscription;
    return { handler, service, name, event, events };
}

export function createSubscriptionEntry(subscription: SubscriptionEntry, provider: ResourcesProvider): QueueHandler {
    return createSubscriptionHandler(subscription.handler, {
        service: subscription.service,
        subscription: subscription.name,
        event: subscription.event,
        logger: entryLogger(provider, { service: subscription.service, subscription: subscription.name }),
        ...serviceResources(subscription, provider),
    });
}
