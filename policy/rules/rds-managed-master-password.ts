import { ruleConfig } from "../config";
import { isSet } from "../lib/checks";
import { isUnknown } from "../lib/unknown";
import { resourcePolicy } from "../lib/rule";
import { Types } from "../lib/types";

/**
 * RDS generates, stores (Secrets Manager) and rotates the master password. A password passed as an
 * input lives in config and in the state file, and never rotates.
 */
export const rdsManagedMasterPassword = resourcePolicy({
    name: "rds-managed-master-password",
    description: "RDS clusters let RDS manage the master password (manageMasterUserPassword = true, no masterPassword input).",
    enforcementLevel: "mandatory",
    config: ruleConfig["rds-managed-master-password"],
    resourceTypes: [Types.rdsCluster],
    remediationSteps: "Remove `masterPassword` and set `manageMasterUserPassword: true`; read the secret from `masterUserSecrets[0].secretArn`.",
    check: ({ props }) => {
        // Clusters restored from a snapshot or replicating another cluster take its credentials.
        if (isSet(props.snapshotIdentifier) || isSet(props.replicationSourceIdentifier) || isSet(props.restoreToPointInTime)) {
            return [];
        }
        const messages: string[] = [];
        for (const input of ["masterPassword", "masterPasswordWo"]) {
            if (isSet(props[input]) && !isUnknown(props[input])) {
                messages.push(`A master password is passed in ${input}; remove it and set manageMasterUserPassword to true so RDS keeps it in Secrets Manager.`);
            }
        }
        const managed = props.manageMasterUserPassword;
        if (!isUnknown(managed) && managed !== true) {
            messages.push("The master password is not managed by RDS; set manageMasterUserPassword to true.");
        }
        return messages;
    },
});
