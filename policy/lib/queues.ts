/**
 * Reading queues and what feeds them, for the queue rules: a queue's redrive policy (a JSON string,
 * as the provider takes it, or already an object), and the queues that feed functions (found
 * through the event source mappings).
 */
import { isKnown } from "./checks";
import { mappingFunctions, mappingQueues, ofType, type Linkable } from "./links";
import { Types } from "./types";
import { isUnknown } from "./unknown";

export type RedrivePolicy =
    | { kind: "none" }
    | { kind: "unknown" }
    | { kind: "invalid"; message: string }
    | { kind: "known"; deadLetterTargetArn?: unknown; maxReceiveCount?: unknown };

export function redrivePolicyOf(props: Record<string, any>): RedrivePolicy {
    const value = props.redrivePolicy;
    if (isUnknown(value)) return { kind: "unknown" };
    if (value === undefined || value === null || value === "") return { kind: "none" };
    let parsed: unknown = value;
    if (typeof value === "string") {
        try {
            parsed = JSON.parse(value);
        } catch {
            return { kind: "invalid", message: "redrivePolicy is not valid JSON." };
        }
    }
    if (typeof parsed !== "object" || parsed === null) return { kind: "invalid", message: "redrivePolicy is not an object." };
    const policy = parsed as { deadLetterTargetArn?: unknown; maxReceiveCount?: unknown };
    return { kind: "known", deadLetterTargetArn: policy.deadLetterTargetArn, maxReceiveCount: typeof policy.maxReceiveCount === "string" ? Number(policy.maxReceiveCount) : policy.maxReceiveCount };
}

/** One queue that feeds a function, with the mapping and the function. */
export interface ConsumerLink<T> {
    mapping: T;
    queue: T;
    fn?: T;
}

/** Every (mapping, queue, function) of the stack whose mapping reads an SQS queue of the stack. */
export function consumerLinks<T extends Linkable>(resources: readonly T[]): ConsumerLink<T>[] {
    const links: ConsumerLink<T>[] = [];
    for (const mapping of ofType(resources, Types.lambdaEventSourceMapping)) {
        const functions = mappingFunctions(mapping, resources);
        for (const queue of mappingQueues(mapping, resources)) {
            if (functions.length === 0) links.push({ mapping, queue });
            for (const fn of functions) links.push({ mapping, queue, fn });
        }
    }
    return links;
}

/** Whether a mapping reads from SQS: it reads a queue of the stack, or its source is an SQS ARN. */
export function readsSqs<T extends Linkable>(mapping: Linkable, resources: readonly T[]): boolean {
    if (mappingQueues(mapping, resources).length > 0) return true;
    const source = mapping.props.eventSourceArn;
    return isKnown(source) && typeof source === "string" && source.startsWith("arn:aws:sqs:");
}
