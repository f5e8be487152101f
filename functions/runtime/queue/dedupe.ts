/**
 * Idempotent consumers: a subscription of a database service applies each event once, however
 * often SQS delivers it. The platform records `(subscription, event id)` in `platform_applied_events`
 * in the consumer's own schema, in the same transaction as the handler's writes (the delivery's
 * unit of work, `unit-of-work.ts`), and skips an event it finds there. The id is the platform's
 * (`detail.eventId`, kept by every re-send of the outbox), not EventBridge's, which is new on each
 * `PutEvents`.
 *
 * Two deliveries of one event at once: the second insert waits on the first's uncommitted row;
 * when the first commits, the second finds the record and skips; when it rolls back (the handler
 * failed), the second applies it. A consumer without a database gets every delivery (at least
 * once) with the same id in `event.id`, and must make its own effect idempotent.
 */
import type { Queryable } from "../data/database";
import type { DeliveredEvent, HandlerContext } from "../service";

/** The table, unqualified: it lives in each database service's schema. */
export const APPLIED_EVENTS_TABLE = "platform_applied_events";

/**
 * How long an applied event is remembered: longer than an event can still arrive (SQS keeps a
 * message 4 days, its dead-letter queue 14, EventBridge retries for a day, the relay re-sends
 * within minutes), so a late duplicate still finds its record.
 */
export const APPLIED_EVENT_RETENTION_DAYS = 30;

export const APPLIED_EVENTS_TABLE_SQL: readonly string[] = [
    `CREATE TABLE IF NOT EXISTS ${APPLIED_EVENTS_TABLE} (
        subscription text        NOT NULL,
        event_id     text        NOT NULL,
        applied_at   timestamptz NOT NULL DEFAULT clock_timestamp(),
        PRIMARY KEY (subscription, event_id)
    )`,
    `CREATE INDEX IF NOT EXISTS ${APPLIED_EVENTS_TABLE}_applied_at ON ${APPLIED_EVENTS_TABLE} (applied_at)`,
];

/** How often a container deletes records past their retention, at most: an hour. */
const PRUNE_INTERVAL_MS = 3_600_000;

/**
 * A message's work once decoded: the handler's call with its context. Idempotent consumers wrap
 * this step (`idempotentDelivery`: look the event's id up and record it in the handler's transaction).
 */
export type Delivery<Message> = (message: Message, context: HandlerContext) => Promise<void>;

/**
 * Wraps a subscription's delivery: records the event as applied in the delivery's transaction,
 * or skips it when it already is. `db` must be the delivery's unit of work, so the record commits
 * or rolls back with the handler's writes.
 */
export function idempotentDelivery(subscription: string): (deliver: Delivery<DeliveredEvent>) => Delivery<DeliveredEvent> {
    let prunedAt = 0;
    return (deliver) => async (event, context) => {
        const db = context.db as Queryable;
        const { rowCount } = await db.query(`INSERT INTO ${APPLIED_EVENTS_TABLE} (subscription, event_id) VALUES ($1, $2) ON CONFLICT DO NOTHING`, [subscription, event.id]);
        if (rowCount === 0) {
            context.log.info("event already applied; skipped", { eventId: event.id });
            return;
        }
        if (Date.now() - prunedAt > PRUNE_INTERVAL_MS) {
            prunedAt = Date.now();
            await db.query(`DELETE FROM ${APPLIED_EVENTS_TABLE} WHERE applied_at < clock_timestamp() - make_interval(days => $1)`, [APPLIED_EVENT_RETENTION_DAYS]);
        }
        await deliver(event, context);
    };
}
