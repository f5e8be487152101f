import { ruleConfig } from "../config";
import { checkContainers } from "../lib/containers";
import { resourcePolicy } from "../lib/rule";
import { Types } from "../lib/types";

/**
 * Every essential container has a health check. Behind Cloud Map (no load balancer to probe it),
 * the container health check is the only thing that tells ECS a task has stopped answering: without
 * one, a hung process keeps its place in service discovery and its share of the traffic.
 */
export const ecsContainerHealthCheck = resourcePolicy({
    name: "ecs-container-health-check",
    description: "Essential ECS containers define a health check command.",
    enforcementLevel: "mandatory",
    config: ruleConfig["ecs-container-health-check"],
    resourceTypes: [Types.ecsTaskDefinition],
    remediationSteps: "Set the service's `healthCheckPath` (and, if the image has no wget, `healthCheckCommand`) in its registry entry.",
    check: ({ props }) =>
        checkContainers(props, (container, label) => {
            if (container.essential === false) return [];
            const command = container.healthCheck?.command;
            return Array.isArray(command) && command.length > 1
                ? []
                : [`${label} has no health check; a hung process keeps receiving traffic. Add healthCheck.command (e.g. ["CMD-SHELL", "wget -q -O /dev/null http://127.0.0.1:8080/health || exit 1"]).`];
        }),
});
