import { ruleConfig } from "../config";
import { resourcePolicy } from "../lib/rule";
import { Types } from "../lib/types";

/** Database instances never get a public address: the functions reach them inside the VPC. */
export const rdsNotPubliclyAccessible = resourcePolicy({
    name: "rds-not-publicly-accessible",
    description: "RDS cluster instances and DB instances are not publicly accessible.",
    enforcementLevel: "mandatory",
    config: ruleConfig["rds-not-publicly-accessible"],
    resourceTypes: [Types.rdsClusterInstance, Types.rdsInstance],
    remediationSteps: "Set `publiclyAccessible: false` (or leave it unset) and reach the database from inside the VPC.",
    check: ({ props }) =>
        props.publiclyAccessible === true
            ? ["Instance is publicly accessible; set publiclyAccessible to false and reach it from inside the VPC."]
            : [],
});
