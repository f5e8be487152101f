/**
 * `npm run queues -- <command>`: the local runtime's subscription and schedule queues, and its
 * services' outboxes, read and changed in its database (the runtime must be running: `npm start`),
 * as one would with SQS and the relay's commands in the cloud.
 *
 *   npm run queues -- list                                  # every queue and dead-letter queue, every outbox, with what waits in them
 *   npm run queues -- dead notifications/welcome            # the dead-letter queue's messages, body and attempts
 *   npm run queues -- redrive notifications/welcome [--message <id>]   # back to the queue, attempts reset
 *   npm run queues -- fire notifications/purge              # one run of a schedule, now (npm run schedule:fire)
 *   npm run queues -- parked users                          # the events parked in a service's outbox, and why
 *   npm run queues -- unpark users [--event <id>]           # back to the outbox, sent by the relay's next run
 *   npm run queues -- discard users --event <id>            # deletes a parked event (named one by one)
 *
 * Environment: `LOCAL_DATA_DIR` (default `.data/postgres`), or `DATABASE_URL` when the runtime runs
 * against another PostgreSQL (its administrator's connection string).
 */
import * as path from "node:path";
import { createDatabase, type Database, type Queryable } from "../functions/runtime/data/database";
import { discardParked, listParked, outboxBacklog, redriveParked } from "../functions/runtime/outbox/outbox";
import { quoteIdentifier, serviceSchema } from "../functions/runtime/data/service-data";
import { resolveRegistry } from "../platform/registry/resolution";
import { findLocalQueue, localQueuesOf, type LocalQueue } from "../local/event-bus";
import { outboxServices } from "../local/outbox-relay";
import { runningAdminUrl } from "../local/postgres";
import { LocalQueueStore } from "../local/queue-store";
import { loadRegistry } from "../local/registry";
import { DEFAULT_DATA_DIR } from "../local/runtime";
import { fireSchedule } from "../local/schedules";
import { readLocalStackConfig } from "../local/stack-config";

const USAGE =
    "Usage: npm run queues -- list | dead <service>/<name> | redrive <service>/<name> [--message <id>] | fire <service>/<schedule> | parked <service> | unpark <service> [--event <id>] | discard <service> --event <id>";

/** Runs `work` on `service`'s outbox through the administrator's connection (its tables are unqualified). */
export function inOutboxOf<T>(admin: Database, service: string, work: (tx: Queryable) => Promise<T>): Promise<T> {
    return admin.transaction(async (tx) => {
        await tx.query(`SET LOCAL search_path TO ${quoteIdentifier(serviceSchema(service))}`);
        return work(tx);
    });
}

/** What `list` prints for the outboxes: each one's unsent and parked events. */
export async function describeOutboxes(admin: Database, services: readonly string[]): Promise<string[]> {
    const lines: string[] = [];
    for (const service of services) {
        const backlog = await inOutboxOf(admin, service, outboxBacklog);
        lines.push(`${service}/outbox: ${backlog.unsent} unsent, ${backlog.parked} parked${backlog.parked > 0 ? ` (npm run queues -- parked ${service})` : ""}`);
    }
    return lines;
}

/** What `parked` prints: each parked event with its size and why it was parked. */
export async function describeParked(admin: Database, service: string): Promise<string[]> {
    const parked = await inOutboxOf(admin, service, listParked);
    if (parked.length === 0) return [`${service}/outbox: nothing parked`];
    return parked.map((event) => `${event.eventId}  ${event.event}  ${event.sizeBytes} bytes  published ${event.publishedAt.toISOString()}  parked ${event.parkedAt.toISOString()}  ${event.reason}`);
}

/** What `list` prints: each queue with its dead-letter queue's count. */
export async function describeQueues(store: LocalQueueStore, queues: readonly LocalQueue[]): Promise<string[]> {
    const counts = await store.counts();
    return queues.map(
        (queue) =>
            `${queue.consumer.service}/${queue.consumer.name} (${queue.consumer.kind}): ${counts[queue.name] ?? 0} waiting or in flight, ` +
            `${counts[queue.deadLetterName] ?? 0} in the dead-letter queue ${queue.deadLetterName}`,
    );
}

/** What `dead` prints: every dead letter with its attempts and body. */
export async function describeDeadLetters(store: LocalQueueStore, queue: LocalQueue): Promise<string[]> {
    const messages = await store.list(queue.deadLetterName);
    if (messages.length === 0) return [`${queue.deadLetterName}: empty`];
    return messages.map((message) => `${message.messageId}  sent ${message.sentAt.toISOString()}  attempts ${message.receiveCount}  ${message.body}`);
}

async function main(argv: readonly string[]): Promise<number> {
    const [command, address] = argv;
    const messageFlag = argv.indexOf("--message");
    const eventFlag = argv.indexOf("--event");
    const eventIds = eventFlag >= 0 && argv[eventFlag + 1] ? [argv[eventFlag + 1]] : undefined;
    if (!command || (command !== "list" && !address) || (command === "discard" && !eventIds)) {
        console.error(USAGE);
        return 2;
    }
    const stack = readLocalStackConfig("dev");
    const registry = resolveRegistry(loadRegistry(), stack.functionDefaults, { stack: "dev", reservations: stack.concurrency.reservations });
    const queues = localQueuesOf(registry);
    const outboxes = outboxServices(registry);
    const outboxCommand = ["parked", "unpark", "discard"].includes(command);
    if (outboxCommand && !outboxes.includes(address)) {
        console.error(`No outbox of "${address}"; the services that publish from a database are ${outboxes.join(", ") || "none"}.`);
        return 2;
    }
    const queue = address && !outboxCommand ? findLocalQueue(queues, address) : undefined;
    if (command !== "list" && !outboxCommand && !queue) {
        console.error(`No subscription or schedule "${address}"; the registry has ${queues.map((q) => `${q.consumer.service}/${q.consumer.name}`).join(", ") || "none"}.`);
        return 2;
    }
    const dataDir = process.env.LOCAL_DATA_DIR ? path.resolve(process.env.LOCAL_DATA_DIR) : DEFAULT_DATA_DIR;
    const adminUrl = process.env.DATABASE_URL || runningAdminUrl(dataDir);
    if (!adminUrl) {
        console.error(`No local PostgreSQL is running on ${path.relative(process.cwd(), dataDir) || dataDir}: start the runtime first (npm start).`);
        return 1;
    }
    const store = await LocalQueueStore.open(adminUrl);
    const admin = createDatabase({ connectionString: adminUrl });
    try {
        switch (command) {
            case "list":
                for (const line of [...(await describeQueues(store, queues)), ...(await describeOutboxes(admin, outboxes))]) console.log(line);
                return 0;
            case "parked":
                for (const line of await describeParked(admin, address)) console.log(line);
                return 0;
            case "unpark": {
                const moved = await inOutboxOf(admin, address, (tx) => redriveParked(tx, eventIds));
                console.log(`Returned ${moved} parked event(s) to the outbox of ${address}; the running runtime's relay sends them on its next run.`);
                return 0;
            }
            case "discard": {
                const deleted = await inOutboxOf(admin, address, (tx) => discardParked(tx, eventIds!));
                console.log(`Deleted ${deleted} parked event(s) from the outbox of ${address}.`);
                return 0;
            }
            case "dead":
                for (const line of await describeDeadLetters(store, queue!)) console.log(line);
                return 0;
            case "redrive": {
                const ids = messageFlag >= 0 ? [argv[messageFlag + 1]] : undefined;
                const moved = await store.redrive(queue!.deadLetterName, queue!.name, ids);
                console.log(`Moved ${moved} message(s) from ${queue!.deadLetterName} back to ${queue!.name}; the running runtime delivers them within a second.`);
                return 0;
            }
            case "fire": {
                const executionId = await fireSchedule(store, queue!);
                console.log(`Sent a run of ${address} (execution ${executionId}); the running runtime delivers it within a second.`);
                return 0;
            }
            default:
                console.error(USAGE);
                return 2;
        }
    } finally {
        await store.close();
        await admin.end();
    }
}

if (require.main === module) {
    main(process.argv.slice(2)).then(
        (code) => process.exit(code),
        (error) => {
            console.error(error instanceof Error ? error.message : error);
            process.exit(1);
        },
    );
}
