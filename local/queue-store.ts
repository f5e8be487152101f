/**
 * The local runtime's queues, kept in the embedded PostgreSQL (`platform.local_queue_messages`), so
 * an event published locally survives a restart of `npm start`, as it survives anything in SQS. Each
 * operation is SQS's: send, receive (hiding the messages for the visibility timeout and counting the
 * receive; a message already received `maxReceiveCount` times moves to the dead-letter queue
 * instead, as the redrive policy does), delete by receipt handle, and for the commands list and
 * redrive. A message received and never deleted (a failure, a crash, a stop) becomes visible again
 * when its visibility timeout ends.
 *
 * Only the runtime and its commands use the table, signed in as the administrator: no service's
 * role can reach the `platform` schema.
 */
import { randomUUID } from "node:crypto";
import { createDatabase, type Database } from "../functions/runtime/data/database";

const TABLE = "platform.local_queue_messages";

/** The table and its index, created when the runtime starts (the migration run owns the schema). */
const SCHEMA_SQL = [
    "CREATE SCHEMA IF NOT EXISTS platform",
    `CREATE TABLE IF NOT EXISTS ${TABLE} (
        message_id        uuid        PRIMARY KEY,
        queue             text        NOT NULL,
        body              text        NOT NULL,
        sender_id         text        NOT NULL,
        sent_at           timestamptz NOT NULL DEFAULT clock_timestamp(),
        visible_at        timestamptz NOT NULL DEFAULT clock_timestamp(),
        receive_count     integer     NOT NULL DEFAULT 0,
        first_received_at timestamptz,
        receipt_handle    uuid,
        moved_from        text
    )`,
    `CREATE INDEX IF NOT EXISTS local_queue_messages_ready ON ${TABLE} (queue, visible_at)`,
];

/**
 * How long a worker's receive (and its look at when the next message is due) waits for the store's
 * connection, to connect or for its turn on it: the worker looks again after its poll interval
 * anyway, so waiting out a restart buys nothing, and a stop (Ctrl-C ends PostgreSQL too) must not
 * wait a minute for a server that is gone.
 */
const RECEIVE_CONNECT_WINDOW_MS = 2_000;

/** "Now" in a statement whose parameter `$index` is the store's clock reading, or null for the database's clock. */
const NOW = (index: number) => `coalesce($${index}::timestamptz, clock_timestamp())`;

/** A message as a receive hands it out. */
export interface ReceivedMessage {
    messageId: string;
    receiptHandle: string;
    body: string;
    senderId: string;
    receiveCount: number;
    sentAt: Date;
    firstReceivedAt: Date;
}

/** A message as the commands list it. */
export interface StoredMessage {
    messageId: string;
    queue: string;
    body: string;
    receiveCount: number;
    sentAt: Date;
    visibleAt: Date;
    /** For a message in a dead-letter queue: the queue it came from. */
    movedFrom?: string;
}

/** What a receive needs of the queue. */
export interface ReceiveOptions {
    max: number;
    visibilityTimeoutMs: number;
    /** Receives before a message moves to `deadLetterQueue` instead. */
    maxReceiveCount: number;
    deadLetterQueue: string;
}

interface Row {
    message_id: string;
    queue: string;
    body: string;
    sender_id: string;
    receive_count: number;
    sent_at: Date;
    visible_at: Date;
    first_received_at: Date | null;
    receipt_handle: string | null;
    moved_from: string | null;
}

/** How a store is opened. */
export interface LocalQueueStoreOptions {
    /**
     * The queues' clock: when a message becomes visible, and whether it is. Tests move it forward to
     * end a visibility timeout at once instead of waiting it out. @default the database's clock
     */
    now?: () => Date;
}

export class LocalQueueStore {
    private constructor(
        private readonly db: Database,
        private readonly clock: (() => Date) | undefined,
    ) {}

    /** Opens the store on the administrator's connection and creates its table if it is missing. */
    static async open(adminUrl: string, options: LocalQueueStoreOptions = {}): Promise<LocalQueueStore> {
        const db = createDatabase({ connectionString: adminUrl, statementTimeoutMs: 30_000 });
        try {
            await db.transaction(async (tx) => {
                // One runtime creates the table at a time (a second `npm start` on the same data).
                await tx.query("SELECT pg_advisory_xact_lock(hashtext('platform.local_queue_messages'))");
                for (const statement of SCHEMA_SQL) await tx.query(statement);
            });
        } catch (error) {
            await db.end().catch(() => undefined);
            throw error;
        }
        return new LocalQueueStore(db, options.now);
    }

    /** The queues' time now. */
    now(): Date {
        return this.clock?.() ?? new Date();
    }

    /** The clock's reading as a query parameter: null stands for the database's `clock_timestamp()` (see NOW). */
    private nowParameter(): Date | null {
        return this.clock?.() ?? null;
    }

    /** Adds messages to a queue; they are visible at once (or after `delayMs`). */
    async send(queue: string, bodies: readonly string[], senderId: string, delayMs = 0): Promise<string[]> {
        if (bodies.length === 0) return [];
        const ids = bodies.map(() => randomUUID());
        await this.db.query(
            `INSERT INTO ${TABLE} (message_id, queue, body, sender_id, visible_at)
             SELECT id, $2, body, $3, ${NOW(6)} + make_interval(secs => $4::double precision / 1000)
             FROM unnest($1::uuid[], $5::text[]) AS m(id, body)`,
            [ids, queue, senderId, delayMs, bodies, this.nowParameter()],
        );
        return ids;
    }

    /** SQS's ReceiveMessage with the redrive policy applied first: up to `max` visible messages, hidden for the visibility timeout. */
    async receive(queue: string, options: ReceiveOptions): Promise<ReceivedMessage[]> {
        const { rows } = await this.db.withConnectDeadline(Date.now() + RECEIVE_CONNECT_WINDOW_MS).query<Row>(
            `WITH candidates AS (
                 SELECT message_id, receive_count FROM ${TABLE}
                 WHERE queue = $1 AND visible_at <= ${NOW(6)}
                 ORDER BY visible_at, sent_at
                 LIMIT $2
                 FOR UPDATE SKIP LOCKED
             ), dead AS (
                 UPDATE ${TABLE} m SET queue = $5, moved_from = $1, visible_at = ${NOW(6)}, receipt_handle = NULL
                 FROM candidates c
                 WHERE m.message_id = c.message_id AND c.receive_count >= $4
                 RETURNING m.message_id
             )
             UPDATE ${TABLE} m
             SET receive_count = m.receive_count + 1,
                 visible_at = ${NOW(6)} + make_interval(secs => $3::double precision / 1000),
                 receipt_handle = gen_random_uuid(),
                 first_received_at = coalesce(m.first_received_at, ${NOW(6)})
             FROM candidates c
             WHERE m.message_id = c.message_id AND c.receive_count < $4
             RETURNING m.*`,
            [queue, options.max, options.visibilityTimeoutMs, options.maxReceiveCount, options.deadLetterQueue, this.nowParameter()],
        );
        return rows
            .map((row) => ({
                messageId: row.message_id,
                receiptHandle: row.receipt_handle!,
                body: row.body,
                senderId: row.sender_id,
                receiveCount: row.receive_count,
                sentAt: row.sent_at,
                firstReceivedAt: row.first_received_at ?? row.sent_at,
            }))
            .sort((a, b) => a.sentAt.getTime() - b.sentAt.getTime());
    }

    /** SQS's DeleteMessageBatch: only the holders of the current receipt handles delete. */
    async delete(queue: string, receiptHandles: readonly string[]): Promise<number> {
        if (receiptHandles.length === 0) return 0;
        const { rowCount } = await this.db.query(`DELETE FROM ${TABLE} WHERE queue = $1 AND receipt_handle = ANY($2::uuid[])`, [queue, receiptHandles]);
        return rowCount;
    }

    /** When the queue's next hidden message becomes visible; undefined when it holds none. */
    async nextVisibleAt(queue: string): Promise<Date | undefined> {
        const { rows } = await this.db.withConnectDeadline(Date.now() + RECEIVE_CONNECT_WINDOW_MS).query<{ next: Date | null }>(`SELECT min(visible_at) AS next FROM ${TABLE} WHERE queue = $1`, [queue]);
        return rows[0]?.next ?? undefined;
    }

    /** Every message of a queue, oldest first. */
    async list(queue: string): Promise<StoredMessage[]> {
        const { rows } = await this.db.query<Row>(`SELECT * FROM ${TABLE} WHERE queue = $1 ORDER BY sent_at, message_id`, [queue]);
        return rows.map((row) => ({
            messageId: row.message_id,
            queue: row.queue,
            body: row.body,
            receiveCount: row.receive_count,
            sentAt: row.sent_at,
            visibleAt: row.visible_at,
            ...(row.moved_from ? { movedFrom: row.moved_from } : {}),
        }));
    }

    /** How many messages each queue holds. */
    async counts(): Promise<Record<string, number>> {
        const { rows } = await this.db.query<{ queue: string; count: string }>(`SELECT queue, count(*) AS count FROM ${TABLE} GROUP BY queue ORDER BY queue`);
        return Object.fromEntries(rows.map((row) => [row.queue, Number(row.count)]));
    }

    /**
     * SQS's redrive (StartMessageMoveTask): every message of the dead-letter queue (or only `messageIds`)
     * back to `target`, visible at once, its receive count reset. Returns how many moved.
     */
    async redrive(deadLetterQueue: string, target: string, messageIds?: readonly string[]): Promise<number> {
        const { rowCount } = await this.db.query(
            `UPDATE ${TABLE} SET queue = $2, receive_count = 0, first_received_at = NULL, receipt_handle = NULL, moved_from = NULL, visible_at = ${NOW(4)}
             WHERE queue = $1 AND ($3::uuid[] IS NULL OR message_id = ANY($3::uuid[]))`,
            [deadLetterQueue, target, messageIds ?? null, this.nowParameter()],
        );
        return rowCount;
    }

    async close(): Promise<void> {
        await this.db.end();
    }
}
