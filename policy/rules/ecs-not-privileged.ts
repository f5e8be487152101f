import { ruleConfig } from "../config";
import { containerDefinitionsOf, containerLabel } from "../lib/containers";
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
    check: ({ props }) => {
        const definitions = containerDefinitionsOf(props);
        if (definitions.kind === "unknown") return [];
        if (definitions.kind === "invalid") return [definitions.message];
        return definitions.containers.flatMap((container, index) =>
            container.privileged === true ? [`${containerLabel(container, index)} is privileged; set privileged to false.`] : [],
        );
    },
});
