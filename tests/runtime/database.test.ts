import * as assert from "node:assert/strict";
import * as net from "node:net";
import { GetSecretValueCommand, SecretsManagerClient } from "@aws-sdk/client-secrets-manager";
import { mockClient } from "aws-sdk-client-mock";
import {
    createDatabase,
    isConnectionFailure,
    isDatabaseUnavailable,
    statementTimeoutFor,
    type Database,
    type Queryable,
} from "../../functions/runtime/data/database";
import { migrationClusterFromEnvironment, migrationLauncherFromEnvironment, serviceDatabaseFromEnvironment } from "../../functions/runtime/data/database-environment";
import { createSecretCredentials } from "../../functions/runtime/data/master-secret";
import { startFaultProxy, type FaultProxy } from "../../testing/fault-proxy";
import { usePostgres } from "../support/postgres";

const SECRET_ARN = "arn:aws:secretsmanager:us-east-1:123456789012:secret:rds!cluster-test-AbCdEf";
const secret = (username: string, password: string) => ({ SecretString: JSON.stringify({ username, password }) });

/** A TCP proxy to PostgreSQL that drops the first `drops` connections, as a resuming cluster does. */
async function flakyProxy(targetPort: number, drops: number) {
    let connections = 0;
    const server = net.createServer((client) => {
        connections++;
        if (connections <= drops) {
            client.destroy();
            return;
        }
        const upstream = net.connect(targetPort, "127.0.0.1");
        client.pipe(upstream).pipe(client);
        upstream.on("error", () => client.destroy());
        client.on("error", () => upstream.destroy());
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    return {
        port: (server.address() as net.AddressInfo).port,
        connections: () => connections,
        close: () => new Promise<void>((resolve) => server.close(() => resolve())),
    };
}

describe("database access", () => {
    const postgres = usePostgres();
    const secretsMock = mockClient(SecretsManagerClient);

    before(async () => {
        await postgres().sql("CREATE ROLE app_user LOGIN PASSWORD 'rotated-password'");
        await postgres().sql("GRANT ALL ON SCHEMA public TO app_user");
    });
    beforeEach(() => secretsMock.reset());

    describe("the secret cache", () => {
        it("fetches the secret once and serves later reads from the cache", async () => {
            // Prepare
            secretsMock.on(GetSecretValueCommand, { SecretId: SECRET_ARN }).resolves(secret("app_user", "p1"));
            const credentials = createSecretCredentials(SECRET_ARN, new SecretsManagerClient({ region: "us-east-1" }));
            // Act
            const first = await credentials.get();
            const second = await credentials.get();
            // Assess
            assert.deepEqual([first, second], [{ username: "app_user", password: "p1" }, { username: "app_user", password: "p1" }]);
            assert.equal(secretsMock.commandCalls(GetSecretValueCommand).length, 1);
        });

        it("fetches again after refresh() (the password was rotated)", async () => {
            secretsMock.on(GetSecretValueCommand).resolvesOnce(secret("app_user", "old")).resolves(secret("app_user", "new"));
            const credentials = createSecretCredentials(SECRET_ARN, new SecretsManagerClient({ region: "us-east-1" }));
            assert.equal((await credentials.get()).password, "old");
            credentials.refresh();
            assert.equal((await credentials.get()).password, "new");
            assert.equal(secretsMock.commandCalls(GetSecretValueCommand).length, 2);
        });

        it("does not cache a failed fetch", async () => {
            secretsMock.on(GetSecretValueCommand).rejectsOnce(new Error("throttled")).resolves(secret("app_user", "p1"));
            const credentials = createSecretCredentials(SECRET_ARN, new SecretsManagerClient({ region: "us-east-1" }));
            await assert.rejects(credentials.get(), /throttled/);
            assert.equal((await credentials.get()).password, "p1");
        });

        it("rejects a secret without username and password", async () => {
            secretsMock.on(GetSecretValueCommand).resolves({ SecretString: "{}" });
            const credentials = createSecretCredentials(SECRET_ARN, new SecretsManagerClient({ region: "us-east-1" }));
            await assert.rejects(credentials.get(), /has no username and password/);
        });
    });

    describe("against a real PostgreSQL", () => {
        const fromSecret = (port = postgres().server.port, extra: object = {}) =>
            createDatabase({
                host: "127.0.0.1",
                port,
                database: "app",
                credentials: createSecretCredentials(SECRET_ARN, new SecretsManagerClient({ region: "us-east-1" })),
                tls: false,
                ...extra,
            });

        it("connects with the credentials from the secret", async () => {
            secretsMock.on(GetSecretValueCommand).resolves(secret("app_user", "rotated-password"));
            const db = fromSecret();
            try {
                const { rows } = await db.query<{ user: string }>("SELECT current_user AS user");
                assert.deepEqual(rows, [{ user: "app_user" }]);
            } finally {
                await db.end();
            }
        });

        it("refreshes the secret once on an authentication failure and succeeds with the rotated password", async () => {
            // Prepare: the cached value is the password from before the rotation.
            secretsMock.on(GetSecretValueCommand).resolvesOnce(secret("app_user", "stale-password")).resolves(secret("app_user", "rotated-password"));
            const db = fromSecret();
            try {
                // Act
                const { rows } = await db.query<{ one: number }>("SELECT 1 AS one");
                // Assess
                assert.deepEqual(rows, [{ one: 1 }]);
                assert.equal(secretsMock.commandCalls(GetSecretValueCommand).length, 2);
            } finally {
                await db.end();
            }
        });

        it("gives up after its sign-in retries when the password stays wrong, reading the secret again before each, with DatabaseUnavailableError", async () => {
            // Prepare
            secretsMock.on(GetSecretValueCommand).resolves(secret("app_user", "wrong"));
            const db = fromSecret(undefined, { signInRetry: { attempts: 3, firstDelayMs: 1 } });
            try {
                // Act
                const failure = await db.query("SELECT 1").catch((error: unknown) => error);
                // Assess: unavailable (a 503 for a route), the refusal as its cause, one secret read per sign-in.
                assert.ok(isDatabaseUnavailable(failure), String(failure));
                assert.equal(((failure as Error).cause as { code?: string }).code, "28P01");
                assert.match((failure as Error).message, /refused the sign-in 3 time\(s\) \(28P01\)/);
                assert.equal(secretsMock.commandCalls(GetSecretValueCommand).length, 3);
            } finally {
                await db.end();
            }
        });

        it("retries a connection dropped while the cluster resumes", async () => {
            secretsMock.on(GetSecretValueCommand).resolves(secret("app_user", "rotated-password"));
            const proxy = await flakyProxy(postgres().server.port, 3);
            const db = fromSecret(proxy.port);
            try {
                assert.deepEqual((await db.query("SELECT 2 AS two")).rows, [{ two: 2 }]);
                assert.equal(proxy.connections(), 4);
            } finally {
                await db.end();
                await proxy.close();
            }
        });

        it("gives up at the connect deadline with DatabaseUnavailableError, after retries spaced by backoff", async () => {
            // Prepare: every connection is dropped; the caller allows 1.5 s.
            secretsMock.on(GetSecretValueCommand).resolves(secret("app_user", "rotated-password"));
            const proxy = await flakyProxy(postgres().server.port, Number.POSITIVE_INFINITY);
            const db = fromSecret(proxy.port);
            try {
                // Act
                const started = Date.now();
                const failure = await db.withConnectDeadline(started + 1500).query("SELECT 1").catch((error: unknown) => error);
                const elapsed = Date.now() - started;
                // Assess: unavailable (not a bare socket error), at the deadline, and not in a tight loop.
                assert.ok(isDatabaseUnavailable(failure), String(failure));
                assert.ok(elapsed >= 1400 && elapsed < 2500, `gave up after ${elapsed} ms`);
                assert.ok(proxy.connections() >= 4 && proxy.connections() <= 12, `${proxy.connections()} attempts`);
            } finally {
                await db.end();
                await proxy.close();
            }
        });

        it("ends statements that run past the statement timeout", async () => {
            const db = createDatabase({ connectionString: postgres().server.url, statementTimeoutMs: 100 });
            try {
                await assert.rejects(db.query("SELECT pg_sleep(2)"), (error: { code?: string }) => error.code === "57014");
                // The connection survives a cancelled statement.
                assert.deepEqual((await db.query("SELECT 3 AS three")).rows, [{ three: 3 }]);
            } finally {
                await db.end();
            }
        });

        it("rolls a transaction back when its work throws", async () => {
            const db = createDatabase({ connectionString: postgres().server.url });
            try {
                await db.query("CREATE TABLE tx_test (n int)");
                await assert.rejects(
                    db.transaction(async (tx) => {
                        await tx.query("INSERT INTO tx_test VALUES (1)");
                        throw new Error("boom");
                    }),
                    /boom/,
                );
                await db.transaction((tx) => tx.query("INSERT INTO tx_test VALUES (2)"));
                assert.deepEqual((await db.query("SELECT n FROM tx_test")).rows, [{ n: 2 }]);
            } finally {
                await db.end();
            }
        });
    });

    describe("when the server ends sessions or loses answers", () => {
        const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
        let proxy: FaultProxy;
        let db: Database;

        /** Ends a backend as a failover, reboot or idle_session_timeout does, and waits until it is gone. */
        async function terminateBackend(pid: number): Promise<void> {
            await postgres().sql("SELECT pg_terminate_backend($1)", [pid]);
            for (let attempt = 0; attempt < 100; attempt++) {
                if ((await postgres().sql("SELECT 1 FROM pg_stat_activity WHERE pid = $1", [pid])).length === 0) return;
                await sleep(20);
            }
            throw new Error(`backend ${pid} is still there`);
        }
        const backendPid = async (on: Queryable) => (await on.query<{ pid: number }>("SELECT pg_backend_pid() AS pid")).rows[0].pid;
        const storedWrites = async (tag: string) => Number((await postgres().sql<{ n: string }>("SELECT count(*) AS n FROM fault_writes WHERE tag = $1", [tag]))[0].n);

        before(() => postgres().sql("CREATE TABLE fault_writes (id serial PRIMARY KEY, tag text NOT NULL)"));
        beforeEach(async () => {
            proxy = await startFaultProxy(postgres().server.port);
            db = createDatabase({ connectionString: proxy.url(postgres().server.url) });
        });
        afterEach(async () => {
            await db.end();
            await proxy.close();
        });

        it("checks a kept connection that sat idle and replaces it when its session was ended (a frozen container): the next query succeeds", async () => {
            // Prepare: the session ends while the client reads nothing, as in a frozen Lambda container.
            const pid = await backendPid(db);
            proxy.freezeOpenConnections();
            await terminateBackend(pid);
            await sleep(1100); // longer than the default idle check (1 s)
            // Act
            const { rows } = await db.query<{ one: number }>("SELECT 1 AS one");
            // Assess
            assert.deepEqual(rows, [{ one: 1 }]);
            assert.equal(proxy.connections(), 2, "one new connection");
            assert.notEqual(await backendPid(db), pid);
        });

        it("moves a transaction whose BEGIN meets an ended session to a new connection: nothing had run, and it commits once", async () => {
            // Prepare: used a moment ago, so no idle check runs; the ended session shows only when BEGIN is sent.
            const pid = await backendPid(db);
            proxy.freezeOpenConnections();
            await terminateBackend(pid);
            // Act
            const id = await db.transaction(async (tx) => (await tx.query<{ id: number }>("INSERT INTO fault_writes (tag) VALUES ('begin') RETURNING id")).rows[0].id);
            // Assess
            assert.equal(typeof id, "number");
            assert.equal(await storedWrites("begin"), 1);
            assert.equal(proxy.connections(), 2);
        });

        it("fails a statement that meets an ended session with DatabaseUnavailableError and does not send it again; the next one reconnects", async () => {
            // Prepare
            const pid = await backendPid(db);
            proxy.freezeOpenConnections();
            await terminateBackend(pid);
            // Act
            const failure = await db.query("INSERT INTO fault_writes (tag) VALUES ('ended')").catch((error: unknown) => error);
            // Assess
            assert.ok(isDatabaseUnavailable(failure), String(failure));
            assert.equal(await storedWrites("ended"), 0);
            assert.deepEqual((await db.query("SELECT 2 AS two")).rows, [{ two: 2 }]);
        });

        it("never runs a write twice: an INSERT whose answer is lost after it committed fails with DatabaseUnavailableError and is stored once", async () => {
            // Prepare
            await db.query("SELECT 1");
            const lost = proxy.loseAnswerContaining("INSERT 0 1");
            // Act
            const failure = await db.query("INSERT INTO fault_writes (tag) VALUES ('lost-answer')").catch((error: unknown) => error);
            await lost;
            // Assess
            assert.ok(isDatabaseUnavailable(failure), String(failure));
            assert.equal(await storedWrites("lost-answer"), 1);
            assert.deepEqual((await db.query("SELECT 3 AS three")).rows, [{ three: 3 }]);
        });

        it("never repeats a COMMIT whose answer is lost: the transaction's rows are stored once", async () => {
            // Prepare
            await db.query("SELECT 1");
            const lost = proxy.loseAnswerContaining("COMMIT");
            // Act
            const failure = await db
                .transaction(async (tx) => {
                    await tx.query("INSERT INTO fault_writes (tag) VALUES ('lost-commit')");
                    await tx.query("INSERT INTO fault_writes (tag) VALUES ('lost-commit')");
                })
                .catch((error: unknown) => error);
            await lost;
            // Assess
            assert.ok(isDatabaseUnavailable(failure), String(failure));
            assert.equal(await storedWrites("lost-commit"), 2);
        });

        it("fails a statement whose session is ended while it runs with DatabaseUnavailableError; nothing is written and it is not run again", async () => {
            // Prepare
            const pid = await backendPid(db);
            // Act
            const pending = db.query("INSERT INTO fault_writes (tag) SELECT 'mid-statement' FROM pg_sleep(1)").catch((error: unknown) => error);
            await sleep(200);
            await terminateBackend(pid);
            const failure = await pending;
            // Assess
            assert.ok(isDatabaseUnavailable(failure), String(failure));
            assert.equal(await storedWrites("mid-statement"), 0);
        });

        it("survives a session ended between the statements of a transaction (no query active): the transaction fails and nothing is committed", async () => {
            // Act: the server's goodbye reaches the client while it is checked out and idle, an
            // `error` event that ends the process when nobody listens.
            const failure = await db
                .transaction(async (tx) => {
                    await tx.query("INSERT INTO fault_writes (tag) VALUES ('between')");
                    await terminateBackend(await backendPid(tx));
                    await sleep(100);
                    await tx.query("INSERT INTO fault_writes (tag) VALUES ('between')");
                })
                .catch((error: unknown) => error);
            // Assess
            assert.ok(isDatabaseUnavailable(failure), String(failure));
            assert.equal(await storedWrites("between"), 0);
            assert.deepEqual((await db.query("SELECT 4 AS four")).rows, [{ four: 4 }]);
        });

        it("tells a lost connection from a failed statement", () => {
            const lost = [{ code: "57P01" }, { code: "57P03" }, { code: "08006" }, { code: "ECONNREFUSED" }, { code: "ECONNRESET" }, new Error("Connection terminated unexpectedly")];
            const failed = [{ code: "23505" }, { code: "57014" }, { code: "28P01" }, { code: "42P01" }, new Error("boom")];
            assert.deepEqual(lost.map(isConnectionFailure), lost.map(() => true));
            assert.deepEqual(failed.map(isConnectionFailure), failed.map(() => false));
        });
    });

    describe("settings: the cloud's from the environment, the local runtime's given", () => {
        it("opens a connection string (the local runtime) with the function's statement timeout", async () => {
            // Prepare
            const db = createDatabase({ connectionString: postgres().server.url, statementTimeoutMs: statementTimeoutFor(10) });
            try {
                // Act
                const { rows } = await db.query<{ name: string; timeout: string }>("SELECT current_database() AS name, current_setting('statement_timeout') AS timeout");
                // Assess
                assert.deepEqual(rows, [{ name: "app", timeout: "9s" }]);
            } finally {
                await db.end();
            }
        });

        it("ends statements a second before the function would", () => {
            assert.deepEqual([statementTimeoutFor(10), statementTimeoutFor(29), statementTimeoutFor(1)], [9000, 28000, 1000]);
        });

        it("reads the migration worker's cluster and statement timeout from the DB_* variables, with no sign-in of its own", () => {
            // Act
            const settings = migrationClusterFromEnvironment({ DB_HOST: "cluster.example", DB_PORT: "6432", DB_NAME: "app", DB_STATEMENT_TIMEOUT_MS: "9000" });
            // Assess
            assert.deepEqual(settings, { host: "cluster.example", port: 6432, database: "app", statementTimeoutMs: 9000, tls: true });
            assert.equal(migrationClusterFromEnvironment({ DB_HOST: "h", DB_NAME: "n", DB_TLS: "disable" }).tls, false);
        });

        it("reads the migration launcher's master secret and worker from its variables", () => {
            assert.deepEqual(migrationLauncherFromEnvironment({ DB_SECRET_ARN: SECRET_ARN, MIGRATION_WORKER_FUNCTION: "migrations-function-1a2b3c4" }), { secretArn: SECRET_ARN, workerFunction: "migrations-function-1a2b3c4" });
        });

        it("names the missing variables when the DB_* settings are not all there", () => {
            assert.throws(() => migrationClusterFromEnvironment({ DB_HOST: "x" }), /Database settings missing from the environment: DB_NAME\./);
            assert.throws(() => serviceDatabaseFromEnvironment({ DB_HOST: "x", DB_NAME: "n" }), /Database settings missing from the environment: DB_USER, AWS_REGION\./);
            assert.throws(() => migrationLauncherFromEnvironment({ DB_HOST: "x" }), /Migration launcher settings missing from the environment: DB_SECRET_ARN, MIGRATION_WORKER_FUNCTION\./);
        });

        it("reads a route function's own database user and signs an IAM token for it from the role's credentials, never the master secret", async () => {
            // Prepare
            const env = {
                DB_HOST: "cluster.example",
                DB_NAME: "app",
                DB_USER: "users_app",
                DB_SECRET_ARN: SECRET_ARN,
                AWS_REGION: "eu-west-1",
                AWS_ACCESS_KEY_ID: "ASIAEXAMPLE",
                AWS_SECRET_ACCESS_KEY: "secret",
                AWS_SESSION_TOKEN: "session",
            };
            // Act
            const settings = serviceDatabaseFromEnvironment(env) as { host: string; port: number; credentials: { get(): Promise<{ username: string; password: string }>; refresh?: unknown } };
            const { username, password } = await settings.credentials.get();
            // Assess
            assert.equal(username, "users_app");
            assert.deepEqual([settings.host, settings.port], ["cluster.example", 5432]);
            const token = new URL(`https://${password}`);
            assert.equal(token.host, "cluster.example:5432");
            assert.equal(token.searchParams.get("DBUser"), "users_app");
            assert.match(token.searchParams.get("X-Amz-Credential")!, /^ASIAEXAMPLE\/\d{8}\/eu-west-1\/rds-db\/aws4_request$/);
            assert.equal(token.searchParams.get("X-Amz-Security-Token"), "session");
            // The container's token is reused, and signed afresh once the server refused it.
            assert.equal((await settings.credentials.get()).password, password);
            (settings.credentials.refresh as () => void)();
            assert.equal(typeof settings.credentials.refresh, "function");
            assert.equal(secretsMock.commandCalls(GetSecretValueCommand).length, 0);
        });
    });

    describe("signing in with a token per connection (IAM authentication)", () => {
        before(() => postgres().sql("CREATE ROLE token_user LOGIN PASSWORD 'token-1'"));

        it("asks for a new token for every new connection, and only then", async () => {
            // Prepare: the server accepts whatever password the role has now.
            const issued: string[] = [];
            let current = "token-1";
            const db = createDatabase({
                host: "127.0.0.1",
                port: postgres().server.port,
                database: "app",
                tls: false,
                credentials: {
                    get: async () => {
                        issued.push(current);
                        return { username: "token_user", password: current };
                    },
                },
            });
            try {
                // Act: two queries on the kept connection, then a new connection once it is closed.
                await db.query("SELECT 1");
                await db.query("SELECT 1");
                await postgres().sql("ALTER ROLE token_user PASSWORD 'token-2'");
                current = "token-2";
                await db.end();
                const { rows } = await db.query<{ user: string }>("SELECT current_user AS user");
                // Assess
                assert.deepEqual(rows, [{ user: "token_user" }]);
                assert.deepEqual(issued, ["token-1", "token-2"]);
            } finally {
                await db.end();
            }
        });
    });

    describe("a role at its connection limit", () => {
        before(() => postgres().sql("CREATE ROLE limited_user LOGIN PASSWORD 'limited' CONNECTION LIMIT 1"));

        it("fails the connect at once with DatabaseUnavailableError (53300), without waiting out the deadline", async () => {
            // Prepare: another session holds the role's one connection.
            const url = Object.assign(new URL(postgres().server.url), { username: "limited_user", password: "limited" }).toString();
            const holder = createDatabase({ connectionString: url });
            const second = createDatabase({ connectionString: url, connectRetryWindowMs: 10_000 });
            try {
                await holder.query("SELECT 1");
                // Act
                const started = Date.now();
                const error = await second.query("SELECT 1").then(() => undefined, (e: unknown) => e);
                // Assess
                assert.ok(isDatabaseUnavailable(error), String(error));
                assert.equal(((error as Error).cause as { code?: string }).code, "53300");
                assert.ok(Date.now() - started < 2_000, `gave up after ${Date.now() - started} ms`);
            } finally {
                await holder.end();
                await second.end();
            }
        });
    });
});
