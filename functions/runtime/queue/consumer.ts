/**
 * The one wrapper between a queue and a subscription's or a schedule's business logic, called by
 * the Lambda closure (an SQS event source mapping with `ReportBatchItemFailures`) and by the local
 * runtime's queue workers alike. Per message it decodes the body (the EventBridge event, checked
 * against the subscribed contract; or the schedule's run), gives the handler its context (the
 * producing request's id in every log line), and answers the batch with the messages that failed,
 * so only those come back, after the queue's visibility timeout, until they move to the
 * dead-letter queue. It never throws: a thrown invocation would return the whole batch.
 *
 * A message whose body cannot be decoded is a failure like any other: it is retried and ends in
 * the dead-letter queue, where it can be read, never dropped.
 */
import type { SQSBatchResponse, SQSEvent, SQSRecord } from "aws-lambda";
import { isDatabaseUnavailable } from "../data/database";
import { idempotentDelivery, type Delivery } from "./dedupe";
import type { EventBridgeEvent } from "./event-envelope";
import { eventLabel, parsePayload, type EventContract } from "../events";
import { logLevelFromEnvironment } from "../environment";
import { createContextFactory, type InvocationContext, type ServiceResources } from "../handler-context";
import { describeIssues } from "../validate";
import { createLogger, type Logger } from "../logger";
import { parseScheduledRun } from "./schedule-input";
import type { DeliveredEvent, ScheduleHandler, SubscriptionHandler } from "../service";

export type QueueHandler = (event: SQSEvent, context?: InvocationContext) => Promise<SQSBatchResponse>;

/** What the batch loop keeps back of the invocation's time: a message started later is left for the next attempt. */
export const BATCH_DEADLINE_MARGIN_MS = 1000;

interface Decoded<Message> {
    message: Message;
    /** The producing request's id, when the message carries one. */
    requestId?: string;
    /** Fields for every log line about the message. */
    fields: Record<string, unknown>;
}

type Decoder<Message> = (record: SQSRecord) => { ok: true; decoded: Decoded<Message> } | { ok: false; problem: string };

interface BatchOptions<Message> extends ServiceResources {
    service: string;
    logger: Logger;
    /** Each delivery in a unit of work on the service's database (`unit-of-work.ts`). */
    unitOfWork: boolean;
    decode: Decoder<Message>;
    deliver: Delivery<Message>;
}

function receiveCount(record: SQSRecord): number {
    const count = Number(record.attributes?.ApproximateReceiveCount);
    return Number.isInteger(count) && count > 0 ? count : 1;
}

/** The batch loop both kinds of consumer share. */
function createBatchHandler<Message>(options: BatchOptions<Message>): QueueHandler {
    const contextFor = createContextFactory(options, { service: options.service, unitOfWork: options.unitOfWork });
    return async (event, invocation) => {
        const failures: SQSBatchResponse["batchItemFailures"] = [];
        const invocationId = invocation?.awsRequestId ?? "";
        for (const record of event.Records ?? []) {
            const base = options.logger.child({ messageId: record.messageId, attempt: receiveCount(record), invocationId });
            if (invocation && invocation.getRemainingTimeInMillis() < BATCH_DEADLINE_MARGIN_MS) {
                // Started now it would be cut off, and the whole batch would come back with it.
                base.warn("message left for the next attempt: the invocation is about to time out");
                failures.push({ itemIdentifier: record.messageId });
                continue;
            }
            const outcome = options.decode(record);
            if (!outcome.ok) {
                base.error("message cannot be handled", { reason: outcome.problem });
                failures.push({ itemIdentifier: record.messageId });
                continue;
            }
            const { message, requestId, fields } = outcome.decoded;
            const log = base.child({ ...fields, requestId: requestId ?? invocationId });
            const delivery = contextFor(requestId ?? invocationId, log, invocation);
            try {
                try {
                    await options.deliver(message, delivery.context);
                } catch (error) {
                    await delivery.finish(false);
                    throw error;
                }
                await delivery.finish(true);
                log.debug("message handled");
            } catch (error) {
                if (isDatabaseUnavailable(error)) log.warn("database unavailable; the message will be retried", { error, cause: error.cause });
                else log.error("handler failed; the message will be retried", { error });
                failures.push({ itemIdentifier: record.messageId });
            }
        }
        return { batchItemFailures: failures };
    };
}

/** What a subscription's wrapper needs beyond its handler. */
export interface SubscriptionRuntimeOptions extends ServiceResources {
    service: string;
    subscription: string;
    /** The contract subscribed to: what each payload is checked against. */
    event: EventContract;
    logger?: Logger;
}

/** Decodes one subscription message: the EventBridge event in its body, checked against the subscribed contract. */
export function decodeEventMessage(record: SQSRecord, contract: EventContract): ReturnType<Decoder<DeliveredEvent>> {
    let event: Partial<EventBridgeEvent>;
    try {
        event = JSON.parse(record.body) as Partial<EventBridgeEvent>;
    } catch {
        return { ok: false, problem: "the message body is not JSON" };
    }
    const detail = event?.detail;
    if (event?.source !== contract.source || event["detail-type"] !== contract.name || detail?.version !== contract.version) {
        return { ok: false, problem: `the message is not an event ${eventLabel(contract)} (source ${JSON.stringify(event?.source)}, detail-type ${JSON.stringify(event?.["detail-type"])}, version ${JSON.stringify(detail?.version)})` };
    }
    if (typeof detail.eventId !== "string" || detail.eventId === "") return { ok: false, problem: "the event has no eventId in its detail" };
    const payload = parsePayload(contract, detail.payload, "ignore");
    if (!payload.ok) return { ok: false, problem: `the payload does not match ${eventLabel(contract)}: ${describeIssues(payload.issues)}` };
    const message: DeliveredEvent = {
        id: detail.eventId,
        source: contract.source,
        name: contract.name,
        version: contract.version,
        time: String(event.time),
        payload: payload.value,
        attempt: receiveCount(record),
    };
    return { ok: true, decoded: { message, requestId: detail.requestId, fields: { eventId: detail.eventId, event: eventLabel(contract) } } };
}

/**
 * The function behind one subscription's queue. With a database, each event is applied once
 * (`dedupe.ts`): its record and the handler's writes commit together, in one unit of work.
 * Without one, every delivery reaches the handler (at least once).
 */
export function createSubscriptionHandler(handler: SubscriptionHandler, options: SubscriptionRuntimeOptions): QueueHandler {
    const logger = options.logger ?? createLogger({ level: logLevelFromEnvironment(), fields: { service: options.service, subscription: options.subscription } });
    const deliver: Delivery<DeliveredEvent> = async (message, context) => handler(message, context);
    const idempotent = Boolean(options.openDatabase);
    return createBatchHandler({
        ...options,
        logger,
        unitOfWork: idempotent,
        decode: (record) => decodeEventMessage(record, options.event),
        deliver: idempotent ? idempotentDelivery(options.subscription)(deliver) : deliver,
    });
}

/** What a schedule's wrapper needs beyond its handler. */
export interface ScheduleRuntimeOptions extends ServiceResources {
    service: string;
    schedule: string;
    logger?: Logger;
}

type ScheduledMessage = Parameters<ScheduleHandler>[0];

/** The function behind one schedule's queue: each message is one run, as the Scheduler sent it. */
export function createScheduleHandler(handler: ScheduleHandler, options: ScheduleRuntimeOptions): QueueHandler {
    const logger = options.logger ?? createLogger({ level: logLevelFromEnvironment(), fields: { service: options.service, schedule: options.schedule } });
    return createBatchHandler<ScheduledMessage>({
        ...options,
        logger,
        unitOfWork: Boolean(options.openDatabase && options.events),
        decode: (record) => {
            const parsed = parseScheduledRun(record.body, { service: options.service, schedule: options.schedule });
            if (!parsed.ok) return parsed;
            const message = { ...parsed.run, attempt: receiveCount(record) };
            return { ok: true, decoded: { message, fields: { executionId: parsed.run.executionId, scheduledTime: parsed.run.scheduledTime } } };
        },
        deliver: async (message, context) => handler(message, context),
    });
}
