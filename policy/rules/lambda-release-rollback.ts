import { ruleConfig } from "../config";
import { isKnown } from "../lib/checks";
import { functionTriggers, ofType } from "../lib/links";
import { Finding, StackResource, stackPolicy } from "../lib/rule";
import { Types } from "../lib/types";
import { isUnknown } from "../lib/unknown";

/** The rollback events a gradual release needs: a failed deployment, and one an alarm stopped. */
const ROLLBACK_EVENTS = ["DEPLOYMENT_FAILURE", "DEPLOYMENT_STOP_ON_ALARM"];

/**
 * The deployment groups that release a function. CodeDeploy links a group to a function only in
 * each deployment's AppSpec, so the program tags each group with the function it releases
 * (`function`, its name): a group whose tags were computed from the function, or name it, is its.
 */
function groupsOf(fn: StackResource, groups: readonly StackResource[]): StackResource[] {
    return groups.filter((group) => (group.propertyDependencies.tags ?? []).includes(fn.urn) || (isKnown(fn.props.name) && group.props.tags?.function === fn.props.name));
}

/** What is missing from a group for a release that stops and rolls back on alarms (on alarms that exist); empty when nothing is. */
function missing(group: StackResource, alarmNames: ReadonlySet<string>): string[] {
    const problems: string[] = [];
    const alarms = group.props.alarmConfiguration;
    if (!isUnknown(alarms)) {
        const names: unknown[] = Array.isArray(alarms?.alarms) ? alarms.alarms : [];
        if (alarms?.enabled !== true || names.length === 0) problems.push("no alarms enabled (alarmConfiguration)");
        const absent = names.filter((name) => typeof name === "string" && !alarmNames.has(name));
        if (absent.length > 0) problems.push(`alarms neither the stack nor the platform creates (${absent.join(", ")})`);
    }
    const rollback = group.props.autoRollbackConfiguration;
    if (!isUnknown(rollback)) {
        const events: unknown[] = Array.isArray(rollback?.events) ? rollback.events : [];
        const lacking = ROLLBACK_EVENTS.filter((event) => !events.includes(event));
        if (rollback?.enabled !== true || lacking.length > 0) problems.push(`no automatic rollback on ${(rollback?.enabled === true ? lacking : ROLLBACK_EVENTS).join(" and ")} (autoRollbackConfiguration)`);
    }
    return problems;
}

/**
 * Every function a trigger runs (all but the one the deployment invokes, the migration function)
 * is released by a CodeDeploy deployment group that watches alarms of the stack (or of the platform
 * stack, `platformAlarmNames`: a route's group watches the API's alarms) and rolls back
 * automatically when a deployment fails or an alarm stops it. A function without one takes each
 * new version all at once; a group without alarms or rollback shifts traffic to a bad version and
 * leaves it there. Prod only: dev releases all at once (`config.dev.json` disables the rule).
 */
export const lambdaReleaseRollback = stackPolicy({
    name: "lambda-release-rollback",
    description: "Every function but the one the deployment invokes has a CodeDeploy deployment group with alarms and automatic rollback on failure and on alarm.",
    enforcementLevel: "mandatory",
    config: ruleConfig["lambda-release-rollback"],
    remediationSteps: "Set `release.strategy` to canary or linear in the stack file (with `monitoring.enabled`): the program then makes a deployment group per function with its alarms and `autoRollbackConfiguration` {enabled: true, events: [DEPLOYMENT_FAILURE, DEPLOYMENT_STOP_ON_ALARM]}.",
    check: (resources, { platformAlarmNames }) => {
        const groups = ofType(resources, Types.codedeployDeploymentGroup);
        const alarmNames = new Set([...platformAlarmNames, ...ofType(resources, Types.metricAlarm).map((alarm) => alarm.props.name).filter((name): name is string => typeof name === "string")]);
        const triggers = functionTriggers(resources);
        const findings: Finding[] = [];
        for (const fn of ofType(resources, Types.lambdaFunction)) {
            // The migration function; and, in a preview, a function whose name is not known yet: the update run judges it.
            if (triggers.get(fn.urn)?.has("deployment") || isUnknown(fn.props.name)) continue;
            const name = ` "${fn.props.name}"`;
            const own = groupsOf(fn, groups);
            if (own.length === 0) {
                if (groups.some((group) => isUnknown(group.props.tags))) continue; // preview: a group's function not known yet
                findings.push({ urn: fn.urn, message: `Function${name} has no CodeDeploy deployment group: each new version takes all of its traffic at once, with nothing to roll it back. Release it gradually (release.strategy canary or linear).` });
                continue;
            }
            for (const group of own) {
                const problems = missing(group, alarmNames);
                if (problems.length > 0) findings.push({ urn: group.urn, message: `Deployment group "${group.name}" of function${name} has ${problems.join("; ")}: a bad version would keep its traffic.` });
            }
        }
        return findings;
    },
});
