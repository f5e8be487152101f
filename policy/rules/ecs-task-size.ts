import { ruleConfig } from "../config";
import { isKnown } from "../lib/checks";
import { describeFargateTaskSizes, isFargateTaskSize } from "../lib/limits";
import { resourcePolicy } from "../lib/rule";
import { Types } from "../lib/types";
import { isUnknown } from "../lib/unknown";

/**
 * Every task definition sets its CPU and memory, within the pack's bounds, and as a pair Fargate
 * runs. An invalid pair fails only when ECS registers the definition, mid-update; an oversized task
 * bills every hour it runs.
 */
export const ecsTaskSize = resourcePolicy({
    name: "ecs-task-size",
    description: "ECS task definitions set cpu and memory within the configured bounds, as a pair Fargate runs.",
    enforcementLevel: "mandatory",
    config: ruleConfig["ecs-task-size"],
    resourceTypes: [Types.ecsTaskDefinition],
    remediationSteps: "Set the service's `cpu` and `memoryMb` in its registry entry to a Fargate size within the bounds.",
    check: ({ props }, { minCpu, maxCpu, maxMemoryMb }) => {
        if (isUnknown(props.cpu) || isUnknown(props.memory)) return [];
        if (!isKnown(props.cpu) || !isKnown(props.memory)) {
            return [`Task cpu and memory must both be set (cpu ${props.cpu ?? "unset"}, memory ${props.memory ?? "unset"}); without them a Fargate task definition is refused.`];
        }
        const cpu = Number(props.cpu);
        const memory = Number(props.memory);
        const messages: string[] = [];
        if (!(cpu >= minCpu && cpu <= maxCpu)) messages.push(`Task cpu ${props.cpu} is outside ${minCpu}-${maxCpu} CPU units; choose a size within the bounds.`);
        if (!(memory <= maxMemoryMb)) messages.push(`Task memory ${props.memory} MiB is above the maximum of ${maxMemoryMb} MiB.`);
        const fargate = Array.isArray(props.requiresCompatibilities) && props.requiresCompatibilities.includes("FARGATE");
        if (fargate && !isFargateTaskSize(cpu, memory)) {
            messages.push(`Task cpu ${props.cpu} with memory ${props.memory} MiB is not a Fargate size; Fargate runs ${describeFargateTaskSizes()}.`);
        }
        return messages;
    },
});
