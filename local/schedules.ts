/**
 * What EventBridge Scheduler does for the registry's schedules, locally: each schedule fires on its
 * expression, a cron one in its time zone (read with `croner`), and each run is the message the
 * Scheduler would send its queue (the platform's target input, filled in), which the queue's worker
 * hands the schedule's function. `fireSchedule` sends a run now: what `npm run schedule:fire`
 * does, with the runtime running or not (its worker takes the run when it starts).
 *
 * A rate counts from the runtime's start, as a Scheduler rate counts from the schedule's creation;
 * runs due while the runtime is stopped are not made up, as a disabled schedule's are not.
 */
import { randomBytes } from "node:crypto";
import { Cron } from "croner";
import { fillScheduleInput, scheduleTargetInput } from "../functions/runtime/queue/schedule-input";
import type { ResolvedSchedule } from "../platform/model";
import { cronerPattern, parseScheduleExpression } from "../platform/schedule-expression";
import { LOCAL_SENDERS, type LocalQueue } from "./event-bus";
import type { LocalQueueStore } from "./queue-store";

/** The longest a timer may wait in Node: a later run is waited for in steps. */
const MAX_TIMER_MS = 2 ** 31 - 1;

/** The schedule's first run after `after`; a rate counts from `origin`. Undefined when it never runs again (a cron whose years are past). */
export function nextRun(schedule: Pick<ResolvedSchedule, "expression" | "timeZone">, after: Date, origin: Date): Date | undefined {
    const parsed = parseScheduleExpression(schedule.expression);
    if (!parsed.ok) throw new Error(`Schedule expression ${schedule.expression}: ${parsed.problems.join("; ")}`);
    const { expression } = parsed;
    if (expression.kind === "rate") {
        const periods = Math.floor((after.getTime() - origin.getTime()) / expression.everyMs) + 1;
        return new Date(origin.getTime() + Math.max(1, periods) * expression.everyMs);
    }
    const next = new Cron(cronerPattern(expression.fields), { timezone: schedule.timeZone, paused: true }).nextRun(after);
    return next ?? undefined;
}

/** Sends one run of the schedule to its queue, as the Scheduler does at `scheduledTime`. Returns the run's execution id. */
export async function fireSchedule(store: LocalQueueStore, queue: LocalQueue, scheduledTime: Date = new Date()): Promise<string> {
    const { consumer } = queue;
    if (consumer.kind !== "schedule") throw new Error(`${consumer.service}/${consumer.name} is a subscription, not a schedule.`);
    const executionId = randomBytes(8).toString("hex");
    const body = fillScheduleInput(scheduleTargetInput(consumer.service, consumer.name), { scheduledTime: new Date(Math.floor(scheduledTime.getTime() / 1000) * 1000), executionId });
    await store.send(queue.name, [body], LOCAL_SENDERS.scheduler);
    return executionId;
}

export interface LocalSchedules {
    /** Each schedule's next run, by queue name. */
    readonly nextRuns: ReadonlyMap<string, Date>;
    stop(): void;
}

/** Fires every schedule queue of `queues` on its expression until stopped. */
export function startLocalSchedules(
    queues: readonly LocalQueue[],
    store: LocalQueueStore,
    options: { onFired?: (queue: LocalQueue, executionId: string) => void; onError?: (queue: LocalQueue, error: unknown) => void; now?: () => Date } = {},
): LocalSchedules {
    const now = options.now ?? (() => new Date());
    const origin = now();
    const timers = new Map<string, NodeJS.Timeout>();
    const nextRuns = new Map<string, Date>();
    let stopped = false;

    const plan = (queue: LocalQueue, after: Date) => {
        if (stopped || queue.consumer.kind !== "schedule") return;
        const due = nextRun(queue.consumer, after, origin);
        if (!due) return;
        nextRuns.set(queue.name, due);
        const wait = Math.min(MAX_TIMER_MS, Math.max(0, due.getTime() - now().getTime()));
        timers.set(
            queue.name,
            setTimeout(() => {
                if (due.getTime() > now().getTime()) return plan(queue, new Date(due.getTime() - 1));
                fireSchedule(store, queue, due).then(
                    (executionId) => options.onFired?.(queue, executionId),
                    (error) => options.onError?.(queue, error),
                );
                plan(queue, due);
            }, wait),
        );
    };
    for (const queue of queues) plan(queue, origin);

    return {
        nextRuns,
        stop() {
            stopped = true;
            for (const timer of timers.values()) clearTimeout(timer);
        },
    };
}
