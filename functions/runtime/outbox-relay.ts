/**
 * The outbox relay of a database service that publishes: it sends whatever the request path left
 * in the service's outbox (a crash or a timeout after the commit, a send that failed), oldest
 * first, and reports what is still unsent. It runs every minute and on demand, in the cloud and in
 * `npm start`, with the same code (`relayOutbox`).
 *
 * It must not keep a scale-to-zero cluster awake, so in the cloud a check that needs no database
 * and runs outside the VPC decides first whether anything may be pending (`relayDecision`):
 *
 * - a row becomes pending only inside an invocation of one of the service's functions that
 *   publish (its transaction commits before the invocation ends), so if none of them was invoked
 *   within the lookback (their longest timeout plus the metrics' delay), nothing new can be
 *   pending: this covers the crash after the commit, which cannot leave any marker itself, since
 *   the invocation was counted when it began;
 * - rows the relay could not send keep it coming: each run reports its backlog (`unsent`), and a
 *   run that left any is followed by another one.
 *
 * An idle service's relay therefore stops connecting one lookback after its last request, and
 * the cluster pauses on its own schedule.
 */
import type { Database } from "./database";
import type { EventTransport } from "./event-publisher";
import type { Logger } from "./logger";
import { outboxBacklog, pruneSentRows, sendFromOutbox, type OutboxBacklog } from "./outbox";

/**
 * Connections a service's relay may hold: one run at a time does the work (an advisory lock), and
 * one more covers a run still ending while the next starts. Counted in the service's connection limit.
 */
export const RELAY_CONNECTION_CEILING = 2;

/** What one relay run did, and what is left: the line it logs, which the backlog's metric and alarm read. */
export interface RelayReport extends OutboxBacklog {
    sent: number;
    /** Sent rows past their retention, deleted. */
    pruned: number;
    /** Another relay of the service holds the lock: this run sent nothing. */
    busy?: boolean;
    /** Why sending stopped before the outbox was empty. */
    failure?: string;
}

export interface RelayOptions {
    eventBusName: string;
    /** Stop claiming rows after this time (epoch milliseconds), to report before the function's timeout. @default no limit */
    deadline?: number;
}

/**
 * Sends every unsent row, ten at a time, oldest first; stops at the first failed send (so a later
 * event is not sent past an earlier one) and at the deadline. One relay per service at a time (an
 * advisory lock on the service's schema); the request path's own sends run beside it, each row
 * claimed by one sender.
 */
export async function relayOutbox(db: Database, transport: EventTransport, options: RelayOptions): Promise<RelayReport> {
    const lock = "hashtext(current_schema() || '.platform_outbox_relay')";
    const { rows } = await db.query<{ locked: boolean }>(`SELECT pg_try_advisory_lock(${lock}) AS locked`);
    if (!rows[0]?.locked) return { sent: 0, pruned: 0, busy: true, ...(await outboxBacklog(db)) };
    let sent = 0;
    let failure: string | undefined;
    try {
        while (options.deadline === undefined || Date.now() < options.deadline) {
            let batch: number;
            try {
                batch = await sendFromOutbox(db, transport, { eventBusName: options.eventBusName });
            } catch (error) {
                failure = (error as Error).message;
                break;
            }
            if (batch === 0) break;
            sent += batch;
        }
    } finally {
        await db.query(`SELECT pg_advisory_unlock(${lock})`).catch(() => undefined);
    }
    const pruned = await pruneSentRows(db);
    return { sent, pruned, ...(await outboxBacklog(db)), ...(failure ? { failure } : {}) };
}

/** The line a relay run logs: `message` and fields are what the backlog's metric filter reads. */
export const RELAY_LOG_MESSAGE = "outbox relayed";

/** Runs the relay and logs its report; the function behind the relay in the cloud and the local runtime's timer. */
export function createRelayRunner(options: { openDatabase: () => Database; transport: EventTransport; eventBusName: string; logger: Logger }) {
    let database: Database | undefined;
    return async (context?: { getRemainingTimeInMillis(): number }): Promise<RelayReport> => {
        database ??= options.openDatabase();
        const deadline = context ? Date.now() + context.getRemainingTimeInMillis() - 5_000 : undefined;
        const db = deadline === undefined ? database : database.withConnectDeadline(deadline);
        const report = await relayOutbox(db, options.transport, { eventBusName: options.eventBusName, deadline });
        (report.unsent > 0 ? options.logger.warn : options.logger.info).call(options.logger, RELAY_LOG_MESSAGE, { ...report });
        return report;
    };
}

/** What the check knows without the database: metrics of the last lookback. */
export interface RelaySignals {
    /** Invocations of the service's publishing functions within the lookback. */
    producerInvocations: number;
    /** The largest backlog a relay run reported within the lookback. */
    reportedUnsent: number;
    /** Asked for explicitly (`{"force": true}`): run whatever the metrics say. */
    force?: boolean;
}

/** Whether the relay should connect, and why: the check's one rule. */
export function relayDecision(signals: RelaySignals): { run: boolean; reason: string } {
    if (signals.force) return { run: true, reason: "asked for" };
    if (signals.reportedUnsent > 0) return { run: true, reason: `the last relay run left ${signals.reportedUnsent} event(s) unsent` };
    if (signals.producerInvocations > 0) return { run: true, reason: `${signals.producerInvocations} invocation(s) of publishing functions within the lookback` };
    return { run: false, reason: "no publishing function ran within the lookback and no event was left unsent: nothing can be pending" };
}
