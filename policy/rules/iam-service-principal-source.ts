import { ruleConfig } from "../config";
import { parsePolicyDocument, statementLabel, stringList, type Statement } from "../lib/iam";
import { isUnknown } from "../lib/unknown";
import { CheckedResource, resourcePolicy } from "../lib/rule";
import { Types } from "../lib/types";

/** The condition keys that tie a service principal to the account or resource it acts for. */
const SOURCE_KEYS = ["aws:sourceaccount", "aws:sourcearn"];

/** The documents a resource grants principals with: a role's trust policy, a key's policy. */
function documentOf({ type, props }: CheckedResource): { label: string; policy: unknown } {
    return type === Types.iamRole ? { label: "Trust policy", policy: props.assumeRolePolicy } : { label: "Key policy", policy: props.policy };
}

/** The service principals a statement names. */
function servicesOf(statement: Statement): string[] {
    const principal = statement.Principal as { Service?: unknown } | undefined;
    return principal && typeof principal === "object" ? stringList(principal.Service) : [];
}

/** Whether the statement's condition names the source account or resource, with a value narrower than "*". */
function namesItsSource(statement: Statement): boolean {
    const condition = statement.Condition;
    if (!condition || typeof condition !== "object") return false;
    return Object.values(condition as Record<string, unknown>).some((keys) => {
        if (!keys || typeof keys !== "object") return false;
        return Object.entries(keys as Record<string, unknown>).some(([key, value]) => SOURCE_KEYS.includes(key.toLowerCase()) && (isUnknown(value) || stringList(value).some((item) => item !== "*")));
    });
}

/**
 * A service principal that acts for a resource of some account (Scheduler for a schedule,
 * CloudWatch for an alarm, EventBridge for a rule) is trusted in a role's trust policy or a key's
 * policy only together with `aws:SourceAccount` or `aws:SourceArn`: without them any account's
 * schedule, alarm or rule that names the role or key can use it (the confused deputy).
 */
export const iamServicePrincipalSource = resourcePolicy({
    name: "iam-service-principal-source",
    description: "Trust and key policies let the listed service principals act only with an aws:SourceAccount or aws:SourceArn condition.",
    enforcementLevel: "mandatory",
    config: ruleConfig["iam-service-principal-source"],
    resourceTypes: [Types.iamRole, Types.kmsKey, Types.kmsKeyPolicy],
    remediationSteps: 'Add "Condition": {"StringEquals": {"aws:SourceAccount": "<account>"}, "ArnLike": {"aws:SourceArn": "<the schedule group, alarm or rule ARN>"}} to the statement.',
    check: (resource, { servicePrincipals }) => {
        const { label, policy } = documentOf(resource);
        const parsed = parsePolicyDocument(policy);
        if (parsed.kind === "unknown") return [];
        if (parsed.kind === "invalid") return [`${label} cannot be checked because ${parsed.reason}.`];
        return parsed.statements.flatMap((statement, index) => {
            if (statement.Effect !== "Allow" || namesItsSource(statement)) return [];
            return servicesOf(statement)
                .filter((service) => servicePrincipals.includes(service))
                .map((service) => `${label} ${statementLabel(statement, index)} lets ${service} act with no aws:SourceAccount or aws:SourceArn condition, so a resource of any account that names this ${resource.type === Types.iamRole ? "role" : "key"} can use it; add the condition naming this account (and the source resource).`);
        });
    },
});
