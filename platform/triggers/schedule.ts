/**
 * A service's schedule: how it is checked (its name, an expression EventBridge Scheduler runs, a
 * time zone, retries, its function's settings) and what it gets unless it says otherwise. The cloud
 * realises it in `infra/components/schedule.ts` (a Scheduler schedule that sends to the schedule's
 * queue), the local runtime in `local/schedules.ts`, and both run it through
 * `functions/runtime/entry/schedule.ts`.
 */
import type { AnyService, ScheduleDefinition } from "../../functions/runtime/service";
import { minimumVisibilityTimeoutSeconds, type Range } from "../../policy/lib/limits";
import { publishedEvents } from "../events/catalog";
import { declaredSecrets } from "../secrets";
import type { ResolvedSchedule } from "../model";
import { REGISTRY_NAME } from "../naming";
import { isTimeZone, parseScheduleExpression } from "../schedule-expression";
import type { FunctionDefaults } from "./defaults";
import { optionalInteger, validateQueueFunction } from "./queue-consumer";

/** What a schedule's function gets unless it says otherwise: one run per invocation. */
export const SCHEDULE_DEFAULTS = { retries: 2, timeoutSeconds: 60, timeZone: "UTC", batchSize: 1, maxConcurrency: 2 } as const;

/** A schedule's retries: at most this many attempts after the first. */
export const SCHEDULE_RETRIES: Range = { min: 0, max: 100 };

/** One schedule: its name, an expression Scheduler runs, a time zone, retries. */
export function validateSchedule(name: string, schedule: ScheduleDefinition | undefined, at: string): string[] {
    const problems: string[] = [];
    if (!REGISTRY_NAME.pattern.test(name)) problems.push(`${at}: the name must be ${REGISTRY_NAME.text}`);
    if (!schedule) return problems;
    const parsed = parseScheduleExpression(schedule.expression);
    if (!parsed.ok) problems.push(...parsed.problems.map((problem) => `${at}: ${problem}`));
    if (schedule.timeZone !== undefined && !isTimeZone(schedule.timeZone)) {
        problems.push(`${at}: timeZone ${JSON.stringify(schedule.timeZone)} is not a time zone; use an IANA name such as "UTC" or "Europe/Berlin"`);
    }
    problems.push(...optionalInteger(schedule.retries, SCHEDULE_RETRIES, "retries", at));
    problems.push(...validateQueueFunction(schedule, at));
    return problems;
}

/** A schedule with every setting decided. */
export function resolveSchedule(service: AnyService, name: string, schedule: ScheduleDefinition, stackDefaults: FunctionDefaults): ResolvedSchedule {
    const timeoutSeconds = schedule.timeoutSeconds ?? SCHEDULE_DEFAULTS.timeoutSeconds;
    const retries = schedule.retries ?? SCHEDULE_DEFAULTS.retries;
    return {
        kind: "schedule",
        service: service.name,
        name,
        id: `schedule-${name}`,
        description: schedule.description ?? `${schedule.expression} (${schedule.timeZone ?? SCHEDULE_DEFAULTS.timeZone})`,
        memoryMb: schedule.memoryMb ?? service.memoryMb ?? stackDefaults.memoryMb,
        timeoutSeconds,
        database: service.database,
        batchSize: SCHEDULE_DEFAULTS.batchSize,
        batchWindowSeconds: 0,
        maxAttempts: retries + 1,
        maxConcurrency: SCHEDULE_DEFAULTS.maxConcurrency,
        visibilityTimeoutSeconds: minimumVisibilityTimeoutSeconds(timeoutSeconds),
        expression: schedule.expression,
        timeZone: schedule.timeZone ?? SCHEDULE_DEFAULTS.timeZone,
        retries,
        handler: schedule.handler,
        ...publishedEvents(service),
        secrets: declaredSecrets(service),
    };
}
