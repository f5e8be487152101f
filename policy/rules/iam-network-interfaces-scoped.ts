import { ruleConfig } from "../config";
import { iamPatternMatches, parsePolicyDocument, permissionDocumentsOf, statementLabel, stringList } from "../lib/iam";
import { resourcePolicy } from "../lib/rule";
import { Types } from "../lib/types";

/** What Lambda does with a VPC function's role to network interfaces; each takes a resource narrower than "*". */
const INTERFACE_ACTIONS = ["ec2:CreateNetworkInterface", "ec2:DeleteNetworkInterface", "ec2:AssignPrivateIpAddresses", "ec2:UnassignPrivateIpAddresses"];
/** "*", or an EC2 ARN that names no resource type (`arn:aws:ec2:*:*:*`). */
const EVERY_RESOURCE = /^(\*|arn:[^:]*:(ec2|\*):[^:]*:[^:]*:\*)$/;

/**
 * The network interface actions a VPC function's role needs (AWSLambdaVPCAccessExecutionRole's) are
 * granted on the stack's subnets, security groups and `network-interface/*`, never on every
 * resource: with "*" the role may create interfaces in any subnet of the account, with any group,
 * and delete any interface.
 */
export const iamNetworkInterfacesScoped = resourcePolicy({
    name: "iam-network-interfaces-scoped",
    description: "Inline and customer-managed policies grant ec2:CreateNetworkInterface, DeleteNetworkInterface, AssignPrivateIpAddresses and UnassignPrivateIpAddresses on named resources, not \"*\".",
    enforcementLevel: "mandatory",
    config: ruleConfig["iam-network-interfaces-scoped"],
    resourceTypes: [Types.iamRolePolicy, Types.iamUserPolicy, Types.iamGroupPolicy, Types.iamPolicy, Types.iamRole],
    remediationSteps: "Grant CreateNetworkInterface on arn:<partition>:ec2:<region>:<account>:subnet/<id> and security-group/<id> of the stack and network-interface/*; the other interface actions on network-interface/*; keep only the Describe actions on \"*\".",
    check: (resource) => {
        const messages: string[] = [];
        for (const { label, policy } of permissionDocumentsOf(resource)) {
            const parsed = parsePolicyDocument(policy);
            if (parsed.kind !== "document") continue; // an invalid document is iam-no-wildcard-actions' to report
            parsed.statements.forEach((statement, index) => {
                if (statement.Effect !== "Allow") return;
                const actions = stringList(statement.Action);
                const granted = INTERFACE_ACTIONS.filter((action) => actions.some((pattern) => iamPatternMatches(pattern, action, true)));
                const everywhere = stringList(statement.Resource).some((value) => EVERY_RESOURCE.test(value));
                if (granted.length > 0 && everywhere) {
                    messages.push(`${label} ${statementLabel(statement, index)} allows ${granted.join(", ")} on every resource; name the stack's subnets, security groups and network-interface/*.`);
                }
            });
        }
        return messages;
    },
});
