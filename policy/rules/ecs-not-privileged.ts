import { ruleConfig } from "../config";
import { checkContainers } from "../lib/containers";
import { resourcePolicy } from "../lib/rule";
import { Types } from "../lib/types";

/** No container runs privileged: root on the host, every device, every capability. */
export const ecsNotPrivileged = resourcePolicy({
    name: "ecs-not-privileged",
    description: "ECS containers are not privileged.",
    enforcementLevel: "mandatory",
    config: ruleConfig["ecs-not-privileged"],
    resourceTypes: [Types.ecsTaskDefinition],
    remediationSteps: "Remove `privileged: true` from the container definition (Fargate refuses it anyway).",
    check: ({ props }) => checkContainers(props, (container, label) => (container.privileged === true ? [`${label} is privileged; set privileged to false.`] : [])),
});
