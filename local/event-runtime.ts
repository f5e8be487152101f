/**
 * Events in `npm start`: the queue store in the embedded PostgreSQL, the local bus the handlers
 * publish to, a worker per subscription and schedule queue, and the schedules' clocks. The local
 * runtime starts it after the migrations and swaps it on a reload.
 */
import { createLogger, type LogLevel } from "../functions/runtime/logger";
import type { ResolvedRegistry } from "../platform/model";
import { LocalEventBus, localQueuesOf, type LocalQueue } from "./event-bus";
import { startLocalRelays, type LocalRelays } from "./outbox-relay";
import { LocalQueueStore } from "./queue-store";
import { startQueueWorker, type QueueWorker } from "./queue-worker";
import { startLocalSchedules, type LocalSchedules } from "./schedules";

export interface LocalEventsOptions {
    /** The administrator's connection string: the store's table lives in the `platform` schema. */
    adminUrl: string;
    serviceDatabaseUrl: (service: string) => string;
    /** Where the services' secrets are (`local/secrets.ts`). @default DEFAULT_SECRETS_FILE */
    secretsFile?: string;
    logLevel?: LogLevel;
    writeLog?: (line: string) => void;
    /** @default 1 (see `QueueWorkerOptions.visibilityTimeoutScale`) */
    visibilityTimeoutScale?: number;
    /** Told when a schedule fires, an invocation fails outright, a schedule cannot send. @default none */
    onNotice?: (message: string) => void;
    /** The schedules' clock. @default the system clock */
    scheduleClock?: () => Date;
    /** The queues' clock (`LocalQueueStoreOptions.now`). @default the database's clock */
    queueClock?: () => Date;
    /** How often the outbox relays run. @default 60000 */
    relayIntervalMs?: number;
}

export interface LocalEvents {
    readonly bus: LocalEventBus;
    readonly store: LocalQueueStore;
    readonly queues: readonly LocalQueue[];
    /** Each schedule's next run, by queue name. */
    readonly schedules: LocalSchedules;
    /** The outbox relays of the services that publish from a database. */
    readonly relays: LocalRelays;
    /** The queues and workers of a reloaded registry; messages stay in the store meanwhile. */
    reload(registry: ResolvedRegistry): Promise<void>;
    stop(): Promise<void>;
}

export async function startLocalEvents(registry: ResolvedRegistry, options: LocalEventsOptions): Promise<LocalEvents> {
    const store = await LocalQueueStore.open(options.adminUrl, { now: options.queueClock });
    let workers: QueueWorker[] = [];
    let queues = localQueuesOf(registry);
    const bus = new LocalEventBus(store, queues, (names) => {
        for (const worker of workers) if (names.includes(worker.queue.name)) worker.wake();
    });
    const start = (next: readonly LocalQueue[]) => {
        workers = next.map((queue) =>
            startQueueWorker(queue, {
                store,
                serviceDatabaseUrl: options.serviceDatabaseUrl,
                secretsFile: options.secretsFile,
                transport: bus,
                visibilityTimeoutScale: options.visibilityTimeoutScale,
                onNotice: options.onNotice,
                logger: (q) =>
                    createLogger({
                        level: options.logLevel,
                        write: options.writeLog,
                        fields: { service: q.consumer.service, [q.consumer.kind]: q.consumer.name },
                    }),
            }),
        );
        return startLocalSchedules(next, store, {
            now: options.scheduleClock,
            onFired: (queue) => {
                options.onNotice?.(`Schedule ${queue.consumer.service}/${queue.consumer.name} fired.`);
                workers.find((worker) => worker.queue.name === queue.name)?.wake();
            },
            onError: (queue, error) => options.onNotice?.(`Schedule ${queue.consumer.service}/${queue.consumer.name} could not send its run: ${(error as Error).message}`),
        });
    };
    let schedules = start(queues);
    const startRelays = (next: ResolvedRegistry) =>
        startLocalRelays(next, { serviceDatabaseUrl: options.serviceDatabaseUrl, transport: bus, intervalMs: options.relayIntervalMs, logLevel: options.logLevel, writeLog: options.writeLog });
    let relays = startRelays(registry);
    const stopAll = async () => {
        schedules.stop();
        await relays.stop();
        await Promise.all(workers.map((worker) => worker.stop()));
    };
    return {
        bus,
        store,
        get queues() {
            return queues;
        },
        get schedules() {
            return schedules;
        },
        get relays() {
            return relays;
        },
        async reload(next) {
            await stopAll();
            queues = localQueuesOf(next);
            bus.setQueues(queues);
            schedules = start(queues);
            relays = startRelays(next);
        },
        async stop() {
            await stopAll();
            await store.close();
        },
    };
}
