import { ruleConfig } from "../config";
import { isKnown } from "../lib/checks";
import { linked, ofType } from "../lib/links";
import { Finding, stackPolicy } from "../lib/rule";
import { Types } from "../lib/types";
import { isUnknown } from "../lib/unknown";

/**
 * Functions log into a log group the stack creates, and that group has a retention. Left alone,
 * Lambda writes to an automatic `/aws/lambda/<name>` group that no stack manages: it keeps logs
 * forever and survives `pulumi destroy`.
 */
export const lambdaLogGroupInStack = stackPolicy({
    name: "lambda-log-group-in-stack",
    description: "Lambda functions log into a log group created in the stack (loggingConfig.logGroup), and that group has a retention.",
    enforcementLevel: "mandatory",
    config: ruleConfig["lambda-log-group-in-stack"],
    remediationSteps: "Create an aws.cloudwatch.LogGroup with retentionInDays per function and pass its name as loggingConfig.logGroup.",
    check: (resources) => {
        const findings: Finding[] = [];
        const logGroups = ofType(resources, Types.logGroup);
        const someGroupNameUnknown = logGroups.some((g) => !isKnown(g.props.name));

        for (const fn of ofType(resources, Types.lambdaFunction)) {
            const loggingConfig = fn.props.loggingConfig;
            if (isUnknown(loggingConfig)) {
                continue;
            }
            const groupName = loggingConfig?.logGroup;
            const groups = linked(fn, "loggingConfig", logGroups, (g, value) =>
                isKnown(g.props.name) && (value as any)?.logGroup === g.props.name);

            if (groups.length === 0) {
                if (isUnknown(groupName) || (isKnown(groupName) && someGroupNameUnknown)) {
                    continue; // Cannot tell which group it is until the names are known.
                }
                const functionName = isKnown(fn.props.name) ? fn.props.name : fn.name;
                findings.push({
                    urn: fn.urn,
                    message: isKnown(groupName)
                        ? `Logs go to "${groupName}", which is not a log group of this stack; create it in the stack with a retention and name it in loggingConfig.logGroup.`
                        : `Logs go to the automatic group "/aws/lambda/${functionName}", which no stack manages and which keeps logs forever; set loggingConfig.logGroup to a log group of this stack.`,
                });
                continue;
            }
            for (const group of groups) {
                const retention = group.props.retentionInDays;
                if (!isUnknown(retention) && (retention === undefined || retention === null || retention === 0)) {
                    const label = isKnown(group.props.name) ? group.props.name : group.name;
                    findings.push({
                        urn: fn.urn,
                        message: `Logs go to "${label}", which has no retention; set retentionInDays on that log group.`,
                    });
                }
            }
        }
        return findings;
    },
});
