/**
 * Safe releases under mocks, over both stack files and the real registry: every function but the
 * migration runner publishes versions behind its `live` alias, every trigger invokes that alias,
 * the alias follows each `up` in an all-at-once stack and is left to CodeDeploy in a gradual one,
 * whose deployment groups name the configuration, the stack's alarms and the automatic rollback.
 */
import * as assert from "node:assert/strict";
import { deploymentConfigName, isGradual, parseStackConfig } from "../../platform/config/stack-config";
import { alarmName } from "../../platform/naming";
import { releaseAlarmIds } from "../../infra/components/monitoring";
import { ComponentTypes, Types } from "../../policy/lib/types";
import { ServiceReleases, serviceReleasesProblems, type ReleasedFunction } from "../../infra/components/releases";
import { ofType, one } from "../../testing/graph";
import { readStackConfig, runProgramOffline, type OfflineRun } from "../../tools/offline";
import type { RegisteredResource } from "../../tools/registered-resource";

const LIVE = "live";

/** Lambda ARNs a policy document allows invoking. */
function invokedArns(policy: string): string[] {
    const document = JSON.parse(policy) as { Statement: { Action: string | string[]; Resource: string | string[] }[] };
    return document.Statement.filter((statement) => [statement.Action].flat().includes("lambda:InvokeFunction")).flatMap((statement) => [statement.Resource].flat());
}

describe("safe releases under mocks", function () {
    this.timeout(120_000);

    for (const stack of ["dev", "prod"] as const) {
        describe(`${stack} stack`, () => {
            let run: OfflineRun;
            const config = parseStackConfig(stack, readStackConfig(stack));
            const gradual = isGradual(config.release);
            const functions = () => ofType(run, Types.lambdaFunction);
            const migration = () => functions().find((fn) => fn.name === "migrations-launcher")!;
            const migrationWorker = () => functions().find((fn) => fn.name === "migrations-function")!;
            const released = () => functions().filter((fn) => fn !== migration() && fn !== migrationWorker());
            const aliasOf = (fn: RegisteredResource) => ofType(run, Types.lambdaAlias).find((alias) => alias.inputs.functionName === fn.outputs.name);
            const aliasArns = () => new Set(ofType(run, Types.lambdaAlias).map((alias) => alias.outputs.arn));

            before(async () => {
                run = await runProgramOffline({ stack });
            });

            it(`gives every function but the migration runner's two a published version and one live alias, which ${gradual ? "the program creates at the first version and then leaves to CodeDeploy" : "the program points at each new version"}`, () => {
                // Assess
                assert.ok(released().length > 0);
                assert.equal(ofType(run, Types.lambdaAlias).length, released().length);
                for (const fn of released()) {
                    const alias = aliasOf(fn);
                    assert.ok(alias, `${fn.name} has no alias`);
                    assert.equal(fn.inputs.publish, true, fn.name);
                    assert.equal(alias.inputs.name, LIVE);
                    assert.equal(alias.inputs.functionVersion, fn.outputs.version, fn.name);
                    assert.deepEqual(alias.ignoreChanges, gradual ? ["functionVersion", "routingConfig"] : undefined, fn.name);
                }
            });

            it("invokes the migration runner's newest code directly: no alias, no published version, each service's invocation of the launcher and the launcher's of the worker unqualified", () => {
                // Prepare
                const invocations = ofType(run, Types.lambdaInvocation);
                // Assess
                for (const fn of [migration(), migrationWorker()]) {
                    assert.ok(!fn.inputs.publish, fn.name);
                    assert.equal(aliasOf(fn), undefined, fn.name);
                }
                assert.equal(migration().inputs.environment.variables.MIGRATION_WORKER_FUNCTION, migrationWorker().outputs.name);
                assert.deepEqual(invokedArns(one(run, Types.iamRolePolicy, "migrations-launcher-permissions").inputs.policy), [migrationWorker().outputs.arn]);
                assert.ok(invocations.length > 0);
                for (const invocation of invocations) {
                    assert.equal(invocation.inputs.functionName, migration().outputs.name, invocation.name);
                    assert.equal(invocation.inputs.qualifier, undefined, invocation.name);
                }
            });

            it("points every HTTP integration at a live alias, qualifies each invoke permission with it, and creates the permission first (an integration without it answers 500)", () => {
                // Prepare
                const integrations = ofType(run, Types.httpApiIntegration).filter((integration) => integration.inputs.integrationType === "AWS_PROXY");
                const permissions = ofType(run, Types.lambdaPermission);
                const permissionOf = (integration: RegisteredResource) => permissions.find((permission) => permission.parent === integration.parent)!;
                // Assess
                assert.ok(integrations.length > 0);
                for (const integration of integrations) {
                    assert.ok(aliasArns().has(integration.inputs.integrationUri), `${integration.name}: ${integration.inputs.integrationUri}`);
                    assert.ok(integration.dependencies.includes(permissionOf(integration).urn), `${integration.name} may switch before its permission exists`);
                }
                // Besides the API's: the outbox wake rules' (on-alarm), which invoke the relay's alias too.
                assert.equal(permissions.filter((permission) => permission.inputs.principal === "apigateway.amazonaws.com").length, integrations.length);
                for (const permission of permissions) assert.equal(permission.inputs.qualifier, LIVE, permission.name);
            });

            it("maps every queue to a live alias", () => {
                // Prepare
                const mappings = ofType(run, Types.lambdaEventSourceMapping);
                // Assess
                assert.ok(mappings.length > 0);
                for (const mapping of mappings) assert.ok(aliasArns().has(mapping.inputs.functionName), `${mapping.name}: ${mapping.inputs.functionName}`);
            });

            it("has Scheduler (and the outbox wake rules) invoke a live alias, and lets every role invoke only live aliases (but the migration launcher's, which runs the worker's newest code)", () => {
                // Prepare
                const lambdaTargets = ofType(run, Types.schedulerSchedule).filter((schedule) => String(schedule.inputs.target.arn).startsWith("arn:aws:lambda:"));
                const invoked = ofType(run, Types.iamRolePolicy)
                    .filter((policy) => policy.name !== "migrations-launcher-permissions")
                    .flatMap((policy) => invokedArns(policy.inputs.policy));
                // Assess
                // Where relays are checked every minute, the check's schedule invokes a function; on-alarm, the wake rule's target does.
                const ruleTargets = ofType(run, Types.eventTarget).filter((target) => String(target.inputs.arn).startsWith("arn:aws:lambda:"));
                if (config.events.relayWake === "every-minute") assert.ok(lambdaTargets.length > 0, "the outbox relay check's schedule invokes a function");
                else assert.ok(ruleTargets.length > 0, "the outbox wake rule invokes the relay");
                for (const target of ruleTargets) assert.ok(aliasArns().has(target.inputs.arn), `${target.name}: ${target.inputs.arn}`);
                for (const schedule of lambdaTargets) assert.ok(aliasArns().has(schedule.inputs.target.arn), `${schedule.name}: ${schedule.inputs.target.arn}`);
                // Only the check's role invokes a function; an alarm-woken relay is invoked by its rule, under a resource policy.
                if (config.events.relayWake === "every-minute") assert.ok(invoked.length > 0);
                for (const arn of invoked) assert.ok(aliasArns().has(arn), arn);
            });

            it("exports each released function with its alias (and deployment group), the strategy and the versions to keep", () => {
                // Prepare
                const output = run.outputs.releases;
                // Assess
                assert.equal(output.strategy, config.release.strategy);
                assert.equal(output.deploymentConfigName, deploymentConfigName(config.release));
                assert.equal(output.keepVersions, config.release.keepVersions);
                assert.deepEqual(output.functions.map((fn: { functionName: string }) => fn.functionName).sort(), released().map((fn) => fn.outputs.name).sort());
                for (const fn of output.functions) {
                    assert.equal(fn.alias, LIVE);
                    assert.equal(typeof fn.deploymentGroup === "string", gradual, fn.functionName);
                }
                assert.equal(typeof output.application === "string", gradual);
            });

            if (!gradual) {
                it("creates no CodeDeploy application or deployment group", () => {
                    assert.deepEqual([ofType(run, Types.codedeployApplication).length, ofType(run, Types.codedeployDeploymentGroup).length], [0, 0]);
                });
                return;
            }

            it("creates one CodeDeploy application for Lambda and a blue/green deployment group per released function with the stack's configuration", () => {
                // Prepare
                const application = one(run, Types.codedeployApplication);
                const groups = ofType(run, Types.codedeployDeploymentGroup);
                // Assess
                assert.equal(application.inputs.computePlatform, "Lambda");
                assert.equal(groups.length, released().length);
                assert.deepEqual(groups.map((group) => group.inputs.deploymentGroupName).sort(), run.outputs.releases.functions.map((fn: { deploymentGroup: string }) => fn.deploymentGroup).sort());
                for (const group of groups) {
                    assert.equal(group.inputs.appName, application.outputs.name);
                    assert.equal(group.inputs.deploymentConfigName, "CodeDeployDefault.LambdaCanary10Percent5Minutes");
                    assert.deepEqual(group.inputs.deploymentStyle, { deploymentType: "BLUE_GREEN", deploymentOption: "WITH_TRAFFIC_CONTROL" });
                }
            });

            it("stops and rolls back each release on its function's error and duration alarms (and a route's on the API's), all alarms of the stack", () => {
                // Prepare
                const alarms = new Set(ofType(run, Types.metricAlarm).map((alarm) => alarm.inputs.name));
                const byGroup = new Map(ofType(run, Types.codedeployDeploymentGroup).map((group) => [group.inputs.deploymentGroupName, group]));
                // Assess
                for (const fn of run.outputs.releases.functions) {
                    const group = byGroup.get(fn.deploymentGroup)!;
                    const isRoute = released().some((candidate) => candidate.outputs.name === fn.functionName && candidate.inputs.environment.variables.ROUTE_KEY);
                    const expected = releaseAlarmIds(fn.service, fn.id, isRoute).map((id) => alarmName("serverless-microservices", stack, id));
                    assert.deepEqual(group.inputs.alarmConfiguration, { enabled: true, alarms: expected, ignorePollAlarmFailure: false }, fn.deploymentGroup);
                    for (const name of expected) assert.ok(alarms.has(name), `${fn.deploymentGroup} names ${name}, which the stack does not create`);
                    assert.deepEqual(group.inputs.autoRollbackConfiguration, { enabled: true, events: ["DEPLOYMENT_FAILURE", "DEPLOYMENT_STOP_ON_ALARM"] });
                }
            });

            it("runs CodeDeploy as a role of its own that may read alarms (the application's grant) and move each service's own functions' aliases (one grant per service)", () => {
                // Prepare
                const group = ofType(run, Types.codedeployDeploymentGroup)[0];
                const role = ofType(run, Types.iamRole).find((candidate) => candidate.outputs.arn === group.inputs.serviceRoleArn)!;
                const policies = ofType(run, Types.iamRolePolicy).filter((candidate) => candidate.inputs.role === role.outputs.id || candidate.inputs.role === role.outputs.name);
                const statementsOf = (policy: RegisteredResource) => JSON.parse(policy.inputs.policy).Statement as { Action: string | string[]; Resource: string | string[] }[];
                const trust = JSON.parse(role.inputs.assumeRolePolicy).Statement[0];
                const services = [...new Set(released().map((fn) => fn.inputs.environment.variables.SERVICE_NAME as string))];
                // Assess
                assert.deepEqual(trust.Principal, { Service: "codedeploy.amazonaws.com" });
                assert.deepEqual(trust.Condition, { StringEquals: { "aws:SourceAccount": "123456789012" } });
                assert.deepEqual(policies.map((policy) => policy.name).sort(), ["releases-permissions", ...services.map((service) => `releases-${service}-permissions`)].sort());
                assert.deepEqual(statementsOf(policies.find((policy) => policy.name === "releases-permissions")!).map((statement) => [statement.Action, statement.Resource]), [["cloudwatch:DescribeAlarms", "*"]]);
                for (const service of services) {
                    const statements = statementsOf(policies.find((policy) => policy.name === `releases-${service}-permissions`)!);
                    const own = released().filter((fn) => fn.inputs.environment.variables.SERVICE_NAME === service);
                    assert.deepEqual(statements.map((statement) => statement.Action), [["lambda:GetAlias", "lambda:UpdateAlias", "lambda:GetProvisionedConcurrencyConfig"]], service);
                    assert.deepEqual(new Set([statements[0].Resource].flat()), new Set(own.flatMap((fn) => [fn.outputs.arn, `${fn.outputs.arn}:${LIVE}`])), service);
                }
                assert.equal(ofType(run, Types.iamRolePolicyAttachment).length, 0);
            });

            it("keeps the application and its role in ReleaseApplication, and each service's groups and grant in that service's ServiceReleases, which the platform needs nothing of", () => {
                // Prepare
                const parentOf = (resource: RegisteredResource) => run.resources.find((candidate) => candidate.urn === resource.parent)!;
                const application = one(run, ComponentTypes.releaseApplication);
                // Assess
                assert.equal(one(run, Types.codedeployApplication).parent, application.urn);
                for (const group of ofType(run, Types.codedeployDeploymentGroup)) {
                    const part = parentOf(group);
                    assert.equal(part.type, ComponentTypes.serviceReleases, group.name);
                    const service = part.name.slice("releases-".length);
                    assert.ok(group.inputs.deploymentGroupName.startsWith(`${service}-`), `${group.inputs.deploymentGroupName} in ${part.name}`);
                    assert.equal(group.inputs.appName, one(run, Types.codedeployApplication).outputs.name);
                }
            });
        });
    }
});

describe("a service's releases refuse what is not theirs, before registering anything", () => {
    // The checks run before the component registers itself: no Pulumi runtime is needed to see them throw.
    const released = (service: string, alarmIds: string[]) => ({ service, id: "get-users", function: {} as ReleasedFunction["function"], alarmIds });
    const args = (functions: ReleasedFunction[]) => ({
        environment: "prod",
        service: "users",
        release: { strategy: "canary", canary: { percent: 10, minutes: 5 }, keepVersions: 3 } as never,
        applicationName: "serverless-microservices-prod",
        roleArn: "arn:aws:iam::123456789012:role/releases-role",
        roleName: "releases-role",
        functions,
    });

    it("its own functions with 1 to 10 alarms each: no problem", () => {
        assert.deepEqual(serviceReleasesProblems(args([released("users", releaseAlarmIds("users", "get-users", true))])), []);
    });

    it("a function of another service", () => {
        assert.throws(() => new ServiceReleases("releases-users", args([released("users", ["users-get-users-errors"]), released("auth", ["auth-get-users-errors"])])), /^Error: ServiceReleases of service "users" cannot be made:\n  - auth\/get-users: belongs to service "auth"; a service releases its own functions only$/);
    });

    it("a function whose group would watch no alarm, or more than CodeDeploy takes", () => {
        assert.throws(() => new ServiceReleases("releases-users", args([released("users", [])])), /users\/get-users: names 0 alarms; a deployment group takes 1 to 10/);
        assert.throws(() => new ServiceReleases("releases-users", args([released("users", Array.from({ length: 11 }, (_, i) => `alarm-${i}`))])), /users\/get-users: names 11 alarms; a deployment group takes 1 to 10/);
    });
});
