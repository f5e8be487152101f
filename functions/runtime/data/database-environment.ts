/**
 * A deployed function's database settings, read from the `DB_*` variables of its environment
 * (`ENVIRONMENT`): the cluster, and how the function signs in.
 */
import { ENVIRONMENT, type Environment } from "../environment";
import type { ClusterSettings, DatabaseOptions } from "./database";
import { authTokenCache, credentialsFromEnvironment } from "./rds-auth-token";

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
 * A service function's database (a route, subscription, schedule or relay), from the `DB_*` variables: the cluster, signed in to as the
 * service's own role (`DB_USER`) with an IAM token signed from the role's credentials and reused
 * by the container's new connections while it is valid (`authTokenCache`); a refused sign-in drops
 * it, so the retry signs afresh.
 */
export function serviceDatabaseFromEnvironment(env: Environment = process.env, now: () => number = Date.now): DatabaseOptions {
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

/** The migration worker's cluster; who signs in comes with each invocation, from its launcher. */
export function migrationClusterFromEnvironment(env: Environment = process.env): ClusterSettings {
    return clusterFromEnvironment(env, []);
}

/** What the migration launcher reads: the master secret (`DB_SECRET_ARN`) and the worker it invokes (`MIGRATION_WORKER_FUNCTION`). */
export function migrationLauncherFromEnvironment(env: Environment = process.env): { secretArn: string; workerFunction: string } {
    const missing = [ENVIRONMENT.databaseSecretArn, ENVIRONMENT.migrationWorkerFunction].filter((name) => !env[name]);
    if (missing.length > 0) throw new Error(`Migration launcher settings missing from the environment: ${missing.join(", ")}.`);
    return { secretArn: env[ENVIRONMENT.databaseSecretArn]!, workerFunction: env[ENVIRONMENT.migrationWorkerFunction]! };
}
