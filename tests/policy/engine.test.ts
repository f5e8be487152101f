/**
 * The offline engine (`tools/policy-engine.ts`) over a synthetic stack shaped like the program's:
 * a compliant stack passes under both stacks' pack configs, and each planted violation is
 * reported at the right level, naming the resource.
 */
import { strict as assert } from "assert";
import * as path from "path";
import { Types } from "../../policy/lib/types";
import { UNKNOWN_STRING_SENTINEL } from "../../policy/lib/unknown";
import type { Policies } from "../../policy/lib/sdk";
import { policies } from "../../policy/policies";
import { ResourceRecord } from "../../tools/registered-resource";
import { PackConfig, effectiveLevel, formatReport, loadPackConfig, runPolicies } from "../../tools/policy-engine";
import {
    ACCOUNT,
    REGION,
    clusterInstanceProps,
    clusterProps,
    databaseFunctionProps,
    functionProps,
    logGroupProps,
    migrationInvocationProps,
    rolePolicyProps,
    stageProps,
} from "./fixtures";
import { withField } from "./harness";

const PROD = loadPackConfig(path.join(__dirname, "..", "..", "policy", "config.prod.json"));
const DEV = loadPackConfig(path.join(__dirname, "..", "..", "policy", "config.dev.json"));

const urn = (type: string, name: string) => `urn:pulumi:prod::serverless-microservices::${type}::${name}`;

function resource(type: string, name: string, inputs: Record<string, any>, extra: Partial<ResourceRecord> & { outputs?: Record<string, any> } = {}): ResourceRecord {
    return {
        urn: urn(type, name),
        type,
        name,
        custom: true,
        inputs,
        outputs: { ...inputs, id: `${name}-id`, ...(extra.outputs ?? {}) },
        dependencies: Object.values(extra.propertyDependencies ?? {}).flat(),
        propertyDependencies: extra.propertyDependencies ?? {},
        protect: false,
    };
}

/** A compliant stack: one API route to one function's alias, a database function, the cluster, IAM, error alarms, a deployment group per function. */
function syntheticStack(): ResourceRecord[] {
    const fnArn = `arn:aws:lambda:${REGION}:${ACCOUNT}:function:users-get-user`;
    const dbFnArn = `arn:aws:lambda:${REGION}:${ACCOUNT}:function:users-create-user`;
    return [
        { urn: urn("pulumi:pulumi:Stack", "serverless-microservices-prod"), type: "pulumi:pulumi:Stack", name: "serverless-microservices-prod", custom: false, inputs: {}, outputs: {}, dependencies: [], propertyDependencies: {}, protect: false },
        resource(Types.logGroup, "users-get-user-logs", logGroupProps("/aws/lambda/users-get-user", 30)),
        resource(Types.logGroup, "users-create-user-logs", logGroupProps("/aws/lambda/users-create-user", 30)),
        resource(Types.logGroup, "api-access-logs", logGroupProps("/aws/apigateway/api", 30)),
        resource(Types.iamRole, "users-role", { assumeRolePolicy: JSON.stringify({ Statement: [{ Effect: "Allow", Principal: { Service: "lambda.amazonaws.com" }, Action: "sts:AssumeRole" }] }) }),
        resource(Types.iamRolePolicy, "users-role-policy", rolePolicyProps(), { propertyDependencies: { role: [urn(Types.iamRole, "users-role")] } }),
        resource(Types.iamRolePolicyAttachment, "users-role-vpc", { role: "users-role", policyArn: "arn:aws:iam::aws:policy/service-role/AWSLambdaVPCAccessExecutionRole" }),
        resource(Types.lambdaFunction, "users-get-user", functionProps("users-get-user"), {
            outputs: { arn: fnArn, invokeArn: `arn:aws:apigateway:${REGION}:lambda:path/2015-03-31/functions/${fnArn}/invocations` },
            propertyDependencies: { loggingConfig: [urn(Types.logGroup, "users-get-user-logs")], role: [urn(Types.iamRole, "users-role")] },
        }),
        resource(Types.lambdaFunction, "users-create-user", databaseFunctionProps("users-create-user", 10), {
            outputs: { arn: dbFnArn },
            propertyDependencies: { loggingConfig: [urn(Types.logGroup, "users-create-user-logs")] },
        }),
        resource("aws:apigatewayv2/api:Api", "api", { protocolType: "HTTP", name: "api" }),
        resource(Types.httpApiStage, "api-stage", stageProps(), { propertyDependencies: { apiId: [urn("aws:apigatewayv2/api:Api", "api")] } }),
        // Every function behind its live alias, which the integration invokes.
        ...["users-get-user", "users-create-user"].map((fn) =>
            resource(Types.lambdaAlias, `${fn}-live`, { name: "live", functionName: fn, functionVersion: "1" }, {
                outputs: { arn: `arn:aws:lambda:${REGION}:${ACCOUNT}:function:${fn}:live` },
                propertyDependencies: { functionName: [urn(Types.lambdaFunction, fn)] },
            })),
        resource(Types.httpApiIntegration, "users-get-user-integration",
            { apiId: "api-id", integrationType: "AWS_PROXY", integrationUri: `${fnArn}:live`, payloadFormatVersion: "2.0", timeoutMilliseconds: 30000 },
            { propertyDependencies: { integrationUri: [urn(Types.lambdaAlias, "users-get-user-live")] } }),
        resource(Types.httpApiRoute, "users-get-user-route",
            { apiId: "api-id", routeKey: "GET /users/{id}", target: "integrations/users-get-user-integration-id", authorizationType: "JWT", authorizerId: "jwt-id" },
            { propertyDependencies: { target: [urn(Types.httpApiIntegration, "users-get-user-integration")] } }),
        resource(Types.rdsCluster, "db", clusterProps(), { protect: true } as Partial<ResourceRecord>),
        resource(Types.lambdaInvocation, "users-migrations", migrationInvocationProps({ service: "users", connectionLimit: 10 })),
        resource(Types.rdsClusterInstance, "db-writer", clusterInstanceProps()),
        // Each released gradually by a deployment group that rolls back on its error alarm.
        ...["users-get-user", "users-create-user"].map((fn) =>
            resource(Types.codedeployDeploymentGroup, `releases-${fn}`, {
                appName: "serverless-microservices-prod",
                deploymentGroupName: fn,
                deploymentConfigName: "CodeDeployDefault.LambdaCanary10Percent5Minutes",
                alarmConfiguration: { enabled: true, alarms: [`${fn}-errors`] },
                autoRollbackConfiguration: { enabled: true, events: ["DEPLOYMENT_FAILURE", "DEPLOYMENT_STOP_ON_ALARM"] },
                tags: { function: fn },
            }, { propertyDependencies: { tags: [urn(Types.lambdaFunction, fn)] } })),
        ...["users-get-user", "users-create-user"].map((fn) =>
            resource("aws:cloudwatch/metricAlarm:MetricAlarm", `${fn}-errors`,
                { name: `${fn}-errors`, namespace: "AWS/Lambda", metricName: "Errors", dimensions: { FunctionName: fn }, statistic: "Sum", period: 300, evaluationPeriods: 1, threshold: 1, comparisonOperator: "GreaterThanOrEqualToThreshold" },
                { propertyDependencies: { dimensions: [urn(Types.lambdaFunction, fn)] } })),
    ];
}

/** The synthetic stack with one resource's input changed (`undefined` removes it). */
function planted(name: string, field: string, value: unknown, resources = syntheticStack()): ResourceRecord[] {
    return resources.map((r) => r.name !== name ? r : {
        ...r,
        inputs: withField(r.inputs, field, value),
        outputs: withField(r.outputs ?? {}, field, value),
    });
}

const summary = (violations: { policy: string; level: string; resourceName?: string }[]) =>
    violations.map((v) => `${v.level} ${v.policy} ${v.resourceName ?? "(stack)"}`).sort();

describe("policy engine (offline run)", () => {
    it("passes the compliant synthetic stack under the prod and dev pack configs", async () => {
        // Prepare
        const resources = syntheticStack();
        // Act
        const prod = await runPolicies(resources, PROD);
        const dev = await runPolicies(resources, DEV);
        // Assess
        assert.deepEqual(prod.violations, []);
        assert.deepEqual(dev.violations, []);
        // Prod's config disables no policy.
        assert.equal(prod.policiesRun, policies.length);
    });

    it("reports a 60 s function behind an API route as mandatory, naming the function", async () => {
        // Prepare
        const resources = planted("users-get-user", "timeout", 60);
        // Act
        const result = await runPolicies(resources, PROD);
        // Assess
        assert.deepEqual(summary(result.violations), [
            "mandatory api-timeout-budget users-get-user",
            "mandatory lambda-timeout-bounds users-get-user",
        ]);
        assert.equal(result.violations[0].urn, urn(Types.lambdaFunction, "users-get-user"));
    });

    it("reports memory above the bound as mandatory", async () => {
        // Prepare
        const resources = planted("users-get-user", "memorySize", 4096);
        // Act
        const result = await runPolicies(resources, PROD);
        // Assess
        assert.deepEqual(summary(result.violations), ["mandatory lambda-memory-bounds users-get-user"]);
    });

    it("reports unset memory as mandatory", async () => {
        // Prepare
        const resources = planted("users-get-user", "memorySize", undefined);
        // Act
        const result = await runPolicies(resources, PROD);
        // Assess
        assert.deepEqual(summary(result.violations), ["mandatory lambda-memory-bounds users-get-user"]);
        assert.match(result.violations[0].message, /^Memory size is not set/);
    });

    it("reports Text logging as mandatory", async () => {
        // Prepare
        const resources = planted("users-get-user", "loggingConfig.logFormat", "Text");
        // Act
        const result = await runPolicies(resources, PROD);
        // Assess
        assert.deepEqual(summary(result.violations), ["mandatory lambda-json-logging users-get-user"]);
    });

    it("reports a log group without retention on the group and on the function logging into it", async () => {
        // Prepare
        const resources = planted("users-get-user-logs", "retentionInDays", undefined);
        // Act
        const result = await runPolicies(resources, PROD);
        // Assess
        assert.deepEqual(summary(result.violations), [
            "mandatory lambda-log-group-in-stack users-get-user",
            "mandatory log-group-retention users-get-user-logs",
        ]);
    });

    it("reports a stage without access logs as mandatory", async () => {
        // Prepare
        const resources = planted("api-stage", "accessLogSettings", undefined);
        // Act
        const result = await runPolicies(resources, PROD);
        // Assess
        assert.deepEqual(summary(result.violations), ["mandatory api-stage-access-logs api-stage"]);
    });

    it("reports an unencrypted cluster as mandatory", async () => {
        // Prepare
        const resources = planted("db", "storageEncrypted", false);
        // Act
        const result = await runPolicies(resources, PROD);
        // Assess
        assert.deepEqual(summary(result.violations), ["mandatory rds-storage-encrypted db"]);
    });

    it("reports an AdministratorAccess attachment as mandatory", async () => {
        // Prepare
        const resources = planted("users-role-vpc", "policyArn", "arn:aws:iam::aws:policy/AdministratorAccess");
        // Act
        const result = await runPolicies(resources, PROD);
        // Assess
        // AdministratorAccess also reads every secret, the database's master secret among them.
        assert.deepEqual(summary(result.violations), ["mandatory db-master-secret-migration-only users-role-vpc", "mandatory iam-no-broad-managed-policies users-role-vpc"]);
    });

    it("reports a database function whose role has no connection limit as advisory only", async () => {
        // Prepare
        const resources = planted("users-create-user", "environment.variables.DB_USER", "reports_app");
        // Act
        const result = await runPolicies(resources, PROD);
        // Assess
        assert.deepEqual(summary(result.violations), ["advisory db-connection-budget users-create-user"]);
        assert.equal(result.mandatory, 0);
    });

    it("holds a dev-shaped cluster to prod's stricter config but not to dev's", async () => {
        // Prepare
        const resources = planted("db", "backupRetentionPeriod", 1, planted("db", "deletionProtection", false));
        // Act
        const dev = await runPolicies(resources, DEV);
        const prod = await runPolicies(resources, PROD);
        // Assess
        assert.deepEqual(dev.violations, []);
        assert.deepEqual(summary(prod.violations), ["mandatory rds-backup-retention db", "mandatory rds-deletion-protection db"]);
    });

    it("skips inputs that are unknown during preview without crashing", async () => {
        // Prepare
        const resources = planted("users-get-user", "timeout", UNKNOWN_STRING_SENTINEL);
        // Act
        const result = await runPolicies(resources, PROD);
        // Assess
        assert.deepEqual(result.violations, []);
    });

    it("turns a rule that reads an unknown value through the proxy into an advisory, as the engine does", async () => {
        // Prepare
        const naive: Policies = [{
            name: "naive",
            description: "reads props without guarding against unknowns",
            enforcementLevel: "mandatory",
            validateResource: (args, report) => {
                if (args.type === Types.lambdaFunction && args.props.timeout > 29) report("too slow");
            },
        }];
        const resources = planted("users-get-user", "timeout", UNKNOWN_STRING_SENTINEL);
        // Act
        const result = await runPolicies(resources, {}, naive);
        // Assess
        assert.deepEqual(result.violations.map((v) => [v.level, v.resourceName, v.message]), [[
            "advisory",
            "users-get-user",
            "can't run policy 'naive' during preview: string value at .timeout can't be known during preview",
        ]]);
    });

    it("takes a policy's level from its config entry, then from \"all\", then from the policy", () => {
        // Prepare
        const policy = { name: "p", enforcementLevel: "mandatory" as const };
        // Act
        const levels = [
            effectiveLevel(policy, {}),
            effectiveLevel(policy, { all: "advisory" }),
            effectiveLevel(policy, { all: "advisory", p: { enforcementLevel: "mandatory" } }),
            effectiveLevel(policy, { p: "disabled" }),
        ];
        // Assess
        assert.deepEqual(levels, ["mandatory", "advisory", "mandatory", "disabled"]);
    });

    it("lets the pack config downgrade or disable a rule", async () => {
        // Prepare
        const resources = planted("users-get-user", "timeout", 60);
        const config: PackConfig = { ...PROD, "lambda-timeout-bounds": { enforcementLevel: "advisory", maxSeconds: 29 }, "api-timeout-budget": "disabled" };
        // Act
        const result = await runPolicies(resources, config);
        // Assess
        assert.deepEqual(summary(result.violations), ["advisory lambda-timeout-bounds users-get-user"]);
        assert.equal(result.policiesRun, policies.length - 1);
    });

    it("prints violations grouped by level with the resource named, and a summary line", async () => {
        // Prepare
        const resources = planted("users-create-user", "environment.variables.DB_USER", "reports_app", planted("users-get-user", "timeout", 60));
        const result = await runPolicies(resources, PROD);
        // Act
        const text = formatReport(result, "Policy pack on stack prod");
        // Assess
        const lines = text.split("\n");
        assert.equal(lines[0], "Policy pack on stack prod");
        assert.ok(lines.indexOf("MANDATORY (2)") < lines.indexOf("ADVISORY (1)"));
        assert.ok(lines.includes("  [lambda-timeout-bounds] users-get-user (aws:lambda/function:Function)"));
        assert.equal(lines[lines.length - 1], `Policy check FAILED: 2 mandatory, 1 advisory violation(s); ${policies.length} policies over 22 resources.`);
    });
});
