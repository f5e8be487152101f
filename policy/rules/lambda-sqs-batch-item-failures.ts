import { ruleConfig } from "../config";
import { isUnknown } from "../lib/unknown";
import { ofType } from "../lib/links";
import { readsSqs } from "../lib/queues";
import { Finding, stackPolicy } from "../lib/rule";
import { Types } from "../lib/types";

/**
 * Event source mappings that read SQS report batch item failures (`ReportBatchItemFailures`), so a
 * consumer names the messages that failed and only those come back. Without it one bad message
 * returns its whole batch: every other message is handled again, and again, until the bad one
 * reaches the dead-letter queue, taking its neighbours' attempts with it.
 */
export const lambdaSqsBatchItemFailures = stackPolicy({
    name: "lambda-sqs-batch-item-failures",
    description: "SQS event source mappings report batch item failures (functionResponseTypes includes ReportBatchItemFailures).",
    enforcementLevel: "mandatory",
    config: ruleConfig["lambda-sqs-batch-item-failures"],
    remediationSteps: 'Set functionResponseTypes: ["ReportBatchItemFailures"] on the mapping and return { batchItemFailures } from the function.',
    check: (resources) => {
        const findings: Finding[] = [];
        for (const mapping of ofType(resources, Types.lambdaEventSourceMapping)) {
            if (!readsSqs(mapping, resources)) continue;
            const types = mapping.props.functionResponseTypes;
            if (isUnknown(types)) continue;
            if (!Array.isArray(types) || !types.includes("ReportBatchItemFailures")) {
                findings.push({ urn: mapping.urn, message: "SQS mapping does not report batch item failures: one failing message returns its whole batch. Set functionResponseTypes to [\"ReportBatchItemFailures\"]." });
            }
        }
        return findings;
    },
});
