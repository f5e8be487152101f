/**
 * The transactional outbox of a database service: what its handlers publish is written into
 * `platform_outbox` in the service's own schema, in the same transaction as their writes, so an
 * event exists exactly when the writes it describes were committed. A sender then hands the rows
 * to EventBridge (the local bus in `npm start`) and marks them sent: the request path right after
 * its commit (its own rows), and the relay for whatever is left (a crash, a timeout, a failed
 * send; `outbox-relay.ts`).
 *
 * Sending and marking never race: a sender claims rows with `FOR UPDATE SKIP LOCKED`, marks them
 * sent, sends, and commits; a row another sender holds is skipped, not waited for, and a failed
 * send rolls the mark back. A crash between the send and the commit leaves the row unsent, so it
 * is sent again (at least once), and the consumers' dedupe (`dedupe.ts`) absorbs the second copy.
 */
import type { Database, Queryable } from "./database";
import type { PutEventsEntry } from "./event-envelope";
import type { EventTransport } from "./event-publisher";
import { EVENTBRIDGE } from "../../policy/lib/limits";

/** The table, unqualified: it lives in each database service's schema. */
export const OUTBOX_TABLE = "platform_outbox";

/** How long a sent row is kept (for `npm run outbox` and investigations) before the relay deletes it. */
export const SENT_ROW_RETENTION_DAYS = 7;

/** The table and its index of unsent rows, created by the migration run in every database service's schema. */
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
];

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

interface OutboxRow {
    position: string;
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
    /** Rows claimed at once; one `PutEvents` request. @default EVENTBRIDGE.putEventsMaxEntries */
    limit?: number;
}

/**
 * Claims up to `limit` unsent rows (oldest first, skipping rows another sender holds), marks them
 * sent, sends them in one `PutEvents` request, and commits. A send that fails rolls the marks back
 * and rejects: the rows stay for the relay. Resolves with how many rows were sent.
 */
export async function sendFromOutbox(db: Database, transport: EventTransport, options: SendOptions): Promise<number> {
    const limit = Math.min(options.limit ?? EVENTBRIDGE.putEventsMaxEntries, EVENTBRIDGE.putEventsMaxEntries);
    return db.transaction(async (tx) => {
        const { rows } = await tx.query<OutboxRow>(
            `UPDATE ${OUTBOX_TABLE} SET sent_at = clock_timestamp()
             WHERE position IN (
                 SELECT position FROM ${OUTBOX_TABLE}
                 WHERE sent_at IS NULL AND ($1::text[] IS NULL OR event_id = ANY($1::text[]))
                 ORDER BY position LIMIT $2
                 FOR UPDATE SKIP LOCKED
             )
             RETURNING position, source, detail_type, detail, published_at`,
            [options.eventIds ?? null, limit],
        );
        if (rows.length === 0) return 0;
        rows.sort((a, b) => Number(a.position) - Number(b.position));
        await transport.send(rows.map((row) => ({ EventBusName: options.eventBusName, Source: row.source, DetailType: row.detail_type, Detail: row.detail, Time: row.published_at })));
        return rows.length;
    });
}

/** What is still unsent: how many rows, and how long the oldest has waited. */
export interface OutboxBacklog {
    unsent: number;
    /** Seconds since the oldest unsent row was published; 0 when none is. */
    oldestUnsentSeconds: number;
}

export async function outboxBacklog(db: Queryable): Promise<OutboxBacklog> {
    const { rows } = await db.query<{ unsent: string; oldest: number | null }>(
        `SELECT count(*) AS unsent, extract(epoch FROM clock_timestamp() - min(published_at))::float8 AS oldest FROM ${OUTBOX_TABLE} WHERE sent_at IS NULL`,
    );
    return { unsent: Number(rows[0]?.unsent ?? 0), oldestUnsentSeconds: Math.max(0, Math.round(rows[0]?.oldest ?? 0)) };
}

/** Deletes sent rows past their retention; unsent rows are never deleted. */
export async function pruneSentRows(db: Queryable, retentionDays = SENT_ROW_RETENTION_DAYS): Promise<number> {
    const { rowCount } = await db.query(`DELETE FROM ${OUTBOX_TABLE} WHERE sent_at < clock_timestamp() - make_interval(days => $1)`, [retentionDays]);
    return rowCount;
}
