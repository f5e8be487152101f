import { ruleConfig } from "../config";
import { isUnknown } from "../lib/unknown";
import { AURORA_SERVERLESS_V2, AWS_DEFAULTS } from "../lib/limits";
import { resourcePolicy } from "../lib/rule";
import { Types } from "../lib/types";

/** Clusters keep automated backups long enough to restore from a mistake noticed late (prod: 7+ days). */
export const rdsBackupRetention = resourcePolicy({
    name: "rds-backup-retention",
    description: `RDS clusters keep automated backups for at least the configured number of days (default ${ruleConfig["rds-backup-retention"].defaults.minDays}).`,
    enforcementLevel: "mandatory",
    config: ruleConfig["rds-backup-retention"],
    resourceTypes: [Types.rdsCluster],
    remediationSteps: `Set \`backupRetentionPeriod\` (days, ${AURORA_SERVERLESS_V2.backupRetentionDays.min}-${AURORA_SERVERLESS_V2.backupRetentionDays.max}) on the cluster from the stack config.`,
    check: ({ props }, { minDays }) => {
        const days = props.backupRetentionPeriod;
        if (isUnknown(days)) {
            return [];
        }
        if (days === undefined || days === null) {
            return AWS_DEFAULTS.rdsBackupRetentionDays >= minDays
                ? []
                : [`Backup retention is not set (RDS keeps ${AWS_DEFAULTS.rdsBackupRetentionDays} day); set backupRetentionPeriod to at least ${minDays} days.`];
        }
        if (typeof days !== "number" || days < minDays) {
            const shown = typeof days === "number" ? `${days} day${days === 1 ? "" : "s"}` : JSON.stringify(days);
            return [`Backup retention is ${shown}, below the minimum of ${minDays}; set backupRetentionPeriod to at least ${minDays} days.`];
        }
        return [];
    },
});
