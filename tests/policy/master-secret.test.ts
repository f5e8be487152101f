import { strict as assert } from "assert";
import { ComponentTypes, Types } from "../../policy/lib/types";
import { UNKNOWN_STRING_SENTINEL } from "../../policy/lib/unknown";
import { ACCOUNT, clusterProps, functionProps, MASTER_SECRET_ARN, REGION } from "./fixtures";
import { StackSpec, validateStack, withField } from "./harness";

const RULE = "db-master-secret-migration-only";
const roleArn = (name: string) => `arn:aws:iam::${ACCOUNT}:role/${name}`;
const document = (...statements: object[]) => JSON.stringify({ Version: "2012-10-17", Statement: statements });
const readSecret = (resource: unknown) => ({ Sid: "Secret", Effect: "Allow", Action: "secretsmanager:GetSecretValue", Resource: resource });
const connect = { Sid: "DatabaseConnect", Effect: "Allow", Action: ["rds-db:connect"], Resource: `arn:aws:rds-db:${REGION}:${ACCOUNT}:dbuser:cluster-ABC/users_app` };
const WHY = "Only the migration launcher's role may (the migration function outside the VPC); the worker gets the credentials in its invocation, and services sign in as their own database role with IAM authentication.";
const logs = { Sid: "OwnLogGroups", Effect: "Allow", Action: ["logs:CreateLogStream", "logs:PutLogEvents"], Resource: `arn:aws:logs:${REGION}:${ACCOUNT}:log-group:/platform/migrations:*` };
const IN_VPC = { subnetIds: ["subnet-1"], securityGroupIds: ["sg-functions"] };

/**
 * A stack as the program builds it: the cluster; the migration launcher (outside the VPC), its
 * role and the inline policy that reads the master secret, and the invocation that runs it; the
 * migration worker in the VPC, whose role reads no secret; the users service's role, which may
 * only connect as its own database user.
 */
function stack(): StackSpec[] {
    return [
        { type: Types.rdsCluster, name: "database-cluster", props: clusterProps() },
        { type: Types.iamRole, name: "migrations-launcher-role", props: { name: "migrations-launcher-role-1a2b3c4", id: "migrations-launcher-role-1a2b3c4", arn: roleArn("migrations-launcher-role-1a2b3c4") } },
        {
            type: Types.iamRolePolicy,
            name: "migrations-launcher-permissions",
            props: { role: "migrations-launcher-role-1a2b3c4", policy: document(readSecret(MASTER_SECRET_ARN)) },
            propertyDependencies: { role: ["migrations-launcher-role"] },
        },
        {
            type: Types.lambdaFunction,
            name: "migrations-launcher",
            props: { ...functionProps("migrations-launcher-1a2b3c4"), role: roleArn("migrations-launcher-role-1a2b3c4"), arn: `arn:aws:lambda:${REGION}:${ACCOUNT}:function:migrations-launcher-1a2b3c4` },
            propertyDependencies: { role: ["migrations-launcher-role"] },
        },
        { type: Types.lambdaInvocation, name: "migrations-run", props: { functionName: "migrations-launcher-1a2b3c4", input: "{}" }, propertyDependencies: { functionName: ["migrations-launcher"] } },
        { type: Types.iamRole, name: "migrations-role", props: { name: "migrations-role-1a2b3c4", id: "migrations-role-1a2b3c4", arn: roleArn("migrations-role-1a2b3c4") } },
        { type: Types.iamRolePolicy, name: "migrations-permissions", props: { role: "migrations-role-1a2b3c4", policy: document(logs) }, propertyDependencies: { role: ["migrations-role"] } },
        {
            type: Types.lambdaFunction,
            name: "migrations-function",
            props: { ...functionProps("migrations-function-1a2b3c4"), role: roleArn("migrations-role-1a2b3c4"), vpcConfig: IN_VPC, arn: `arn:aws:lambda:${REGION}:${ACCOUNT}:function:migrations-function-1a2b3c4` },
            propertyDependencies: { role: ["migrations-role"] },
        },
        { type: Types.iamRole, name: "users-role", props: { name: "users-role-1a2b3c4", id: "users-role-1a2b3c4", arn: roleArn("users-role-1a2b3c4") } },
        { type: Types.iamRolePolicy, name: "users-permissions", props: { role: "users-role-1a2b3c4", policy: document(connect) }, propertyDependencies: { role: ["users-role"] } },
    ];
}
/** The worker's role also granted the read of the master secret. */
const withWorkerReading = (specs: StackSpec[]) => specs.map((spec) => (spec.name === "migrations-permissions" ? { ...spec, props: { ...spec.props, policy: document(logs, readSecret(MASTER_SECRET_ARN)) } } : spec));
const withUsersPolicy = (...statements: object[]) => stack().map((spec) => (spec.name === "users-permissions" ? { ...spec, props: { ...spec.props, policy: document(connect, ...statements) } } : spec));

describe(RULE, () => {
    it("accepts the program's stack: the migration launcher's role reads the secret, the worker's reads none, the service's role connects as its db user", async () => {
        // Prepare
        const specs = stack();
        // Act
        const reported = await validateStack(RULE, specs);
        // Assess
        assert.deepEqual(reported, []);
    });

    const plantedStatements: Array<[string, object, string]> = [
        ["a grant of the secret by its ARN", readSecret(MASTER_SECRET_ARN), `"secretsmanager:GetSecretValue" on "${MASTER_SECRET_ARN}"`],
        ["a grant on every resource (\"*\")", readSecret("*"), '"secretsmanager:GetSecretValue" on "*"'],
        ["a wildcard ARN over every managed secret", readSecret("arn:aws:secretsmanager:*:*:secret:rds!*"), '"secretsmanager:GetSecretValue" on "arn:aws:secretsmanager:*:*:secret:rds!*"'],
        ["NotResource that leaves the secret in", { Effect: "Allow", Action: ["secretsmanager:GetSecretValue"], NotResource: [`arn:aws:s3:::reports/*`] }, '"secretsmanager:GetSecretValue" on NotResource ["arn:aws:s3:::reports/*"]'],
        ["an action wildcard", { Effect: "Allow", Action: "secretsmanager:Get*", Resource: MASTER_SECRET_ARN }, `"secretsmanager:Get*" on "${MASTER_SECRET_ARN}"`],
        ["NotAction that leaves the read in", { Effect: "Allow", NotAction: ["s3:*"], Resource: "*" }, 'NotAction ["s3:*"] on "*"'],
    ];
    for (const [what, statement, how] of plantedStatements) {
        it(`rejects ${what} to another service's role`, async () => {
            // Prepare
            const specs = withUsersPolicy(statement);
            // Act
            const reported = await validateStack(RULE, specs);
            // Assess
            const label = "Sid" in statement ? `statement "${(statement as { Sid: string }).Sid}"` : "statement 2";
            assert.deepEqual(reported, [{ resource: "users-permissions", message: `Role users-role may read the cluster's master secret: inline policy users-permissions ${label} allows ${how}. ${WHY}` }]);
        });
    }

    it("rejects an AWS-managed policy that reads every secret, attached or listed on the role", async () => {
        // Prepare
        const attached: StackSpec = { type: Types.iamRolePolicyAttachment, name: "users-secrets", props: { role: "users-role-1a2b3c4", policyArn: "arn:aws:iam::aws:policy/SecretsManagerReadWrite" }, propertyDependencies: { role: ["users-role"] } };
        const specs = [...stack(), attached].map((spec) => (spec.name === "users-role" ? withRoleField(spec, "managedPolicyArns", ["arn:aws:iam::aws:policy/AdministratorAccess"]) : spec));
        // Act
        const reported = await validateStack(RULE, specs);
        // Assess
        assert.deepEqual(reported, [
            { resource: "users-role", message: `Role users-role may read the cluster's master secret: it attaches the AWS-managed policy AdministratorAccess, which reads every secret. ${WHY}` },
            { resource: "users-secrets", message: `Role users-role may read the cluster's master secret: it attaches the AWS-managed policy SecretsManagerReadWrite, which reads every secret. ${WHY}` },
        ]);
    });

    it("rejects a customer-managed policy of the stack whose document reads the secret", async () => {
        // Prepare
        const policy: StackSpec = { type: Types.iamPolicy, name: "read-secrets", props: { arn: `arn:aws:iam::${ACCOUNT}:policy/read-secrets`, policy: document(readSecret("arn:aws:secretsmanager:*:*:secret:*")) } };
        const attached: StackSpec = { type: Types.iamRolePolicyAttachment, name: "users-read-secrets", props: { role: "users-role-1a2b3c4", policyArn: policy.props.arn }, propertyDependencies: { role: ["users-role"], policyArn: ["read-secrets"] } };
        // Act
        const reported = await validateStack(RULE, [...stack(), policy, attached]);
        // Assess
        assert.deepEqual(reported.map((r) => r.resource), ["users-read-secrets"]);
        assert.match(reported[0].message, /Role users-role may read the cluster's master secret: attached policy read-secrets statement "Secret" allows "secretsmanager:GetSecretValue" on "arn:aws:secretsmanager:\*:\*:secret:\*"/);
    });

    it("rejects a grant to a user or a group, which are never the migration function", async () => {
        // Prepare
        const specs = [
            ...stack(),
            { type: Types.iamUserPolicy, name: "ops-read", props: { user: "ops", policy: document(readSecret("*")) } },
            { type: Types.iamGroupPolicyAttachment, name: "admins", props: { group: "admins", policyArn: "arn:aws:iam::aws:policy/PowerUserAccess" } },
        ];
        // Act
        const reported = await validateStack(RULE, specs);
        // Assess
        assert.deepEqual(reported.map((r) => [r.resource, r.message.split(":")[0]]), [["ops-read", 'User "ops" may read the cluster\'s master secret'], ["admins", 'Group "admins" may read the cluster\'s master secret']]);
    });

    it("tells the launcher's role apart by the invocation, not its name: a look-alike role is rejected, and the real one loses its exemption without the invocation", async () => {
        // Prepare
        const lookAlike: StackSpec[] = [
            { type: Types.iamRole, name: "migrations-launcher-role-copy", props: { name: "migrations-launcher-role-copy", id: "migrations-launcher-role-copy", arn: roleArn("migrations-launcher-role-copy"), tags: { "managed-by": "pulumi" } } },
            { type: Types.iamRolePolicy, name: "copy-permissions", props: { role: "migrations-launcher-role-copy", policy: document(readSecret(MASTER_SECRET_ARN)) }, propertyDependencies: { role: ["migrations-launcher-role-copy"] } },
        ];
        // Act
        const copied = await validateStack(RULE, [...stack(), ...lookAlike]);
        const withoutInvocation = await validateStack(RULE, stack().filter((spec) => spec.type !== Types.lambdaInvocation));
        // Assess
        assert.deepEqual(copied.map((r) => r.resource), ["copy-permissions"]);
        assert.deepEqual(withoutInvocation.map((r) => r.resource), ["migrations-launcher-permissions"]);
    });

    it("rejects the migration worker's role reading the secret: it runs in the VPC and takes the credentials from its invocation", async () => {
        // Prepare
        const specs = withWorkerReading(stack());
        // Act
        const reported = await validateStack(RULE, specs);
        // Assess
        assert.deepEqual(reported, [
            { resource: "migrations-permissions", message: `Role migrations-role may read the cluster's master secret: inline policy migrations-permissions statement "Secret" allows "secretsmanager:GetSecretValue" on "${MASTER_SECRET_ARN}". ${WHY}` },
        ]);
    });

    it("rejects a migration function in the VPC reading the secret even when the invocation names it (the worker invoked directly)", async () => {
        // Prepare: the invocation runs the worker, whose role reads the secret; the launcher is gone.
        const specs = withWorkerReading(stack())
            .filter((spec) => !spec.name.startsWith("migrations-launcher"))
            .map((spec) => (spec.type === Types.lambdaInvocation ? { ...spec, props: { ...spec.props, functionName: "migrations-function-1a2b3c4" }, propertyDependencies: { functionName: ["migrations-function"] } } : spec));
        // Act
        const reported = await validateStack(RULE, specs);
        // Assess
        assert.deepEqual(reported.map((r) => r.resource), ["migrations-permissions"]);
    });

    describe("in a platform stack, whose invocations are the service stacks': the runner's functions by its component", () => {
        /** The launcher and the worker inside the MigrationRunner component (each through its Function component), no invocation. */
        const platform = (specs: StackSpec[]): StackSpec[] => [
            { type: ComponentTypes.migrations, name: "migrations", props: {} },
            { type: ComponentTypes.function, name: "migrations-launcher-component", props: {}, parent: "migrations" },
            { type: ComponentTypes.function, name: "migrations-function-component", props: {}, parent: "migrations" },
            ...specs
                .filter((spec) => spec.type !== Types.lambdaInvocation)
                .map((spec) =>
                    spec.name === "migrations-launcher" ? { ...spec, parent: "migrations-launcher-component" } : spec.name === "migrations-function" ? { ...spec, parent: "migrations-function-component" } : spec,
                ),
        ];

        it("accepts the launcher's role, and rejects a sibling service function's role", async () => {
            // Prepare
            const outside: StackSpec[] = [
                { type: ComponentTypes.service, name: "users", props: {} },
                { type: Types.lambdaFunction, name: "users-peek", props: { ...functionProps("users-peek-1a2b3c4"), role: roleArn("users-role-1a2b3c4") }, propertyDependencies: { role: ["users-role"] }, parent: "users" },
            ];
            // Act
            const runnerOnly = await validateStack(RULE, platform(stack()));
            const withSibling = await validateStack(RULE, [...platform(withUsersPolicy(readSecret(MASTER_SECRET_ARN))), ...outside]);
            // Assess
            assert.deepEqual(runnerOnly, []);
            assert.deepEqual(withSibling.map((r) => r.resource), ["users-permissions"]);
        });

        it("rejects the worker's role reading the secret, though it sits in the runner", async () => {
            // Act
            const reported = await validateStack(RULE, platform(withWorkerReading(stack())));
            // Assess
            assert.deepEqual(reported.map((r) => r.resource), ["migrations-permissions"]);
        });

        it("judges a runner function whose VPC placement is not known yet (preview) as the worker, not the launcher", async () => {
            // Prepare: the launcher's vpcConfig unknown, as a preview could show it.
            const specs = platform(stack()).map((spec) => (spec.name === "migrations-launcher" ? { ...spec, props: { ...spec.props, vpcConfig: UNKNOWN_STRING_SENTINEL } } : spec));
            // Act
            const reported = await validateStack(RULE, specs);
            // Assess
            assert.deepEqual(reported.map((r) => r.resource), ["migrations-launcher-permissions"]);
        });
    });

    it("accepts what grants no read of the master secret: Deny statements, other secrets, other actions", async () => {
        // Prepare
        const specs = withUsersPolicy(
            { Effect: "Deny", Action: "secretsmanager:GetSecretValue", Resource: "*" },
            readSecret(`arn:aws:secretsmanager:${REGION}:${ACCOUNT}:secret:stripe-api-key-*`),
            { Effect: "Allow", Action: "secretsmanager:DescribeSecret", Resource: MASTER_SECRET_ARN },
            { Effect: "Allow", Action: "secretsmanager:GetSecretValue", NotResource: "arn:aws:secretsmanager:*:*:secret:rds!*" },
        );
        // Act
        const reported = await validateStack(RULE, specs);
        // Assess
        assert.deepEqual(reported, []);
    });

    it("still catches a grant on \"*\" while the secret's ARN is unknown (preview), and passes an exact other secret", async () => {
        // Prepare
        const specs = withUsersPolicy(readSecret("*"), readSecret(`arn:aws:secretsmanager:${REGION}:${ACCOUNT}:secret:stripe-api-key-AbCdEf`)).map((spec) =>
            spec.type === Types.rdsCluster ? { ...spec, props: withField(spec.props, "masterUserSecrets", UNKNOWN_STRING_SENTINEL) } : spec,
        );
        // Act
        const reported = await validateStack(RULE, specs);
        // Assess
        assert.deepEqual(reported.map((r) => r.message.match(/allows (.*?)\. Only/)?.[1]), ['"secretsmanager:GetSecretValue" on "*"']);
    });

    it("has nothing to check in a stack without a managed master secret", async () => {
        // Prepare
        const specs = withUsersPolicy(readSecret("*")).filter((spec) => spec.type !== Types.rdsCluster);
        // Act
        const reported = await validateStack(RULE, specs);
        // Assess
        assert.deepEqual(reported, []);
    });
});

function withRoleField(spec: StackSpec, field: string, value: unknown): StackSpec {
    return { ...spec, props: withField(spec.props, field, value) };
}
