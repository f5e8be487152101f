/**
 * During preview any input may be unknown. Whatever a rule reads, it must neither crash nor
 * report a violation for a value it cannot know yet.
 */
import { strict as assert } from "assert";
import { policies } from "../../policy/policies";
import { Types } from "../../policy/lib/types";
import { unknownCheckingProxy } from "../../policy/lib/preview";
import { UNKNOWN_STRING_SENTINEL } from "../../policy/lib/unknown";
import { apiChain, clusterInstanceProps, clusterProps, databaseFunctionProps, ecsServiceProps, logGroupProps, privateIntegrationProps, rolePolicyProps, stageProps, taskDefinitionProps } from "./fixtures";
import { StackSpec, validateResource, validateStack } from "./harness";

/** Every top-level input replaced by the unknown sentinel. */
function allUnknown(props: Record<string, unknown>): Record<string, unknown> {
    return Object.fromEntries(Object.keys(props).map((key) => [key, UNKNOWN_STRING_SENTINEL]));
}

const SAMPLES: { type: string; props: Record<string, unknown> }[] = [
    { type: Types.lambdaFunction, props: databaseFunctionProps() },
    { type: Types.logGroup, props: logGroupProps() },
    { type: Types.httpApiStage, props: stageProps() },
    { type: Types.httpApiRoute, props: { apiId: "api", routeKey: "POST /orders", target: "integrations/i", authorizationType: "NONE" } },
    { type: Types.rdsCluster, props: clusterProps() },
    { type: Types.rdsClusterInstance, props: clusterInstanceProps() },
    { type: Types.iamRolePolicy, props: rolePolicyProps() },
    { type: Types.iamRolePolicyAttachment, props: { role: "r", policyArn: "arn:aws:iam::aws:policy/AdministratorAccess" } },
    { type: Types.iamRole, props: { assumeRolePolicy: "{}", managedPolicyArns: [], inlinePolicies: [] } },
    { type: Types.ecsTaskDefinition, props: taskDefinitionProps() },
    { type: Types.ecsService, props: ecsServiceProps() },
    { type: Types.httpApiIntegration, props: privateIntegrationProps() },
    { type: Types.schedulerSchedule, props: { scheduleExpression: "rate(1 day)", target: { arn: "q", roleArn: "r" } } },
    { type: Types.eventTarget, props: { rule: "r", arn: "q", retryPolicy: { maximumRetryAttempts: 1 }, deadLetterConfig: { arn: "d" } } },
    { type: Types.lambdaPermission, props: { action: "lambda:InvokeFunction", function: "f", qualifier: "live", principal: "events.amazonaws.com", sourceArn: "arn:aws:events:us-east-1:123456789012:rule/r" } },
    { type: Types.rdsClusterParameterGroup, props: { family: "aurora-postgresql17", parameters: [{ name: "log_statement", value: "ddl" }] } },
    { type: Types.securityGroupEgressRule, props: { securityGroupId: "sg", ipProtocol: "tcp", fromPort: 5432, toPort: 5432, referencedSecurityGroupId: "sg-db" } },
];

describe("unknown values during preview", () => {
    const resourcePolicyNames = policies.filter((p) => "validateResource" in p).map((p) => p.name);
    const stackPolicyNames = policies.filter((p) => "validateStack" in p).map((p) => p.name);

    for (const name of resourcePolicyNames) {
        it(`${name} reports nothing when every input is unknown, read through the engine's proxy`, async () => {
            // Prepare
            const specs = SAMPLES.map((s) => ({ type: s.type, props: unknownCheckingProxy(allUnknown(s.props)) }));
            // Act
            const results = await Promise.all(specs.map((spec) => validateResource(name, spec)));
            // Assess
            for (const result of results) {
                assert.ok(result === "not applicable" || result.length === 0, `${name}: ${JSON.stringify(result)}`);
            }
        });
    }

    for (const name of stackPolicyNames) {
        it(`${name} reports nothing when every property of every resource is unknown`, async () => {
            // Prepare
            const specs: StackSpec[] = [
                ...apiChain({ functionTimeout: 60 }),
                { type: Types.lambdaFunction, name: "db", props: databaseFunctionProps("db") },
                { type: Types.logGroup, name: "logs", props: logGroupProps() },
            ].map((s) => ({ ...s, props: unknownCheckingProxy(allUnknown(s.props)) }));
            // Act
            const reported = await validateStack(name, specs);
            // Assess
            assert.deepEqual(reported, []);
        });
    }

    it("the samples reach every resource policy, so the checks above are not vacuous", async () => {
        // Prepare
        const reached = new Set<string>();
        // Act
        for (const name of resourcePolicyNames) {
            for (const sample of SAMPLES) {
                if ((await validateResource(name, sample)) !== "not applicable") {
                    reached.add(name);
                }
            }
        }
        // Assess
        assert.deepEqual(resourcePolicyNames.filter((name) => !reached.has(name)), []);
    });
});
