import { ruleConfig } from "../config";
import { isKnown } from "../lib/checks";
import { linked, ofType } from "../lib/links";
import { Finding, stackPolicy } from "../lib/rule";
import { Types } from "../lib/types";
import { isUnknown } from "../lib/unknown";

/** The AWS-managed SQS key: its policy cannot be changed, so EventBridge and Scheduler cannot use it. */
const AWS_MANAGED_SQS_KEY = "alias/aws/sqs";

/**
 * Every queue encrypts its messages at rest: with SQS's own keys (`sqsManagedSseEnabled`) or a KMS
 * key (`kmsMasterKeyId`). A queue an EventBridge rule or a schedule sends to must not use the
 * AWS-managed `alias/aws/sqs` key: its key policy does not admit `events.amazonaws.com`, and every
 * delivery would fail into the dead-letter queue (or be dropped without one).
 */
export const sqsQueueEncryption = stackPolicy({
    name: "sqs-queue-encryption",
    description: "Queues are encrypted at rest (SSE-SQS or a KMS key); queues EventBridge or Scheduler send to do not use alias/aws/sqs.",
    enforcementLevel: "mandatory",
    config: ruleConfig["sqs-queue-encryption"],
    remediationSteps: "Set sqsManagedSseEnabled: true on the queue, or kmsMasterKeyId to a customer-managed key whose policy admits events.amazonaws.com (and scheduler.amazonaws.com).",
    check: (resources) => {
        const findings: Finding[] = [];
        const queues = ofType(resources, Types.sqsQueue);
        const sameArn = (queue: (typeof queues)[number], value: unknown) => isKnown(queue.props.arn) && value === queue.props.arn;
        const targeted = new Set<string>();
        for (const target of ofType(resources, Types.eventTarget)) for (const queue of linked(target, "arn", queues, sameArn)) targeted.add(queue.urn);
        for (const schedule of ofType(resources, Types.schedulerSchedule)) {
            const target = schedule.props.target;
            const urns = schedule.propertyDependencies?.target ?? [];
            for (const queue of queues) if (urns.includes(queue.urn) || (isKnown(target?.arn) && target.arn === queue.props.arn)) targeted.add(queue.urn);
        }
        for (const queue of queues) {
            const { sqsManagedSseEnabled, kmsMasterKeyId } = queue.props;
            if (isUnknown(sqsManagedSseEnabled) || isUnknown(kmsMasterKeyId)) continue;
            if (sqsManagedSseEnabled !== true && !kmsMasterKeyId) {
                findings.push({ urn: queue.urn, message: "Queue is not encrypted at rest. Set sqsManagedSseEnabled: true (or kmsMasterKeyId)." });
            } else if (kmsMasterKeyId === AWS_MANAGED_SQS_KEY && targeted.has(queue.urn)) {
                findings.push({ urn: queue.urn, message: `Queue uses ${AWS_MANAGED_SQS_KEY}, which EventBridge and Scheduler cannot use, so no event reaches it. Use sqsManagedSseEnabled: true or a customer-managed key that admits events.amazonaws.com.` });
            }
        }
        return findings;
    },
});
