import { ruleConfig } from "../config";
import { checkBounds } from "../lib/checks";
import { AWS_DEFAULTS, LAMBDA, ROUTE_FUNCTION } from "../lib/limits";
import { resourcePolicy } from "../lib/rule";
import { Types } from "../lib/types";

/**
 * Every function sets its timeout, within bounds. Unset, AWS applies 3 s and `CallbackFunction` 180 s:
 * neither was chosen by anyone, and 180 s behind an HTTP API is 150 s of work nobody waits for.
 */
export const lambdaTimeoutBounds = resourcePolicy({
    name: "lambda-timeout-bounds",
    description: `Lambda functions set a timeout within the configured bounds (default ${LAMBDA.timeoutSeconds.min}-${ROUTE_FUNCTION.timeoutSeconds.max} s).`,
    enforcementLevel: "mandatory",
    config: ruleConfig["lambda-timeout-bounds"],
    resourceTypes: [Types.lambdaFunction],
    remediationSteps: `Set \`timeout\` on the function (in seconds), at most ${ROUTE_FUNCTION.timeoutSeconds.max} for functions behind the HTTP API.`,
    check: ({ props }, { minSeconds, maxSeconds }) =>
        checkBounds({
            what: "Timeout",
            value: props.timeout,
            unit: "s",
            min: minSeconds,
            max: maxSeconds,
            whenUnset: `AWS applies ${AWS_DEFAULTS.lambda.timeoutSeconds} s`,
            input: "timeout",
        }),
});
