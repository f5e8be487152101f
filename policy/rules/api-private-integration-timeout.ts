import { ruleConfig } from "../config";
import { checkBounds } from "../lib/checks";
import { AWS_DEFAULTS, HTTP_API } from "../lib/limits";
import { resourcePolicy } from "../lib/rule";
import { Types } from "../lib/types";

/**
 * A private integration (through a VPC link, to a container) says how long the API waits, within
 * the HTTP API's 30 s. Unlike a function, a container has no timeout of its own that
 * `api-timeout-budget` could compare: the integration's wait is the only bound on the request, so
 * it is set on purpose rather than left to the default.
 */
export const apiPrivateIntegrationTimeout = resourcePolicy({
    name: "api-private-integration-timeout",
    description: `HTTP API private integrations (VPC link) set timeoutMilliseconds explicitly, at most ${HTTP_API.integrationTimeoutMs.max} ms.`,
    enforcementLevel: "mandatory",
    config: ruleConfig["api-private-integration-timeout"],
    resourceTypes: [Types.httpApiIntegration],
    remediationSteps: "Set the container service's `timeoutSeconds` (at most 30) in its registry entry.",
    check: ({ props }, { maxIntegrationTimeoutMs }) => {
        if (props.connectionType !== "VPC_LINK") return [];
        return checkBounds({
            what: "Private integration timeout",
            value: props.timeoutMilliseconds,
            unit: "ms",
            min: HTTP_API.integrationTimeoutMs.min,
            max: maxIntegrationTimeoutMs,
            whenUnset: `API Gateway waits ${AWS_DEFAULTS.httpApiIntegrationTimeoutMs} ms, a choice nobody made`,
            input: "timeoutMilliseconds",
        });
    },
});
