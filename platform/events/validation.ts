/**
 * The checks a service's events, subscriptions and schedules must pass, as named pure functions
 * (the companions of `platform/registry/validation.ts`): each returns the problems it finds, naming the
 * service and the trigger and what is allowed. `validateRegistry` runs them.
 */
import type { EventCatalog, EventContract } from "../../functions/runtime/events";
import { catalogInfo, eventLabel, missingEventOf } from "../../functions/runtime/events";
import type { AnyService, ScheduleDefinition, SubscriptionDefinition } from "../../functions/runtime/service";
import { EVENTBRIDGE, LAMBDA, SQS, type Range } from "../../policy/lib/limits";
import { REGISTRY_NAME } from "../naming";
import { isTimeZone, parseScheduleExpression } from "../schedule-expression";

/** `user.created`: dot-separated lower-case words (digits and dashes inside). */
const EVENT_NAME = /^[a-z][a-z0-9-]*(\.[a-z][a-z0-9-]*)+$/;
/** Versions start at 1; a contract that needs a thousand is not one. */
const EVENT_VERSION: Range = { min: 1, max: 999 };
/** A schedule's retries: at most this many attempts after the first. */
export const SCHEDULE_RETRIES: Range = { min: 0, max: 100 };

function isIntegerIn(value: unknown, range: Range): boolean {
    return typeof value === "number" && Number.isInteger(value) && value >= range.min && value <= range.max;
}

function optionalInteger(value: unknown, range: Range, field: string, at: string, why = ""): string[] {
    return value === undefined || isIntegerIn(value, range) ? [] : [`${at}: ${field} ${JSON.stringify(value)} is not allowed; use an integer from ${range.min} to ${range.max}${why}`];
}

/** The events a service publishes: a catalog of its own, each event named, versioned and described. */
export function validateEventCatalog(service: AnyService, where: string): string[] {
    const catalog = service.events as EventCatalog | undefined;
    if (catalog === undefined) return [];
    const info = catalogInfo(catalog);
    if (!info) return [`${where}: events must be the catalog its events.ts declares with defineEvents("${service.name}", {...})`];
    const problems: string[] = [];
    if (info.source !== service.name) {
        problems.push(`${where}: its events are declared for source "${info.source}"; a service publishes only its own: defineEvents("${service.name}", ...)`);
    }
    for (const [name, contract] of Object.entries(catalog)) {
        const at = `${where}, event "${name}"`;
        if (!EVENT_NAME.test(name) || name.length > EVENTBRIDGE.detailTypeMaxLength) {
            problems.push(`${at}: the name must be dot-separated lower-case words, e.g. "user.created", at most ${EVENTBRIDGE.detailTypeMaxLength} characters`);
        }
        if (!isIntegerIn(contract.version, EVENT_VERSION)) problems.push(`${at}: version ${JSON.stringify(contract.version)} is not allowed; use an integer from ${EVENT_VERSION.min} to ${EVENT_VERSION.max}`);
        if (typeof contract.description !== "string" || contract.description.trim() === "") problems.push(`${at}: description is required (what happened, in a line)`);
        const fields = Object.entries(contract.payload ?? {});
        for (const [field, check] of fields) {
            if (typeof check !== "function" || !check.schema) {
                problems.push(`${at}: payload field "${field}" must be a validator from functions/runtime/validate.ts (text, email, uuid, integer, dateTime, optional): its schema is recorded and compared`);
            }
        }
    }
    return problems;
}

/** Batching, attempts, concurrency, timeout and memory of a subscription (or, for a schedule, what it sets). */
function validateQueueFunction(definition: SubscriptionDefinition | ScheduleDefinition, at: string): string[] {
    return [
        ...optionalInteger(definition.timeoutSeconds, LAMBDA.timeoutSeconds, "timeoutSeconds", at, " (a queue's consumer is not behind the API: up to Lambda's 900 s)"),
        ...optionalInteger(definition.memoryMb, LAMBDA.memoryMb, "memoryMb", at),
        ...(typeof definition.handler === "function" ? [] : [`${at}: handler must be a function`]),
    ];
}

/** One subscription: its name, the event it takes, and its queue's settings within SQS's and Lambda's limits. */
export function validateSubscription(name: string, subscription: SubscriptionDefinition | undefined, at: string): string[] {
    const problems: string[] = [];
    if (!REGISTRY_NAME.pattern.test(name)) problems.push(`${at}: the name must be ${REGISTRY_NAME.text}`);
    const event = subscription?.event as EventContract | undefined;
    const missing = missingEventOf(event);
    if (missing) {
        problems.push(`${at}: event "${missing.name}" is not an event of ${missing.source}; its events.ts declares ${missing.declared.map((declared) => `"${declared}"`).join(", ") || "none"}`);
    } else if (typeof event?.source !== "string" || typeof event?.name !== "string") {
        problems.push(`${at}: event must be an event of another service's events.ts, e.g. userEvents["user.created"]`);
    }
    if (!subscription) return problems;
    problems.push(...validateQueueFunction(subscription, at));
    problems.push(...optionalInteger(subscription.batchSize, SQS.batchSize, "batchSize", at, " (SQS's batch sizes)"));
    problems.push(...optionalInteger(subscription.batchWindowSeconds, SQS.batchWindowSeconds, "batchWindowSeconds", at));
    const batchSize = subscription.batchSize ?? 0;
    if (isIntegerIn(batchSize, SQS.batchSize) && batchSize > SQS.batchSizeWithoutWindow && !((subscription.batchWindowSeconds ?? 0) >= 1)) {
        problems.push(`${at}: batchSize ${subscription.batchSize} needs batchWindowSeconds of 1 or more (SQS hands out at most ${SQS.batchSizeWithoutWindow} without a batching window)`);
    }
    problems.push(...optionalInteger(subscription.maxAttempts, SQS.maxReceiveCount, "maxAttempts", at, " (the redrive policy's maxReceiveCount)"));
    problems.push(...optionalInteger(subscription.maxConcurrency, SQS.maximumConcurrency, "maxConcurrency", at, " (an SQS event source mapping's maximum concurrency)"));
    return problems;
}

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

/** A service's subscriptions and schedules, each on its own. */
export function validateTriggers(service: AnyService, where: string): string[] {
    const problems: string[] = [];
    for (const [name, subscription] of Object.entries((service.subscriptions ?? {}) as Record<string, SubscriptionDefinition | undefined>)) {
        problems.push(...validateSubscription(name, subscription, `${where}, subscription "${name}"`));
    }
    for (const [name, schedule] of Object.entries((service.schedules ?? {}) as Record<string, ScheduleDefinition | undefined>)) {
        problems.push(...validateSchedule(name, schedule, `${where}, schedule "${name}"`));
    }
    return problems;
}

/**
 * What only the whole registry tells: every subscription takes an event that a service of the
 * registry publishes, at the version it subscribes to.
 */
export function validateSubscribedEvents(services: readonly AnyService[]): string[] {
    const published = new Map<string, EventContract>();
    for (const service of services) {
        for (const contract of Object.values((service.events ?? {}) as EventCatalog)) {
            if (typeof contract?.name === "string") published.set(`${service.name}/${contract.name}`, contract);
        }
    }
    const problems: string[] = [];
    for (const service of services) {
        for (const [name, subscription] of Object.entries((service.subscriptions ?? {}) as Record<string, SubscriptionDefinition | undefined>)) {
            const event = subscription?.event as EventContract | undefined;
            if (typeof event?.source !== "string" || typeof event?.name !== "string") continue;
            const at = `service "${service.name}", subscription "${name}"`;
            const contract = published.get(`${event.source}/${event.name}`);
            if (!contract) {
                const producer = services.find((candidate) => candidate.name === event.source);
                problems.push(
                    producer
                        ? `${at}: subscribes to ${eventLabel(event)}, which service "${event.source}" does not publish (it publishes ${Object.keys(producer.events ?? {}).join(", ") || "no events"})`
                        : `${at}: subscribes to ${eventLabel(event)}, but no service "${event.source}" is in the registry; no service publishes it`,
                );
            } else if (contract.version !== event.version) {
                problems.push(`${at}: subscribes to ${eventLabel(event)}, but "${event.source}" publishes version ${contract.version}`);
            }
        }
    }
    return problems;
}
