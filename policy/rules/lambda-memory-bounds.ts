import { ruleConfig } from "../config";
import { checkBounds } from "../lib/checks";
import { AWS_DEFAULTS } from "../lib/limits";
import { resourcePolicy } from "../lib/rule";
import { Types } from "../lib/types";

/**
 * Every function sets its memory, within bounds. Memory also buys CPU, so an unset 128 MB silently
 * slows cold starts, and an oversized one multiplies the bill of every invocation.
 */
export const lambdaMemoryBounds = resourcePolicy({
    name: "lambda-memory-bounds",
    description: `Lambda functions set memorySize explicitly, within the configured bounds (default ${ruleConfig["lambda-memory-bounds"].defaults.minMb}-${ruleConfig["lambda-memory-bounds"].defaults.maxMb} MB).`,
    enforcementLevel: "mandatory",
    config: ruleConfig["lambda-memory-bounds"],
    resourceTypes: [Types.lambdaFunction],
    remediationSteps: "Set `memorySize` on the function (in MB) from the service registry or the stack's defaults.",
    check: ({ props }, { minMb, maxMb }) =>
        checkBounds({
            what: "Memory size",
            value: props.memorySize,
            unit: "MB",
            min: minMb,
            max: maxMb,
            whenUnset: `AWS applies ${AWS_DEFAULTS.lambda.memoryMb} MB`,
            input: "memorySize",
        }),
});
