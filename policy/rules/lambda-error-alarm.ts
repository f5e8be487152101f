import { ruleConfig } from "../config";
import { isKnown } from "../lib/checks";
import { ofType } from "../lib/links";
import { Finding, Props, StackResource, stackPolicy } from "../lib/rule";
import { Types } from "../lib/types";
import { isUnknown, UNKNOWN } from "../lib/unknown";

/** One reference from an alarm to a function's `Errors` metric, and the alarm input it sits in. */
interface ErrorMetricReference {
    alarm: StackResource;
    /** The `FunctionName` dimension: a name, `UNKNOWN` in preview, or undefined (no dimension). */
    functionName: unknown;
    input: "dimensions" | "metricQueries";
}

/** `object[key]`, where an unknown object makes the member unknown too. */
function member(object: unknown, key: string): unknown {
    if (isUnknown(object)) {
        return UNKNOWN;
    }
    return object !== null && typeof object === "object" ? (object as Props)[key] : undefined;
}

/** `AWS/Lambda` `Errors`, or a name not known yet (which could be it). */
function mayBeLambdaErrors(metric: unknown): boolean {
    const namespace = member(metric, "namespace");
    const metricName = member(metric, "metricName");
    return (isUnknown(namespace) || namespace === "AWS/Lambda") && (isUnknown(metricName) || metricName === "Errors");
}

/** The `Errors` metrics an alarm reads: its own metric, or metric queries of a metric-math alarm. */
function errorMetricReferences(alarm: StackResource): ErrorMetricReference[] {
    const { props } = alarm;
    if (props.actionsEnabled === false) {
        return []; // An alarm that notifies nobody does not watch anything.
    }
    const references: ErrorMetricReference[] = [];
    if (props.metricName !== undefined && mayBeLambdaErrors(props)) {
        references.push({ alarm, functionName: member(props.dimensions, "FunctionName"), input: "dimensions" });
    }
    const queries = props.metricQueries;
    if (isUnknown(queries)) {
        references.push({ alarm, functionName: UNKNOWN, input: "metricQueries" });
    } else if (Array.isArray(queries)) {
        for (const query of queries) {
            const metric = member(query, "metric");
            if (metric !== undefined && mayBeLambdaErrors(metric)) {
                references.push({ alarm, functionName: member(member(metric, "dimensions"), "FunctionName"), input: "metricQueries" });
            }
        }
    }
    return references;
}

type Coverage = "covered" | "cannot tell" | "none";

/**
 * Whether some alarm watches this function's errors. Names are compared when both are known. A
 * function whose name is unknown (preview, generated name) is not judged; an alarm whose dimension
 * is unknown but whose metric input was computed from the function may be its alarm, so the rule
 * cannot tell either.
 */
function coverage(fn: StackResource, references: readonly ErrorMetricReference[]): Coverage {
    const name = fn.props.name;
    if (isUnknown(name)) {
        return "cannot tell"; // A generated name: the update run checks it once it is known.
    }
    let result: Coverage = "none";
    for (const { alarm, functionName, input } of references) {
        if (isKnown(name) && isKnown(functionName)) {
            if (functionName === name) {
                return "covered";
            }
            continue;
        }
        if (functionName !== undefined && (alarm.propertyDependencies[input] ?? []).includes(fn.urn)) {
            result = "cannot tell";
        }
    }
    return result;
}

/**
 * Every function has a CloudWatch alarm on its `Errors` metric (`AWS/Lambda`, dimension
 * `FunctionName`), directly or inside a metric-math alarm, with actions enabled. Behind the route
 * wrapper, Lambda errors are the crashes, timeouts and out-of-memory kills that nothing else reports.
 * Advisory: a stack may deliberately run without alarms (dev disables the rule).
 */
export const lambdaErrorAlarm = stackPolicy({
    name: "lambda-error-alarm",
    description: "Every Lambda function has a CloudWatch alarm on its AWS/Lambda Errors metric (FunctionName dimension) with actions enabled.",
    enforcementLevel: "advisory",
    config: ruleConfig["lambda-error-alarm"],
    remediationSteps: "Turn on `monitoring.enabled` in the stack file (infra/components/monitoring.ts alarms on every platform function), or add an aws.cloudwatch.MetricAlarm on the function's Errors metric.",
    check: (resources) => {
        const references = ofType(resources, Types.metricAlarm).flatMap(errorMetricReferences);
        const findings: Finding[] = [];
        for (const fn of ofType(resources, Types.lambdaFunction)) {
            if (coverage(fn, references) !== "none") {
                continue;
            }
            const name = isKnown(fn.props.name) ? ` "${fn.props.name}"` : "";
            findings.push({
                urn: fn.urn,
                message: `No alarm watches the Errors metric of function${name} (AWS/Lambda, FunctionName dimension): a crash, timeout or out-of-memory kill goes unnoticed. Add an error alarm with actions enabled.`,
            });
        }
        return findings;
    },
});
