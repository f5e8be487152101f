/**
 * Who may read a secret: every IAM grant of `secretsmanager:GetSecretValue` in a stack, whatever
 * holds it (a role's inline policy or attached policies, a standalone role policy, a user's or a
 * group's), by ARN, `"*"`, a wildcard ARN, NotResource/NotAction or an AWS-managed policy that reads
 * every secret. The rules that keep a secret to its readers (`db-master-secret-migration-only`,
 * `secret-own-service-only`) differ only in which secrets they ask about and whose grants are fine.
 */
import { isKnown } from "./checks";
import { awsManagedPolicyName, iamPatternMatches, parsePolicyDocument, statementLabel, stringList, type Statement } from "./iam";
import { attachedRoles, ofType } from "./links";
import type { StackResource } from "./rule";
import { Types } from "./types";
import { isUnknown } from "./unknown";

export const READ_SECRET = "secretsmanager:GetSecretValue";

/** Whether a `Resource` pattern of a statement covers one of the secrets asked about. */
export type SecretCovered = (pattern: string) => boolean;

/** How a statement lets its principal read a covered secret, in words, or undefined when it does not. */
function readsSecret(statement: Statement, covers: SecretCovered): string | undefined {
    if (statement.Effect !== "Allow") return undefined;
    const actions = stringList(statement.Action);
    const notActions = stringList(statement.NotAction);
    const action =
        statement.NotAction !== undefined
            ? notActions.some((pattern) => iamPatternMatches(pattern, READ_SECRET, true))
                ? undefined
                : `NotAction ${JSON.stringify(statement.NotAction)}`
            : actions.find((pattern) => iamPatternMatches(pattern, READ_SECRET, true));
    if (action === undefined) return undefined;
    const resource =
        statement.NotResource !== undefined
            ? stringList(statement.NotResource).some(covers)
                ? undefined
                : `NotResource ${JSON.stringify(statement.NotResource)}`
            : stringList(statement.Resource).find(covers);
    if (resource === undefined) return undefined;
    return `${action.startsWith("NotAction") ? action : `"${action}"`} on ${resource.startsWith("NotResource") ? resource : `"${resource}"`}`;
}

/** What a document lets its principal do with the covered secrets, one line per granting statement. */
function documentGrants(policy: unknown, covers: SecretCovered, label: string): string[] {
    const parsed = parsePolicyDocument(policy);
    if (parsed.kind !== "document") return [];
    return parsed.statements.flatMap((statement, index) => {
        const how = readsSecret(statement, covers);
        return how ? [`${label} ${statementLabel(statement, index)} allows ${how}`] : [];
    });
}

/** One grant: the resource that holds it, who gets it (`role` when it is a role of the stack) and how. */
export interface SecretReadGrant {
    holder: StackResource;
    /** `Role <name>`, `User "<name>"`, `Group "<name>"`. */
    principal: string;
    /** The role of the stack the grant goes to, when it is one. */
    role?: StackResource;
    grant: string;
}

/**
 * Every grant in `resources` that lets a principal read a secret `covers` accepts. A grant whose
 * role is not known yet (preview) is left out: it is judged once it is known.
 */
export function secretReadGrants(resources: readonly StackResource[], covers: SecretCovered, managedPoliciesReadingSecrets: readonly string[]): SecretReadGrant[] {
    const readsAll = (arn: unknown) => {
        const name = awsManagedPolicyName(arn);
        return name !== undefined && managedPoliciesReadingSecrets.includes(name) ? name : undefined;
    };
    const customerPolicies = ofType(resources, Types.iamPolicy);
    /**
     * What attaching `arns` (from `holder`'s `input`) grants: an AWS-managed policy that reads
     * every secret, or a customer policy of the stack (linked by dependency or by ARN) whose document reads one.
     */
    const grantsOfPolicyArns = (holder: StackResource, input: string, arns: unknown[]): string[] => {
        const managed = arns.map(readsAll).filter((name): name is string => name !== undefined);
        const dependedOn = holder.propertyDependencies[input] ?? [];
        const attached = customerPolicies.filter((p) => dependedOn.includes(p.urn) || (isKnown(p.props.arn) && arns.includes(p.props.arn)));
        return [
            ...managed.map((name) => `it attaches the AWS-managed policy ${name}, which reads every secret`),
            ...attached.flatMap((p) => documentGrants(p.props.policy, covers, `attached policy ${p.name}`)),
        ];
    };
    const roles = ofType(resources, Types.iamRole);
    const roleNamed = (name: unknown) => roles.find((role) => isKnown(name) && [role.props.name, role.props.id].includes(name));

    const found: SecretReadGrant[] = [];
    const add = (holder: StackResource, principal: string, role: StackResource | undefined, grants: string[]) => {
        for (const grant of grants) found.push({ holder, principal, role, grant });
    };
    /** The roles a policy or attachment goes to: the stack's, else its `role` as written, unless unknown. */
    const grantees = (holder: StackResource): Array<{ principal: string; role?: StackResource }> => {
        const attached = attachedRoles(holder, resources);
        if (attached.length > 0) return attached.map((role) => ({ principal: `Role ${role.name}`, role }));
        return isUnknown(holder.props.role) ? [] : [{ principal: `Role ${JSON.stringify(holder.props.role)}` }];
    };

    for (const holder of resources) {
        switch (holder.type) {
            case Types.iamRolePolicy:
                for (const { principal, role } of grantees(holder)) add(holder, principal, role, documentGrants(holder.props.policy, covers, `inline policy ${holder.name}`));
                break;
            case Types.iamRolePolicyAttachment:
                for (const { principal, role } of grantees(holder)) add(holder, principal, role, grantsOfPolicyArns(holder, "policyArn", [holder.props.policyArn]));
                break;
            case Types.iamRole: {
                const inline = Array.isArray(holder.props.inlinePolicies) ? holder.props.inlinePolicies : [];
                const managed = Array.isArray(holder.props.managedPolicyArns) ? holder.props.managedPolicyArns : [];
                add(holder, `Role ${holder.name}`, holder, [
                    ...inline.flatMap((p: { name?: unknown; policy?: unknown }) => documentGrants(p?.policy, covers, `inline policy ${JSON.stringify(p?.name ?? "")}`)),
                    ...grantsOfPolicyArns(holder, "managedPolicyArns", managed),
                ]);
                break;
            }
            case Types.iamUserPolicy:
                add(holder, `User ${JSON.stringify(holder.props.user)}`, undefined, documentGrants(holder.props.policy, covers, `inline policy ${holder.name}`));
                break;
            case Types.iamGroupPolicy:
                add(holder, `Group ${JSON.stringify(holder.props.group)}`, undefined, documentGrants(holder.props.policy, covers, `inline policy ${holder.name}`));
                break;
            case Types.iamUserPolicyAttachment:
                add(holder, `User ${JSON.stringify(holder.props.user)}`, undefined, grantsOfPolicyArns(holder, "policyArn", [holder.props.policyArn]));
                break;
            case Types.iamGroupPolicyAttachment:
                add(holder, `Group ${JSON.stringify(holder.props.group)}`, undefined, grantsOfPolicyArns(holder, "policyArn", [holder.props.policyArn]));
                break;
            case Types.iamPolicyAttachment: {
                const grants = grantsOfPolicyArns(holder, "policyArn", [holder.props.policyArn]);
                for (const name of stringList(holder.props.roles)) {
                    const role = roleNamed(name);
                    add(holder, `Role ${role?.name ?? JSON.stringify(name)}`, role, grants);
                }
                for (const user of stringList(holder.props.users)) add(holder, `User ${JSON.stringify(user)}`, undefined, grants);
                for (const group of stringList(holder.props.groups)) add(holder, `Group ${JSON.stringify(group)}`, undefined, grants);
                break;
            }
        }
    }
    return found;
}
