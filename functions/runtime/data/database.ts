/**
 * Database access for handlers: one `pg` connection per container, opened on first use and kept
 * while the container is warm, written for a database that goes away now and then.
 *
 * - **Connects are retried** with backoff and jitter until a deadline: for a route, the invocation's
 *   remaining time minus a margin to answer; otherwise `connectRetryWindowMs` (a minute, for the
 *   migration worker). A paused Aurora Serverless v2 cluster holds or refuses new connections for
 *   up to ~15 s while it resumes; a failover or reboot refuses them for a few seconds.
 * - **A dropped session never crashes the process.** The server ends sessions on a failover, a
 *   reboot, a scaling event or `idle_session_timeout` (57P01 and friends); `pg` reports that as an
 *   `error` event, which would end the process without a listener. Every client carries one for its
 *   whole life, checked out or idle, and a connection that reported an error is never used again.
 * - **Nothing runs twice.** A kept connection that sat idle is checked with a round trip before it
 *   is reused (a frozen Lambda container learns that its session was ended only when it next speaks).
 *   A failed check, a failed connect or a failed `BEGIN` moves to a new connection: nothing of the
 *   request has run yet. A statement or `COMMIT` whose connection is lost is never retried, since it
 *   may have run; it fails with `DatabaseUnavailableError`, which the route wrapper answers with 503.
 * - **Credentials** are asked for at each new connection (`CredentialSource`): a route function
 *   signs an IAM authentication token for its service's own role (kept for reuse while it is
 *   valid); the migration worker signs in with the master user's credentials its launcher read from
 *   the RDS-managed secret (`master-secret.ts`) and passed in. Locally, a connection string.
 * - **A refused sign-in is retried a few times** (`signInRetry`), with backoff, within the deadline:
 *   IAM authentication refuses new connections beyond about 200 a second, and a role whose grant is
 *   still spreading (right after a deploy) is refused for a moment, both with 28000/28P01. The
 *   credentials are asked for again before each retry; when the retries run out the request gets
 *   `DatabaseUnavailableError` (503), not the bare refusal.
 * - **A service at its connection limit fails fast.** Its role's `CONNECTION LIMIT` refuses one
 *   more session (53300); that is not a database that will come back in a moment, so it is not
 *   retried: the request gets the 503 at once and the next one tries again.
 */
import type * as pg from "pg";

// Loaded on first use, not when the module loads: functions that never query do not pay for it.
const loadPg = (): typeof pg => require("pg");

export type QueryResult<Row> = { rows: Row[]; rowCount: number };

/** What handlers use. Parameterized queries only: values never enter the SQL text. */
export interface Queryable {
    query<Row = Record<string, unknown>>(text: string, values?: readonly unknown[]): Promise<QueryResult<Row>>;
}

export interface Database extends Queryable {
    /** Runs `work` in a transaction: committed when it resolves, rolled back when it throws. */
    transaction<T>(work: (tx: Queryable) => Promise<T>): Promise<T>;
    /**
     * The same connection, with connects retried until `deadline` (epoch milliseconds) and no
     * longer. The route wrapper passes each invocation's deadline, less a margin to answer.
     */
    withConnectDeadline(deadline: number): Database;
    /** Closes the connection (tests and the local runtime; Lambda simply freezes the container). */
    end(): Promise<void>;
}

/**
 * Who signs in, asked for each new connection: a route function's IAM token for its service's role
 * (`serviceDatabaseFromEnvironment`, environment.ts), or the master user's credentials the
 * migration worker was invoked with (`entry/migration.ts`).
 */
export interface CredentialSource {
    get(): Promise<Credentials>;
    /** Forgets what it holds, after the server refused it (a rotated password); absent when asking again cannot help. */
    refresh?(): void;
}

/**
 * Where the database is and who signs in: a connection string (the local runtime), or a cluster
 * endpoint and a source of credentials (the deployed functions).
 */
export type DatabaseOptions = (
    | { connectionString: string }
    | { host: string; port: number; database: string; credentials: CredentialSource }
) & {
    /** Server-side limit on each statement, kept below the function's timeout. @default 25000 */
    statementTimeoutMs?: number;
    /** Require TLS and verify the server's certificate. @default true for a cluster endpoint */
    tls?: boolean;
    /** Longest wait for one connect attempt, so an address that stopped answering is given up. @default 5000 */
    connectTimeoutMs?: number;
    /**
     * How long connects are retried when the caller sets no deadline (the migration worker, which
     * may wait out a resuming cluster: its timeout is minutes). @default 60000
     */
    connectRetryWindowMs?: number;
    /** A kept connection idle for longer than this is checked with `SELECT 1` before it is reused. @default 1000 */
    idleCheckAfterMs?: number;
    /** Sign-ins tried in all while the server refuses them (28000/28P01), and the wait before the first retry, doubling. @default SIGN_IN_RETRY */
    signInRetry?: { attempts: number; firstDelayMs: number };
};

/** A cluster endpoint's settings without who signs in: for a caller that is handed its credentials later. */
export type ClusterSettings = Omit<Extract<DatabaseOptions, { host: string }>, "credentials">;

/**
 * Five sign-ins over about four seconds (0.25, 0.5, 1 and 2 s between them, half of each random):
 * longer than a grant takes to spread or a burst of IAM authentication to pass, and within a
 * route's deadline.
 */
export const SIGN_IN_RETRY = { attempts: 5, firstDelayMs: 250 } as const;

/** What a route keeps back from its invocation's remaining time to answer a clean 503 when no connection comes. */
export const CONNECT_DEADLINE_MARGIN_MS = 1000;

/** How long connects are retried when the caller sets no deadline (`connectRetryWindowMs`'s default): longer than a paused cluster takes to resume. */
export const CONNECT_RETRY_WINDOW_MS = 60_000;

const DEFAULTS = { statementTimeoutMs: 25_000, connectTimeoutMs: 5_000, connectRetryWindowMs: CONNECT_RETRY_WINDOW_MS, idleCheckAfterMs: 1_000 } as const;

/** Connect retries wait this long at first, doubling up to the maximum; half of each wait is random. */
const RETRY_FIRST_DELAY_MS = 100;
const RETRY_MAX_DELAY_MS = 1_000;

/**
 * The database did not answer: no connection before the deadline, or the connection was lost
 * while a statement ran (it may or may not have taken effect, so it was not run again). `cause` is
 * what `pg` reported.
 */
export class DatabaseUnavailableError extends Error {
    constructor(message: string, cause: unknown) {
        super(message, { cause });
        // Set again: in a serialized closure `super(...)` becomes `Error.call(this, ...)`, which sets nothing on `this`.
        this.message = message;
        this.cause = cause;
        this.name = "DatabaseUnavailableError";
    }
}

/** Duck-typed on purpose, like `isHttpError`: a closure and a module may hold different copies of the class. */
export function isDatabaseUnavailable(error: unknown): error is DatabaseUnavailableError {
    return error instanceof Error && error.name === "DatabaseUnavailableError";
}

export interface Credentials {
    username: string;
    password: string;
}

/** 53300: the role's `CONNECTION LIMIT` (or the server's `max_connections`) is reached. */
const TOO_MANY_CONNECTIONS = "53300";

/** PostgreSQL says the password or the role is wrong: 28P01 invalid_password, 28000 invalid_authorization. */
function isAuthenticationFailure(error: unknown): boolean {
    const code = (error as { code?: string } | null)?.code;
    return code === "28P01" || code === "28000";
}

// Socket errors, and SQLSTATEs after which the session is gone or none can start yet: 57P01
// admin_shutdown (pg_terminate_backend, failover, reboot), 57P02 crash_shutdown, 57P03
// cannot_connect_now (starting up, shutting down), 57P05 idle_session_timeout, 25P03
// idle_in_transaction_session_timeout, 53300 too_many_connections, and class 08 (connection exception).
const LOST_CONNECTION_CODES = ["ECONNREFUSED", "ECONNRESET", "ETIMEDOUT", "EPIPE", "EHOSTUNREACH", "ENETUNREACH", "EAI_AGAIN", "57P01", "57P02", "57P03", "57P05", "25P03", TOO_MANY_CONNECTIONS];
// What `pg` itself says when the socket closed, a connect timed out, or the client is unusable.
const LOST_CONNECTION_MESSAGES = /Connection terminated|timeout expired|not queryable/i;

/** True when the error means the connection is unusable (or could not be made), not that the SQL failed. */
export function isConnectionFailure(error: unknown): boolean {
    const code = String((error as { code?: string } | null)?.code ?? "");
    const message = String((error as { message?: string } | null)?.message ?? "");
    return LOST_CONNECTION_CODES.includes(code) || code.startsWith("08") || LOST_CONNECTION_MESSAGES.test(message);
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Exponential backoff with equal jitter: retrying containers spread out instead of arriving together. */
function retryDelayMs(attempt: number, firstDelayMs: number = RETRY_FIRST_DELAY_MS, maxDelayMs: number = RETRY_MAX_DELAY_MS): number {
    const ceiling = Math.min(maxDelayMs, firstDelayMs * 2 ** attempt);
    return ceiling / 2 + Math.random() * (ceiling / 2);
}

/** One request at a time on the one connection. A waiter gives up at its deadline instead of hanging. */
function createLock() {
    let held = false;
    const waiters: Array<() => void> = [];
    return {
        async acquire(deadline: number): Promise<void> {
            if (!held) {
                held = true;
                return;
            }
            await new Promise<void>((resolve, reject) => {
                let timer: NodeJS.Timeout | undefined = undefined;
                const grant = () => {
                    clearTimeout(timer);
                    resolve();
                };
                timer = setTimeout(() => {
                    waiters.splice(waiters.indexOf(grant), 1);
                    reject(new Error("The database connection stayed busy until the deadline. Inside transaction(), query through its `tx`, not the database."));
                }, Math.max(0, deadline - Date.now()));
                waiters.push(grant);
            });
        },
        release(): void {
            const next = waiters.shift();
            if (next) next();
            else held = false;
        },
    };
}

/** The kept connection and what is known about it. */
interface Connection {
    client: pg.Client;
    /** What ended it (an `error` event, the socket's end, a failed statement): it is not used again. */
    lost?: unknown;
    /** When its last use ended. */
    idleSince: number;
}

export function createDatabase(options: DatabaseOptions): Database {
    const statementTimeoutMs = options.statementTimeoutMs ?? DEFAULTS.statementTimeoutMs;
    const connectTimeoutMs = options.connectTimeoutMs ?? DEFAULTS.connectTimeoutMs;
    const connectRetryWindowMs = options.connectRetryWindowMs ?? DEFAULTS.connectRetryWindowMs;
    const idleCheckAfterMs = options.idleCheckAfterMs ?? DEFAULTS.idleCheckAfterMs;

    const credentials = "credentials" in options ? options.credentials : undefined;
    const clientConfig = async (): Promise<pg.ClientConfig> => {
        if ("connectionString" in options) {
            return { connectionString: options.connectionString, ssl: options.tls ? { rejectUnauthorized: true } : undefined };
        }
        // Asked for every new connection: a token is checked only at connect, and a refreshed secret takes effect at the next one.
        const { username, password } = await options.credentials.get();
        return {
            host: options.host,
            port: options.port,
            database: options.database,
            user: username,
            password,
            ssl: options.tls === false ? undefined : { rejectUnauthorized: true },
        };
    };

    const connectOnce = async (timeoutMs: number): Promise<Connection> => {
        const { Client } = loadPg();
        const client = new Client({
            ...(await clientConfig()),
            connectionTimeoutMillis: Math.max(1, Math.round(timeoutMs)),
            statement_timeout: statementTimeoutMs,
            // Notices a peer that vanished without a word (the old writer after a failover).
            keepAlive: true,
            keepAliveInitialDelayMillis: 10_000,
        });
        const connection: Connection = { client, idleSince: Date.now() };
        client.on("error", (error) => (connection.lost ??= error));
        client.on("end", () => (connection.lost ??= new Error("Connection terminated")));
        try {
            await client.connect();
            return connection;
        } catch (error) {
            void client.end().catch(() => undefined);
            throw error;
        }
    };

    const signInRetry = options.signInRetry ?? SIGN_IN_RETRY;

    /**
     * Connects, retrying until `deadline` while the server is not there (yet), and a few times while
     * it refuses the sign-in (asking for the credentials again each time).
     */
    const openConnection = async (deadline: number): Promise<Connection> => {
        let refusedSignIns = 0;
        let lastFailure: unknown;
        for (let attempt = 0; ; attempt++) {
            const remainingMs = deadline - Date.now();
            if (remainingMs <= 0) {
                throw new DatabaseUnavailableError(`No database connection before the deadline (${attempt} attempt(s)).`, lastFailure);
            }
            try {
                return await connectOnce(Math.min(connectTimeoutMs, remainingMs));
            } catch (error) {
                if (isAuthenticationFailure(error)) {
                    refusedSignIns++;
                    if (refusedSignIns >= signInRetry.attempts) {
                        throw new DatabaseUnavailableError(`The database refused the sign-in ${refusedSignIns} time(s) (${(error as { code?: string }).code}).`, error);
                    }
                    credentials?.refresh?.();
                    lastFailure = error;
                    await sleep(Math.min(retryDelayMs(refusedSignIns - 1, signInRetry.firstDelayMs, Number.POSITIVE_INFINITY), Math.max(0, deadline - Date.now())));
                    continue;
                }
                if (!isConnectionFailure(error)) throw error;
                if ((error as { code?: string }).code === TOO_MANY_CONNECTIONS) {
                    throw new DatabaseUnavailableError("The database refused another connection: the service's connection limit is reached (53300).", error);
                }
                lastFailure = error;
                await sleep(Math.min(retryDelayMs(attempt), Math.max(0, deadline - Date.now())));
            }
        }
    };

    let connection: Connection | undefined;
    const lock = createLock();

    const drop = (lost: Connection) => {
        if (connection === lost) connection = undefined;
        void lost.client.end().catch(() => undefined);
    };

    /** A round trip on a connection that sat idle; any failure marks it lost (nothing of the request ran on it). */
    const checkAlive = async (kept: Connection, deadline: number): Promise<void> => {
        let timer: NodeJS.Timeout | undefined;
        const silence = new Promise<never>((_, reject) => {
            timer = setTimeout(() => reject(new Error("timeout expired: no answer to SELECT 1")), Math.max(1, Math.min(connectTimeoutMs, deadline - Date.now())));
        });
        try {
            await Promise.race([kept.client.query("SELECT 1"), silence]);
        } catch (error) {
            kept.lost ??= error;
        } finally {
            clearTimeout(timer);
        }
    };

    /** The kept connection if it is still good, else a new one. */
    const usableConnection = async (deadline: number): Promise<Connection> => {
        if (connection && !connection.lost && Date.now() - connection.idleSince > idleCheckAfterMs) await checkAlive(connection, deadline);
        if (connection?.lost) drop(connection);
        connection ??= await openConnection(deadline);
        return connection;
    };

    const run = async <Row>(on: Connection, text: string, values?: readonly unknown[]): Promise<QueryResult<Row>> => {
        if (on.lost) throw new DatabaseUnavailableError("The database connection was lost during the request.", on.lost);
        try {
            const result = await on.client.query(text, values as unknown[] | undefined);
            return { rows: result.rows as Row[], rowCount: result.rowCount ?? 0 };
        } catch (error) {
            if (on.lost || isConnectionFailure(error)) {
                on.lost ??= error;
                throw new DatabaseUnavailableError("The database connection was lost during a statement; it is not run again, as it may have taken effect.", error);
            }
            throw error;
        }
    };

    /** `BEGIN`, on a new connection once more if the first one turns out lost: no statement of the transaction has run. */
    const begin = async (deadline: number): Promise<Connection> => {
        const first = await usableConnection(deadline);
        try {
            await first.client.query("BEGIN");
            return first;
        } catch (error) {
            if (!(first.lost || isConnectionFailure(error))) throw error;
            first.lost ??= error;
            drop(first);
            const second = await usableConnection(deadline);
            await run(second, "BEGIN");
            return second;
        }
    };

    const exclusive = async <T>(deadline: number, work: () => Promise<T>): Promise<T> => {
        await lock.acquire(deadline);
        try {
            return await work();
        } finally {
            if (connection) {
                connection.idleSince = Date.now();
                if (connection.lost) drop(connection);
            }
            lock.release();
        }
    };

    const view = (deadlineOf: () => number): Database => ({
        query: <Row>(text: string, values?: readonly unknown[]) => {
            const deadline = deadlineOf();
            return exclusive(deadline, async () => run<Row>(await usableConnection(deadline), text, values));
        },
        transaction: <T>(work: (tx: Queryable) => Promise<T>) => {
            const deadline = deadlineOf();
            return exclusive(deadline, async () => {
                const on = await begin(deadline);
                try {
                    const result = await work({ query: (text, values) => run(on, text, values) });
                    // A COMMIT whose answer is lost may have committed: it is reported, never repeated.
                    await run(on, "COMMIT");
                    return result;
                } catch (error) {
                    if (!on.lost) await on.client.query("ROLLBACK").catch(() => undefined);
                    throw error;
                }
            });
        },
        withConnectDeadline: (deadline) => view(() => deadline),
        end: async () => {
            const current = connection;
            connection = undefined;
            await current?.client.end().catch(() => undefined);
        },
    });

    return view(() => Date.now() + connectRetryWindowMs);
}

/**
 * The statement timeout of a function's database: a second before the function's own timeout, so
 * a slow query ends with an error the handler can still answer instead of a killed function.
 * The cloud passes it in `DB_STATEMENT_TIMEOUT_MS`; the local runtime applies it directly.
 */
export function statementTimeoutFor(functionTimeoutSeconds: number): number {
    return Math.max(1, functionTimeoutSeconds - 1) * 1000;
}
