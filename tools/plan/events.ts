/**
 * The events of a stack as the plan reads them from the resources the program registers, not from
 * the registry, so the plan shows what deploys:
 *
 * - **event flows**: a bus's rules, each rule's event pattern (producer, event name, version) and
 *   targets; a target's queue, that queue's redrive policy and dead-letter queue, the event source
 *   mapping that reads it and the function the mapping feeds;
 * - **schedules**: an EventBridge Scheduler schedule's expression, time zone, retry policy and
 *   dead-letter queue, and its target queue, consumed the same way.
 *
 * Links are followed as the policy pack follows them (`policy/lib/links.ts`: property dependencies
 * first, values second); a setting the program leaves out is what AWS applies (`AWS_DEFAULTS`).
 */
import { consumerTriggerOf } from "../../functions/runtime/queue/trigger-label";
import { ENVIRONMENT } from "../../functions/runtime/environment";
import { isKnown } from "../../policy/lib/checks";
import { AWS_DEFAULTS } from "../../policy/lib/limits";
import { linked, mappingFunctions, mappingQueues, ofType, type Linkable } from "../../policy/lib/links";
import { redrivePolicyOf } from "../../policy/lib/queues";
import { Types } from "../../policy/lib/types";
import { functionSettingsOf, linkable, serviceOf, valueOf } from "./resources";
import { type ResourceRecord } from "../registered-resource";

/** How often EventBridge or Scheduler retries a delivery to its target, and for how long. */
export interface PlannedDeliveryRetry {
    maximumRetryAttempts: number;
    maximumEventAgeSeconds: number;
    /** Where an event goes when delivery gives up; absent when it is dropped. */
    deadLetterQueue?: string;
}

/** A queue and what consumes it: the mapping's batching and concurrency, the function's settings. */
export interface PlannedQueueConsumer {
    /** The queue's resource name. */
    queue: string;
    /** The visibility timeout: how long a received message stays hidden from other receives. */
    visibilityTimeoutSeconds: number;
    /** The redrive policy's `maxReceiveCount`: receives before a message moves to the dead-letter queue. */
    maxReceiveCount?: number;
    /** The redrive policy's dead-letter queue, and how long it keeps a message. */
    deadLetterQueue?: string;
    deadLetterRetentionSeconds?: number;
    /** The mapping's batch size, its batching window, and its ceiling on concurrent invocations. */
    batchSize?: number;
    batchWindowSeconds?: number;
    maxConcurrency?: number;
    /** Whether the function reports the failed messages of a batch, so that only those come back. */
    reportsBatchItemFailures?: boolean;
    /** The consumer function, and its service as the platform labels it. */
    functionName?: string;
    service?: string;
    memoryMb?: number;
    timeoutSeconds?: number;
    architecture?: string;
}

/** One subscriber of an event: its rule, the rule's delivery retry, and the queue it delivers to. */
export interface PlannedSubscriber extends Partial<PlannedQueueConsumer> {
    /** The subscription's name in its service (from the consumer's `TRIGGER` label). */
    subscription?: string;
    rule: string;
    /** What the rule's target is when it is not a queue of the stack. */
    target?: string;
    delivery: PlannedDeliveryRetry;
}

/** An event as a bus carries it, from its producer to each subscriber. */
export interface PlannedEventFlow {
    bus?: string;
    /** The producer service: the pattern's `source`. */
    producer: string;
    /** The event's name: the pattern's `detail-type`. */
    event: string;
    /** The contract's version the pattern matches; absent when the pattern matches every version. */
    version?: number;
    subscribers: PlannedSubscriber[];
    /**
     * The producer hands its events to its bucket, whose forwarder (this memory and architecture)
     * puts them on the bus (`events.delivery: bucket-handover`); absent when it calls EventBridge.
     */
    handover?: { memoryMb: number; architecture?: string };
}

/** A schedule and the queue it feeds. */
export interface PlannedSchedule extends Partial<PlannedQueueConsumer> {
    /** The schedule's resource name, and its name in its service (from the consumer's `TRIGGER` label). */
    name: string;
    schedule?: string;
    expression: string;
    timeZone: string;
    state?: string;
    delivery: PlannedDeliveryRetry;
    /** What the schedule's target is when it is not a queue of the stack. */
    target?: string;
}

export interface PlannedEvents {
    /** The stack's buses, by name. */
    buses: string[];
    flows: PlannedEventFlow[];
    schedules: PlannedSchedule[];
}

type Node = Linkable & { resource: ResourceRecord };

const sameArn = (candidate: Node, value: unknown) => isKnown(candidate.props.arn) && candidate.props.arn === value;

/** `value` as a list: an event pattern's field holds one value or several. */
const listOf = (value: unknown): unknown[] => (Array.isArray(value) ? value : value === undefined ? [] : [value]);

/** The (source, detail-type, version) triples a rule's event pattern matches. */
export function patternEvents(pattern: unknown): Array<{ producer: string; event: string; version?: number }> {
    let parsed: any = pattern;
    if (typeof pattern === "string") {
        try {
            parsed = JSON.parse(pattern);
        } catch {
            return [];
        }
    }
    if (typeof parsed !== "object" || parsed === null) return [];
    const versions = listOf(parsed.detail?.version).map(Number);
    return listOf(parsed.source).flatMap((producer) =>
        listOf(parsed["detail-type"]).flatMap((event) =>
            (versions.length > 0 ? versions : [undefined]).map((version) => ({ producer: String(producer), event: String(event), ...(version !== undefined ? { version } : {}) })),
        ),
    );
}

/** A target's retry policy and dead-letter queue; AWS's default where the program set no retry policy. */
function deliveryOf(retryPolicy: any, deadLetterArn: unknown, queues: readonly Node[]): PlannedDeliveryRetry {
    const retry = retryPolicy ?? AWS_DEFAULTS.eventTargetRetry;
    const deadLetter = queues.find((q) => sameArn(q, deadLetterArn));
    return {
        maximumRetryAttempts: Number(retry.maximumRetryAttempts ?? AWS_DEFAULTS.eventTargetRetry.maximumRetryAttempts),
        maximumEventAgeSeconds: Number(retry.maximumEventAgeInSeconds ?? AWS_DEFAULTS.eventTargetRetry.maximumEventAgeInSeconds),
        ...(deadLetter ? { deadLetterQueue: deadLetter.resource.name } : isKnown(deadLetterArn) && deadLetterArn ? { deadLetterQueue: String(deadLetterArn) } : {}),
    };
}

/** A queue of the stack with its dead-letter queue and the mapping and function that consume it. */
function consumerOf(queue: Node, graph: readonly Node[]): PlannedQueueConsumer {
    const queues = ofType(graph, Types.sqsQueue);
    const redrive = redrivePolicyOf(queue.props);
    const deadLetter =
        redrive.kind === "known" ? linked(queue, "redrivePolicy", queues, (q, value) => { const policy = redrivePolicyOf({ redrivePolicy: value }); return policy.kind === "known" && sameArn(q, policy.deadLetterTargetArn); })[0] : undefined;
    const mapping = ofType(graph, Types.lambdaEventSourceMapping).find((m) => mappingQueues(m, graph).includes(queue));
    const fn = mapping ? mappingFunctions(mapping, graph)[0] : undefined;
    const settings = fn ? functionSettingsOf(fn.resource) : undefined;
    const batchWindow = mapping ? Number(valueOf(mapping.resource, "maximumBatchingWindowInSeconds") ?? 0) : undefined;
    return {
        queue: queue.resource.name,
        visibilityTimeoutSeconds: Number(queue.props.visibilityTimeoutSeconds ?? AWS_DEFAULTS.sqsQueue.visibilityTimeoutSeconds),
        ...(redrive.kind === "known" && redrive.maxReceiveCount !== undefined ? { maxReceiveCount: Number(redrive.maxReceiveCount) } : {}),
        ...(deadLetter
            ? { deadLetterQueue: deadLetter.resource.name, deadLetterRetentionSeconds: Number(deadLetter.props.messageRetentionSeconds ?? AWS_DEFAULTS.sqsQueue.messageRetentionSeconds) }
            : {}),
        ...(mapping
            ? {
                  batchSize: Number(mapping.props.batchSize ?? AWS_DEFAULTS.sqsMappingBatchSize),
                  batchWindowSeconds: batchWindow,
                  ...(mapping.props.scalingConfig?.maximumConcurrency !== undefined ? { maxConcurrency: Number(mapping.props.scalingConfig.maximumConcurrency) } : {}),
                  reportsBatchItemFailures: listOf(mapping.props.functionResponseTypes).includes("ReportBatchItemFailures"),
              }
            : {}),
        ...(fn && settings
            ? { functionName: fn.resource.name, service: serviceOf(fn.resource), memoryMb: settings.memoryMb, timeoutSeconds: settings.timeoutSeconds, architecture: settings.architecture }
            : {}),
    };
}

/** The name a consumer has in its service, from its function's `TRIGGER` label. */
function consumerName(functionName: string | undefined, graph: readonly Node[]): string | undefined {
    const fn = functionName ? ofType(graph, Types.lambdaFunction).find((f) => f.resource.name === functionName) : undefined;
    return consumerTriggerOf(fn?.props.environment?.variables?.[ENVIRONMENT.trigger])?.name;
}

/** Every event flow of the stack: per bus and (producer, event, version), its subscribers in rule order. */
export function eventFlows(resources: readonly ResourceRecord[]): PlannedEventFlow[] {
    const graph = resources.map(linkable);
    const buses = ofType(graph, Types.eventBus);
    const queues = ofType(graph, Types.sqsQueue);
    const targets = ofType(graph, Types.eventTarget);
    const flows = new Map<string, PlannedEventFlow>();
    for (const rule of ofType(graph, Types.eventRule)) {
        const bus = linked(rule, "eventBusName", buses, (b, value) => b.props.name === value)[0];
        const busName = bus ? String(bus.props.name ?? bus.resource.name) : isKnown(rule.props.eventBusName) ? rule.props.eventBusName : undefined;
        const ruleTargets = targets.filter((t) => linked(t, "rule", [rule], (r, value) => isKnown(r.props.name) && r.props.name === value).length > 0);
        const subscribers: PlannedSubscriber[] = ruleTargets.map((target) => {
            const queue = linked(target, "arn", queues, sameArn)[0];
            const delivery = deliveryOf(target.props.retryPolicy, target.props.deadLetterConfig?.arn, queues);
            if (!queue) return { rule: rule.resource.name, target: String(target.props.arn ?? "?"), delivery };
            const consumer = consumerOf(queue, graph);
            return { subscription: consumerName(consumer.functionName, graph), rule: rule.resource.name, ...consumer, delivery };
        });
        for (const matched of patternEvents(rule.props.eventPattern)) {
            // AWS's own events (an alarm's state change that wakes an outbox relay) are no event of the stack's, and publishing them bills nothing.
            if (matched.producer.startsWith("aws.")) continue;
            const key = JSON.stringify([busName, matched.producer, matched.event, matched.version]);
            const flow: PlannedEventFlow = flows.get(key) ?? { ...(busName ? { bus: busName } : {}), ...matched, subscribers: [] };
            flow.subscribers.push(...subscribers);
            flows.set(key, flow);
        }
    }
    // A producer's forwarder: outside the VPC, it reads the service's bucket and signs in to no database.
    const forwarders = ofType(graph, Types.lambdaFunction).filter((fn) => fn.props.environment?.variables?.[ENVIRONMENT.eventHandoverBucket] !== undefined && fn.props.environment?.variables?.[ENVIRONMENT.databaseHost] === undefined);
    for (const flow of flows.values()) {
        const forwarder = forwarders.find((fn) => fn.props.environment?.variables?.[ENVIRONMENT.serviceName] === flow.producer);
        if (forwarder) flow.handover = { memoryMb: Number(forwarder.props.memorySize ?? 0), architecture: forwarder.props.architectures?.[0] };
    }
    return [...flows.values()].sort((a, b) => a.producer.localeCompare(b.producer) || a.event.localeCompare(b.event) || (a.version ?? 0) - (b.version ?? 0));
}

/** Every Scheduler schedule of the stack with the queue it sends to and what consumes that queue. */
export function plannedSchedules(resources: readonly ResourceRecord[]): PlannedSchedule[] {
    const graph = resources.map(linkable);
    const queues = ofType(graph, Types.sqsQueue);
    return ofType(graph, Types.schedulerSchedule).map((schedule) => {
        const target = schedule.props.target ?? {};
        // The target's inputs are one nested value, so its dependencies name the queue, the DLQ and the role together: its ARNs decide.
        const queue = queues.find((q) => sameArn(q, target.arn));
        const consumer = queue ? consumerOf(queue, graph) : undefined;
        return {
            name: schedule.resource.name,
            ...(consumer ? { schedule: consumerName(consumer.functionName, graph) } : {}),
            expression: String(schedule.props.scheduleExpression ?? "?"),
            timeZone: String(schedule.props.scheduleExpressionTimezone ?? AWS_DEFAULTS.scheduleTimeZone),
            ...(schedule.props.state ? { state: String(schedule.props.state) } : {}),
            delivery: deliveryOf(target.retryPolicy, target.deadLetterConfig?.arn, queues),
            ...(consumer ?? { target: String(target.arn ?? "?") }),
        };
    });
}

/** The stack's buses, event flows and schedules. */
export function plannedEvents(resources: readonly ResourceRecord[]): PlannedEvents {
    return {
        buses: ofType(resources, Types.eventBus).map((bus) => String(valueOf(bus, "name") ?? bus.name)),
        flows: eventFlows(resources),
        schedules: plannedSchedules(resources),
    };
}
