/**
 * The whole local stack in one call: PostgreSQL (embedded, or the one `databaseUrl` names),
 * migrations applied with the cloud's runner, and the HTTP API serving every route of the
 * registry. The start script, the end-to-end tests and the load test all start it this way.
 */
import * as path from "node:path";
import { statementTimeoutFor } from "../functions/runtime/database";
import type { HttpApiEvent } from "../functions/runtime/http";
import type { LogLevel } from "../functions/runtime/logger";
import { MIGRATION_TIMEOUT_SECONDS, runMigrations, type Migration, type MigrationResult } from "../functions/runtime/migrations";
import type { AnyService, RouteThrottle } from "../functions/runtime/service";
import type { StackConfig } from "../infra/config";
import { createAuthorizerFor, type JwtAuthorizer, type LocalAuthSettings } from "./authorizer";
import { DEFAULT_JWT_DIR } from "./issuer";
import { startLocalPostgres, type LocalPostgres } from "./postgres";
import { functionBoundsFor } from "../infra/function-bounds";
import { resolveRegistry, type ResolvedRegistry } from "../infra/registry-resolution";
import { loadRegistry } from "./registry";
import { createLocalServer, type AccessLogEntry, type LocalServer } from "./server";
import { readLocalStackConfig, REPOSITORY_ROOT } from "./stack-config";

export const DEFAULT_DATA_DIR = path.join(REPOSITORY_ROOT, ".data", "postgres");

export interface LocalRuntimeOptions {
    /** @default 3000; 0 picks a free port */
    port?: number;
    /** @default "127.0.0.1": the local API is for this machine only */
    host?: string;
    /** An external PostgreSQL; when set, no embedded server starts. */
    databaseUrl?: string;
    /** Where the embedded PostgreSQL keeps its files. @default `.data/postgres` */
    dataDir?: string;
    /** Keep the embedded database's files when stopped. @default true */
    persistent?: boolean;
    /** The services to serve. @default the services `registryModule` exports */
    services?: readonly AnyService[];
    /**
     * A module exporting one service per export, like `infra/registry.ts`, read afresh on every
     * reload. @default `infra/registry.ts`
     */
    registryModule?: string;
    /** The stack whose function defaults, CORS and log level apply. @default "dev" */
    stack?: string;
    /** Overrides the stack's log level for the handlers' logs. */
    logLevel?: LogLevel;
    /** Where the handlers' JSON log lines go. @default standard output */
    writeLog?: (line: string) => void;
    onRequest?: (entry: AccessLogEntry) => void;
    /** Sees every event as the wrapper receives it. */
    onEvent?: (event: HttpApiEvent) => void;
    /**
     * Whose tokens open the routes with `auth: "jwt"`. @default the local issuer, its key in
     * `.data/jwt` (see `authSettingsFromEnv` for the start script's environment variables)
     */
    auth?: LocalAuthSettings;
    /** Throttle routes with a token bucket (their `throttle`, else the stack's `api` limits). @default true */
    throttling?: boolean;
    /**
     * Told what happened to the embedded PostgreSQL that a person should know: a stale lock removed,
     * a server left by an earlier run stopped, a restart after it exited. @default standard error
     */
    onDatabaseNotice?: (message: string) => void;
}

export interface LocalRuntime {
    /** Base URL of the API, e.g. `http://127.0.0.1:3000`. */
    url: string;
    databaseUrl: string;
    /** Whether the runtime started its own PostgreSQL (false with `databaseUrl`). */
    embeddedDatabase: boolean;
    stackConfig: StackConfig;
    /** The JWT authorizer protecting the routes with `auth: "jwt"`. */
    authorizer: JwtAuthorizer;
    /** Whether routes are throttled. */
    throttling: boolean;
    registry: ResolvedRegistry;
    migrations: MigrationResult;
    server: LocalServer;
    /** Re-reads the registry module (or uses `services`), applies new migrations, swaps the routes. */
    reload(services?: readonly AnyService[]): Promise<{ registry: ResolvedRegistry; migrations?: MigrationResult }>;
    /** Stops the HTTP server, then PostgreSQL when it is ours. Safe to call twice. */
    stop(): Promise<void>;
}

/** The stage's default route throttling from the stack file, if it sets both limits. */
export function stackThrottle(config: StackConfig): RouteThrottle | undefined {
    const { throttlingRateLimit: rateLimit, throttlingBurstLimit: burstLimit } = config.api;
    return Number.isFinite(rateLimit) && Number.isFinite(burstLimit) ? { rateLimit, burstLimit } : undefined;
}

/**
 * The migration run the cloud's migration function does, over the local PostgreSQL (with the same
 * connect retries, so a database that is still coming up is waited for).
 */
function migrate(databaseUrl: string, migrations: readonly Migration[]): Promise<MigrationResult> {
    return runMigrations({ connectionString: databaseUrl, statementTimeoutMs: statementTimeoutFor(MIGRATION_TIMEOUT_SECONDS) }, migrations);
}

export async function startLocalRuntime(options: LocalRuntimeOptions = {}): Promise<LocalRuntime> {
    const stack = options.stack ?? "dev";
    const stackConfig = readLocalStackConfig(stack);
    const defaults = stackConfig.functionDefaults;
    // Held to what the stack's policy pack allows, so that what runs here also passes `pulumi preview`.
    const bounds = functionBoundsFor(stack);
    // The registry is checked before anything starts: a mistake costs no database start-up.
    let registry = resolveRegistry(options.services ?? loadRegistry(options.registryModule), defaults, bounds);
    // Also before the database: a bad key file or issuer setting costs no start-up either.
    const authorizer = await createAuthorizerFor(options.auth ?? { kind: "local", dir: DEFAULT_JWT_DIR });
    const throttling = options.throttling ?? true;

    let postgres: LocalPostgres | undefined;
    const databaseUrl =
        options.databaseUrl ??
        (postgres = await startLocalPostgres({ dataDir: options.dataDir ?? DEFAULT_DATA_DIR, persistent: options.persistent ?? true, onNotice: options.onDatabaseNotice })).url;

    let server: LocalServer | undefined;
    try {
        const migrations = await migrate(databaseUrl, registry.migrations);
        server = createLocalServer({
            routes: registry.routes,
            databaseUrl,
            cors: stackConfig.api.cors,
            logLevel: options.logLevel ?? stackConfig.logLevel,
            writeLog: options.writeLog,
            onRequest: options.onRequest,
            onEvent: options.onEvent,
            authorizer,
            throttling: throttling && { defaults: stackThrottle(stackConfig) },
        });
        const url = await server.listen(options.port ?? 3000, options.host ?? "127.0.0.1");

        let stopping: Promise<void> | undefined;
        const localServer = server;
        return {
            url,
            databaseUrl,
            embeddedDatabase: postgres !== undefined,
            stackConfig,
            authorizer,
            throttling,
            get registry() {
                return registry;
            },
            migrations,
            server: localServer,
            async reload(services) {
                const next = resolveRegistry(services ?? loadRegistry(options.registryModule), defaults, bounds);
                const applied = next.migrationSetHash !== registry.migrationSetHash ? await migrate(databaseUrl, next.migrations) : undefined;
                await localServer.setRoutes(next.routes);
                registry = next;
                return { registry: next, migrations: applied };
            },
            stop() {
                stopping ??= (async () => {
                    // From now on PostgreSQL exiting is expected (Ctrl-C reaches it too), not a fault to repair.
                    postgres?.stopRestarting();
                    await localServer.close();
                    await postgres?.stop();
                })();
                return stopping;
            },
        };
    } catch (error) {
        // Whatever failed after PostgreSQL started, it must not outlive us.
        await server?.close().catch(() => undefined);
        await postgres?.stop().catch(() => undefined);
        throw error;
    }
}
