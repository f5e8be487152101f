import { ruleConfig } from "../config";
import { checkBounds } from "../lib/checks";
import { AWS_DEFAULTS, LAMBDA, ROUTE_FUNCTION } from "../lib/limits";
import { functionTriggers, ofType, type FunctionTrigger } from "../lib/links";
import { Finding, stackPolicy } from "../lib/rule";
import { Types } from "../lib/types";

/** What each trigger is called in messages. */
const TRIGGER_TEXT: Record<FunctionTrigger, string> = {
    http: "behind the HTTP API",
    queue: "fed by an SQS queue",
    deployment: "invoked by the deployment",
};

/**
 * Every function sets its timeout, within the bounds of what starts it, found from the stack's
 * resources: behind an HTTP API route (Route -> Integration -> Function) at most `maxSeconds`
 * (29 s: the API cuts requests at 30), fed by a queue (an event source mapping) at most
 * `queueMaxSeconds`, invoked by the deployment (an `aws:lambda/invocation`) at most
 * `deploymentMaxSeconds`. A function with several triggers gets the strictest bound; one with none
 * the HTTP bound, the strictest. Unset, AWS applies 3 s and `CallbackFunction` 180 s: neither was
 * chosen by anyone.
 */
export const lambdaTimeoutBounds = stackPolicy({
    name: "lambda-timeout-bounds",
    description: `Lambda functions set a timeout within the bounds of their trigger (HTTP route ${LAMBDA.timeoutSeconds.min}-${ROUTE_FUNCTION.timeoutSeconds.max} s, queue consumer and deployment up to ${LAMBDA.timeoutSeconds.max} s by default).`,
    enforcementLevel: "mandatory",
    config: ruleConfig["lambda-timeout-bounds"],
    remediationSteps: `Set \`timeout\` on the function (in seconds): at most ${ROUTE_FUNCTION.timeoutSeconds.max} behind the HTTP API, at most ${LAMBDA.timeoutSeconds.max} for a queue's consumer.`,
    check: (resources, { minSeconds, maxSeconds, queueMaxSeconds, deploymentMaxSeconds }) => {
        const limits: Record<FunctionTrigger, number> = { http: maxSeconds, queue: queueMaxSeconds, deployment: deploymentMaxSeconds };
        const triggers = functionTriggers(resources);
        const findings: Finding[] = [];
        for (const fn of ofType(resources, Types.lambdaFunction)) {
            const found = [...(triggers.get(fn.urn) ?? [])];
            const strictest = found.length > 0 ? found.reduce((a, b) => (limits[a] <= limits[b] ? a : b)) : undefined;
            const max = strictest ? limits[strictest] : maxSeconds;
            const messages = checkBounds({
                what: strictest ? `Timeout of a function ${TRIGGER_TEXT[strictest]}` : "Timeout",
                value: fn.props.timeout,
                unit: "s",
                min: minSeconds,
                max,
                whenUnset: `AWS applies ${AWS_DEFAULTS.lambda.timeoutSeconds} s`,
                input: "timeout",
            });
            for (const message of messages) findings.push({ urn: fn.urn, message });
        }
        return findings;
    },
});
