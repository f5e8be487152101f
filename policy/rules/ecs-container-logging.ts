import { ruleConfig } from "../config";
import { isKnown } from "../lib/checks";
import { containerDefinitionsOf, containerLabel } from "../lib/containers";
import { ofType } from "../lib/links";
import { Finding, stackPolicy } from "../lib/rule";
import { Types } from "../lib/types";

/**
 * Every container of a task definition sends its output to CloudWatch Logs (`awslogs`), into a log
 * group the stack creates with a retention. Without a log configuration a container's output is
 * lost when its task stops; a group nobody creates is made by nobody (the task fails to start) or
 * keeps logs forever.
 */
export const ecsContainerLogging = stackPolicy({
    name: "ecs-container-logging",
    description: "ECS containers log with the awslogs driver into a log group of the stack that has a retention.",
    enforcementLevel: "mandatory",
    config: ruleConfig["ecs-container-logging"],
    remediationSteps: "Give each container a logConfiguration with logDriver awslogs and awslogs-group naming a log group of the stack with retentionInDays.",
    check: (resources) => {
        const findings: Finding[] = [];
        const groups = ofType(resources, Types.logGroup);
        const someNameUnknown = groups.some((group) => !isKnown(group.props.name));
        for (const task of ofType(resources, Types.ecsTaskDefinition)) {
            const definitions = containerDefinitionsOf(task.props);
            if (definitions.kind === "unknown") continue;
            if (definitions.kind === "invalid") {
                findings.push({ urn: task.urn, message: definitions.message });
                continue;
            }
            definitions.containers.forEach((container, index) => {
                const label = containerLabel(container, index);
                const logging = container.logConfiguration;
                if (logging?.logDriver !== "awslogs") {
                    findings.push({ urn: task.urn, message: `${label} has no awslogs log configuration (${logging?.logDriver ?? "none"}); its output is lost when the task stops.` });
                    return;
                }
                const groupName = logging.options?.["awslogs-group"];
                const group = groups.find((candidate) => isKnown(candidate.props.name) && candidate.props.name === groupName);
                if (!group) {
                    if (!someNameUnknown) findings.push({ urn: task.urn, message: `${label} logs to "${groupName ?? "no group"}", which is not a log group of this stack; create it with a retention.` });
                    return;
                }
                const retention = group.props.retentionInDays;
                if (isKnown(retention) && retention !== 0) return;
                if (retention === undefined || retention === null || retention === 0) {
                    findings.push({ urn: task.urn, message: `${label} logs to "${groupName}", which has no retention; set retentionInDays on that log group.` });
                }
            });
        }
        return findings;
    },
});
