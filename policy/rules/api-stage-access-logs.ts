import { ruleConfig } from "../config";
import { isSet } from "../lib/checks";
import { isUnknown } from "../lib/unknown";
import { resourcePolicy } from "../lib/rule";
import { Types } from "../lib/types";

/**
 * Every HTTP API stage writes access logs, with both a destination and a format: without a format
 * API Gateway writes nothing, and the access log is the only record of requests rejected before
 * they reach a function (throttling, bad routes, integration timeouts).
 */
export const apiStageAccessLogs = resourcePolicy({
    name: "api-stage-access-logs",
    description: "HTTP API stages write access logs (accessLogSettings with destinationArn and format).",
    enforcementLevel: "mandatory",
    config: ruleConfig["api-stage-access-logs"],
    resourceTypes: [Types.httpApiStage],
    remediationSteps: "Set `accessLogSettings: { destinationArn: <log group ARN>, format: JSON.stringify({...}) }` on the stage.",
    check: ({ props }) => {
        const settings = props.accessLogSettings;
        if (isUnknown(settings)) {
            return [];
        }
        if (settings === undefined || settings === null) {
            return ["Access logging is off; set accessLogSettings with a destinationArn and a format."];
        }
        const missing = ["destinationArn", "format"].filter((key) => !isSet(settings[key]));
        return missing.map((key) => `Access logging has no ${key}; set accessLogSettings.${key}.`);
    },
});
