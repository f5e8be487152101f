/**
 * Following links between resources in a stack rule.
 *
 * The engine records, per input, which resources it was computed from (`propertyDependencies`):
 * a route's `target` depends on its integration, an integration's `integrationUri` on its function.
 * That link holds even in preview, when the ids and ARNs themselves are unknown, so it is tried
 * first. Only when it is missing (a value pasted in by hand, an engine that sends no property
 * dependencies) are the values compared instead, and only when both sides are known.
 */
import { isKnown } from "./checks";
import type { StackResource } from "./rule";

export function linked(
    from: StackResource,
    input: string,
    candidates: readonly StackResource[],
    sameValue: (candidate: StackResource, value: unknown) => boolean,
): StackResource[] {
    const urns = from.propertyDependencies[input] ?? [];
    const byDependency = candidates.filter((c) => urns.includes(c.urn));
    if (byDependency.length > 0) {
        return byDependency;
    }
    const value = from.props[input];
    if (!isKnown(value)) {
        return [];
    }
    return candidates.filter((c) => sameValue(c, value));
}

export function ofType(resources: readonly StackResource[], type: string): StackResource[] {
    return resources.filter((r) => r.type === type);
}

/** A route's `target` is "integrations/<integration id>". */
export function targetsIntegration(integration: StackResource, target: unknown): boolean {
    const id = integration.props.id;
    return isKnown(id) && target === `integrations/${id}`;
}

/** An integration URI names a function by ARN, or by the API Gateway invoke ARN wrapping it. */
export function urisFunction(fn: StackResource, uri: unknown): boolean {
    if (typeof uri !== "string") {
        return false;
    }
    const { arn, invokeArn } = fn.props;
    return (isKnown(arn) && (uri === arn || uri.endsWith(`/functions/${arn}/invocations`))) || (isKnown(invokeArn) && uri === invokeArn);
}
