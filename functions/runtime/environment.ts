/**
 * The environment of a deployed function: the variables the platform sets on it, named once for the
 * function that reads them here and for the infrastructure that sets them
 * (`infra/components/function-settings.ts` imports these names). The local runtime sets none of
 * them: it hands the same runtime functions their settings directly.
 */
import type { DatabaseOptions } from "./database";
import { LOG_LEVELS, type LogLevel } from "./logger";

export const ENVIRONMENT = {
    /** The service the function belongs to; a label for people (the console, the plan). */
    serviceName: "SERVICE_NAME",
    /** The route key the function serves, e.g. `GET /users/{id}`; a label likewise. */
    routeKey: "ROUTE_KEY",
    /** The cluster's writer endpoint. */
    databaseHost: "DB_HOST",
    /** @default 5432 */
    databasePort: "DB_PORT",
    databaseName: "DB_NAME",
    /** The RDS-managed secret holding `{"username","password"}`; never the password itself. */
    databaseSecretArn: "DB_SECRET_ARN",
    /** The server-side limit on each statement, in milliseconds (`statementTimeoutFor`). */
    databaseStatementTimeoutMs: "DB_STATEMENT_TIMEOUT_MS",
    /** `disable` connects without TLS (a local PostgreSQL in the archive tests); anything else requires it. */
    databaseTls: "DB_TLS",
    /**
     * The hash of the migrations applied before the function was deployed. Not read: setting it
     * makes the function depend on the migration run, so new code never meets an old schema.
     */
    databaseMigrationSet: "DB_MIGRATION_SET",
    /** Set by Lambda from the function's application log level. */
    lambdaLogLevel: "AWS_LAMBDA_LOG_LEVEL",
    /** A log level for processes Lambda does not configure. */
    logLevel: "LOG_LEVEL",
} as const;

type Environment = Readonly<Record<string, string | undefined>>;

/** The deployed function's database: the cluster and its secret, from the `DB_*` variables. */
export function databaseSettingsFromEnvironment(env: Environment = process.env): DatabaseOptions {
    const required = [ENVIRONMENT.databaseHost, ENVIRONMENT.databaseName, ENVIRONMENT.databaseSecretArn];
    const missing = required.filter((name) => !env[name]);
    if (missing.length > 0) {
        throw new Error(`Database settings missing from the environment: ${missing.join(", ")}.`);
    }
    const statementTimeoutMs = env[ENVIRONMENT.databaseStatementTimeoutMs];
    return {
        host: env[ENVIRONMENT.databaseHost]!,
        port: Number(env[ENVIRONMENT.databasePort] ?? 5432),
        database: env[ENVIRONMENT.databaseName]!,
        secretArn: env[ENVIRONMENT.databaseSecretArn]!,
        statementTimeoutMs: statementTimeoutMs ? Number(statementTimeoutMs) : undefined,
        tls: env[ENVIRONMENT.databaseTls] !== "disable",
    };
}

/** The level Lambda's log configuration asks for, else `LOG_LEVEL`; undefined when neither names one. */
export function logLevelFromEnvironment(env: Environment = process.env): LogLevel | undefined {
    const configured = (env[ENVIRONMENT.lambdaLogLevel] ?? env[ENVIRONMENT.logLevel] ?? "").toUpperCase();
    return (LOG_LEVELS as readonly string[]).includes(configured) ? (configured as LogLevel) : undefined;
}
