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
import type { Database } from "../data/database";
import type { EventTransport } from "./publisher";
import type { Logger } from "../logger";
import { discardParked, listParked, outboxBacklog, pruneSentRows, redriveParked, sendFromOutbox, type OutboxBacklog, type ParkedEvent } from "./outbox";

/**
 * Connections a service's relay may hold: one run at a time does the work (an advisory lock), and
 * one more covers a run still ending while the next starts. Counted in the service's connection limit.
 */
export const RELAY_CONNECTION_CEILING = 2;

/** What one relay run did, and what is left: the line it logs, which the backlog's metrics and alarms read. */
export interface RelayReport extends OutboxBacklog {
    sent: number;
    /** Rows this run parked (the report's `parked` counts every parked row). */
    newlyParked: number;
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
 * Sends every unsent row, a request's worth at a time (10 rows and 256 KB at most), oldest first;
 * parks the rows no attempt can send and goes on past them; stops at the first send that may
 * succeed later (so a later event is not sent past an earlier one) and at the deadline. One relay
 * per service at a time (an advisory lock on the service's schema); the request path's own sends
 * run beside it, each row claimed by one sender.
 */
export async function relayOutbox(db: Database, transport: EventTransport, options: RelayOptions): Promise<RelayReport> {
    const lock = "hashtext(current_schema() || '.platform_outbox_relay')";
    const { rows } = await db.query<{ locked: boolean }>(`SELECT pg_try_advisory_lock(${lock}) AS locked`);
    if (!rows[0]?.locked) return { sent: 0, newlyParked: 0, pruned: 0, busy: true, ...(await outboxBacklog(db)) };
    let sent = 0;
    let newlyParked = 0;
    let failure: string | undefined;
    try {
        while (options.deadline === undefined || Date.now() < options.deadline) {
            let result;
            try {
                result = await sendFromOutbox(db, transport, { eventBusName: options.eventBusName });
            } catch (error) {
                failure = (error as Error).message;
                break;
            }
            sent += result.sent;
            newlyParked += result.parked;
            if (result.failure) {
                failure = result.failure;
                break;
            }
            if (result.sent + result.parked === 0) break;
        }
    } finally {
        await db.query(`SELECT pg_advisory_unlock(${lock})`).catch(() => undefined);
    }
    const pruned = await pruneSentRows(db);
    return { sent, newlyParked, pruned, ...(await outboxBacklog(db)), ...(failure ? { failure } : {}) };
}

/**
 * What an operator asks of a relay about its parked rows (`aws lambda invoke` with this as the
 * payload; `npm run queues` locally): list them, redrive them (all, or the ones named) and run
 * the relay at once, or discard the ones named.
 */
export type ParkedCommand = { parked: "list" } | { parked: "redrive"; eventIds?: string[] } | { parked: "discard"; eventIds: string[] };

/** Whether an invocation's payload is a `ParkedCommand`; anything else runs the relay. */
export function isParkedCommand(event: unknown): event is ParkedCommand {
    const command = event as { parked?: unknown; eventIds?: unknown } | null | undefined;
    const ids = command?.eventIds;
    const idsOk = ids === undefined || (Array.isArray(ids) && ids.every((id) => typeof id === "string"));
    if (command?.parked === "discard") return Array.isArray(ids) && ids.length > 0 && idsOk;
    return (command?.parked === "list" || command?.parked === "redrive") && idsOk;
}

export type ParkedCommandResult = { parked: ParkedEvent[] } | { redriven: number; report: RelayReport } | { discarded: number };

/** Carries out `command` on the outbox of `db`; a redrive runs the relay right after, so the events go now. */
export async function runParkedCommand(db: Database, command: ParkedCommand, relay: () => Promise<RelayReport>): Promise<ParkedCommandResult> {
    switch (command.parked) {
        case "list":
            return { parked: await listParked(db) };
        case "redrive": {
            const redriven = await redriveParked(db, command.eventIds);
            return { redriven, report: await relay() };
        }
        case "discard":
            return { discarded: await discardParked(db, command.eventIds) };
    }
}

/** The line a relay run logs: `message` and fields are what the backlog's metric filter reads. */
export const RELAY_LOG_MESSAGE = "outbox relayed";

/**
 * Runs the relay and logs its report, or carries out an operator's `ParkedCommand`: the function
 * behind the relay in the cloud (invoked with its payload) and the local runtime's timer.
 */
export function createRelayRunner(options: { openDatabase: () => Database; transport: EventTransport; eventBusName: string; logger: Logger }) {
    let database: Database | undefined;
    const connect = (context?: { getRemainingTimeInMillis(): number }) => {
        database ??= options.openDatabase();
        const deadline = context ? Date.now() + context.getRemainingTimeInMillis() - 5_000 : undefined;
        return { db: deadline === undefined ? database : database.withConnectDeadline(deadline), deadline };
    };
    const run = async (context?: { getRemainingTimeInMillis(): number }): Promise<RelayReport> => {
        const { db, deadline } = connect(context);
        const report = await relayOutbox(db, options.transport, { eventBusName: options.eventBusName, deadline });
        (report.unsent > 0 || report.parked > 0 ? options.logger.warn : options.logger.info).call(options.logger, RELAY_LOG_MESSAGE, { ...report });
        return report;
    };
    return {
        run,
        async handle(event: unknown, context?: { getRemainingTimeInMillis(): number }): Promise<RelayReport | ParkedCommandResult> {
            if (!isParkedCommand(event)) return run(context);
            const result = await runParkedCommand(connect(context).db, event, () => run(context));
            options.logger.info("outbox parked events", { command: event.parked, ...("eventIds" in event ? { eventIds: event.eventIds } : {}) });
            return result;
        },
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
