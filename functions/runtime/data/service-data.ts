/**
 * How each service owns its data in the shared PostgreSQL database: a schema of its own, a
 * NOLOGIN role that owns the schema and runs the service's migrations, and a LOGIN role its
 * functions sign in as, with only `USAGE` on the schema and the table privileges its migrations
 * grant. The names are derived here, once, for the migration runner (`migrations.ts`), the
 * infrastructure (IAM `rds-db:connect` on the login role), the local runtime and validation.
 *
 * ```
 * cluster ── database "app"
 *              ├── schema platform          platform-wide state (migration records), master only
 *              ├── schema users   owner users_owner (NOLOGIN, migrations)   login users_app
 *              └── schema orders  owner orders_owner                        login orders_app
 * ```
 */

/** The platform's own schema: the migration records and other platform-wide state. No service role may use it. */
export const PLATFORM_SCHEMA = "platform";

/**
 * Schema names a service may not take: PostgreSQL's own (`public`, `information_schema`, anything
 * starting `pg_`), the platform's, and `aws_*`, where Aurora installs its extensions' schemas
 * (`aws_commons`, `aws_s3`, `aws_lambda`).
 */
export function reservedSchemaReason(schema: string): string | undefined {
    if (schema === "public" || schema === "information_schema") return `"${schema}" is PostgreSQL's own schema`;
    if (schema.startsWith("pg_")) return `schema names starting with pg_ are reserved by PostgreSQL`;
    if (schema === PLATFORM_SCHEMA) return `"${PLATFORM_SCHEMA}" is the platform's own schema`;
    if (schema.startsWith("aws_")) return `schema names starting with aws_ are where Aurora installs its extensions`;
    return undefined;
}

/** `order-history` -> `order_history`: service names are DNS labels, schema names identifiers. */
export function serviceSchema(service: string): string {
    return service.replaceAll("-", "_");
}

/** The roles of a service: `<schema>_owner` owns its schema and runs its migrations; `<schema>_app` is what its functions sign in as. */
export function serviceRoles(service: string): { owner: string; login: string } {
    const schema = serviceSchema(service);
    return { owner: `${schema}_owner`, login: `${schema}_app` };
}

/** Everything the migration run creates and keeps up to date for one service. */
export interface ServiceData {
    service: string;
    schema: string;
    /** NOLOGIN; owns the schema and everything in it; migrations run as it (`SET LOCAL ROLE`). */
    ownerRole: string;
    /** LOGIN; the service's functions sign in as it: IAM authentication in the cloud, a password locally. */
    loginRole: string;
    /**
     * The login role's `CONNECTION LIMIT`: its functions' concurrency ceilings added up, one
     * connection per container. Past it, a new connection gets 53300 and the request a 503; the
     * other services keep their own limits.
     */
    connectionLimit: number;
    /** The login role's `statement_timeout`, in ms: below its longest function timeout. */
    statementTimeoutMs: number;
}

/** How service login roles sign in: IAM database authentication (Aurora), or a password (the local PostgreSQL). */
export type LoginMethod = "iam" | "password";

/** `"users"` as an SQL identifier. The names come from validated service names; quoting keeps them exact. */
export function quoteIdentifier(name: string): string {
    return `"${name.replaceAll('"', '""')}"`;
}

/** A string as an SQL literal, for statements that take no parameters (`ALTER ROLE ... PASSWORD`). */
export function quoteLiteral(value: string): string {
    return `'${value.replaceAll("'", "''")}'`;
}
