/**
 * A service's subscription to another service's event: how it is checked (its name, the event it
 * takes, its queue's settings within SQS's and Lambda's limits; across the registry, that a
 * service publishes that event at that version) and what it gets unless it says otherwise. The
 * cloud realises it in `infra/components/queue-subscription.ts`, the local runtime in
 * `local/queue-worker.ts` behind the local bus, and both run it through
 * `functions/runtime/entry/subscription.ts`.
 */
import { eventLabel, missingEventOf, type EventCatalog, type EventContract } from "../../functions/runtime/events";
import type { AnyService, SubscriptionDefinition } from "../../functions/runtime/service";
import { minimumVisibilityTimeoutSeconds, SQS } from "../../policy/lib/limits";
import { publishedEvents } from "../events/catalog";
import { declaredSecrets } from "../secrets";
import type { ResolvedSubscription } from "../model";
import { REGISTRY_NAME } from "../naming";
import type { FunctionDefaults } from "./defaults";
import { isIntegerIn, optionalInteger, validateQueueFunction } from "./queue-consumer";

/**
 * What a subscription's function gets unless it says otherwise. Five attempts before the
 * dead-letter queue is AWS's advice for Lambda consumers; a concurrency of 2 is the least a mapping
 * allows, so a new consumer holds no more than two database connections.
 */
export const SUBSCRIPTION_DEFAULTS = { batchSize: 10, batchWindowSeconds: 0, maxAttempts: 5, maxConcurrency: 2, timeoutSeconds: 30 } as const;

/** One subscription: its name, the event it takes, and its queue's settings within SQS's and Lambda's limits. */
export function validateSubscription(name: string, subscription: SubscriptionDefinition | undefined, at: string): string[] {
    const problems: string[] = [];
    if (!REGISTRY_NAME.pattern.test(name)) problems.push(`${at}: the name must be ${REGISTRY_NAME.text}`);
    const event = subscription?.event as EventContract | undefined;
    const missing = missingEventOf(event);
    if (missing) {
        problems.push(`${at}: event "${missing.name}" is not an event of ${missing.source}; its events.ts declares ${missing.declared.map((declared) => `"${declared}"`).join(", ") || "none"}`);
    } else if (typeof event?.source !== "string" || typeof event?.name !== "string") {
        problems.push(`${at}: event must be an event of another service's events.ts, e.g. userEvents["user.created"]`);
    }
    if (!subscription) return problems;
    problems.push(...validateQueueFunction(subscription, at));
    problems.push(...optionalInteger(subscription.batchSize, SQS.batchSize, "batchSize", at, " (SQS's batch sizes)"));
    problems.push(...optionalInteger(subscription.batchWindowSeconds, SQS.batchWindowSeconds, "batchWindowSeconds", at));
    const batchSize = subscription.batchSize ?? 0;
    if (isIntegerIn(batchSize, SQS.batchSize) && batchSize > SQS.batchSizeWithoutWindow && !((subscription.batchWindowSeconds ?? 0) >= 1)) {
        problems.push(`${at}: batchSize ${subscription.batchSize} needs batchWindowSeconds of 1 or more (SQS hands out at most ${SQS.batchSizeWithoutWindow} without a batching window)`);
    }
    problems.push(...optionalInteger(subscription.maxAttempts, SQS.maxReceiveCount, "maxAttempts", at, " (the redrive policy's maxReceiveCount)"));
    problems.push(...optionalInteger(subscription.maxConcurrency, SQS.maximumConcurrency, "maxConcurrency", at, " (an SQS event source mapping's maximum concurrency)"));
    return problems;
}

/** A subscription with every setting decided. */
export function resolveSubscription(service: AnyService, name: string, subscription: SubscriptionDefinition, stackDefaults: FunctionDefaults): ResolvedSubscription {
    const timeoutSeconds = subscription.timeoutSeconds ?? SUBSCRIPTION_DEFAULTS.timeoutSeconds;
    const batchWindowSeconds = subscription.batchWindowSeconds ?? SUBSCRIPTION_DEFAULTS.batchWindowSeconds;
    return {
        kind: "subscription",
        service: service.name,
        name,
        id: `subscription-${name}`,
        description: subscription.description ?? `${subscription.event.source}/${subscription.event.name} v${subscription.event.version}`,
        memoryMb: subscription.memoryMb ?? service.memoryMb ?? stackDefaults.memoryMb,
        timeoutSeconds,
        database: service.database,
        batchSize: subscription.batchSize ?? SUBSCRIPTION_DEFAULTS.batchSize,
        batchWindowSeconds,
        maxAttempts: subscription.maxAttempts ?? SUBSCRIPTION_DEFAULTS.maxAttempts,
        maxConcurrency: subscription.maxConcurrency ?? SUBSCRIPTION_DEFAULTS.maxConcurrency,
        visibilityTimeoutSeconds: minimumVisibilityTimeoutSeconds(timeoutSeconds, batchWindowSeconds),
        event: subscription.event,
        handler: subscription.handler,
        ...publishedEvents(service),
        secrets: declaredSecrets(service),
    };
}

/**
 * What only the whole registry tells: every subscription takes an event that a service of the
 * registry publishes, at the version it subscribes to.
 */
export function validateSubscribedEvents(services: readonly AnyService[]): string[] {
    const published = new Map<string, EventContract>();
    for (const service of services) {
        for (const contract of Object.values((service.events ?? {}) as EventCatalog)) {
            if (typeof contract?.name === "string") published.set(`${service.name}/${contract.name}`, contract);
        }
    }
    const problems: string[] = [];
    for (const service of services) {
        for (const [name, subscription] of Object.entries((service.subscriptions ?? {}) as Record<string, SubscriptionDefinition | undefined>)) {
            const event = subscription?.event as EventContract | undefined;
            if (typeof event?.source !== "string" || typeof event?.name !== "string") continue;
            const at = `service "${service.name}", subscription "${name}"`;
            const contract = published.get(`${event.source}/${event.name}`);
            if (!contract) {
                const producer = services.find((candidate) => candidate.name === event.source);
                problems.push(
                    producer
                        ? `${at}: subscribes to ${eventLabel(event)}, which service "${event.source}" does not publish (it publishes ${Object.keys(producer.events ?? {}).join(", ") || "no events"})`
                        : `${at}: subscribes to ${eventLabel(event)}, but no service "${event.source}" is in the registry; no service publishes it`,
                );
            } else if (contract.version !== event.version) {
                problems.push(`${at}: subscribes to ${eventLabel(event)}, but "${event.source}" publishes version ${contract.version}`);
            }
        }
    }
    return problems;
}
