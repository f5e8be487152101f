/**
 * The outbox relay of a database service that publishes: which services have one and its settings.
 * The cloud realises it in `infra/components/outbox-relay.ts` (the relay, what wakes it: a check
 * every minute or an alarm on the service's outbox writes, and their metrics), the local runtime in `local/outbox-relay.ts`, and both run it through
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

/** The relay's, its check's (`relayWake: every-minute`) and its wake alarm's (`relayWake: on-alarm`) settings. */
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
    metrics: { unsent: "OutboxUnsent", oldestUnsentSeconds: "OutboxOldestUnsentSeconds", parked: "OutboxParked", writes: "OutboxWrites" },
    /**
     * The wake alarm: one datapoint a minute over the service's outbox writes and the relay's
     * backlog. Added to the producers' longest timeout for how long it stays in ALARM after the
     * last write: a log line reaches its metric within seconds, a minute covers a slow delivery.
     */
    wakePeriodSeconds: 60,
    wakeMarginSeconds: 60,
} as const;

/**
 * The wake alarm's evaluation periods: a write's marker is logged before its COMMIT, which comes at
 * the latest when the invocation times out, so the alarm returns to OK (and wakes the relay again)
 * only once every commit that may follow the last marker is done.
 */
export function wakeEvaluationPeriods(longestProducerTimeoutSeconds: number): number {
    const { wakePeriodSeconds, wakeMarginSeconds } = OUTBOX_RELAY_DEFAULTS;
    return Math.max(1, Math.ceil((longestProducerTimeoutSeconds + wakeMarginSeconds) / wakePeriodSeconds));
}
