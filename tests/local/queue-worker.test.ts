/**
 * The local SQS poller's wake-ups: a message sent while the worker is between two looks at its
 * queue (receiving, or asking when the next message is due) must be looked for at once, not after
 * the poll interval. A fake store holds the worker inside that window to cause the race.
 */
import * as assert from "node:assert/strict";
import { resolveRegistry } from "../../platform/registry/resolution";
import { localQueuesOf } from "../../local/event-bus";
import type { LocalQueueStore, ReceivedMessage } from "../../local/queue-store";
import { startQueueWorker } from "../../local/queue-worker";
import { readLocalStackConfig } from "../../local/stack-config";
import { createLogger } from "../../functions/runtime/logger";
import { eventRegistry } from "../../testing/fixtures/event-services";

const POLL_INTERVAL_MS = 20_000;

describe("local queue worker: wake-ups", () => {
    it("looks again at once when woken while it asks when the next message is due (no lost wake-up)", async () => {
        // Prepare: a store whose first nextVisibleAt waits until the test has woken the worker.
        const queue = localQueuesOf(resolveRegistry(eventRegistry, readLocalStackConfig().functionDefaults)).find((q) => q.consumer.service === "mailer")!;
        const receives: number[] = [];
        let secondLook!: () => void;
        const lookedAgain = new Promise<void>((resolve) => (secondLook = resolve));
        let askedNext!: () => void;
        const insideWindow = new Promise<void>((resolve) => (askedNext = resolve));
        let releaseNext!: () => void;
        const store = {
            async receive(): Promise<ReceivedMessage[]> {
                receives.push(Date.now());
                if (receives.length === 2) secondLook();
                return [];
            },
            async nextVisibleAt(): Promise<Date | undefined> {
                if (receives.length === 1) {
                    askedNext();
                    await new Promise<void>((resolve) => (releaseNext = resolve));
                }
                return undefined;
            },
            async delete(): Promise<number> {
                return 0;
            },
        } as unknown as LocalQueueStore;
        const worker = startQueueWorker(queue, {
            store,
            transport: { send: async () => undefined },
            logger: () => createLogger({ write: () => undefined }),
            pollIntervalMs: POLL_INTERVAL_MS,
        });
        try {
            await insideWindow;
            // Act: a message is sent (the bus wakes the worker) while it is between two looks.
            const wokenAt = Date.now();
            worker.wake();
            releaseNext();
            // Assess: the second look comes long before the poll interval would bring it.
            const outcome = await Promise.race([lookedAgain.then(() => "looked" as const), new Promise<"slept">((resolve) => setTimeout(() => resolve("slept"), POLL_INTERVAL_MS / 4))]);
            assert.equal(outcome, "looked", "the wake-up was lost: the worker slept for its poll interval");
            assert.ok(receives[1] - wokenAt < POLL_INTERVAL_MS / 4);
        } finally {
            await worker.stop();
        }
    });
});
