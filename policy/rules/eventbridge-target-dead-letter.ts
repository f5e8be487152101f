import { ruleConfig } from "../config";
import { isSet } from "../lib/checks";
import { resourcePolicy } from "../lib/rule";
import { Types } from "../lib/types";
import { isUnknown } from "../lib/unknown";

/**
 * An EventBridge rule's target keeps the events it cannot deliver in a dead-letter queue and says
 * how long to retry. Without a dead-letter queue, an event its target refuses for a day is dropped.
 */
export const eventbridgeTargetDeadLetter = resourcePolicy({
    name: "eventbridge-target-dead-letter",
    description: "EventBridge rule targets have a retry policy and a dead-letter queue.",
    enforcementLevel: "mandatory",
    config: ruleConfig["eventbridge-target-dead-letter"],
    resourceTypes: [Types.eventTarget],
    remediationSteps: "Set retryPolicy (maximumRetryAttempts, maximumEventAgeInSeconds) and deadLetterConfig.arn to an SQS queue on the target.",
    check: ({ props }) => {
        const messages: string[] = [];
        if (!isUnknown(props.retryPolicy) && !isSet(props.retryPolicy?.maximumEventAgeInSeconds) && !isSet(props.retryPolicy?.maximumRetryAttempts)) {
            messages.push("Target has no retry policy: how long EventBridge keeps trying is left to its default. Set retryPolicy.");
        }
        if (!isUnknown(props.deadLetterConfig) && !isUnknown(props.deadLetterConfig?.arn) && !isSet(props.deadLetterConfig?.arn)) {
            messages.push("Target has no dead-letter queue: an event it cannot deliver is dropped. Set deadLetterConfig.arn.");
        }
        return messages;
    },
});
