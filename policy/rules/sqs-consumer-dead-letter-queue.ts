import { ruleConfig } from "../config";
import { consumerLinks, redrivePolicyOf } from "../lib/queues";
import { Finding, stackPolicy } from "../lib/rule";

/**
 * Every queue that feeds a function (through an event source mapping) has a redrive policy: a
 * dead-letter queue and a `maxReceiveCount` within bounds. Without it a message that always fails
 * (a poison message) is retried until it expires and is then lost; with an unbounded count it
 * costs an invocation per retry for days.
 */
export const sqsConsumerDeadLetterQueue = stackPolicy({
    name: "sqs-consumer-dead-letter-queue",
    description: "Queues that feed a function have a dead-letter queue and a maxReceiveCount within the configured bounds (default 1-100).",
    enforcementLevel: "mandatory",
    config: ruleConfig["sqs-consumer-dead-letter-queue"],
    remediationSteps: "Set the queue's redrivePolicy to {\"deadLetterTargetArn\": <a queue's ARN>, \"maxReceiveCount\": <attempts>}.",
    check: (resources, { minReceiveCount, maxReceiveCount }) => {
        const findings: Finding[] = [];
        const seen = new Set<string>();
        for (const { queue } of consumerLinks(resources)) {
            if (seen.has(queue.urn)) continue;
            seen.add(queue.urn);
            const policy = redrivePolicyOf(queue.props);
            if (policy.kind === "unknown") continue;
            if (policy.kind === "invalid") {
                findings.push({ urn: queue.urn, message: policy.message });
                continue;
            }
            if (policy.kind === "none" || !policy.deadLetterTargetArn) {
                findings.push({ urn: queue.urn, message: "Queue feeds a function but has no dead-letter queue: a message that keeps failing is lost when it expires. Set redrivePolicy with a deadLetterTargetArn." });
                continue;
            }
            const count = policy.maxReceiveCount;
            if (typeof count !== "number" || !Number.isInteger(count) || count < minReceiveCount || count > maxReceiveCount) {
                findings.push({ urn: queue.urn, message: `Queue's maxReceiveCount ${JSON.stringify(count)} is not within ${minReceiveCount}-${maxReceiveCount}; set it in redrivePolicy.` });
            }
        }
        return findings;
    },
});
