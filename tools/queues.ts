/**
 * `npm run queues -- <command>`: the local runtime's subscription and schedule queues, read and
 * changed in its database (the runtime must be running: `npm start`), as one would with SQS.
 *
 *   npm run queues -- list                                  # every queue and dead-letter queue, with its messages
 *   npm run queues -- dead notifications/welcome            # the dead-letter queue's messages, body and attempts
 *   npm run queues -- redrive notifications/welcome [--message <id>]   # back to the queue, attempts reset
 *   npm run queues -- fire notifications/purge              # one run of a schedule, now (npm run schedule:fire)
 *
 * Environment: `LOCAL_DATA_DIR` (default `.data/postgres`), or `DATABASE_URL` when the runtime runs
 * against another PostgreSQL (its administrator's connection string).
 */
import * as path from "node:path";
import { resolveRegistry } from "../infra/registry-resolution";
import { findLocalQueue, localQueuesOf, type LocalQueue } from "../local/event-bus";
import { runningAdminUrl } from "../local/postgres";
import { LocalQueueStore } from "../local/queue-store";
import { loadRegistry } from "../local/registry";
import { DEFAULT_DATA_DIR } from "../local/runtime";
import { fireSchedule } from "../local/schedules";
import { readLocalStackConfig } from "../local/stack-config";

const USAGE = "Usage: npm run queues -- list | dead <service>/<name> | redrive <service>/<name> [--message <id>] | fire <service>/<schedule>";

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
    if (!command || (command !== "list" && !address)) {
        console.error(USAGE);
        return 2;
    }
    const stack = readLocalStackConfig("dev");
    const registry = resolveRegistry(loadRegistry(), stack.functionDefaults, { stack: "dev", reservations: stack.concurrency.reservations });
    const queues = localQueuesOf(registry);
    const queue = address ? findLocalQueue(queues, address) : undefined;
    if (command !== "list" && !queue) {
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
    try {
        switch (command) {
            case "list":
                for (const line of await describeQueues(store, queues)) console.log(line);
                return 0;
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
