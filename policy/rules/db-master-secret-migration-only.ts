import { ruleConfig } from "../config";
import { isKnown } from "../lib/checks";
import { awsManagedPolicyName, iamPatternMatches, parsePolicyDocument, statementLabel, stringList, type Statement } from "../lib/iam";
import { attachedRoles, functionRoles, invokedFunctions, ofType } from "../lib/links";
import { Finding, stackPolicy, StackResource } from "../lib/rule";
import { Types } from "../lib/types";
import { isUnknown } from "../lib/unknown";

const READ_SECRET = "secretsmanager:GetSecretValue";

/** Where a cluster's managed secret lives until its ARN is known (preview): `...:secret:rds!cluster-<id>-<suffix>`. */
const MANAGED_SECRET_RESOURCE = "secret:rds!cluster-00000000-0000-0000-0000-000000000000-AbCdEf";

/**
 * The clusters' managed master secrets: known ARNs, or `"unknown"` for a cluster whose secret is
 * not created yet (then a pattern counts when it could match any managed secret).
 */
function masterSecrets(resources: readonly StackResource[]): Array<string | "unknown"> {
    return ofType(resources, Types.rdsCluster)
        .filter((cluster) => cluster.props.manageMasterUserPassword === true)
        .map((cluster) => {
            const arn = cluster.props.masterUserSecrets?.[0]?.secretArn;
            return typeof arn === "string" && isKnown(arn) ? arn : "unknown";
        });
}

/** Whether an ARN pattern from a policy covers `secret`. */
function resourceCovers(pattern: string, secret: string | "unknown"): boolean {
    if (secret !== "unknown") return iamPatternMatches(pattern, secret);
    if (pattern === "*") return true;
    const parts = pattern.split(":");
    return parts.length >= 6 && iamPatternMatches(parts[2], "secretsmanager") && iamPatternMatches(parts.slice(5).join(":"), MANAGED_SECRET_RESOURCE);
}

/** How a statement lets its principal read `secret`, in words, or undefined when it does not. */
function readsSecret(statement: Statement, secret: string | "unknown"): string | undefined {
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
            ? stringList(statement.NotResource).some((pattern) => resourceCovers(pattern, secret))
                ? undefined
                : `NotResource ${JSON.stringify(statement.NotResource)}`
            : stringList(statement.Resource).find((pattern) => resourceCovers(pattern, secret));
    if (resource === undefined) return undefined;
    return `${action.startsWith("NotAction") ? action : `"${action}"`} on ${resource.startsWith("NotResource") ? resource : `"${resource}"`}`;
}

/** What a document lets its principal do with the master secrets, one line per granting statement. */
function documentGrants(policy: unknown, secrets: Array<string | "unknown">, label: string): string[] {
    const parsed = parsePolicyDocument(policy);
    if (parsed.kind !== "document") return [];
    return parsed.statements.flatMap((statement, index) => {
        const how = secrets.map((secret) => readsSecret(statement, secret)).find((found) => found !== undefined);
        return how ? [`${label} ${statementLabel(statement, index)} allows ${how}`] : [];
    });
}

/**
 * A cluster's master password is the key to every service's data: it signs in as the role that
 * owns them all. Only the migration function needs it (it creates the services' schemas and
 * roles); route functions sign in as their service's own role with IAM tokens. The migration
 * function is told apart structurally, as the function an `aws:lambda/invocation:Invocation`
 * invokes during the update, not by a name or tag another role could copy.
 */
export const dbMasterSecretMigrationOnly = stackPolicy({
    name: "db-master-secret-migration-only",
    description:
        "Only the role of the migration function (the one an aws:lambda/invocation:Invocation invokes) may read a cluster's managed master secret: no other role, user or group gets secretsmanager:GetSecretValue on it, by its ARN, \"*\", a wildcard ARN, NotResource/NotAction or an AWS-managed policy.",
    enforcementLevel: "mandatory",
    config: ruleConfig["db-master-secret-migration-only"],
    remediationSteps:
        "Sign the service in as its own database role with IAM authentication (rds-db:connect on its db user) instead of the master secret; narrow the statement's Resource to the secrets the role needs, and detach managed policies that read every secret.",
    check: (resources, { managedPoliciesReadingSecrets }) => {
        const secrets = masterSecrets(resources);
        if (secrets.length === 0) return [];
        const migrationRoles = new Set(
            ofType(resources, Types.lambdaInvocation)
                .flatMap((invocation) => invokedFunctions(invocation, resources))
                .flatMap((fn) => functionRoles(fn, resources))
                .map((role) => role.urn),
        );
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
                ...attached.flatMap((p) => documentGrants(p.props.policy, secrets, `attached policy ${p.name}`)),
            ];
        };
        const roleNamed = (name: unknown) => ofType(resources, Types.iamRole).find((role) => isKnown(name) && [role.props.name, role.props.id].includes(name));

        const findings: Finding[] = [];
        const report = (holder: StackResource, principal: string, grants: string[]) => {
            for (const grant of grants) {
                findings.push({
                    urn: holder.urn,
                    message: `${principal} may read the cluster's master secret: ${grant}. Only the migration function's role may; services sign in as their own database role with IAM authentication.`,
                });
            }
        };
        /** The roles a grant goes to, unless all of them are the migration function's. */
        const otherRoles = (holder: StackResource) => {
            const roles = attachedRoles(holder, resources);
            if (roles.length === 0) return isUnknown(holder.props.role) ? [] : [`Role ${JSON.stringify(holder.props.role)}`];
            return roles.filter((role) => !migrationRoles.has(role.urn)).map((role) => `Role ${role.name}`);
        };

        for (const holder of resources) {
            switch (holder.type) {
                case Types.iamRolePolicy:
                    for (const principal of otherRoles(holder)) report(holder, principal, documentGrants(holder.props.policy, secrets, `inline policy ${holder.name}`));
                    break;
                case Types.iamRolePolicyAttachment:
                    for (const principal of otherRoles(holder)) report(holder, principal, grantsOfPolicyArns(holder, "policyArn", [holder.props.policyArn]));
                    break;
                case Types.iamRole: {
                    if (migrationRoles.has(holder.urn)) break;
                    const inline = Array.isArray(holder.props.inlinePolicies) ? holder.props.inlinePolicies : [];
                    const managed = Array.isArray(holder.props.managedPolicyArns) ? holder.props.managedPolicyArns : [];
                    report(holder, `Role ${holder.name}`, [
                        ...inline.flatMap((p: { name?: unknown; policy?: unknown }) => documentGrants(p?.policy, secrets, `inline policy ${JSON.stringify(p?.name ?? "")}`)),
                        ...grantsOfPolicyArns(holder, "managedPolicyArns", managed),
                    ]);
                    break;
                }
                case Types.iamUserPolicy:
                    report(holder, `User ${JSON.stringify(holder.props.user)}`, documentGrants(holder.props.policy, secrets, `inline policy ${holder.name}`));
                    break;
                case Types.iamGroupPolicy:
                    report(holder, `Group ${JSON.stringify(holder.props.group)}`, documentGrants(holder.props.policy, secrets, `inline policy ${holder.name}`));
                    break;
                case Types.iamUserPolicyAttachment:
                    report(holder, `User ${JSON.stringify(holder.props.user)}`, grantsOfPolicyArns(holder, "policyArn", [holder.props.policyArn]));
                    break;
                case Types.iamGroupPolicyAttachment:
                    report(holder, `Group ${JSON.stringify(holder.props.group)}`, grantsOfPolicyArns(holder, "policyArn", [holder.props.policyArn]));
                    break;
                case Types.iamPolicyAttachment: {
                    const grants = grantsOfPolicyArns(holder, "policyArn", [holder.props.policyArn]);
                    const principals = [
                        ...stringList(holder.props.roles)
                            .filter((name) => !migrationRoles.has(roleNamed(name)?.urn ?? ""))
                            .map((name) => `Role ${roleNamed(name)?.name ?? JSON.stringify(name)}`),
                        ...stringList(holder.props.users).map((user) => `User ${JSON.stringify(user)}`),
                        ...stringList(holder.props.groups).map((group) => `Group ${JSON.stringify(group)}`),
                    ];
                    for (const principal of principals) report(holder, principal, grants);
                    break;
                }
            }
        }
        return findings;
    },
});
