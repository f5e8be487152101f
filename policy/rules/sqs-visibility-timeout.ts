import { ruleConfig } from "../config";
import { isKnown } from "../lib/checks";
import { consumerLinks } from "../lib/queues";
import { Finding, stackPolicy } from "../lib/rule";
import { isUnknown } from "../lib/unknown";

/** What SQS applies when a queue sets no visibility timeout. */
const SQS_DEFAULT_VISIBILITY_SECONDS = 30;

/**
 * A queue that feeds a function hides a received message for at least `timeoutFactor` (6) times
 * the function's timeout plus the mapping's batching window. Shorter, a message whose invocation is
 * still running (or being retried after a throttle) becomes visible and is delivered again: double
 * work, and attempts used up that never failed. Follows mapping -> queue and mapping -> function.
 */
export const sqsVisibilityTimeout = stackPolicy({
    name: "sqs-visibility-timeout",
    description: "A queue's visibility timeout is at least 6 times the timeout of the function it feeds, plus the batching window.",
    enforcementLevel: "mandatory",
    config: ruleConfig["sqs-visibility-timeout"],
    remediationSteps: "Raise the queue's visibilityTimeoutSeconds, or lower the consumer's timeout.",
    check: (resources, { timeoutFactor }) => {
        const findings: Finding[] = [];
        for (const { mapping, queue, fn } of consumerLinks(resources)) {
            if (!fn) continue;
            const timeout = fn.props.timeout;
            const visibility = queue.props.visibilityTimeoutSeconds ?? SQS_DEFAULT_VISIBILITY_SECONDS;
            const window = mapping.props.maximumBatchingWindowInSeconds ?? 0;
            if ([timeout, visibility, window].some(isUnknown) || !isKnown(timeout) || typeof timeout !== "number") continue;
            const needed = timeoutFactor * timeout + Number(window);
            if (Number(visibility) < needed) {
                findings.push({
                    urn: queue.urn,
                    message: `Visibility timeout ${visibility} s is below ${timeoutFactor} x the ${timeout} s timeout of the function it feeds${window ? ` plus its ${window} s batching window` : ""} (${needed} s): a message still being handled would be delivered again. Set visibilityTimeoutSeconds to at least ${needed}.`,
                });
            }
        }
        return findings;
    },
});
