/**
 * What events cost, from the flows and schedules the plan reads from the resources (`events.ts`)
 * and the list prices in `pricing.ts`:
 *
 * - **per million events**, per subscriber and in total, at full batches (the mapping's batch size)
 *   and at one message per batch: EventBridge bills each event once when it is put on the bus (one
 *   event per 64 KB chunk), however many rules match it; per subscriber, SQS bills EventBridge's
 *   SendMessage per event, and the mapping's ReceiveMessage and DeleteMessageBatch per batch (10
 *   messages a request at most); Lambda bills an invocation per batch and its compute at the
 *   consumer's memory for the assumed duration of an invocation;
 * - **per million runs** of a schedule: a Scheduler invocation, then its queue's one message per
 *   batch, the same way;
 * - **the idle polling**: Lambda keeps long polls open on every queue a mapping reads, empty or not
 *   (`SQS_EVENT_SOURCE_POLLING`), a fixed monthly charge per mapping.
 *
 * Pure functions over plain data, so tests can price synthetic flows.
 */
import { SQS, SQS_EVENT_SOURCE_POLLING } from "../../policy/lib/limits";
import { HOURS_PER_MONTH, PRICES } from "./pricing";
import type { PlannedEventFlow, PlannedEvents, PlannedQueueConsumer, PlannedSchedule } from "./events";

/** What the event estimate assumes. */
export interface EventCostAssumptions {
    /** Average billed duration of one invocation of a consumer (a batch), in milliseconds. */
    averageDurationMs: number;
    /** Size of an event as put on the bus and as the queue's message, in bytes. */
    eventBytes: number;
}

/** What one million messages cost a consumer in one way of batching them. */
export interface BatchingCost {
    /** Messages per batch this figure assumes. */
    messagesPerBatch: number;
    /** SQS requests: sends (one per message), receives and deletes (per batch, 10 messages a request at most). */
    sqsRequests: { send: number; receive: number; delete: number };
    sqs: number;
    lambdaInvocations: number;
    lambdaRequests: number;
    lambdaGbSeconds: number;
    lambdaCompute: number;
    /** SQS and Lambda: what this consumer adds to each million events. */
    delivery: number;
}

/** A consumer's cost per million messages, at full batches and at one message per batch. */
export interface ConsumerCost {
    /** `service/subscription` (or `service/schedule`), else the queue's name. */
    consumer: string;
    queue: string;
    batchSize: number;
    memoryMb: number;
    architecture: "arm64" | "x86_64";
    fullBatches: BatchingCost;
    oneMessagePerBatch: BatchingCost;
}

/** A subscriber's cost per million events: its delivery, and with the publish when it is the event's only subscriber. */
export interface SubscriberCost extends ConsumerCost {
    /** Its delivery plus the EventBridge charge: what a million events cost with this subscriber alone. */
    aloneFullBatches: number;
    aloneOneMessagePerBatch: number;
}

export interface FlowCost {
    /** `producer/event vN`. */
    event: string;
    /** EventBridge's charge for a million of this event, once, whatever subscribes, and the handover's when there is one. */
    publish: number;
    /**
     * Of `publish`, what handing a million events over through the producer's bucket adds: a put
     * and a get each (one event an object, the most a request path hands over at once is rarer),
     * and a forwarder invocation. Absent for a producer that calls EventBridge.
     */
    handover?: number;
    subscribers: SubscriberCost[];
    /** The publish plus every subscriber's delivery. */
    totalFullBatches: number;
    totalOneMessagePerBatch: number;
}

export interface ScheduleCost extends ConsumerCost {
    /** Scheduler's charge for a million runs. */
    invocations: number;
    /** The invocations plus the queue's delivery of one message per run. */
    total: number;
}

export interface EventCostEstimate {
    assumptions: EventCostAssumptions;
    /** Billed 64 KB chunks per event at the assumed size: EventBridge and SQS bill each as one event or request. */
    chunksPerEvent: number;
    flows: FlowCost[];
    /** A million of every event: the flows' totals added up. */
    totalFullBatches: number;
    totalOneMessagePerBatch: number;
    /** Per million runs of each schedule. */
    schedules: ScheduleCost[];
    /** The polling of every mapped queue while it is empty, per month. */
    idlePolling: { mappings: number; requestsPerMapping: number; perMapping: number; total: number };
    notes: string[];
}

const MILLION = 1_000_000;

/** The billed 64 KB chunks of `bytes`: at least one. */
function chunks(bytes: number, chunkBytes: number): number {
    return Math.max(1, Math.ceil(bytes / chunkBytes));
}

/** What a million messages cost `consumer` when each batch holds `messagesPerBatch`. */
export function batchingCost(consumer: Pick<PlannedQueueConsumer, "memoryMb" | "architecture">, messagesPerBatch: number, assumptions: EventCostAssumptions): BatchingCost {
    const batches = MILLION / messagesPerBatch;
    const requestsPerBatch = Math.ceil(messagesPerBatch / SQS.messagesPerRequest);
    const send = MILLION * chunks(assumptions.eventBytes, PRICES.sqs.billedChunkBytes);
    // A receive returns up to 10 messages, and is billed per 64 KB chunk of what it returns.
    const receive = batches * Math.max(requestsPerBatch, chunks(messagesPerBatch * assumptions.eventBytes, PRICES.sqs.billedChunkBytes));
    // A delete carries receipt handles only: one request per 10 messages.
    const deletes = batches * requestsPerBatch;
    const sqs = (send + receive + deletes) * PRICES.sqs.perRequest;
    const architecture = architectureOf(consumer.architecture);
    const lambdaGbSeconds = batches * ((consumer.memoryMb ?? 0) / 1024) * (assumptions.averageDurationMs / 1000);
    const lambdaRequests = batches * PRICES.lambda.perRequest;
    const lambdaCompute = lambdaGbSeconds * PRICES.lambda.perGbSecond[architecture];
    return { messagesPerBatch, sqsRequests: { send, receive, delete: deletes }, sqs, lambdaInvocations: batches, lambdaRequests, lambdaGbSeconds, lambdaCompute, delivery: sqs + lambdaRequests + lambdaCompute };
}

function architectureOf(architecture: string | undefined): "arm64" | "x86_64" {
    return architecture?.split(",")[0] === "arm64" ? "arm64" : "x86_64";
}

function consumerCost(consumer: Partial<PlannedQueueConsumer>, label: string | undefined, assumptions: EventCostAssumptions): ConsumerCost {
    const batchSize = consumer.batchSize ?? 1;
    return {
        consumer: consumer.service && label ? `${consumer.service}/${label}` : (consumer.queue ?? "?"),
        queue: consumer.queue ?? "?",
        batchSize,
        memoryMb: consumer.memoryMb ?? 0,
        architecture: architectureOf(consumer.architecture),
        fullBatches: batchingCost(consumer, batchSize, assumptions),
        oneMessagePerBatch: batchingCost(consumer, 1, assumptions),
    };
}

export const eventLabelOf = (flow: Pick<PlannedEventFlow, "producer" | "event" | "version">) => `${flow.producer}/${flow.event}${flow.version !== undefined ? ` v${flow.version}` : ""}`;

/** A million of one event: the publish once, then each subscriber that reaches a queue of the stack. */
export function flowCost(flow: PlannedEventFlow, assumptions: EventCostAssumptions): FlowCost {
    const handover = flow.handover ? handoverCost(flow.handover, assumptions) : undefined;
    const publish = MILLION * chunks(assumptions.eventBytes, PRICES.eventBridge.billedChunkBytes) * PRICES.eventBridge.perCustomEvent + (handover ?? 0);
    const subscribers = flow.subscribers
        .filter((s) => s.queue !== undefined)
        .map((s): SubscriberCost => {
            const cost = consumerCost(s, s.subscription, assumptions);
            return { ...cost, aloneFullBatches: publish + cost.fullBatches.delivery, aloneOneMessagePerBatch: publish + cost.oneMessagePerBatch.delivery };
        });
    const delivered = (pick: (s: SubscriberCost) => BatchingCost) => subscribers.reduce((total, s) => total + pick(s).delivery, 0);
    return {
        event: eventLabelOf(flow),
        publish,
        ...(handover !== undefined ? { handover } : {}),
        subscribers,
        totalFullBatches: publish + delivered((s) => s.fullBatches),
        totalOneMessagePerBatch: publish + delivered((s) => s.oneMessagePerBatch),
    };
}

/** A million events handed over through a bucket: S3's put and get of each, and a forwarder invocation each. */
export function handoverCost(forwarder: { memoryMb: number; architecture?: string }, assumptions: EventCostAssumptions): number {
    const s3 = MILLION * (PRICES.s3.perPutRequest + PRICES.s3.perGetRequest);
    const gbSeconds = MILLION * (forwarder.memoryMb / 1024) * (assumptions.averageDurationMs / 1000);
    return s3 + MILLION * PRICES.lambda.perRequest + gbSeconds * PRICES.lambda.perGbSecond[architectureOf(forwarder.architecture)];
}

/** A million runs of a schedule: Scheduler's invocations, then one message per run through its queue. */
export function scheduleCost(schedule: PlannedSchedule, assumptions: EventCostAssumptions): ScheduleCost {
    const cost = consumerCost(schedule, schedule.schedule, assumptions);
    const invocations = MILLION * PRICES.scheduler.perInvocation;
    return { ...cost, invocations, total: invocations + cost.oneMessagePerBatch.delivery };
}

/** SQS requests a month that Lambda's idle long polls make on one mapped queue. */
export function idlePollRequestsPerMonth(): number {
    return SQS_EVENT_SOURCE_POLLING.idlePollers * (3600 / SQS_EVENT_SOURCE_POLLING.longPollSeconds) * HOURS_PER_MONTH;
}

/** Every flow and schedule priced, and the mappings' idle polling. */
export function eventCost(events: PlannedEvents, mappings: number, assumptions: EventCostAssumptions): EventCostEstimate {
    const flows = events.flows.map((flow) => flowCost(flow, assumptions));
    const requestsPerMapping = idlePollRequestsPerMonth();
    const perMapping = requestsPerMapping * PRICES.sqs.perRequest;
    const { idlePollers, longPollSeconds } = SQS_EVENT_SOURCE_POLLING;
    return {
        assumptions,
        chunksPerEvent: chunks(assumptions.eventBytes, PRICES.eventBridge.billedChunkBytes),
        flows,
        totalFullBatches: flows.reduce((total, f) => total + f.totalFullBatches, 0),
        totalOneMessagePerBatch: flows.reduce((total, f) => total + f.totalOneMessagePerBatch, 0),
        schedules: events.schedules.filter((s) => s.queue !== undefined).map((s) => scheduleCost(s, assumptions)),
        idlePolling: { mappings, requestsPerMapping, perMapping, total: mappings * perMapping },
        notes: [
            `Events of ${assumptions.eventBytes} bytes assumed; EventBridge and SQS bill each 64 KB chunk as one event or request. Rules, and EventBridge's delivery to SQS, bill nothing of their own.`,
            `Each consumer invocation (a batch) is assumed to run ${assumptions.averageDurationMs} ms at its function's memory; a redelivered message is received, and its batch invoked, again.`,
            `Lambda's SQS polling is not billed as Lambda: its receives are SQS requests. Idle, it keeps ${idlePollers} long polls of ${longPollSeconds} s open on each mapped queue: ` +
                `${Math.round(requestsPerMapping).toLocaleString("en-US")} requests, $${perMapping.toFixed(2)} a month per queue (in the idle cost; SQS's first million requests a month are free).`,
            `Not included: the first million SQS requests and 14 million Scheduler invocations free each month, the dead-letter queues (billed only when a message lands there), data transfer.`,
        ],
    };
}
