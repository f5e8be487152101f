/**
 * The outbox relay of a database service that publishes: which services have one and its settings.
 * The cloud realises it in `infra/components/outbox-relay.ts` (the relay, its check every minute
 * and their metrics), the local runtime in `local/outbox-relay.ts`, and both run it through
 * `functions/runtime/entry/relay.ts` (the check, only in the cloud, through
 * `functions/runtime/entry/relay-check.ts`).
 */
import type { ResolvedService } from "../model";

/**
 * Whether a service publishes through a transactional outbox: it keeps data and declares events, so
 * its handlers' events are written in their transaction and an outbox relay sends what is left.
 */
export function publishesThroughOutbox(service: Pick<ResolvedService, "database" | "events">): boolean {
    return service.database && service.events.length > 0;
}

/** The outbox relay function's timeout, in the cloud and locally: no trigger the policy knows, so within a route's bound. */
export const OUTBOX_RELAY_TIMEOUT_SECONDS = 25;

/** The relay's and its check's settings. */
export const OUTBOX_RELAY_DEFAULTS = {
    /** How often the check runs. */
    checkExpression: "rate(1 minute)",
    relayTimeoutSeconds: OUTBOX_RELAY_TIMEOUT_SECONDS,
    checkTimeoutSeconds: 10,
    memoryMb: 256,
    /** Added to the producers' longest timeout for the lookback: Lambda's metrics arrive within a few minutes. */
    metricDelaySeconds: 300,
    /** The namespace of the relay's metrics (dimension `Service`). */
    metricNamespace: "serverless-microservices/outbox",
    metrics: { unsent: "OutboxUnsent", oldestUnsentSeconds: "OutboxOldestUnsentSeconds", parked: "OutboxParked" },
} as const;
