/**
 * What a schedule hands its function. EventBridge Scheduler sends the target input the platform
 * configures to the schedule's queue, replacing its `<aws.scheduler.*>` keywords with the run's
 * values; the function reads that message. The local runtime fills in the same template.
 */

/** One run of a schedule, as its handler receives it. */
export interface ScheduledRun {
    service: string;
    schedule: string;
    /** When the run was due (`2026-12-01T03:00:00Z`): what a handler computes "now" from, not the clock. */
    scheduledTime: string;
    /** The Scheduler's id of this run; the same on each of its delivery attempts. */
    executionId: string;
}

/** The keywords EventBridge Scheduler replaces in a target's input. */
export const SCHEDULER_KEYWORDS = {
    scheduledTime: "<aws.scheduler.scheduled-time>",
    executionId: "<aws.scheduler.execution-id>",
} as const;

/** The target input of a schedule: the message body its queue receives, once the Scheduler filled it in. */
export function scheduleTargetInput(service: string, schedule: string): string {
    return JSON.stringify({ kind: "schedule", service, schedule, scheduledTime: SCHEDULER_KEYWORDS.scheduledTime, executionId: SCHEDULER_KEYWORDS.executionId });
}

/** The input with a run's values in place of the keywords, as the Scheduler sends it. */
export function fillScheduleInput(input: string, run: { scheduledTime: Date; executionId: string }): string {
    return input
        .split(SCHEDULER_KEYWORDS.scheduledTime)
        .join(run.scheduledTime.toISOString().replace(/\.\d{3}Z$/, "Z"))
        .split(SCHEDULER_KEYWORDS.executionId)
        .join(run.executionId);
}

/** A schedule message's run, or what is wrong with it. */
export function parseScheduledRun(body: string, expected: { service: string; schedule: string }): { ok: true; run: ScheduledRun } | { ok: false; problem: string } {
    let message: Partial<ScheduledRun> & { kind?: unknown };
    try {
        message = JSON.parse(body) as typeof message;
    } catch {
        return { ok: false, problem: "the message body is not JSON" };
    }
    if (message?.kind !== "schedule" || message.service !== expected.service || message.schedule !== expected.schedule) {
        return { ok: false, problem: `the message is not a run of schedule ${expected.service}/${expected.schedule}` };
    }
    if (typeof message.scheduledTime !== "string" || Number.isNaN(Date.parse(message.scheduledTime)) || typeof message.executionId !== "string") {
        return { ok: false, problem: "the message has no scheduledTime and executionId" };
    }
    return { ok: true, run: { service: message.service, schedule: message.schedule, scheduledTime: message.scheduledTime, executionId: message.executionId } };
}
