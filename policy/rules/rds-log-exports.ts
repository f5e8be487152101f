import { ruleConfig } from "../config";
import { isUnknown } from "../lib/unknown";
import { resourcePolicy } from "../lib/rule";
import { Types } from "../lib/types";

/**
 * PostgreSQL clusters export their server log to CloudWatch Logs, where slow queries, connection
 * errors and auth failures can be searched next to the functions' logs. Checked for PostgreSQL
 * engines only: the log type names are engine-specific.
 */
export const rdsLogExports = resourcePolicy({
    name: "rds-log-exports",
    description: "PostgreSQL RDS clusters export the configured log types to CloudWatch Logs (default: postgresql).",
    enforcementLevel: "mandatory",
    config: ruleConfig["rds-log-exports"],
    resourceTypes: [Types.rdsCluster],
    remediationSteps: "Set `enabledCloudwatchLogsExports: [\"postgresql\"]` on the cluster.",
    check: ({ props }, { requiredLogExports }) => {
        const engine = props.engine;
        const exports = props.enabledCloudwatchLogsExports;
        if (typeof engine !== "string" || !engine.includes("postgres") || isUnknown(exports)) {
            return [];
        }
        const present = Array.isArray(exports) ? exports : [];
        if (present.some(isUnknown)) {
            return [];
        }
        return requiredLogExports
            .filter((logType) => !present.includes(logType))
            .map((logType) => `Log type "${logType}" is not exported to CloudWatch Logs; add it to enabledCloudwatchLogsExports.`);
    },
});
