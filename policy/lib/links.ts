/**
 * Following links between resources: the pack's stack rules and the offline plan
 * (`tools/plan/resources.ts`) pair resources the same way, through these functions.
 *
 * The engine records, per input, which resources it was computed from (`propertyDependencies`):
 * a route's `target` depends on its integration, an integration's `integrationUri` on its function.
 * That link holds even in preview, when the ids and ARNs themselves are unknown, so it is tried
 * first. Only when it is missing (a value pasted in by hand, an engine that sends no property
 * dependencies) are the values compared instead, and only when both sides are known.
 */
import { isKnown } from "./checks";
import { ComponentTypes, Types } from "./types";

/** What following a link needs of a resource: its URN, its values and where each input came from. */
export interface Linkable {
    urn: string;
    type: string;
    props: Record<string, any>;
    propertyDependencies?: Readonly<Record<string, readonly string[]>>;
    /** The parent's URN, when the resource has one below the stack. */
    parent?: string;
}

/** The `candidates` that `from`'s `input` was computed from, else those whose value it holds. */
export function linked<T extends Linkable>(
    from: Linkable,
    input: string,
    candidates: readonly T[],
    sameValue: (candidate: T, value: unknown) => boolean,
): T[] {
    const urns = from.propertyDependencies?.[input] ?? [];
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

export function ofType<T extends { type: string }>(resources: readonly T[], type: string): T[] {
    return resources.filter((r) => r.type === type);
}

/** A route's `target` is "integrations/<integration id>". */
export function targetsIntegration(integration: Linkable, target: unknown): boolean {
    const id = integration.props.id;
    return isKnown(id) && target === `integrations/${id}`;
}

/** An integration URI names a function by ARN, or by the API Gateway invoke ARN wrapping it. */
export function urisFunction(fn: Linkable, uri: unknown): boolean {
    if (typeof uri !== "string") {
        return false;
    }
    const { arn, invokeArn } = fn.props;
    return (isKnown(arn) && (uri === arn || uri.endsWith(`/functions/${arn}/invocations`))) || (isKnown(invokeArn) && uri === invokeArn);
}

/** The integrations an HTTP API route targets. */
export function routeIntegrations<T extends Linkable>(route: Linkable, resources: readonly T[]): T[] {
    return linked(route, "target", ofType(resources, Types.httpApiIntegration), targetsIntegration);
}

/** The function an alias belongs to (its `functionName` is the function's name or ARN). */
export function aliasFunctions<T extends Linkable>(alias: Linkable, resources: readonly T[]): T[] {
    return linked(alias, "functionName", ofType(resources, Types.lambdaFunction), (fn, value) => isKnown(value) && (value === fn.props.name || value === fn.props.arn));
}

/** The aliases `from`'s `input` names by ARN (or by the invoke ARN wrapping it). */
export function targetAliases<T extends Linkable>(from: Linkable, input: string, resources: readonly T[]): T[] {
    return linked(from, input, ofType(resources, Types.lambdaAlias), urisFunction);
}

/** The functions `from`'s `input` reaches: named directly, or through one of their aliases. */
function reachedFunctions<T extends Linkable>(from: Linkable, input: string, resources: readonly T[], sameValue: (fn: T, value: unknown) => boolean): T[] {
    const direct = linked(from, input, ofType(resources, Types.lambdaFunction), sameValue);
    const throughAliases = targetAliases(from, input, resources).flatMap((alias) => aliasFunctions(alias, resources));
    return [...new Set([...direct, ...throughAliases])];
}

/**
 * The qualifier (alias or version) a Lambda reference carries: `...:function:<name>:<qualifier>`,
 * the invoke ARN wrapping it, or `<name>:<qualifier>`; undefined for an unqualified one, which
 * invokes `$LATEST`.
 */
export function functionQualifier(reference: string): string | undefined {
    const arn = /:function:[^:/]+(?::([^:/]+))?(?:\/invocations)?$/.exec(reference);
    if (arn) return arn[1];
    const named = /^[A-Za-z0-9_-]+:([A-Za-z0-9_$-]+)$/.exec(reference);
    return named?.[1];
}

/** Whether a reference names a Lambda function: an ARN (or invoke ARN) with `:function:`. */
export function isFunctionReference(reference: string): boolean {
    return /:lambda:[^:]*:\d*:function:|:function:[^:/]+(:[^:/]+)?\/invocations$/.test(reference);
}

/** The functions an integration invokes. */
export function integrationFunctions<T extends Linkable>(integration: Linkable, resources: readonly T[]): T[] {
    return reachedFunctions(integration, "integrationUri", resources, urisFunction);
}

/** The functions an HTTP API route reaches: Route -> Integration -> Function. */
export function routeFunctions<T extends Linkable>(route: Linkable, resources: readonly T[]): T[] {
    return [...new Set(routeIntegrations(route, resources).flatMap((integration) => integrationFunctions(integration, resources)))];
}

/** The functions a `aws:lambda/invocation:Invocation` invokes (its `functionName` is the function's name or ARN). */
export function invokedFunctions<T extends Linkable>(invocation: Linkable, resources: readonly T[]): T[] {
    return linked(invocation, "functionName", ofType(resources, Types.lambdaFunction), (fn, value) => value === fn.props.name || value === fn.props.arn);
}

/** The role a function runs as (its `role` is the role's ARN). */
export function functionRoles<T extends Linkable>(fn: Linkable, resources: readonly T[]): T[] {
    return linked(fn, "role", ofType(resources, Types.iamRole), (role, value) => isKnown(role.props.arn) && value === role.props.arn);
}

/** The role an inline policy or an attachment belongs to (its `role` is the role's name, id or ARN). */
export function attachedRoles<T extends Linkable>(attachment: Linkable, resources: readonly T[]): T[] {
    return linked(attachment, "role", ofType(resources, Types.iamRole), (role, value) => [role.props.name, role.props.id, role.props.arn].some((known) => isKnown(known) && known === value));
}

/** The functions an event source mapping feeds (its `functionName` is the function's name or ARN). */
export function mappingFunctions<T extends Linkable>(mapping: Linkable, resources: readonly T[]): T[] {
    return reachedFunctions(mapping, "functionName", resources, (fn, value) => isKnown(value) && (value === fn.props.name || value === fn.props.arn));
}

/** The queues an event source mapping reads (its `eventSourceArn` is the queue's ARN). */
export function mappingQueues<T extends Linkable>(mapping: Linkable, resources: readonly T[]): T[] {
    return linked(mapping, "eventSourceArn", ofType(resources, Types.sqsQueue), (queue, value) => isKnown(queue.props.arn) && value === queue.props.arn);
}

/**
 * The migration functions: the one an `aws:lambda/invocation:Invocation` of the stack invokes (the
 * launcher), and every function of the platform's migration runner component (the launcher and the
 * worker it invokes), which is how the platform stack of a stack-per-service environment (whose
 * invocations are the service stacks') knows them. Both are structure the program builds, not a
 * name or tag another function could copy.
 */
export function migrationFunctions<T extends Linkable>(resources: readonly T[]): T[] {
    const invoked = ofType(resources, Types.lambdaInvocation).flatMap((invocation) => invokedFunctions(invocation, resources));
    const byUrn = new Map(resources.map((resource) => [resource.urn, resource]));
    const insideRunner = (resource: Linkable | undefined, depth = 0): boolean =>
        resource !== undefined && depth < 10 && (resource.type === ComponentTypes.migrations || insideRunner(resource.parent ? byUrn.get(resource.parent) : undefined, depth + 1));
    const runners = ofType(resources, Types.lambdaFunction).filter((fn) => insideRunner(fn));
    return [...new Set([...invoked, ...runners])];
}

/**
 * Whether a function runs in a VPC: its `vpcConfig` names subnets, or is not known yet (preview),
 * which counts as inside so that nothing is exempted before it is known.
 */
export function runsInVpc(fn: Linkable): boolean {
    const config = fn.props.vpcConfig;
    if (config === undefined || config === null) return false;
    if (!isKnown(config)) return true;
    const subnets = (config as { subnetIds?: unknown }).subnetIds;
    return !isKnown(subnets) || (Array.isArray(subnets) && subnets.length > 0);
}

/**
 * The migration launcher: the migration function (`migrationFunctions`) that runs outside the VPC,
 * where it reaches Secrets Manager without an interface endpoint. It reads the master secret and
 * invokes the worker, the migration function in the VPC beside the database, with the credentials.
 * Outside or inside is what each of them needs to do its job, not a name another function could copy.
 */
export function migrationLaunchers<T extends Linkable>(resources: readonly T[]): T[] {
    return migrationFunctions(resources).filter((fn) => !runsInVpc(fn));
}

/** What starts a function: an HTTP API route, a queue (an event source mapping), a deployment (an invocation). */
export type FunctionTrigger = "http" | "queue" | "deployment";

/** Each function's triggers, by URN, found from the routes, mappings and invocations of the stack. */
export function functionTriggers<T extends Linkable>(resources: readonly T[]): Map<string, Set<FunctionTrigger>> {
    const triggers = new Map<string, Set<FunctionTrigger>>();
    const add = (fns: readonly Linkable[], trigger: FunctionTrigger) => {
        for (const fn of fns) triggers.set(fn.urn, (triggers.get(fn.urn) ?? new Set()).add(trigger));
    };
    for (const integration of ofType(resources, Types.httpApiIntegration)) add(integrationFunctions(integration, resources), "http");
    for (const mapping of ofType(resources, Types.lambdaEventSourceMapping)) add(mappingFunctions(mapping, resources), "queue");
    add(migrationFunctions(resources), "deployment");
    return triggers;
}
