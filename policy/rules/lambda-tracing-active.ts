import { ruleConfig } from "../config";
import { isUnknown } from "../lib/unknown";
import { resourcePolicy } from "../lib/rule";
import { Types } from "../lib/types";

/**
 * Functions trace actively with X-Ray, so one request can be followed from the API through the
 * function into the database and Secrets Manager calls.
 */
export const lambdaTracingActive = resourcePolicy({
    name: "lambda-tracing-active",
    description: "Lambda functions have active X-Ray tracing (tracingConfig.mode = \"Active\").",
    enforcementLevel: "mandatory",
    config: ruleConfig["lambda-tracing-active"],
    resourceTypes: [Types.lambdaFunction],
    remediationSteps: "Set `tracingConfig: { mode: \"Active\" }` and grant the role xray:PutTraceSegments and xray:PutTelemetryRecords.",
    check: ({ props }) => {
        const tracingConfig = props.tracingConfig;
        if (isUnknown(tracingConfig) || isUnknown(tracingConfig?.mode)) {
            return [];
        }
        const mode = tracingConfig?.mode;
        if (mode === undefined) {
            return ["Tracing is not set (Lambda defaults to PassThrough); set tracingConfig.mode to \"Active\"."];
        }
        if (mode !== "Active") {
            return [`Tracing mode is ${JSON.stringify(mode)}; set tracingConfig.mode to "Active".`];
        }
        return [];
    },
});
