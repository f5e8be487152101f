/**
 * The environment of a deployed function: the variables the platform sets on it, named once for the
 * function that reads them here and for the infrastructure that sets them
 * (`infra/components/function-settings.ts` imports these names). The local runtime sets none of
 * them: it hands the same runtime functions their settings directly.
 */
import type { DatabaseOptions } from "./database";
import { LOG_LEVELS, type LogLevel } from "./logger";
import { createSecretCredentials } from "./master-secret";
import { authTokenCache, credentialsFromEnvironment } from "./rds-auth-token";

export const ENVIRONMENT = {
    /** The service the function belongs to; a label for people (the console, the plan). */
    serviceName: "SERVICE_NAME",
    /** The route key the function serves, e.g. `GET /users/{id}`; a label likewise. */
    routeKey: "ROUTE_KEY",
    /** What a queue consumer takes, e.g. `subscription welcome: users/user.created v1`; a label likewise. */
    trigger: "TRIGGER",
    /** The stack's event bus: where a service that publishes events sends them. */
    eventBusName: "EVENT_BUS_NAME",
    /** The outbox relay's check: JSON of its `RelayCheckSettings` (the relay it invokes, the metrics it reads). */
    outboxRelayCheck: "OUTBOX_RELAY_CHECK",
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
     * Only the migration function has it.
     */
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
    /** Set by Lambda: the region, which IAM authentication tokens are signed for. */
    region: "AWS_REGION",
    /** Set by Lambda from the function's application log level. */
    lambdaLogLevel: "AWS_LAMBDA_LOG_LEVEL",
    /** A log level for processes Lambda does not configure. */
    logLevel: "LOG_LEVEL",
} as const;

/** What starts a queue consumer, as its `TRIGGER` label names it. */
export type ConsumerTriggerKind = "subscription" | "schedule";

/**
 * A queue consumer's `TRIGGER` label, e.g. `subscription welcome: users/user.created v1` or
 * `schedule purge: cron(15 3 * * ? *) UTC`: what the console shows, and how the plan names a
 * consumer from what deploys (`consumerTriggerOf`).
 */
export function consumerTriggerLabel(kind: ConsumerTriggerKind, name: string, what: string): string {
    return `${kind} ${name}: ${what}`;
}

/** The kind and name in a `TRIGGER` label (`consumerTriggerLabel`), or undefined for another value. */
export function consumerTriggerOf(label: unknown): { kind: ConsumerTriggerKind; name: string } | undefined {
    const match = typeof label === "string" ? /^(subscription|schedule) ([^\s:]+):/.exec(label) : null;
    return match ? { kind: match[1] as ConsumerTriggerKind, name: match[2] } : undefined;
}

type Environment = Readonly<Record<string, string | undefined>>;

/** The cluster's endpoint and the statement timeout, which every deployed database function reads. */
function clusterFromEnvironment(env: Environment, alsoRequired: readonly string[]) {
    const missing: string[] = [ENVIRONMENT.databaseHost, ENVIRONMENT.databaseName, ...alsoRequired].filter((name) => !env[name]);
    if (missing.length > 0) {
        throw new Error(`Database settings missing from the environment: ${missing.join(", ")}.`);
    }
    const statementTimeoutMs = env[ENVIRONMENT.databaseStatementTimeoutMs];
    return {
        host: env[ENVIRONMENT.databaseHost]!,
        port: Number(env[ENVIRONMENT.databasePort] ?? 5432),
        database: env[ENVIRONMENT.databaseName]!,
        statementTimeoutMs: statementTimeoutMs ? Number(statementTimeoutMs) : undefined,
        tls: env[ENVIRONMENT.databaseTls] !== "disable",
    };
}

/**
 * A route function's database, from the `DB_*` variables: the cluster, signed in to as the
 * service's own role (`DB_USER`) with an IAM token signed from the role's credentials and reused
 * by the container's new connections while it is valid (`authTokenCache`); a refused sign-in drops
 * it, so the retry signs afresh.
 */
export function routeDatabaseFromEnvironment(env: Environment = process.env, now: () => number = Date.now): DatabaseOptions {
    const cluster = clusterFromEnvironment(env, [ENVIRONMENT.databaseUser, ENVIRONMENT.region]);
    const username = env[ENVIRONMENT.databaseUser]!;
    const region = env[ENVIRONMENT.region]!;
    const tokens = authTokenCache(now);
    return {
        ...cluster,
        credentials: {
            get: async () => ({ username, password: tokens.token({ hostname: cluster.host, port: cluster.port, username, region, credentials: credentialsFromEnvironment(env) }) }),
            refresh: () => tokens.forget(),
        },
    };
}

/** The migration function's database: the cluster, signed in to as the master user from its secret (`DB_SECRET_ARN`). */
export function migrationDatabaseFromEnvironment(env: Environment = process.env): DatabaseOptions {
    const cluster = clusterFromEnvironment(env, [ENVIRONMENT.databaseSecretArn]);
    return { ...cluster, credentials: createSecretCredentials(env[ENVIRONMENT.databaseSecretArn]!) };
}

/** The stack's event bus, which a publishing function's environment names. */
export function eventBusFromEnvironment(env: Environment = process.env): string {
    const name = env[ENVIRONMENT.eventBusName];
    if (!name) throw new Error(`The event bus is missing from the environment: ${ENVIRONMENT.eventBusName}.`);
    return name;
}

/** The level Lambda's log configuration asks for, else `LOG_LEVEL`; undefined when neither names one. */
export function logLevelFromEnvironment(env: Environment = process.env): LogLevel | undefined {
    const configured = (env[ENVIRONMENT.lambdaLogLevel] ?? env[ENVIRONMENT.logLevel] ?? "").toUpperCase();
    return (LOG_LEVELS as readonly string[]).includes(configured) ? (configured as LogLevel) : undefined;
}

/** The outbox relay check's settings, from `OUTBOX_RELAY_CHECK`. */
export function relayCheckFromEnvironment(env: Environment = process.env): import("./outbox-relay-check").RelayCheckSettings {
    const raw = env[ENVIRONMENT.outboxRelayCheck];
    if (!raw) throw new Error(`The outbox relay check's settings are missing from the environment: ${ENVIRONMENT.outboxRelayCheck}.`);
    return JSON.parse(raw);
}
