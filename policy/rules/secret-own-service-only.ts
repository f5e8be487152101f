import { ruleConfig } from "../config";
import { isKnown } from "../lib/checks";
import { iamPatternMatches, parsePolicyDocument, stringList, type Statement } from "../lib/iam";
import { functionRoles, linked, ofType } from "../lib/links";
import { Finding, stackPolicy, StackResource } from "../lib/rule";
import { READ_SECRET, secretReadGrants } from "../lib/secret-reads";
import { Types } from "../lib/types";

/** The condition keys a resource policy may exempt its readers by. */
const EXEMPTING_OPERATORS = ["ArnNotEquals", "ArnNotLike", "StringNotEquals", "StringNotLike"];

/** Whether `resource`'s `input` came from `secret` (by dependency) or holds its ARN. */
function uses(resource: StackResource, input: string, secret: StackResource): boolean {
    if ((resource.propertyDependencies[input] ?? []).includes(secret.urn)) return true;
    const arn = secret.props.arn;
    return isKnown(arn) && typeof arn === "string" && JSON.stringify(resource.props[input] ?? null).includes(arn);
}

/**
 * A secret's readers, told apart structurally: the roles of the functions whose environment names
 * it, and the execution roles of the task definitions whose containers take values from it.
 */
function readersOf(secret: StackResource, resources: readonly StackResource[]): StackResource[] {
    const roles = ofType(resources, Types.iamRole);
    const fromFunctions = ofType(resources, Types.lambdaFunction)
        .filter((fn) => uses(fn, "environment", secret))
        .flatMap((fn) => functionRoles(fn, resources));
    const fromTasks = ofType(resources, Types.ecsTaskDefinition)
        .filter((task) => uses(task, "containerDefinitions", secret))
        .flatMap((task) => linked(task, "executionRoleArn", roles, (role, value) => isKnown(role.props.arn) && role.props.arn === value));
    return [...new Map([...fromFunctions, ...fromTasks].map((role) => [role.urn, role])).values()];
}

/** The principals a Deny statement on reading leaves out (its exemption), or undefined when it denies no one's read of every principal. */
function exemptedPrincipals(statement: Statement): string[] | undefined {
    if (statement.Effect !== "Deny") return undefined;
    const principal = statement.Principal as unknown;
    const everyone = principal === "*" || (typeof principal === "object" && principal !== null && stringList((principal as { AWS?: unknown }).AWS).includes("*"));
    if (!everyone || !stringList(statement.Action).some((pattern) => iamPatternMatches(pattern, READ_SECRET, true))) return undefined;
    const condition = (statement.Condition ?? {}) as Record<string, Record<string, unknown>>;
    const operators = Object.keys(condition);
    if (operators.length !== 1 || !EXEMPTING_OPERATORS.includes(operators[0])) return undefined;
    const keys = Object.keys(condition[operators[0]]);
    if (keys.length !== 1 || keys[0].toLowerCase() !== "aws:principalarn") return undefined;
    return stringList(condition[operators[0]][keys[0]]);
}

/**
 * A service's secret holds that service's credentials: only its own roles may read it. A secret's
 * readers are the roles of the functions and tasks that use it (their environment or container
 * definitions name it), never a name or a tag. Its resource policy must deny reading to every other
 * principal (so an administrator's broad IAM policy does not open it), and no other role, user or
 * group of the stack may be granted the read.
 */
export const secretOwnServiceOnly = stackPolicy({
    name: "secret-own-service-only",
    description:
        "A Secrets Manager secret is readable only by the roles of the functions and tasks that use it: its resource policy denies secretsmanager:GetSecretValue to every other principal, and no other role, user or group is granted it.",
    enforcementLevel: "mandatory",
    config: ruleConfig["secret-own-service-only"],
    remediationSteps:
        "Give the secret a resource policy (aws.secretsmanager.SecretPolicy) that denies secretsmanager:GetSecretValue to Principal \"*\" unless aws:PrincipalArn is one of its service's roles, and narrow every other role's Resource to its own secret.",
    check: (resources, { managedPoliciesReadingSecrets }) => {
        const findings: Finding[] = [];
        const grants = (secret: StackResource) =>
            secretReadGrants(
                resources,
                (pattern) => (isKnown(secret.props.arn) ? iamPatternMatches(pattern, String(secret.props.arn)) : pattern === "*"),
                managedPoliciesReadingSecrets,
            );
        for (const secret of ofType(resources, Types.secretsManagerSecret)) {
            const readers = readersOf(secret, resources);
            const readerUrns = new Set(readers.map((role) => role.urn));
            const readerNames = readers.length > 0 ? readers.map((role) => role.name).join(", ") : "none: no function or task uses it";

            const policies = ofType(resources, Types.secretsManagerSecretPolicy).filter((policy) => uses(policy, "secretArn", secret));
            const documents = policies.map((policy) => ({ policy, parsed: parsePolicyDocument(policy.props.policy) }));
            if (documents.some(({ parsed }) => parsed.kind === "unknown")) continue; // preview: judged once known
            const exemptions = documents.flatMap(({ policy, parsed }) =>
                parsed.kind === "document" ? parsed.statements.map((statement) => ({ policy, exempted: exemptedPrincipals(statement) })).filter((entry) => entry.exempted !== undefined) : [],
            );
            if (exemptions.length === 0) {
                findings.push({
                    urn: secret.urn,
                    message: `Secret ${secret.name} has no resource policy denying ${READ_SECRET} to every principal but its readers (${readerNames}): any role whose IAM policy allows it can read the service's values.`,
                });
            }
            const readerArns = new Set(readers.map((role) => role.props.arn).filter(isKnown));
            for (const { policy, exempted } of exemptions) {
                for (const arn of exempted!.filter((value) => isKnown(value) && !readerArns.has(value))) {
                    findings.push({ urn: policy.urn, message: `Secret ${secret.name}'s resource policy lets ${arn} read it, which is not the role of a function or task that uses it (${readerNames}).` });
                }
            }
            for (const { holder, principal, role, grant } of grants(secret)) {
                if (role && readerUrns.has(role.urn)) continue;
                findings.push({ urn: holder.urn, message: `${principal} may read secret ${secret.name}: ${grant}. Only its service's roles may (${readerNames}).` });
            }
        }
        return findings;
    },
});
