import { ruleConfig } from "../config";
import { isKnown } from "../lib/checks";
import { iamPatternMatches } from "../lib/iam";
import { functionRoles, migrationLaunchers, ofType } from "../lib/links";
import { Finding, stackPolicy, StackResource } from "../lib/rule";
import { secretReadGrants } from "../lib/secret-reads";
import { Types } from "../lib/types";

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

/**
 * A cluster's master password is the key to every service's data: it signs in as the role that
 * owns them all. Only the migration run needs it (it creates the services' schemas and roles), and
 * of its two functions only the launcher reads it: outside the VPC, it reaches Secrets Manager
 * with no interface endpoint and hands the credentials to the worker in the VPC, whose role reads
 * no secret. Route functions sign in as their service's own role with IAM tokens. The launcher is
 * told apart structurally (`migrationLaunchers`): a migration function (the one an
 * `aws:lambda/invocation:Invocation` invokes, or one of the platform's migration runner in a
 * platform stack whose invocations live in the service stacks) that runs outside the VPC; not by a
 * name or tag another role could copy.
 */
export const dbMasterSecretMigrationOnly = stackPolicy({
    name: "db-master-secret-migration-only",
    description:
        "Only the role of the migration launcher (the migration function outside the VPC, which an aws:lambda/invocation:Invocation invokes) may read a cluster's managed master secret: no other role, user or group, the migration worker's included, gets secretsmanager:GetSecretValue on it, by its ARN, \"*\", a wildcard ARN, NotResource/NotAction or an AWS-managed policy.",
    enforcementLevel: "mandatory",
    config: ruleConfig["db-master-secret-migration-only"],
    remediationSteps:
        "Sign the service in as its own database role with IAM authentication (rds-db:connect on its db user) instead of the master secret, and let the migration worker take the credentials its launcher passes; narrow the statement's Resource to the secrets the role needs, and detach managed policies that read every secret.",
    check: (resources, { managedPoliciesReadingSecrets }) => {
        const secrets = masterSecrets(resources);
        if (secrets.length === 0) return [];
        const migrationRoles = new Set(
            migrationLaunchers(resources)
                .flatMap((fn) => functionRoles(fn, resources))
                .map((role) => role.urn),
        );
        const covers = (pattern: string) => secrets.some((secret) => resourceCovers(pattern, secret));
        return secretReadGrants(resources, covers, managedPoliciesReadingSecrets)
            .filter(({ role }) => role === undefined || !migrationRoles.has(role.urn))
            .map(({ holder, principal, grant }): Finding => ({
                urn: holder.urn,
                message: `${principal} may read the cluster's master secret: ${grant}. Only the migration launcher's role may (the migration function outside the VPC); the worker gets the credentials in its invocation, and services sign in as their own database role with IAM authentication.`,
            }));
    },
});
