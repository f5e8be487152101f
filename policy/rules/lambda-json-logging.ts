import { ruleConfig } from "../config";
import { isUnknown } from "../lib/unknown";
import { resourcePolicy } from "../lib/rule";
import { Types } from "../lib/types";

/**
 * Functions log JSON. Only JSON logs can be queried field by field in Logs Insights, and Lambda
 * applies `applicationLogLevel` / `systemLogLevel` only to JSON logs.
 */
export const lambdaJsonLogging = resourcePolicy({
    name: "lambda-json-logging",
    description: "Lambda functions log in JSON (loggingConfig.logFormat = \"JSON\").",
    enforcementLevel: "mandatory",
    config: ruleConfig["lambda-json-logging"],
    resourceTypes: [Types.lambdaFunction],
    remediationSteps: "Set `loggingConfig: { logFormat: \"JSON\", logGroup: <the function's log group name> }`.",
    check: ({ props }) => {
        const loggingConfig = props.loggingConfig;
        if (isUnknown(loggingConfig) || isUnknown(loggingConfig?.logFormat)) {
            return [];
        }
        const format = loggingConfig?.logFormat;
        if (format === undefined) {
            return ["Log format is not set (Lambda defaults to Text); set loggingConfig.logFormat to \"JSON\"."];
        }
        if (format !== "JSON") {
            return [`Log format is ${JSON.stringify(format)}; set loggingConfig.logFormat to "JSON" so logs are structured and log levels apply.`];
        }
        return [];
    },
});
