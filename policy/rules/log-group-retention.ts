import { ruleConfig } from "../config";
import { checkBounds } from "../lib/checks";
import { resourcePolicy } from "../lib/rule";
import { Types } from "../lib/types";

/**
 * Every log group has a retention within bounds. Without one CloudWatch keeps logs forever (and
 * bills for them); the minimum lets prod demand the history an incident review needs.
 */
export const logGroupRetention = resourcePolicy({
    name: "log-group-retention",
    description: `CloudWatch log groups set retentionInDays within the configured bounds (default ${ruleConfig["log-group-retention"].defaults.minRetentionDays}-${ruleConfig["log-group-retention"].defaults.maxRetentionDays} days; prod 30 or more).`,
    enforcementLevel: "mandatory",
    config: ruleConfig["log-group-retention"],
    resourceTypes: [Types.logGroup],
    remediationSteps: "Set `retentionInDays` on the log group from the stack config.",
    check: ({ props }, { minRetentionDays, maxRetentionDays }) =>
        checkBounds({
            what: "Retention",
            // 0 is how the provider spells "never expire": the same as unset.
            value: props.retentionInDays === 0 ? undefined : props.retentionInDays,
            unit: "days",
            min: minRetentionDays,
            max: maxRetentionDays,
            whenUnset: "logs are kept forever",
            input: "retentionInDays",
        }),
});
