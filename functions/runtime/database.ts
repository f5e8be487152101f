/**
 * Database access for handlers: one `pg` connection per container, opened on first use and kept
 * while the container is warm. In the cloud the credentials come from the RDS-managed secret in
 * Secrets Manager, fetched once and cached; when the password has been rotated the first
 * authentication failure fetches it again and retries once. A paused Aurora Serverless v2 cluster
 * refuses or drops the first connection while it resumes, so a failed connect is retried once.
 */
import type * as secretsManager from "@aws-sdk/client-secrets-manager";
import type * as pg from "pg";

// Both are loaded on first use, not when the module loads: the AWS SDK alone is most of a cold
// start, a local run (a connection string) never needs it, and functions that never query pay for neither.
const loadPg = (): typeof pg => require("pg");
const loadSecretsManager = (): typeof secretsManager => require("@aws-sdk/client-secrets-manager");

export type QueryResult<Row> = { rows: Row[]; rowCount: number };

/** What handlers use. Parameterized queries only: values never enter the SQL text. */
export interface Queryable {
    query<Row = Record<string, unknown>>(text: string, values?: readonly unknown[]): Promise<QueryResult<Row>>;
}

export interface Database extends Queryable {
    /** Runs `work` in a transaction: committed when it resolves, rolled back when it throws. */
    transaction<T>(work: (tx: Queryable) => Promise<T>): Promise<T>;
    /** Closes the connection (tests and the local runtime; Lambda simply freezes the container). */
    end(): Promise<void>;
}

/** Where credentials come from: a connection string (local) or the cluster's managed secret (cloud). */
export type DatabaseOptions = (
    | { connectionString: string }
    | { host: string; port: number; database: string; secretArn: string; secrets?: SecretsReader }
) & {
    /** Server-side limit on each statement, kept below the function's timeout. @default 25000 */
    statementTimeoutMs?: number;
    /** Require TLS and verify the server's certificate. @default true for the secret variant */
    tls?: boolean;
    /** Wait before the one retry of a failed connect (a resuming cluster). @default 1000 */
    resumeRetryDelayMs?: number;
    /** Give up on a connect attempt after this long. @default 5000 */
    connectTimeoutMs?: number;
};

/** The part of the Secrets Manager client used here; tests pass a mocked client. */
export type SecretsReader = Pick<secretsManager.SecretsManagerClient, "send">;

interface Credentials {
    username: string;
    password: string;
}

/** PostgreSQL says the password or the role is wrong: 28P01 invalid_password, 28000 invalid_authorization. */
function isAuthenticationFailure(error: unknown): boolean {
    const code = (error as { code?: string } | null)?.code;
    return code === "28P01" || code === "28000";
}

/** The server is not there yet: refused, reset, timed out, or starting up (57P03) while it resumes. */
function isResumeFailure(error: unknown): boolean {
    const code = (error as { code?: string } | null)?.code;
    const message = String((error as { message?: string } | null)?.message ?? "");
    return (
        code === "ECONNREFUSED" ||
        code === "ECONNRESET" ||
        code === "ETIMEDOUT" ||
        code === "57P03" ||
        /timeout expired|Connection terminated/i.test(message)
    );
}

/**
 * Fetches the RDS-managed secret (`{"username","password"}`) once and caches it; `refresh()` drops
 * the cache so the next read fetches the rotated value.
 */
export function createSecretCredentials(secretArn: string, client: SecretsReader) {
    let cached: Promise<Credentials> | undefined;
    const fetchCredentials = async (): Promise<Credentials> => {
        const { GetSecretValueCommand } = loadSecretsManager();
        const output = await client.send(new GetSecretValueCommand({ SecretId: secretArn }));
        const parsed = JSON.parse(output.SecretString ?? "{}") as Partial<Credentials>;
        if (typeof parsed.username !== "string" || typeof parsed.password !== "string") {
            throw new Error(`Secret ${secretArn} has no username and password.`);
        }
        return { username: parsed.username, password: parsed.password };
    };
    return {
        get(): Promise<Credentials> {
            cached ??= fetchCredentials().catch((error) => {
                cached = undefined; // a failed fetch must not poison the cache
                throw error;
            });
            return cached;
        },
        refresh(): void {
            cached = undefined;
        },
    };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export function createDatabase(options: DatabaseOptions): Database {
    const statementTimeoutMs = options.statementTimeoutMs ?? 25000;
    const resumeRetryDelayMs = options.resumeRetryDelayMs ?? 1000;
    const common = {
        max: 1, // one connection per container: concurrency is Lambda's, not the pool's
        idleTimeoutMillis: 0,
        connectionTimeoutMillis: options.connectTimeoutMs ?? 5000,
        statement_timeout: statementTimeoutMs,
    };

    let credentials: ReturnType<typeof createSecretCredentials> | undefined;
    let pool: pg.Pool | undefined;
    const getPool = async (): Promise<pg.Pool> => {
        if (pool) return pool;
        const { Pool } = loadPg();
        if ("connectionString" in options) {
            pool = new Pool({ ...common, connectionString: options.connectionString, ssl: options.tls ? { rejectUnauthorized: true } : undefined });
        } else {
            credentials ??= createSecretCredentials(options.secretArn, options.secrets ?? new (loadSecretsManager().SecretsManagerClient)({}));
            const { username } = await credentials.get();
            const secret = credentials;
            pool = new Pool({
                ...common,
                host: options.host,
                port: options.port,
                database: options.database,
                user: username,
                // Read on every new connection, so a refreshed secret takes effect without a new pool.
                password: async () => (await secret.get()).password,
                ssl: options.tls === false ? undefined : { rejectUnauthorized: true },
            });
        }
        // An idle connection the server closed (a paused cluster) must not crash the container.
        pool.on("error", () => undefined);
        return pool;
    };

    const connect = async (): Promise<pg.PoolClient> => {
        let refreshedCredentials = false;
        let retriedResume = false;
        for (;;) {
            try {
                return await (await getPool()).connect();
            } catch (error) {
                if (isAuthenticationFailure(error) && credentials && !refreshedCredentials) {
                    refreshedCredentials = true;
                    credentials.refresh();
                    continue;
                }
                if (isResumeFailure(error) && !retriedResume) {
                    retriedResume = true;
                    await sleep(resumeRetryDelayMs);
                    continue;
                }
                throw error;
            }
        }
    };

    const withClient = async <T>(work: (client: pg.PoolClient) => Promise<T>): Promise<T> => {
        const client = await connect();
        try {
            const result = await work(client);
            client.release();
            return result;
        } catch (error) {
            // A broken connection is destroyed rather than handed to the next request.
            client.release(isResumeFailure(error) ? (error as Error) : undefined);
            throw error;
        }
    };

    const query = async <Row>(text: string, values?: readonly unknown[]): Promise<QueryResult<Row>> => {
        const result = await withClient((client) => client.query(text, values as unknown[] | undefined));
        return { rows: result.rows as Row[], rowCount: result.rowCount ?? 0 };
    };

    return {
        query,
        transaction: (work) =>
            withClient(async (client) => {
                await client.query("BEGIN");
                try {
                    const tx: Queryable = {
                        query: async <Row>(text: string, values?: readonly unknown[]) => {
                            const result = await client.query(text, values as unknown[] | undefined);
                            return { rows: result.rows as Row[], rowCount: result.rowCount ?? 0 };
                        },
                    };
                    const result = await work(tx);
                    await client.query("COMMIT");
                    return result;
                } catch (error) {
                    await client.query("ROLLBACK").catch(() => undefined);
                    throw error;
                }
            }),
        end: async () => {
            const current = pool;
            pool = undefined;
            await current?.end();
        },
    };
}

/**
 * The statement timeout of a function's database: a second before the function's own timeout, so
 * a slow query ends with an error the handler can still answer instead of a killed function.
 * The cloud passes it in `DB_STATEMENT_TIMEOUT_MS`; the local runtime applies it directly.
 */
export function statementTimeoutFor(functionTimeoutSeconds: number): number {
    return Math.max(1, functionTimeoutSeconds - 1) * 1000;
}
