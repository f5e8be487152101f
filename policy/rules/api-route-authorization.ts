import { ruleConfig } from "../config";
import { isUnknown } from "../lib/unknown";
import { resourcePolicy } from "../lib/rule";
import { Types } from "../lib/types";

/**
 * Every HTTP API route either checks who calls it (a JWT or another authorizer) or is listed in
 * the stack's pack config as intentionally public. A route left open by accident is the most common
 * API exposure; listing the public ones turns "forgot the authorizer" into a reviewable decision.
 * Counterparts: cdk-nag AwsSolutions-APIG4, checkov CKV_AWS_309 (both flag every open route).
 */
export const apiRouteAuthorization = resourcePolicy({
    name: "api-route-authorization",
    description: "HTTP API routes have an authorizer or are listed as intentionally public (publicRoutes).",
    enforcementLevel: "advisory",
    config: ruleConfig["api-route-authorization"],
    resourceTypes: [Types.httpApiRoute],
    remediationSteps: 'Give the route `auth: "jwt"` in its service definition, or add its route key to `publicRoutes` in policy/config.<stack>.json.',
    check: ({ props }, config) => {
        const type = props.authorizationType;
        const routeKey = props.routeKey;
        if (isUnknown(type) || isUnknown(routeKey)) {
            return [];
        }
        if (type !== undefined && type !== null && type !== "NONE") {
            return [];
        }
        if (config.publicRoutes.includes(String(routeKey))) {
            return [];
        }
        return [`Route "${routeKey}" has no authorizer and is not listed in publicRoutes; protect it or list it as intentionally public.`];
    },
});
