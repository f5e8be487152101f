/**
 * The outbox relays of `npm start`: for each database service that publishes, the cloud's relay
 * (`relayOutbox`, through `createRelayRunner`) on its schedule, signed in as the service's login
 * role and sending to the local bus. It runs once at start, for what a stopped or killed runtime
 * left after a commit, then every `intervalMs`, and on demand (`runNow`). Unlike the cloud's, it
 * needs no check first: the embedded PostgreSQL never pauses.
 */
import { createDatabase, type Database } from "../functions/runtime/data/database";
import type { EventTransport } from "../functions/runtime/outbox/publisher";
import { createLogger, type LogLevel } from "../functions/runtime/logger";
import { createRelayRunner, type RelayReport } from "../functions/runtime/outbox/relay";
import { publishesThroughOutbox } from "../platform/registry/resolution";
import { type ResolvedRegistry } from "../platform/model";
import { LOCAL_EVENT_BUS } from "./event-bus";

export interface LocalRelayOptions {
    serviceDatabaseUrl: (service: string) => string;
    transport: EventTransport;
    /** @default 60000, the cloud's schedule */
    intervalMs?: number;
    logLevel?: LogLevel;
    writeLog?: (line: string) => void;
}

export interface LocalRelays {
    /** The services that have one. */
    readonly services: readonly string[];
    /** Runs every relay now; their reports by service. */
    runNow(): Promise<Record<string, RelayReport>>;
    stop(): Promise<void>;
}

/**
 * How long a relay run waits for its database: a run that cannot connect leaves its events to the
 * next run, so waiting out a restart buys nothing, and a stop (Ctrl-C ends PostgreSQL too) must not
 * wait a minute for a server that is gone.
 */
const RELAY_CONNECT_WINDOW_MS = 2_000;

/** The services whose handlers publish into an outbox: a database and events of their own. */
export function outboxServices(registry: Pick<ResolvedRegistry, "services">): string[] {
    return registry.services.filter(publishesThroughOutbox).map((service) => service.name);
}

export function startLocalRelays(registry: Pick<ResolvedRegistry, "services">, options: LocalRelayOptions): LocalRelays {
    const databases: Database[] = [];
    const runners = outboxServices(registry).map((service) => ({
        service,
        run: createRelayRunner({
            openDatabase: () => {
                const database = createDatabase({ connectionString: options.serviceDatabaseUrl(service), connectRetryWindowMs: RELAY_CONNECT_WINDOW_MS });
                databases.push(database);
                return database;
            },
            transport: options.transport,
            eventBusName: LOCAL_EVENT_BUS,
            logger: createLogger({ level: options.logLevel, write: options.writeLog, fields: { service, function: "outbox-relay" } }),
        }).run,
    }));
    let running: Promise<Record<string, RelayReport>> | undefined;
    const runNow = () =>
        (running ??= (async () => {
            const reports: Record<string, RelayReport> = {};
            for (const { service, run } of runners) {
                // A database away a moment (a restart) is the next run's to catch up.
                reports[service] = await run().catch((error) => ({ sent: 0, newlyParked: 0, pruned: 0, unsent: -1, oldestUnsentSeconds: 0, parked: -1, failure: (error as Error).message }));
            }
            return reports;
        })().finally(() => (running = undefined)));
    void runNow();
    const timer = setInterval(() => void runNow(), options.intervalMs ?? 60_000);
    timer.unref();
    return {
        services: runners.map((runner) => runner.service),
        runNow,
        async stop() {
            clearInterval(timer);
            await running?.catch(() => undefined);
            await Promise.all(databases.map((database) => database.end()));
        },
    };
}
