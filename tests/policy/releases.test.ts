/**
 * The release rules: `lambda-trigger-alias` (every trigger invokes an alias, never $LATEST) and
 * `lambda-release-rollback` (every function but the migration one has a deployment group with
 * alarms and automatic rollback), each with its compliant shape, one failing field at a time, and
 * both real stacks: passing as the program builds them, failing where a violation is planted.
 */
import { strict as assert } from "assert";
import * as path from "node:path";
import { Types } from "../../policy/lib/types";
import { UNKNOWN_STRING_SENTINEL } from "../../policy/lib/unknown";
import { runProgramOffline } from "../../tools/offline";
import { loadPackConfig, PACK_DIR, runPolicies } from "../../tools/policy-engine";
import { type ResourceRecord } from "../../tools/registered-resource";
import { functionProps } from "./fixtures";
import { validateStack, withField, type Props, type StackSpec } from "./harness";

const ACCOUNT = "123456789012";
const FUNCTION_ARN = `arn:aws:lambda:us-east-1:${ACCOUNT}:function:users-get-user`;
const ALIAS_ARN = `${FUNCTION_ARN}:live`;

/** A function, its live alias, and every kind of trigger pointed at the alias, as the program builds them. */
function triggeredStack(): StackSpec[] {
    return [
        { type: Types.lambdaFunction, name: "users-get-user", props: { ...functionProps("users-get-user"), arn: FUNCTION_ARN, publish: true } },
        { type: Types.lambdaAlias, name: "users-get-user-alias", props: { name: "live", functionName: "users-get-user", functionVersion: "3", arn: ALIAS_ARN }, propertyDependencies: { functionName: ["users-get-user"] } },
        { type: Types.httpApiIntegration, name: "users-get-user-integration", props: { integrationType: "AWS_PROXY", integrationUri: ALIAS_ARN }, propertyDependencies: { integrationUri: ["users-get-user-alias"] } },
        { type: Types.lambdaPermission, name: "users-get-user-permission", props: { action: "lambda:InvokeFunction", function: "users-get-user", qualifier: "live", principal: "apigateway.amazonaws.com" } },
        { type: Types.lambdaEventSourceMapping, name: "users-queue", props: { eventSourceArn: `arn:aws:sqs:us-east-1:${ACCOUNT}:users-queue`, functionName: ALIAS_ARN } },
        { type: Types.schedulerSchedule, name: "users-check", props: { scheduleExpression: "rate(1 minute)", target: { arn: ALIAS_ARN, roleArn: `arn:aws:iam::${ACCOUNT}:role/users-scheduler` } } },
        { type: Types.schedulerSchedule, name: "users-purge", props: { scheduleExpression: "rate(1 day)", target: { arn: `arn:aws:sqs:us-east-1:${ACCOUNT}:users-purge`, roleArn: `arn:aws:iam::${ACCOUNT}:role/users-purge` } } },
        { type: Types.eventTarget, name: "users-rule-target", props: { rule: "users-rule", arn: `arn:aws:sqs:us-east-1:${ACCOUNT}:users-welcome` } },
    ];
}

function replaced(specs: StackSpec[], name: string, change: (props: Props) => Props, dropDependencies = false): StackSpec[] {
    return specs.map((spec) => (spec.name === name ? { ...spec, props: change(spec.props), ...(dropDependencies ? { propertyDependencies: undefined } : {}) } : spec));
}

describe("lambda-trigger-alias", () => {
    const RULE = "lambda-trigger-alias";
    const why = "which runs $LATEST: every new version reaches all of its traffic at once and no release can roll it back.";

    it("Compliance 1: accepts an integration, a permission, a mapping and a schedule on the live alias, and targets that are queues", async () => {
        assert.deepEqual(await validateStack(RULE, triggeredStack()), []);
    });

    it("Compliance 2: accepts a published version as the qualifier, and a preview whose values are unknown", async () => {
        // Prepare
        const version = replaced(triggeredStack(), "users-queue", (props) => ({ ...props, functionName: `${FUNCTION_ARN}:3` }));
        const preview = replaced(triggeredStack(), "users-get-user-permission", (props) => ({ ...props, qualifier: UNKNOWN_STRING_SENTINEL }));
        // Act, Assess
        assert.deepEqual(await validateStack(RULE, version), []);
        assert.deepEqual(await validateStack(RULE, preview), []);
    });

    const plants: Array<[string, string, (props: Props) => Props, string]> = [
        ["an integration on the unqualified function", "users-get-user-integration", (props) => ({ ...props, integrationUri: FUNCTION_ARN }), `Integration "users-get-user-integration" invokes "${FUNCTION_ARN}" unqualified, ${why} Point it at the function's alias (live)'s ARN.`],
        ["a permission with no qualifier", "users-get-user-permission", (props) => withField(props, "qualifier", undefined), `Invoke permission "users-get-user-permission" invokes "users-get-user" unqualified, ${why} Point it at the function's alias (live) with \`qualifier\`.`],
        ["a permission qualified with $LATEST", "users-get-user-permission", (props) => ({ ...props, qualifier: "$LATEST" }), `Invoke permission "users-get-user-permission" invokes "users-get-user" unqualified, ${why} Point it at the function's alias (live) with \`qualifier\`.`],
        ["a mapping on the function's name", "users-queue", (props) => ({ ...props, functionName: "users-get-user" }), `Event source mapping "users-queue" invokes "users-get-user" unqualified, ${why} Point it at the function's alias (live)'s ARN.`],
        ["a mapping on $LATEST", "users-queue", (props) => ({ ...props, functionName: `${FUNCTION_ARN}:$LATEST` }), `Event source mapping "users-queue" invokes "${FUNCTION_ARN}:$LATEST" unqualified, ${why} Point it at the function's alias (live)'s ARN.`],
        ["a schedule on the unqualified function", "users-check", (props) => ({ ...props, target: { ...props.target, arn: FUNCTION_ARN } }), `Schedule "users-check" invokes "${FUNCTION_ARN}" unqualified, ${why} Point it at the function's alias (live)'s ARN.`],
        ["a rule target on the unqualified function", "users-rule-target", (props) => ({ ...props, arn: FUNCTION_ARN }), `Event target "users-rule-target" invokes "${FUNCTION_ARN}" unqualified, ${why} Point it at the function's alias (live)'s ARN.`],
    ];
    for (const [index, [what, name, change, message]] of plants.entries()) {
        it(`Noncompliance ${index + 1}: reports ${what}`, async () => {
            // Prepare
            const specs = replaced(triggeredStack(), name, change, true);
            // Act
            const reported = await validateStack(RULE, specs);
            // Assess
            assert.deepEqual(reported, [{ resource: name, message }]);
        });
    }
});

describe("lambda-release-rollback", () => {
    const RULE = "lambda-release-rollback";
    const ALARMS = ["prod-users-get-user-errors", "prod-users-get-user-duration"];

    function releasedStack(): StackSpec[] {
        return [
            { type: Types.lambdaFunction, name: "users-get-user", props: { ...functionProps("users-get-user"), publish: true } },
            { type: Types.lambdaFunction, name: "migrations-function", props: functionProps("migrations-function") },
            { type: Types.lambdaInvocation, name: "migrations-run", props: { functionName: "migrations-function", input: "{}" }, propertyDependencies: { functionName: ["migrations-function"] } },
            ...ALARMS.map((alarm): StackSpec => ({ type: Types.metricAlarm, name: alarm, props: { name: alarm } })),
            {
                type: Types.codedeployDeploymentGroup,
                name: "releases-users-get-user",
                props: {
                    appName: "serverless-microservices-prod",
                    deploymentGroupName: "users-get-user",
                    deploymentConfigName: "CodeDeployDefault.LambdaCanary10Percent5Minutes",
                    alarmConfiguration: { enabled: true, alarms: ALARMS, ignorePollAlarmFailure: false },
                    autoRollbackConfiguration: { enabled: true, events: ["DEPLOYMENT_FAILURE", "DEPLOYMENT_STOP_ON_ALARM"] },
                    tags: { function: "users-get-user" },
                },
                propertyDependencies: { tags: ["users-get-user"] },
            },
        ];
    }
    const group = (change: (props: Props) => Props) => replaced(releasedStack(), "releases-users-get-user", change);
    const groupMessage = (problems: string) => `Deployment group "releases-users-get-user" of function "users-get-user" has ${problems}: a bad version would keep its traffic.`;

    it("Compliance 1: accepts a function released by a group with the stack's alarms and rollback on failure and on alarm; the migration function needs none", async () => {
        assert.deepEqual(await validateStack(RULE, releasedStack()), []);
    });

    it("Compliance 2: finds the group by its function tag when no dependency was recorded", async () => {
        // Prepare
        const specs = releasedStack().map((spec) => (spec.type === Types.codedeployDeploymentGroup ? { ...spec, propertyDependencies: undefined } : spec));
        // Act, Assess
        assert.deepEqual(await validateStack(RULE, specs), []);
    });

    it("Noncompliance 1: reports a function no deployment group releases", async () => {
        // Prepare
        const specs = releasedStack().filter((spec) => spec.type !== Types.codedeployDeploymentGroup);
        // Act
        const reported = await validateStack(RULE, specs);
        // Assess
        assert.deepEqual(reported, [
            { resource: "users-get-user", message: 'Function "users-get-user" has no CodeDeploy deployment group: each new version takes all of its traffic at once, with nothing to roll it back. Release it gradually (release.strategy canary or linear).' },
        ]);
    });

    it("Noncompliance 2: reports a group whose alarms are off or missing", async () => {
        assert.deepEqual(await validateStack(RULE, group((props) => withField(props, "alarmConfiguration.enabled", false))), [{ resource: "releases-users-get-user", message: groupMessage("no alarms enabled (alarmConfiguration)") }]);
        assert.deepEqual(await validateStack(RULE, group((props) => withField(props, "alarmConfiguration", undefined))), [{ resource: "releases-users-get-user", message: groupMessage("no alarms enabled (alarmConfiguration)") }]);
    });

    it("Noncompliance 3: reports a group naming an alarm the stack does not create", async () => {
        assert.deepEqual(await validateStack(RULE, group((props) => withField(props, "alarmConfiguration.alarms", ["prod-users-get-user-errros"]))), [
            { resource: "releases-users-get-user", message: groupMessage("alarms neither the stack nor the platform creates (prod-users-get-user-errros)") },
        ]);
    });

    it("Compliance 3: accepts a group naming alarms the platform stack creates (a service stack's route group watches the API's), when the config lists them", async () => {
        // Prepare
        const apiAlarms = ["prod-api-5xx-rate", "prod-api-latency-p99"];
        const specs = group((props) => withField(props, "alarmConfiguration.alarms", [...ALARMS, ...apiAlarms]));
        // Act, Assess
        assert.deepEqual(await validateStack(RULE, specs, { platformAlarmNames: apiAlarms }), []);
        assert.deepEqual(await validateStack(RULE, specs, { platformAlarmNames: ["prod-api-5xx-rate"] }), [
            { resource: "releases-users-get-user", message: groupMessage("alarms neither the stack nor the platform creates (prod-api-latency-p99)") },
        ]);
    });

    it("Noncompliance 4: reports a group that does not roll back on an alarm, or not at all", async () => {
        assert.deepEqual(await validateStack(RULE, group((props) => withField(props, "autoRollbackConfiguration.events", ["DEPLOYMENT_FAILURE"]))), [
            { resource: "releases-users-get-user", message: groupMessage("no automatic rollback on DEPLOYMENT_STOP_ON_ALARM (autoRollbackConfiguration)") },
        ]);
        assert.deepEqual(await validateStack(RULE, group((props) => withField(props, "autoRollbackConfiguration.enabled", false))), [
            { resource: "releases-users-get-user", message: groupMessage("no automatic rollback on DEPLOYMENT_FAILURE and DEPLOYMENT_STOP_ON_ALARM (autoRollbackConfiguration)") },
        ]);
    });
});

describe("the release rules over the real stacks", function () {
    this.timeout(120_000);

    for (const stack of ["dev", "prod"] as const) {
        describe(`${stack} stack`, () => {
            let resources: readonly ResourceRecord[];
            const config = loadPackConfig(path.join(PACK_DIR, `config.${stack}.json`));
            before(async () => {
                resources = (await runProgramOffline({ stack })).resources;
            });

            it(`passes both rules as the program builds the stack${stack === "dev" ? " (lambda-release-rollback is disabled in dev, which releases all at once)" : ""}`, async () => {
                // Act
                const result = await runPolicies(resources, config);
                // Assess
                assert.deepEqual(result.violations.filter((v) => v.policy === "lambda-trigger-alias" || v.policy === "lambda-release-rollback"), []);
                assert.equal(result.violations.some((v) => v.level === "mandatory"), false, JSON.stringify(result.violations.filter((v) => v.level === "mandatory")));
            });

            it("reports lambda-trigger-alias as mandatory when an invoke permission loses its qualifier", async () => {
                // Prepare
                const target = resources.find((r) => r.type === Types.lambdaPermission)!;
                const unqualified = (props: Props) => withField(props, "qualifier", undefined);
                const changed = resources.map((r) => (r === target ? { ...r, inputs: unqualified(r.inputs), outputs: unqualified(r.outputs ?? {}) } : r));
                // Act
                const result = await runPolicies(changed, config);
                // Assess
                const found = result.violations.filter((v) => v.policy === "lambda-trigger-alias");
                assert.deepEqual(found.map((v) => [v.level, v.resourceName]), [["mandatory", target.name]]);
            });

            if (stack === "prod") {
                it("reports lambda-release-rollback as mandatory when a deployment group stops rolling back on alarms", async () => {
                    // Prepare
                    const target = resources.find((r) => r.type === Types.codedeployDeploymentGroup)!;
                    const noRollback = (props: Props) => withField(props, "autoRollbackConfiguration.enabled", false);
                    const changed = resources.map((r) => (r === target ? { ...r, inputs: noRollback(r.inputs), outputs: noRollback(r.outputs ?? {}) } : r));
                    // Act
                    const result = await runPolicies(changed, config);
                    // Assess
                    const found = result.violations.filter((v) => v.policy === "lambda-release-rollback");
                    assert.deepEqual(found.map((v) => [v.level, v.resourceName]), [["mandatory", target.name]]);
                });
            }
        });
    }
});
