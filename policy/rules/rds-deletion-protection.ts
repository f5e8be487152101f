import { ruleConfig } from "../config";
import { isUnknown } from "../lib/unknown";
import { resourcePolicy } from "../lib/rule";
import { Types } from "../lib/types";

/**
 * Clusters whose stack requires it (prod) cannot be deleted by a mistaken `pulumi destroy` or a
 * replacement. Off by default so dev stacks stay disposable; `config.prod.json` turns it on.
 */
export const rdsDeletionProtection = resourcePolicy({
    name: "rds-deletion-protection",
    description: "RDS clusters have deletion protection where the stack's pack config sets requireDeletionProtection (prod).",
    enforcementLevel: "mandatory",
    config: ruleConfig["rds-deletion-protection"],
    resourceTypes: [Types.rdsCluster],
    remediationSteps: "Set `deletionProtection: true` on the cluster in this stack.",
    check: ({ props }, { requireDeletionProtection }) => {
        const enabled = props.deletionProtection;
        if (!requireDeletionProtection || isUnknown(enabled) || enabled === true) {
            return [];
        }
        return ["Deletion protection is off; set deletionProtection to true (this stack's policy config requires it)."];
    },
});
