/**
 * The platform's own SQL, run by the migration run before any service migration, in its
 * transaction and under its advisory lock, idempotent (every run brings roles and grants back to
 * what the registry says):
 *
 * - the `platform` schema, for platform-wide state: the migration records;
 * - per database service: its schema, a NOLOGIN owner role that its migrations run as, and a LOGIN
 *   role for its functions with `USAGE` on the schema, DML on its tables and `USAGE, SELECT` on
 *   its sequences by default privileges (no DDL), its `CONNECTION LIMIT`, `statement_timeout` and
 *   `search_path`, and `rds_iam` where IAM authentication exists.
 *
 * It is written for both kinds of administrator the runner signs in as: a real superuser (the
 * local `postgres`), and RDS's master user, which is not a superuser but a member of
 * `rds_superuser` with CREATEROLE. On PostgreSQL 16 and later the creator of a role gets ADMIN on
 * it but not the right to `SET ROLE` to it or use its privileges, so the runner grants itself each
 * owner role `WITH INHERIT TRUE, SET TRUE` first (a superuser needs neither, and the grant does it
 * no harm): `SET ROLE` runs the migrations as the owner, `CREATE SCHEMA ... AUTHORIZATION` needs it,
 * and inheriting the owner's privileges is what lets the master grant on a schema it does not
 * own. This syntax needs PostgreSQL 16+; the stacks run 17.
 *
 * Every database service's schema also holds the platform's own tables of its events
 * (`SERVICE_EVENT_TABLES_SQL`): the outbox its handlers publish into and the record of the events
 * its subscriptions applied. They are created in `provisionService`, after the grants, as the owner
 * role, so the login role gets DML on them by the same default privileges, and nobody else sees them.
 */
import type { Queryable } from "./database";
import { APPLIED_EVENTS_TABLE_SQL } from "../queue/dedupe";
import { OUTBOX_TABLE_SQL } from "../outbox/outbox";
import { scramSha256Verifier } from "./scram";
import { PLATFORM_SCHEMA, quoteIdentifier as id, quoteLiteral, type ServiceData } from "./service-data";

/** The platform's table of applied migrations, one row per service and version. */
export const MIGRATIONS_TABLE = `${PLATFORM_SCHEMA}.schema_migrations`;

/** The default privileges a service's login role gets on what its migrations create: data, never structure. */
const LOGIN_TABLE_PRIVILEGES = "SELECT, INSERT, UPDATE, DELETE";
const LOGIN_SEQUENCE_PRIVILEGES = "USAGE, SELECT";

/**
 * The platform's tables in every database service's schema (unqualified: they run with the
 * schema on the path), idempotent. A service's migrations must not name tables `platform_*`.
 */
export const SERVICE_EVENT_TABLES_SQL: readonly string[] = [...OUTBOX_TABLE_SQL, ...APPLIED_EVENTS_TABLE_SQL];

/** The platform schema and its tables, readable by the administrator only. */
export async function provisionPlatform(tx: Queryable): Promise<void> {
    await tx.query(`CREATE SCHEMA IF NOT EXISTS ${PLATFORM_SCHEMA}`);
    await tx.query(`REVOKE ALL ON SCHEMA ${PLATFORM_SCHEMA} FROM PUBLIC`);
    // PostgreSQL 15 and later already refuse it; said explicitly so no role can create tables in `public`, outside every service's schema.
    await tx.query("REVOKE CREATE ON SCHEMA public FROM PUBLIC");
    await tx.query(`CREATE TABLE IF NOT EXISTS ${MIGRATIONS_TABLE} (
        service    text        NOT NULL,
        version    integer     NOT NULL,
        name       text        NOT NULL,
        checksum   text        NOT NULL,
        applied_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (service, version)
    )`);
}

/**
 * How login roles sign in: IAM tokens (nothing to store), or locally a password per role that the
 * local runtime derives from its data folder's secret (never stored in the database or the repository).
 */
export type LoginProvisioning = { method: "iam" } | { method: "password"; passwordOf(role: string): string };

/** Creates a role unless it exists (roles are cluster-wide: another database may have made it already). */
async function ensureRole(tx: Queryable, role: string, attributes: string): Promise<void> {
    await tx.query(`DO $$ BEGIN CREATE ROLE ${id(role)} ${attributes}; EXCEPTION WHEN duplicate_object THEN NULL; END $$`);
}

/** Runs `work` as `role`, then returns to the administrator. */
export async function asRole<T>(tx: Queryable, role: string, work: () => Promise<T>): Promise<T> {
    await tx.query(`SET LOCAL ROLE ${id(role)}`);
    const result = await work();
    await tx.query("SET LOCAL ROLE NONE");
    return result;
}

/** One service's schema and roles, brought to what `service` says. */
export async function provisionService(tx: Queryable, service: ServiceData, login: LoginProvisioning): Promise<void> {
    const { schema, ownerRole: owner, loginRole: user } = service;
    await ensureRole(tx, owner, "NOLOGIN");
    await ensureRole(tx, user, "LOGIN");
    await tx.query(`ALTER ROLE ${id(owner)} NOLOGIN`);
    await tx.query(`ALTER ROLE ${id(user)} LOGIN CONNECTION LIMIT ${Math.trunc(service.connectionLimit)}`);
    await tx.query(`ALTER ROLE ${id(user)} SET search_path = ${id(schema)}`);
    await tx.query(`ALTER ROLE ${id(user)} SET statement_timeout = ${Math.trunc(service.statementTimeoutMs)}`);
    await tx.query(`GRANT ${id(owner)} TO CURRENT_USER WITH INHERIT TRUE, SET TRUE`);
    if (login.method === "iam") {
        // Aurora's role for IAM authentication; a PostgreSQL without it (the tests') lets the role in otherwise.
        const { rows } = await tx.query("SELECT 1 FROM pg_roles WHERE rolname = 'rds_iam'");
        if (rows.length > 0) await tx.query(`GRANT rds_iam TO ${id(user)}`);
    } else {
        // As its SCRAM verifier: the statement is logged (log_statement = ddl), a password never is.
        await tx.query(`ALTER ROLE ${id(user)} PASSWORD ${quoteLiteral(scramSha256Verifier(login.passwordOf(user)))}`);
    }

    await tx.query(`CREATE SCHEMA IF NOT EXISTS ${id(schema)} AUTHORIZATION ${id(owner)}`);
    const { rows } = await tx.query<{ owner: string }>("SELECT nspowner::regrole::text AS owner FROM pg_namespace WHERE nspname = $1", [schema]);
    if (rows[0]?.owner !== owner) await tx.query(`ALTER SCHEMA ${id(schema)} OWNER TO ${id(owner)}`);

    await asRole(tx, owner, async () => {
        await tx.query(`REVOKE ALL ON SCHEMA ${id(schema)} FROM PUBLIC`);
        await tx.query(`GRANT USAGE ON SCHEMA ${id(schema)} TO ${id(user)}`);
        await tx.query(`ALTER DEFAULT PRIVILEGES IN SCHEMA ${id(schema)} GRANT ${LOGIN_TABLE_PRIVILEGES} ON TABLES TO ${id(user)}`);
        await tx.query(`ALTER DEFAULT PRIVILEGES IN SCHEMA ${id(schema)} GRANT ${LOGIN_SEQUENCE_PRIVILEGES} ON SEQUENCES TO ${id(user)}`);
        await tx.query(`SET LOCAL search_path = ${id(schema)}`);
        for (const statement of SERVICE_EVENT_TABLES_SQL) await tx.query(statement);
        await tx.query("SET LOCAL search_path TO DEFAULT");
    });
}
