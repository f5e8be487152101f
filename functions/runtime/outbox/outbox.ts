/**
 * The transactional outbox of a database service: what its handlers publish is written into
 * `platform_outbox` in the service's own schema, in the same transaction as their writes, so an
 * event exists exactly when the writes it describes were committed. A sender then hands the rows
 * to EventBridge (the local bus in `npm start`) and marks them sent: the request path right after
 * its commit (its own rows), and the relay for whatever is left (a crash, a timeout, a failed
 * send; `relay.ts`).
 *
 * Sending and marking never race: a sender claims rows with `FOR UPDATE SKIP LOCKED`, sends them,
 * marks them sent and commits; a row another sender holds is skipped, not waited for. A crash
 * between the send and the commit leaves the row unsent, so it is sent again (at least once), and
 * the consumers' dedupe (`dedupe.ts`) absorbs the second copy.
 *
 * A batch is the oldest rows that fit one `PutEvents` request: at most 10 entries and 256 KB in
 * all, each entry sized as EventBridge sizes it. A row that no attempt can send is **parked**
 * (`parked_at`, and the reason): one larger than a whole request, or one EventBridge refused with
 * an error that is not throttling or its own failure (an invalid or unauthorized entry). A parked
 * row no longer holds back the rows behind it, which go on in order; it waits, out of the backlog,
 * for an operator, who sees it (the relay's report, its alarm, `npm run queues`) and redrives or
 * discards it (`redriveParked`, `discardParked`).
 */
import type { Database, Queryable } from "../data/database";
import type { Logger } from "../logger";
import type { PutEventsEntry } from "../queue/event-envelope";
import { isEventPublishError, type EventTransport } from "./publisher";
import { EVENTBRIDGE, putEventsEntrySize } from "../limits";

/** The table, unqualified: it lives in each database service's schema. */
export const OUTBOX_TABLE = "platform_outbox";

/** How long a sent row is kept (for `npm run outbox` and investigations) before the relay deletes it. */
export const SENT_ROW_RETENTION_DAYS = 7;

/**
 * The table and its index of unsent rows, created by the migration run in every database service's
 * schema. The parking columns came later: they are added to a table that lacks them, so every
 * statement here runs on a new database and on one made before them alike.
 */
export const OUTBOX_TABLE_SQL: readonly string[] = [
    `CREATE TABLE IF NOT EXISTS ${OUTBOX_TABLE} (
        position     bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        event_id     text        NOT NULL UNIQUE,
        source       text        NOT NULL,
        detail_type  text        NOT NULL,
        detail       text        NOT NULL,
        published_at timestamptz NOT NULL,
        sent_at      timestamptz
    )`,
    `CREATE INDEX IF NOT EXISTS ${OUTBOX_TABLE}_unsent ON ${OUTBOX_TABLE} (position) WHERE sent_at IS NULL`,
    `ALTER TABLE ${OUTBOX_TABLE} ADD COLUMN IF NOT EXISTS parked_at timestamptz`,
    `ALTER TABLE ${OUTBOX_TABLE} ADD COLUMN IF NOT EXISTS park_reason text`,
];

/** The rows a sender may claim: unsent, and not parked. */
const PENDING = "sent_at IS NULL AND parked_at IS NULL";

/** Writes published entries into the outbox of the transaction `tx` belongs to. */
export async function writeToOutbox(tx: Queryable, entries: readonly PutEventsEntry[]): Promise<string[]> {
    const eventIds = entries.map((entry) => (JSON.parse(entry.Detail) as { eventId: string }).eventId);
    await tx.query(
        `INSERT INTO ${OUTBOX_TABLE} (event_id, source, detail_type, detail, published_at)
         SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::timestamptz[])`,
        [eventIds, entries.map((entry) => entry.Source), entries.map((entry) => entry.DetailType), entries.map((entry) => entry.Detail), entries.map((entry) => entry.Time)],
    );
    return eventIds;
}

/**
 * The line a unit of work logs just before it commits events into the outbox: the signal that
 * wakes the outbox relay where no check runs every minute (`relayWake: on-alarm`, docs/events.md).
 * A metric filter on each publishing function's log group reads it: `message` selects the line,
 * `service` is the metric's dimension and `countField` its value. Logged before the COMMIT, so a
 * crash after the commit has already left it; a COMMIT that then fails leaves a false alarm,
 * which costs one relay run that finds nothing.
 */
export const OUTBOX_WRITE_LOG = { message: "outbox events written", countField: "events" } as const;

/** Logs the outbox write marker of `service`: `count` events are about to commit. */
export function logOutboxWrite(log: Logger, service: string, count: number): void {
    log.info(OUTBOX_WRITE_LOG.message, { service, [OUTBOX_WRITE_LOG.countField]: count });
}

interface OutboxRow {
    position: string;
    event_id: string;
    source: string;
    detail_type: string;
    detail: string;
    published_at: Date;
}

export interface SendOptions {
    /** The bus the entries go to (the sender's environment names it; the rows do not). */
    eventBusName: string;
    /** Only these events (the request path's own). @default the oldest unsent rows */
    eventIds?: readonly string[];
    /** Rows claimed at once, at most one `PutEvents` request's. @default EVENTBRIDGE.putEventsMaxEntries */
    limit?: number;
}

/** What one send did: rows sent and parked, and why it stopped short when a later attempt may succeed. */
export interface SendResult {
    sent: number;
    parked: number;
    /** The send failed in a way a later attempt may get past (no answer, throttling): the rows it left stay unsent. */
    failure?: string;
}

/**
 * Claims the oldest unsent rows that fit one `PutEvents` request (skipping rows another sender
 * holds), parks those no attempt can send, sends the rest, marks what EventBridge took as sent and
 * commits. What a later attempt may send stays unsent, and `failure` says why.
 */
export async function sendFromOutbox(db: Database, transport: EventTransport, options: SendOptions): Promise<SendResult> {
    const limit = Math.min(options.limit ?? EVENTBRIDGE.putEventsMaxEntries, EVENTBRIDGE.putEventsMaxEntries);
    return db.transaction(async (tx) => {
        const { rows } = await tx.query<OutboxRow>(
            `SELECT position, event_id, source, detail_type, detail, published_at FROM ${OUTBOX_TABLE}
             WHERE ${PENDING} AND ($1::text[] IS NULL OR event_id = ANY($1::text[]))
             ORDER BY position LIMIT $2
             FOR UPDATE SKIP LOCKED`,
            [options.eventIds ?? null, limit],
        );
        const { batch, oversized } = batchOf(rows);
        const parked: Array<{ row: OutboxRow; reason: string }> = oversized.map(({ row, size }) => ({
            row,
            reason: `its PutEvents entry is ${size} bytes; EventBridge takes at most ${EVENTBRIDGE.putEventsMaxBytes}`,
        }));
        let sent: OutboxRow[] = [];
        let failure: string | undefined;
        if (batch.length > 0) {
            try {
                await transport.send(batch.map((row) => ({ EventBusName: options.eventBusName, Source: row.source, DetailType: row.detail_type, Detail: row.detail, Time: row.published_at })));
                sent = batch;
            } catch (error) {
                const failed = isEventPublishError(error) ? error.failedEntries : undefined;
                failure = (error as Error).message;
                if (failed) {
                    // EventBridge answered: the entries it did not refuse were taken.
                    const refused = new Map(failed.map((entry) => [entry.index, entry]));
                    sent = batch.filter((_, index) => !refused.has(index));
                    const poison = failed.filter((entry) => !(EVENTBRIDGE.retryableEntryErrors as readonly string[]).includes(entry.errorCode));
                    parked.push(...poison.map((entry) => ({ row: batch[entry.index], reason: `EventBridge refused it: ${entry.errorCode}${entry.errorMessage ? `: ${entry.errorMessage}` : ""}` })));
                    if (poison.length === failed.length) failure = undefined;
                }
            }
        }
        if (sent.length > 0) await tx.query(`UPDATE ${OUTBOX_TABLE} SET sent_at = clock_timestamp() WHERE position = ANY($1::bigint[])`, [sent.map((row) => row.position)]);
        for (const { row, reason } of parked) {
            await tx.query(`UPDATE ${OUTBOX_TABLE} SET parked_at = clock_timestamp(), park_reason = $2 WHERE position = $1`, [row.position, reason]);
        }
        return { sent: sent.length, parked: parked.length, ...(failure ? { failure } : {}) };
    });
}

/**
 * The batch of `rows` (oldest first) that one request carries: rows in order while they fit
 * within EventBridge's bytes per request; a row too large for any request is set aside to be
 * parked, and the rows after it go on.
 */
function batchOf(rows: readonly OutboxRow[]): { batch: OutboxRow[]; oversized: Array<{ row: OutboxRow; size: number }> } {
    const batch: OutboxRow[] = [];
    const oversized: Array<{ row: OutboxRow; size: number }> = [];
    let bytes = 0;
    for (const row of rows) {
        const size = putEventsEntrySize({ Source: row.source, DetailType: row.detail_type, Detail: row.detail, Time: row.published_at });
        if (size > EVENTBRIDGE.putEventsMaxBytes) {
            oversized.push({ row, size });
            continue;
        }
        if (bytes + size > EVENTBRIDGE.putEventsMaxBytes) break;
        batch.push(row);
        bytes += size;
    }
    return { batch, oversized };
}

/** What is still unsent: how many rows, how long the oldest has waited, and how many are parked. */
export interface OutboxBacklog {
    /** Rows a sender will still send (parked rows are not among them). */
    unsent: number;
    /** Seconds since the oldest of those was published; 0 when none is. */
    oldestUnsentSeconds: number;
    /** Rows parked, waiting for an operator to redrive or discard them. */
    parked: number;
}

export async function outboxBacklog(db: Queryable): Promise<OutboxBacklog> {
    const { rows } = await db.query<{ unsent: string; oldest: number | null; parked: string }>(
        `SELECT count(*) FILTER (WHERE parked_at IS NULL) AS unsent,
                extract(epoch FROM clock_timestamp() - min(published_at) FILTER (WHERE parked_at IS NULL))::float8 AS oldest,
                count(*) FILTER (WHERE parked_at IS NOT NULL) AS parked
         FROM ${OUTBOX_TABLE} WHERE sent_at IS NULL`,
    );
    return { unsent: Number(rows[0]?.unsent ?? 0), oldestUnsentSeconds: Math.max(0, Math.round(rows[0]?.oldest ?? 0)), parked: Number(rows[0]?.parked ?? 0) };
}

/** A parked row, as an operator sees it. */
export interface ParkedEvent {
    eventId: string;
    /** `<source>/<detail type>`, e.g. `users/user.created`. */
    event: string;
    /** The entry's size as EventBridge counts it. */
    sizeBytes: number;
    publishedAt: Date;
    parkedAt: Date;
    reason: string;
}

/** Every parked row of the outbox, oldest first. */
export async function listParked(db: Queryable): Promise<ParkedEvent[]> {
    const { rows } = await db.query<OutboxRow & { parked_at: Date; park_reason: string | null }>(
        `SELECT position, event_id, source, detail_type, detail, published_at, parked_at, park_reason FROM ${OUTBOX_TABLE}
         WHERE sent_at IS NULL AND parked_at IS NOT NULL ORDER BY position`,
    );
    return rows.map((row) => ({
        eventId: row.event_id,
        event: `${row.source}/${row.detail_type}`,
        sizeBytes: putEventsEntrySize({ Source: row.source, DetailType: row.detail_type, Detail: row.detail, Time: row.published_at }),
        publishedAt: row.published_at,
        parkedAt: row.parked_at,
        reason: row.park_reason ?? "",
    }));
}

/**
 * Returns parked rows to the outbox (all of them, or those of `eventIds`), to be sent at their
 * place in its order by the next send. Resolves with how many were returned.
 */
export async function redriveParked(db: Queryable, eventIds?: readonly string[]): Promise<number> {
    const { rowCount } = await db.query(
        `UPDATE ${OUTBOX_TABLE} SET parked_at = NULL, park_reason = NULL WHERE sent_at IS NULL AND parked_at IS NOT NULL AND ($1::text[] IS NULL OR event_id = ANY($1::text[]))`,
        [eventIds ?? null],
    );
    return rowCount;
}

/** Deletes the parked rows of `eventIds` (named one by one: an event is never dropped by a wildcard). */
export async function discardParked(db: Queryable, eventIds: readonly string[]): Promise<number> {
    const { rowCount } = await db.query(`DELETE FROM ${OUTBOX_TABLE} WHERE sent_at IS NULL AND parked_at IS NOT NULL AND event_id = ANY($1::text[])`, [eventIds]);
    return rowCount;
}

/** Deletes sent rows past their retention; unsent rows are never deleted. */
export async function pruneSentRows(db: Queryable, retentionDays = SENT_ROW_RETENTION_DAYS): Promise<number> {
    const { rowCount } = await db.query(`DELETE FROM ${OUTBOX_TABLE} WHERE sent_at < clock_timestamp() - make_interval(days => $1)`, [retentionDays]);
    return rowCount;
}
