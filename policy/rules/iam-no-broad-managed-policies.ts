import { ruleConfig } from "../config";
import { broadManagedPolicyName } from "../lib/iam";
import { isUnknown } from "../lib/unknown";
import { resourcePolicy } from "../lib/rule";
import { Types } from "../lib/types";

/**
 * No principal gets an AWS-managed AdministratorAccess, PowerUserAccess or *FullAccess policy.
 * `CallbackFunction`'s default role attaches nine of these; one role per service grants only what
 * that service needs.
 */
export const iamNoBroadManagedPolicies = resourcePolicy({
    name: "iam-no-broad-managed-policies",
    description: "No AWS-managed AdministratorAccess, PowerUserAccess or *FullAccess policy is attached to a role, user or group.",
    enforcementLevel: "mandatory",
    config: ruleConfig["iam-no-broad-managed-policies"],
    resourceTypes: [
        Types.iamRolePolicyAttachment,
        Types.iamUserPolicyAttachment,
        Types.iamGroupPolicyAttachment,
        Types.iamPolicyAttachment,
        Types.iamRole,
    ],
    remediationSteps: "Detach the managed policy and grant the specific actions and resources in an inline policy on the service's role.",
    check: ({ type, props }, { allowedPolicyArns }) => {
        const arns: unknown[] = type === Types.iamRole
            ? (Array.isArray(props.managedPolicyArns) ? props.managedPolicyArns : [])
            : [props.policyArn];
        return arns
            .filter((arn) => !isUnknown(arn) && !allowedPolicyArns.includes(arn as string))
            .map((arn) => ({ arn, name: broadManagedPolicyName(arn) }))
            .filter(({ name }) => name !== undefined)
            .map(({ arn, name }) => `Attaches the AWS-managed policy ${name} (${arn}), which grants far more than one service needs; grant the specific actions in an inline policy instead.`);
    },
});
