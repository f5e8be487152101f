/**
 * A request-scoped transaction: every statement a handler runs, and every event it publishes into
 * the outbox, belong to one transaction that the wrapper commits when the handler succeeds and
 * rolls back when it fails (it throws, or answers 4xx/5xx). So a request that publishes is never
 * half-written: no event without its rows, no rows without their event, and no partial write
 * behind a 4xx answer.
 *
 * The transaction begins at the handler's first statement (a handler that never touches the
 * database costs nothing), on the container's one connection, with the database's own rules for
 * a lost connection (`database.ts`): a lost `BEGIN` moves to a new connection, a lost statement or
 * `COMMIT` is reported and never repeated. Inside it, `db.transaction(work)` is a savepoint: its
 * work is undone on its own when it throws, and committed with the request's.
 *
 * One thing differs from statements in autocommit: a statement that fails aborts the request's
 * transaction, so a handler that expects a statement may fail (and goes on after it) runs it in
 * `db.transaction(...)`.
 */
import type { Database, Queryable } from "./database";

export interface UnitOfWork {
    /** What the handler gets as `ctx.db`. */
    readonly db: Database;
    /** The transaction, begun if it was not yet: what the outbox writes into. */
    transaction(): Promise<Queryable>;
    /** Commits (`true`) or rolls back; a lost `COMMIT` rejects with `DatabaseUnavailableError`. Nothing to do if nothing ran. */
    settle(commit: boolean): Promise<void>;
}

/** Thrown inside the transaction to roll it back; never escapes `settle`. */
class RollBack extends Error {}

export function createUnitOfWork(database: Database): UnitOfWork {
    let opened: Promise<Queryable> | undefined;
    let decide: (commit: boolean) => void = () => undefined;
    let finished: Promise<void> = Promise.resolve();
    let savepoints = 0;

    const transaction = (): Promise<Queryable> =>
        (opened ??= new Promise<Queryable>((begun, failed) => {
            const decision = new Promise<boolean>((resolve) => (decide = resolve));
            finished = database.transaction(async (tx) => {
                begun(tx);
                if (!(await decision)) throw new RollBack();
            });
            // Before `begun`: BEGIN itself failed. After it, `settle` reads the outcome.
            finished.catch(failed);
        }));

    const query: Queryable["query"] = async (text, values) => (await transaction()).query(text, values);

    const db: Database = {
        query,
        async transaction<T>(work: (tx: Queryable) => Promise<T>): Promise<T> {
            const tx = await transaction();
            const name = `unit_of_work_${++savepoints}`;
            await tx.query(`SAVEPOINT ${name}`);
            try {
                const result = await work({ query });
                await tx.query(`RELEASE SAVEPOINT ${name}`);
                return result;
            } catch (error) {
                await tx.query(`ROLLBACK TO SAVEPOINT ${name}`).catch(() => undefined);
                throw error;
            }
        },
        withConnectDeadline: () => db,
        end: async () => {
            throw new Error("A handler's database is the request's transaction; the platform ends it.");
        },
    };

    return {
        db,
        transaction,
        async settle(commit) {
            if (!opened) return;
            decide(commit);
            try {
                await finished;
            } catch (error) {
                if (!(error instanceof RollBack) && commit) throw error;
            }
        },
    };
}
