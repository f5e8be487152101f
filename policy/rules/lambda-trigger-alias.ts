import { ruleConfig } from "../config";
import { isKnown } from "../lib/checks";
import { functionQualifier, isFunctionReference, ofType, targetAliases } from "../lib/links";
import { Finding, StackResource, stackPolicy } from "../lib/rule";
import { Types } from "../lib/types";
import { isUnknown } from "../lib/unknown";

/** A place where a resource names the function it invokes. */
interface TriggerReference {
    resource: StackResource;
    /** The input the reference sits in (its property dependencies are recorded under it). */
    input: string;
    value: unknown;
    /** The permission's own `qualifier`, which qualifies an unqualified `function`. */
    qualifier?: unknown;
    label: string;
}

/** Every reference to a function a trigger invokes through: integrations, permissions, mappings, Scheduler and EventBridge targets. */
function triggerReferences(resources: readonly StackResource[]): TriggerReference[] {
    const references: TriggerReference[] = [];
    for (const integration of ofType(resources, Types.httpApiIntegration)) {
        if (integration.props.integrationType === "AWS_PROXY") references.push({ resource: integration, input: "integrationUri", value: integration.props.integrationUri, label: `Integration "${integration.name}"` });
    }
    for (const permission of ofType(resources, Types.lambdaPermission)) {
        references.push({ resource: permission, input: "function", value: permission.props.function, qualifier: permission.props.qualifier, label: `Invoke permission "${permission.name}"` });
    }
    for (const mapping of ofType(resources, Types.lambdaEventSourceMapping)) {
        references.push({ resource: mapping, input: "functionName", value: mapping.props.functionName, label: `Event source mapping "${mapping.name}"` });
    }
    for (const schedule of ofType(resources, Types.schedulerSchedule)) {
        const target = schedule.props.target;
        references.push({ resource: schedule, input: "target", value: isUnknown(target) ? target : target?.arn, label: `Schedule "${schedule.name}"` });
    }
    for (const target of ofType(resources, Types.eventTarget)) {
        references.push({ resource: target, input: "arn", value: target.props.arn, label: `Event target "${target.name}"` });
    }
    return references;
}

type Verdict = "alias" | "unqualified" | "cannot tell" | "not a function";

function verdict(reference: TriggerReference, resources: readonly StackResource[]): Verdict {
    if (targetAliases(reference.resource, reference.input, resources).length > 0) return "alias";
    const { value, qualifier } = reference;
    if (isKnown(qualifier) && typeof qualifier === "string" && qualifier !== "" ) return qualifier === "$LATEST" ? "unqualified" : "alias";
    if (isUnknown(qualifier)) return "cannot tell";
    if (typeof value === "string") {
        const names = new Set(ofType(resources, Types.lambdaFunction).map((fn) => fn.props.name).filter(isKnown));
        const isPermission = reference.resource.type === Types.lambdaPermission;
        if (!isFunctionReference(value) && !names.has(value.split(":")[0]) && !isPermission) return "not a function";
        const own = functionQualifier(value);
        return own !== undefined && own !== "$LATEST" ? "alias" : "unqualified";
    }
    // In preview: unknown, computed from a function (not an alias) it may still add a qualifier; the update run judges the value.
    const dependencies = reference.resource.propertyDependencies[reference.input] ?? [];
    const fromFunction = ofType(resources, Types.lambdaFunction).some((fn) => dependencies.includes(fn.urn));
    return fromFunction ? "cannot tell" : "not a function";
}

/**
 * Every trigger invokes a function through an alias (or a published version), never the
 * unqualified function, which runs `$LATEST`: an HTTP API integration's URI, a `lambda.Permission`
 * (its `qualifier` or a qualified `function`), an SQS event source mapping's `functionName`, an
 * EventBridge Scheduler schedule's and an EventBridge rule's target. A trigger on `$LATEST` takes
 * every new version at once, and a gradual release (which moves an alias) cannot hold it back or
 * roll it back. The invocation of the migration function during `pulumi up` is no trigger and is
 * not checked: it must run the code that `up` deploys.
 */
export const lambdaTriggerAlias = stackPolicy({
    name: "lambda-trigger-alias",
    description: "Triggers (HTTP integrations, invoke permissions, SQS mappings, schedules, rule targets) invoke a function's alias or version, never $LATEST.",
    enforcementLevel: "mandatory",
    config: ruleConfig["lambda-trigger-alias"],
    remediationSteps: "Publish versions (`publish: true`), create an aws.lambda.Alias, and point the trigger at the alias's ARN; give the invoke permission `qualifier: <alias name>` in the same change.",
    check: (resources) => {
        const findings: Finding[] = [];
        for (const reference of triggerReferences(resources)) {
            if (verdict(reference, resources) !== "unqualified") continue;
            findings.push({
                urn: reference.resource.urn,
                message: `${reference.label} invokes ${JSON.stringify(reference.value)} unqualified, which runs $LATEST: every new version reaches all of its traffic at once and no release can roll it back. Point it at the function's alias (live)${reference.resource.type === Types.lambdaPermission ? " with `qualifier`" : "'s ARN"}.`,
            });
        }
        return findings;
    },
});
