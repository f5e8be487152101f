/**
 * The outbox relays of `npm start`: for each database service that publishes, the cloud's relay
 * (its entry, `functions/runtime/entry/relay.ts`) on its schedule, signed in as the service's login
 * role and sending to the local bus. It runs once at start, for what a stopped or killed runtime
 * left after a commit, then every `intervalMs`, and on demand (`runNow`). Unlike the cloud's, it
 * needs no check first: the embedded PostgreSQL never pauses. Each relay runs as a function of the
 * local Lambda pool (`local/lambda-pool.ts`), with the cloud relay's timeout.
 */
import { createRelayEntry } from "../functions/runtime/entry/relay";
import type { EventTransport } from "../functions/runtime/outbox/publisher";
import { createLogger, type LogLevel } from "../functions/runtime/logger";
import type { RelayReport } from "../functions/runtime/outbox/relay";
import { OUTBOX_RELAY_TIMEOUT_SECONDS, publishesThroughOutbox } from "../platform/triggers/outbox-relay";
import { type ResolvedRegistry } from "../platform/model";
import { localResources, localServiceDatabase } from "./function-resources";
import { createLambdaPool, type InvocationOutcomes } from "./lambda-pool";

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

/** A relay run that failed, or ran past the relay function's timeout: its events are the next run's. */
function failedRun(failure: string): RelayReport {
    return { sent: 0, newlyParked: 0, pruned: 0, unsent: -1, oldestUnsentSeconds: 0, parked: -1, failure };
}

/** What a relay run's invocation reports: its own report, or a failed run. */
const RELAY_OUTCOMES: InvocationOutcomes<RelayReport, RelayReport> = {
    result: (report) => report,
    failed: (error) => failedRun((error as Error).message),
    timeout: () => failedRun(`the run went past the relay's ${OUTBOX_RELAY_TIMEOUT_SECONDS} s timeout`),
};

export function startLocalRelays(registry: Pick<ResolvedRegistry, "services">, options: LocalRelayOptions): LocalRelays {
    // Each service's relay function, in one environment: runs never overlap (`runNow` shares the one under way).
    const relays = outboxServices(registry).map((service) => ({
        service,
        pool: createLambdaPool<void, RelayReport>({
            timeoutSeconds: OUTBOX_RELAY_TIMEOUT_SECONDS,
            concurrency: 1,
            openDatabase: localServiceDatabase(options.serviceDatabaseUrl(service), OUTBOX_RELAY_TIMEOUT_SECONDS, { connectRetryWindowMs: RELAY_CONNECT_WINDOW_MS }),
            createHandler(openDatabase) {
                const logger = createLogger({ level: options.logLevel, write: options.writeLog, fields: { service, function: "outbox-relay" } });
                const relay = createRelayEntry({ service }, localResources({ openDatabase, transport: options.transport, logger }));
                // Without the context: locally the connection's own short window bounds a run, not the deadline.
                return () => relay() as Promise<RelayReport>;
            },
        }),
    }));
    let running: Promise<Record<string, RelayReport>> | undefined;
    const runNow = () =>
        (running ??= (async () => {
            const reports: Record<string, RelayReport> = {};
            for (const { service, pool } of relays) {
                // A database away a moment (a restart) is the next run's to catch up.
                reports[service] = await pool.invoke(undefined, RELAY_OUTCOMES);
            }
            return reports;
        })().finally(() => (running = undefined)));
    void runNow();
    const timer = setInterval(() => void runNow(), options.intervalMs ?? 60_000);
    timer.unref();
    return {
        services: relays.map((relay) => relay.service),
        runNow,
        async stop() {
            clearInterval(timer);
            await running?.catch(() => undefined);
            await Promise.all(relays.map((relay) => relay.pool.close()));
        },
    };
}
