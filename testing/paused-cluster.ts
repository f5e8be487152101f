/**
 * A paused Aurora Serverless v2 cluster, played by the fault proxy in front of a real PostgreSQL:
 * for `windowMs` new connections are held silent (the cluster holds them while it resumes) or
 * refused. Meanwhile, as in a `pulumi up` and a first burst of traffic after a quiet night, the
 * migration function runs, a route with a long timeout is called, and a route with a short one is
 * called twice in a row in the same container. The same wrapper, database module and migration
 * runner as the deployed functions, with a Lambda-like context counting down each timeout.
 * The fault tests assert on the outcome; `bench/faults.ts` prints its timings.
 */
import { createDatabase, statementTimeoutFor, type Database } from "../functions/runtime/data/database";
import { createRouteHandler, type LambdaHttpHandler } from "../functions/runtime/handler";
import { createLogger } from "../functions/runtime/logger";
import { MIGRATION_TIMEOUT_SECONDS, runMigrations } from "../functions/runtime/data/migrations";
import { migrationRunRequest } from "../platform/data-plan";
import { resolveRegistry } from "../platform/registry/resolution";
import { type ResolvedRegistry } from "../platform/model";
import { readLocalStackConfig } from "../local/stack-config";
import notes from "./fixtures/services/notes/service";
import { httpApiEvent } from "./events";
import { startFaultProxy } from "./fault-proxy";

export interface PausedClusterOptions {
    /** A database with the fixture `notes` service migrated, signed in to as its login role (the routes read from it). */
    routeDatabaseUrl: string;
    /** A database without migrations, on the same server, as its administrator (the migration run applies them). */
    migrationDatabaseUrl: string;
    /** The login roles' passwords, as the local runtime sets them. */
    passwordOf(role: string): string;
    mode: "silent" | "refused";
    windowMs: number;
    /** @default 29 */
    longTimeoutSeconds?: number;
    /** @default 10 */
    shortTimeoutSeconds?: number;
}

export interface RouteCall {
    status: number;
    headers: Record<string, string>;
    body: any;
    /** When the answer came, in ms since the window opened. */
    atMs: number;
    /** How long the invocation took. */
    durationMs: number;
}

export interface PausedClusterOutcome {
    migration: { applied?: string[]; error?: string; atMs: number };
    longRoute: RouteCall;
    shortRouteFirst: RouteCall;
    shortRouteNext: RouteCall;
}

/** The registry of the scenario: the fixture database service alone, whose migrations its route needs. */
export function pausedClusterRegistry(): ResolvedRegistry {
    return resolveRegistry([notes], readLocalStackConfig().functionDefaults);
}

/** A read of the fixture database service, which every container of it answers 200 once connected. */
const ROUTE_KEY = "GET /notes";

export async function pausedClusterScenario(options: PausedClusterOptions): Promise<PausedClusterOutcome> {
    const longTimeoutSeconds = options.longTimeoutSeconds ?? 29;
    const shortTimeoutSeconds = options.shortTimeoutSeconds ?? 10;
    const stack = readLocalStackConfig();
    const registry = pausedClusterRegistry();
    const request = migrationRunRequest(registry, stack.database.connectionsPerFunction, "password");
    const proxy = await startFaultProxy(Number(new URL(options.routeDatabaseUrl).port));
    const silent = createLogger({ write: () => undefined });
    const databases: Database[] = [];
    // One container of the route: its database opens on the first request, as the deployed closure's does.
    const container = (timeoutSeconds: number) =>
        createRouteHandler(notes.routes[ROUTE_KEY]!.handler as never, {
            service: notes.name,
            routeKey: ROUTE_KEY,
            logger: silent,
            openDatabase: () => {
                const database = createDatabase({ connectionString: proxy.url(options.routeDatabaseUrl), statementTimeoutMs: statementTimeoutFor(timeoutSeconds) });
                databases.push(database);
                return database;
            },
        });
    try {
        const windowStart = Date.now();
        const call = async (invoke: LambdaHttpHandler, timeoutSeconds: number): Promise<RouteCall> => {
            const started = Date.now();
            const deadline = started + timeoutSeconds * 1000;
            const response = await invoke(httpApiEvent({ routeKey: ROUTE_KEY, path: "/notes", query: "limit=1" }), {
                awsRequestId: `paused-${started}`,
                getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
            });
            const now = Date.now();
            return {
                status: response.statusCode ?? 200,
                headers: (response.headers ?? {}) as Record<string, string>,
                body: response.body === undefined ? undefined : JSON.parse(response.body),
                atMs: now - windowStart,
                durationMs: now - started,
            };
        };
        const migrate = async () => {
            // What the migration function does: the shared runner over its own connection.
            try {
                const { applied } = await runMigrations(
                    { connectionString: proxy.url(options.migrationDatabaseUrl), statementTimeoutMs: statementTimeoutFor(MIGRATION_TIMEOUT_SECONDS) },
                    request,
                    registry.migrations,
                    { passwordOf: options.passwordOf },
                );
                return { applied, atMs: Date.now() - windowStart };
            } catch (error) {
                return { error: String(error), atMs: Date.now() - windowStart };
            }
        };

        const window = options.mode === "silent" ? proxy.holdNewConnections(options.windowMs) : proxy.refuseNewConnections(options.windowMs);
        const shortContainer = container(shortTimeoutSeconds);
        const [migration, longRoute, [shortRouteFirst, shortRouteNext]] = await Promise.all([
            migrate(),
            call(container(longTimeoutSeconds), longTimeoutSeconds),
            // The next request in the same container comes as soon as the first is answered.
            call(shortContainer, shortTimeoutSeconds).then(async (first) => [first, await call(shortContainer, shortTimeoutSeconds)] as const),
        ]);
        await window;
        return { migration, longRoute, shortRouteFirst, shortRouteNext };
    } finally {
        await Promise.all(databases.map((database) => database.end()));
        await proxy.close();
    }
}
