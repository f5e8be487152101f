import { ruleConfig } from "../config";
import { isUnknown } from "../lib/unknown";
import { resourcePolicy } from "../lib/rule";
import { Types } from "../lib/types";

/** Aurora storage is encrypted. It can only be chosen at creation: fixing it later means a restore. */
export const rdsStorageEncrypted = resourcePolicy({
    name: "rds-storage-encrypted",
    description: "RDS clusters encrypt their storage (storageEncrypted = true).",
    enforcementLevel: "mandatory",
    config: ruleConfig["rds-storage-encrypted"],
    resourceTypes: [Types.rdsCluster],
    remediationSteps: "Set `storageEncrypted: true` on the cluster (a new cluster, or a restore of an encrypted snapshot copy).",
    check: ({ props }) => {
        const encrypted = props.storageEncrypted;
        if (isUnknown(encrypted) || encrypted === true) {
            return [];
        }
        return ["Storage is not encrypted; set storageEncrypted to true (it cannot be changed after creation)."];
    },
});
