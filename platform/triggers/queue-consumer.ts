/**
 * What a subscription and a schedule share: each is a queue that feeds a function through an SQS
 * event source mapping, so their function settings are checked the same way.
 */
import type { ScheduleDefinition, SubscriptionDefinition } from "../../functions/runtime/service";
import { LAMBDA, type Range } from "../../policy/lib/limits";
import type { ResolvedSchedule, ResolvedService, ResolvedSubscription } from "../model";

export function isIntegerIn(value: unknown, range: Range): boolean {
    return typeof value === "number" && Number.isInteger(value) && value >= range.min && value <= range.max;
}

export function optionalInteger(value: unknown, range: Range, field: string, at: string, why = ""): string[] {
    return value === undefined || isIntegerIn(value, range) ? [] : [`${at}: ${field} ${JSON.stringify(value)} is not allowed; use an integer from ${range.min} to ${range.max}${why}`];
}

/** Batching, attempts, concurrency, timeout and memory of a subscription (or, for a schedule, what it sets). */
export function validateQueueFunction(definition: SubscriptionDefinition | ScheduleDefinition, at: string): string[] {
    return [
        ...optionalInteger(definition.timeoutSeconds, LAMBDA.timeoutSeconds, "timeoutSeconds", at, " (a queue's consumer is not behind the API: up to Lambda's 900 s)"),
        ...optionalInteger(definition.memoryMb, LAMBDA.memoryMb, "memoryMb", at),
        ...(typeof definition.handler === "function" ? [] : [`${at}: handler must be a function`]),
    ];
}

/** A service's queue consumers, subscriptions then schedules. */
export function queueConsumersOf(service: Pick<ResolvedService, "subscriptions" | "schedules">): (ResolvedSubscription | ResolvedSchedule)[] {
    return [...service.subscriptions, ...service.schedules];
}
