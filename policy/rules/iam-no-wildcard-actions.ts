import { ruleConfig } from "../config";
import { parsePolicyDocument, permissionDocumentsOf, statementLabel, stringList } from "../lib/iam";
import { resourcePolicy } from "../lib/rule";
import { Types } from "../lib/types";

const SERVICE_WILDCARD = /^[A-Za-z0-9-]+:\*$/;

/**
 * No inline policy allows every action ("*"), every action of a service ("s3:*") or everything but
 * a list (Allow + NotAction). Each service's role names the actions it calls.
 */
export const iamNoWildcardActions = resourcePolicy({
    name: "iam-no-wildcard-actions",
    description: "Inline and customer-managed IAM policies allow no \"*\" action, no service-wide \"service:*\" action and no Allow with NotAction.",
    enforcementLevel: "mandatory",
    config: ruleConfig["iam-no-wildcard-actions"],
    resourceTypes: [Types.iamRolePolicy, Types.iamUserPolicy, Types.iamGroupPolicy, Types.iamPolicy, Types.iamRole],
    remediationSteps: "List the actions the service calls (e.g. \"secretsmanager:GetSecretValue\") instead of a wildcard.",
    check: (resource, { forbidServiceWildcards }) => {
        const messages: string[] = [];
        for (const { label, policy } of permissionDocumentsOf(resource)) {
            const parsed = parsePolicyDocument(policy);
            if (parsed.kind === "unknown") {
                continue;
            }
            if (parsed.kind === "invalid") {
                messages.push(`${label} cannot be checked because ${parsed.reason}.`);
                continue;
            }
            parsed.statements.forEach((statement, index) => {
                if (statement.Effect !== "Allow") {
                    return;
                }
                const where = `${label} ${statementLabel(statement, index)}`;
                for (const action of stringList(statement.Action)) {
                    if (action === "*") {
                        messages.push(`${where} allows every action ("*"); list the actions the service needs.`);
                    } else if (forbidServiceWildcards && SERVICE_WILDCARD.test(action)) {
                        messages.push(`${where} allows every action of a service ("${action}"); list the actions the service needs.`);
                    }
                }
                if (statement.NotAction !== undefined) {
                    messages.push(`${where} allows everything except its NotAction list; use Action with the actions the service needs.`);
                }
            });
        }
        return messages;
    },
});
