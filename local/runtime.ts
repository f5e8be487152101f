/**
 * The whole local stack in one call: PostgreSQL (embedded, or the one `databaseUrl` names),
 * migrations applied with the cloud's runner, the container services' processes, and the HTTP API
 * serving every route of the registry. The start script, the end-to-end tests and the load test all start it this way.
 */
import * as path from "node:path";
import { statementTimeoutFor } from "../functions/runtime/data/database";
import type { HttpApiEvent } from "../functions/runtime/http/payload";
import type { LogLevel } from "../functions/runtime/logger";
import { MIGRATION_TIMEOUT_SECONDS, runMigrations, type MigrationResult } from "../functions/runtime/data/migrations";
import type { RegisteredService } from "../functions/runtime/container";
import type { RouteThrottle } from "../functions/runtime/service";
import type { StackConfig } from "../platform/config/stack-config";
import { migrationRunRequest } from "../platform/data-plan";
import { functionBoundsFor } from "../platform/function-bounds";
import { createAuthorizerFor, type JwtAuthorizer, type LocalAuthSettings } from "./authorizer";
import { containerModeFromEnv, LocalContainers, type ContainerMode } from "./containers";
import { DEFAULT_JWT_DIR, LOCAL_AUDIENCE, LOCAL_ISSUER } from "./issuer";
import { startLocalPostgres, type LocalPostgres } from "./postgres";
import { resolveRegistry } from "../platform/registry/resolution";
import { type ResolvedRegistry } from "../platform/model";
import { loadRegistry } from "./registry";
import { startLocalEvents, type LocalEvents } from "./event-runtime";
import { createLocalServer, type AccessLogEntry, type LocalServer } from "./server";
import { openApiDocument } from "../platform/api/openapi";
import { localLogin, loginSecretFile, readOrCreateLoginSecret, type LocalLogin } from "./service-login";
import { readLocalStackConfig, REPOSITORY_ROOT } from "./stack-config";
import { DEFAULT_SECRETS_FILE, unsetSecretsProblem, UnsetSecretsError } from "./secrets";

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
    services?: readonly RegisteredService[];
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
    /** How container services run. @default `LOCAL_CONTAINERS`, else Docker when it answers, else processes */
    containerMode?: ContainerMode;
    /** Told when a container service starts serving, exits or is restarted. @default standard error */
    onContainerNotice?: (message: string) => void;
    /** Time between health checks of a serving container service (`LocalContainerOptions.healthCheckIntervalMs`). @default 5 s */
    containerHealthCheckIntervalMs?: number;
    /**
     * Multiplies every subscription and schedule queue's visibility timeout, which is how long a
     * failed message waits before its next attempt: 1 is the cloud's (six times the consumer's
     * timeout); tests pass less so that retries take milliseconds. @default 1
     */
    visibilityTimeoutScale?: number;
    /** Told when a schedule fires or a consumer's invocation fails outright. @default none */
    onEventNotice?: (message: string) => void;
    /** The schedules' clock (tests set it just before a run is due). @default the system clock */
    scheduleClock?: () => Date;
    /** The queues' clock (tests move it forward to end a visibility timeout at once). @default the database's clock */
    queueClock?: () => Date;
    /**
     * Where the services' secrets are (`local/secrets.ts`, set with `npm run secret`). A service
     * whose declared secrets have no value there is refused at start and at reload.
     * @default DEFAULT_SECRETS_FILE (`.data/secrets.json`)
     */
    secretsFile?: string;
}

export interface LocalRuntime {
    /** Base URL of the API, e.g. `http://127.0.0.1:3000`. */
    url: string;
    /** The administrator's connection string (the superuser `postgres` of the embedded PostgreSQL). */
    databaseUrl: string;
    /** The connection string a service's functions sign in with: its own login role. */
    serviceDatabaseUrl(service: string): string;
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
    /** The container services' processes (none when the registry has no container service). */
    readonly containers: LocalContainers;
    /** The local bus, the subscription and schedule queues and their workers. */
    readonly events: LocalEvents;
    /** How they run. */
    containerMode: ContainerMode;
    /** Re-reads the registry module (or uses `services`), applies new migrations, swaps the routes and restarts the container services. */
    reload(services?: readonly RegisteredService[]): Promise<{ registry: ResolvedRegistry; migrations?: MigrationResult }>;
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
 * connect retries, so a database that is still coming up is waited for), with the same schemas,
 * roles and limits; the login roles get the local password instead of IAM authentication.
 */
function migrate(databaseUrl: string, registry: ResolvedRegistry, stackConfig: StackConfig, login: LocalLogin): Promise<MigrationResult> {
    // Every service in one run (one transaction): locally nothing deploys a service on its own.
    const database = { connectionString: databaseUrl, statementTimeoutMs: statementTimeoutFor(MIGRATION_TIMEOUT_SECONDS) };
    return runMigrations(database, requestFor(registry, stackConfig), registry.migrations, { passwordOf: login.passwordOf });
}

/** What the local migration run is asked for: the cloud's request, with passwords instead of IAM tokens. */
function requestFor(registry: ResolvedRegistry, stackConfig: StackConfig) {
    return migrationRunRequest(registry, stackConfig.database.connectionsPerFunction, "password");
}

/**
 * The registry as the local runtime serves it, checked (`RegistryError` names every problem): the
 * stack's settings and function bounds applied. `npm start` calls it before anything else starts.
 */
export function resolveLocalRegistry(options: Pick<LocalRuntimeOptions, "stack" | "services" | "registryModule"> = {}) {
    const stack = options.stack ?? "dev";
    const stackConfig = readLocalStackConfig(stack);
    // Held to what the stack's policy pack allows, so that what runs here also passes `pulumi preview`.
    // The stack's reservations decide each function's concurrency ceiling here as they do in the cloud.
    const resolution = { stack, reservations: stackConfig.concurrency.reservations, bounds: functionBoundsFor(stack) };
    const registry = resolveRegistry(options.services ?? loadRegistry(options.registryModule), stackConfig.functionDefaults, resolution);
    return { stackConfig, resolution, registry };
}

/**
 * A service whose declared secrets have no local value is not served: its handlers would only
 * answer 503. Checked before anything starts, naming each secret and the command that sets it.
 */
function refuseUnsetSecrets(registry: ResolvedRegistry, secretsFile: string): void {
    const problem = unsetSecretsProblem([...registry.services, ...registry.containers], secretsFile);
    if (problem) throw new UnsetSecretsError(problem);
}

export async function startLocalRuntime(options: LocalRuntimeOptions = {}): Promise<LocalRuntime> {
    // The registry is checked before anything starts: a mistake costs no database start-up.
    const resolved = resolveLocalRegistry(options);
    const { stackConfig, resolution } = resolved;
    const secretsFile = options.secretsFile ?? DEFAULT_SECRETS_FILE;
    refuseUnsetSecrets(resolved.registry, secretsFile);
    const defaults = stackConfig.functionDefaults;
    let registry = resolved.registry;
    const containerMode = registry.containers.length > 0 ? (options.containerMode ?? containerModeFromEnv()) : "process";
    // Also before the database: a bad key file or issuer setting costs no start-up either.
    const auth = options.auth ?? { kind: "local", dir: DEFAULT_JWT_DIR };
    const authorizer = await createAuthorizerFor(auth);
    const localJwt = auth.kind === "local" ? { issuer: LOCAL_ISSUER, audience: [LOCAL_AUDIENCE] } : { issuer: auth.issuer, audience: auth.audience };
    const throttling = options.throttling ?? true;

    let postgres: LocalPostgres | undefined;
    const dataDir = options.dataDir ?? DEFAULT_DATA_DIR;
    const databaseUrl =
        options.databaseUrl ?? (postgres = await startLocalPostgres({ dataDir, persistent: options.persistent ?? true, onNotice: options.onDatabaseNotice })).url;

    let server: LocalServer | undefined;
    let containers: LocalContainers | undefined;
    let events: LocalEvents | undefined;
    const logLevel = options.logLevel ?? stackConfig.logLevel;
    const startContainers = async (next: ResolvedRegistry, serviceDatabaseUrl: (service: string) => string) => {
        const started = new LocalContainers(next.containers, { mode: containerMode, logLevel, serviceDatabaseUrl, secretsFile, writeLog: options.writeLog, onNotice: options.onContainerNotice, healthCheckIntervalMs: options.containerHealthCheckIntervalMs });
        await started.start();
        return started;
    };
    try {
        const login = localLogin(databaseUrl, readOrCreateLoginSecret(loginSecretFile(dataDir, postgres !== undefined)));
        const migrations = await migrate(databaseUrl, registry, stackConfig, login);
        const { serviceDatabaseUrl } = login;
        containers = await startContainers(registry, serviceDatabaseUrl);
        const running = containers;
        events = await startLocalEvents(registry, {
            adminUrl: databaseUrl,
            serviceDatabaseUrl,
            secretsFile,
            logLevel,
            writeLog: options.writeLog,
            visibilityTimeoutScale: options.visibilityTimeoutScale,
            onNotice: options.onEventNotice,
            scheduleClock: options.scheduleClock,
            queueClock: options.queueClock,
        });
        const localEvents = events;
        server = createLocalServer({
            routes: registry.routes,
            serviceDatabaseUrl,
            secretsFile,
            connectionsPerFunction: stackConfig.database.connectionsPerFunction,
            cors: stackConfig.api.cors,
            logLevel,
            writeLog: options.writeLog,
            onRequest: options.onRequest,
            onEvent: options.onEvent,
            authorizer,
            throttling: throttling && { defaults: stackThrottle(stackConfig) },
            containers: { routes: registry.containers.flatMap((container) => container.routes), upstream: (service) => running.upstream(service) },
            events: localEvents.bus,
            apiDescription: (url) => openApiDocument({ registry, config: stackConfig, server: { kind: "local", url, jwt: localJwt } }),
        });
        const url = await server.listen(options.port ?? 3000, options.host ?? "127.0.0.1");

        let stopping: Promise<void> | undefined;
        const localServer = server;
        return {
            url,
            databaseUrl,
            serviceDatabaseUrl,
            embeddedDatabase: postgres !== undefined,
            stackConfig,
            authorizer,
            throttling,
            get registry() {
                return registry;
            },
            get containers() {
                return containers!;
            },
            events: localEvents,
            containerMode,
            migrations,
            server: localServer,
            async reload(services) {
                const next = resolveRegistry(services ?? loadRegistry(options.registryModule), defaults, resolution);
                refuseUnsetSecrets(next, secretsFile);
                // Also when only the services changed: a new one needs its schema and roles before its first migration.
                const changed = JSON.stringify(requestFor(next, stackConfig)) !== JSON.stringify(requestFor(registry, stackConfig));
                const applied = changed ? await migrate(databaseUrl, next, stackConfig, login) : undefined;
                // The container services restart on the new code: their routes answer 503 until the new processes serve.
                const previous = containers!;
                await previous.stop();
                const restarted = await startContainers(next, serviceDatabaseUrl);
                containers = restarted;
                await localServer.setRoutes(next.routes, { routes: next.containers.flatMap((container) => container.routes), upstream: (service) => restarted.upstream(service) });
                await localEvents.reload(next);
                registry = next;
                return { registry: next, migrations: applied };
            },
            stop() {
                stopping ??= (async () => {
                    // From now on PostgreSQL and the container services exiting is expected (Ctrl-C reaches them too), not a fault to repair.
                    postgres?.stopRestarting();
                    containers?.stopRestarting();
                    await localServer.close();
                    await localEvents.stop();
                    await containers?.stop();
                    await postgres?.stop();
                })();
                return stopping;
            },
        };
    } catch (error) {
        // Whatever failed after PostgreSQL started, it must not outlive us.
        await server?.close().catch(() => undefined);
        await events?.stop().catch(() => undefined);
        await containers?.stop().catch(() => undefined);
        await postgres?.stop().catch(() => undefined);
        throw error;
    }
}
