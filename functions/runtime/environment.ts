/**
 * The environment of a deployed function: the variables the platform sets on it, named once for the
 * function that reads them here and for the infrastructure that sets them
 * (`infra/components/function-settings.ts` imports these names). What a variable configures is read
 * by the module that owns it (the database's in `data/database-environment.ts`, the relay check's in
 * `outbox/relay-check.ts`). The local runtime sets none of them: it hands the same runtime
 * functions their settings directly.
 */
import { LOG_LEVELS, type LogLevel } from "./logger";

export const ENVIRONMENT = {
    /** The service the function belongs to; a label for people (the console, the plan). */
    serviceName: "SERVICE_NAME",
    /** The route key the function serves, e.g. `GET /users/{id}`; a label likewise. */
    routeKey: "ROUTE_KEY",
    /** What a queue consumer takes, e.g. `subscription welcome: users/user.created v1`; a label likewise. */
    trigger: "TRIGGER",
    /** The stack's event bus: where a service that publishes events sends them. */
    eventBusName: "EVENT_BUS_NAME",
    /**
     * The service's event bucket (`events.delivery: bucket-handover`): a publishing function in the
     * VPC writes its batches there instead of calling EventBridge, and the forwarder reads them.
     */
    eventHandoverBucket: "EVENT_HANDOVER_BUCKET",
    /** The outbox relay's check: JSON of its `RelayCheckSettings` (the relay it invokes, the metrics it reads). */
    outboxRelayCheck: "OUTBOX_RELAY_CHECK",
    /**
     * The service's own Secrets Manager secret, holding the values of its declared `secrets`; an
     * ARN, never a value. Only functions of a service that declares secrets have it.
     */
    serviceSecretArn: "SERVICE_SECRET_ARN",
    /** The cluster's writer endpoint. */
    databaseHost: "DB_HOST",
    /** @default 5432 */
    databasePort: "DB_PORT",
    databaseName: "DB_NAME",
    /**
     * The service's own database role, which a route function signs in as with an IAM
     * authentication token; it marks a function that uses the database.
     */
    databaseUser: "DB_USER",
    /**
     * The RDS-managed master secret holding `{"username","password"}`; never the password itself.
     * Only the migration launcher has it (outside the VPC); it passes what it reads to the worker.
     */
    databaseSecretArn: "DB_SECRET_ARN",
    /** The migration worker the launcher invokes: its function name. Only the launcher has it. */
    migrationWorkerFunction: "MIGRATION_WORKER_FUNCTION",
    /** The server-side limit on each statement, in milliseconds (`statementTimeoutFor`). */
    databaseStatementTimeoutMs: "DB_STATEMENT_TIMEOUT_MS",
    /** `disable` connects without TLS (a local PostgreSQL in the archive tests); anything else requires it. */
    databaseTls: "DB_TLS",
    /**
     * The hash of the migrations applied before the function was deployed. Not read: setting it
     * makes the function depend on the migration run, so new code never meets an old schema.
     */
    databaseMigrationSet: "DB_MIGRATION_SET",
    /** Set by Lambda: the region, which IAM authentication tokens are signed for. */
    region: "AWS_REGION",
    /** Set by Lambda from the function's application log level. */
    lambdaLogLevel: "AWS_LAMBDA_LOG_LEVEL",
    /** A log level for processes Lambda does not configure. */
    logLevel: "LOG_LEVEL",
} as const;

export type Environment = Readonly<Record<string, string | undefined>>;

/** The stack's event bus, which a publishing function's environment names. */
export function eventBusFromEnvironment(env: Environment = process.env): string {
    const name = env[ENVIRONMENT.eventBusName];
    if (!name) throw new Error(`The event bus is missing from the environment: ${ENVIRONMENT.eventBusName}.`);
    return name;
}

/** The service's event bucket, when its events are handed over through one; undefined when it calls EventBridge. */
export function eventHandoverBucketFromEnvironment(env: Environment = process.env): string | undefined {
    return env[ENVIRONMENT.eventHandoverBucket] || undefined;
}

/** The level Lambda's log configuration asks for, else `LOG_LEVEL`; undefined when neither names one. */
export function logLevelFromEnvironment(env: Environment = process.env): LogLevel | undefined {
    const configured = (env[ENVIRONMENT.lambdaLogLevel] ?? env[ENVIRONMENT.logLevel] ?? "").toUpperCase();
    return (LOG_LEVELS as readonly string[]).includes(configured) ? (configured as LogLevel) : undefined;
}
