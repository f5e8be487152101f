import { ruleConfig } from "../config";
import { resourcePolicy } from "../lib/rule";
import { Types } from "../lib/types";

/**
 * ECS services give their tasks no public IP: tasks are reached only through the HTTP API's VPC
 * link, and reach AWS through the VPC's endpoints. A public address makes every task an internet
 * host whose security group is all that stands in front of it.
 */
export const ecsNoPublicIp = resourcePolicy({
    name: "ecs-no-public-ip",
    description: "ECS services do not assign public IP addresses to their tasks.",
    enforcementLevel: "mandatory",
    config: ruleConfig["ecs-no-public-ip"],
    resourceTypes: [Types.ecsService],
    remediationSteps: "Set networkConfiguration.assignPublicIp to false and run the tasks in private subnets.",
    check: ({ props }) =>
        props.networkConfiguration?.assignPublicIp === true
            ? ["Tasks get a public IP (networkConfiguration.assignPublicIp is true); set it to false and reach AWS through the VPC's endpoints."]
            : [],
});
