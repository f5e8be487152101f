import { ruleConfig } from "../config";
import { isSet } from "../lib/checks";
import { resourcePolicy } from "../lib/rule";
import { Types } from "../lib/types";
import { isUnknown } from "../lib/unknown";

/**
 * An invoke permission for an AWS service (`*.amazonaws.com`: API Gateway, EventBridge, S3, ...)
 * names the resource or account that may use it (`sourceArn` or `sourceAccount`). Without either,
 * any resource of that service in any account (another account's rule, bucket or API that names
 * this function) may invoke it: the confused deputy, in the function's resource policy rather
 * than a role's trust (`iam-service-principal-source`).
 */
export const lambdaPermissionSource = resourcePolicy({
    name: "lambda-permission-source",
    description: "Invoke permissions granted to an AWS service name the source resource (sourceArn) or account (sourceAccount).",
    enforcementLevel: "mandatory",
    config: ruleConfig["lambda-permission-source"],
    resourceTypes: [Types.lambdaPermission],
    remediationSteps: "Set sourceArn to the rule, bucket or API that invokes the function (or sourceAccount to the stack's account where the service names no resource).",
    check: ({ props }) => {
        const principal = props.principal;
        if (isUnknown(principal) || typeof principal !== "string" || !principal.endsWith(".amazonaws.com")) return [];
        if (isUnknown(props.sourceArn) || isUnknown(props.sourceAccount) || isSet(props.sourceArn) || isSet(props.sourceAccount)) return [];
        return [
            `Invoke permission for ${principal} names no sourceArn or sourceAccount: any ${principal} resource in any account that names this function may invoke it. Set sourceArn to the resource that invokes it.`,
        ];
    },
});
