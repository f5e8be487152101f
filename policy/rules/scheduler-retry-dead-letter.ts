import { ruleConfig } from "../config";
import { isSet } from "../lib/checks";
import { resourcePolicy } from "../lib/rule";
import { Types } from "../lib/types";
import { isUnknown } from "../lib/unknown";

/**
 * EventBridge Scheduler schedules retry a failed delivery and keep what still fails in a
 * dead-letter queue. Without a dead-letter queue, a run Scheduler cannot deliver (a queue that
 * refuses it, a missing permission) is dropped after its retries, and nothing says it happened.
 */
export const schedulerRetryDeadLetter = resourcePolicy({
    name: "scheduler-retry-dead-letter",
    description: "Scheduler schedules have a retry policy (at least one retry) and a dead-letter queue on their target.",
    enforcementLevel: "mandatory",
    config: ruleConfig["scheduler-retry-dead-letter"],
    resourceTypes: [Types.schedulerSchedule],
    remediationSteps: "Set target.retryPolicy (maximumRetryAttempts, maximumEventAgeInSeconds) and target.deadLetterConfig.arn to an SQS queue.",
    check: ({ props }) => {
        const target = props.target;
        if (isUnknown(target)) return [];
        const messages: string[] = [];
        const retry = target?.retryPolicy;
        if (!isUnknown(retry) && !(typeof retry?.maximumRetryAttempts === "number" && retry.maximumRetryAttempts >= 1) && !isUnknown(retry?.maximumRetryAttempts)) {
            messages.push("Schedule's target has no retry policy with at least one retry: a failed delivery of a run is not tried again. Set target.retryPolicy.");
        }
        if (!isUnknown(target?.deadLetterConfig) && !isUnknown(target?.deadLetterConfig?.arn) && !isSet(target?.deadLetterConfig?.arn)) {
            messages.push("Schedule's target has no dead-letter queue: a run that cannot be delivered is dropped. Set target.deadLetterConfig.arn.");
        }
        return messages;
    },
});
