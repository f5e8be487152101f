/**
 * The deploy role of a service stack, checked against what the stacks really register (offline,
 * stack-per-service layout): every scoped statement reaches each of the service's own functions,
 * roles, log groups, queues, rules, schedules, alarms and secrets, and none of another service's or
 * the platform's. What AWS cannot narrow is granted on the shared resource only, and a registry
 * whose names would let one service's prefix reach another's is refused in that layout.
 */
import * as assert from "node:assert/strict";
import { defineService } from "../../functions/runtime/service";
import { PROJECT } from "../../platform/config/stack-config";
import { prefixCollisions, serviceDeployPolicy, type PolicyDocument } from "../../platform/deploy-policy";
import { Types } from "../../policy/lib/types";
import { services } from "../../infra/services";
import { runBothLayouts, withLayout, type EnvironmentRuns } from "../../testing/layouts";
import { readStackConfig, runProgramOffline, type OfflineRun } from "../../tools/offline";
import { parseArgs } from "../../tools/deploy-policy";

const ACCOUNT = "123456789012";

/** An IAM resource pattern as a regular expression: `*` any run of characters, `?` one. */
function matcher(pattern: string): RegExp {
    return new RegExp(`^${pattern.replace(/[.+^${}()|[\]\\]/g, "\\$&").replace(/\*/g, ".*").replace(/\?/g, ".")}$`);
}

/** The ARNs of the resources a deploy role creates and changes by name, as AWS shows them. */
function namedArns(run: OfflineRun): string[] {
    return run.resources.flatMap((resource) => {
        switch (resource.type) {
            case Types.lambdaFunction:
            case Types.iamRole:
            case Types.logGroup:
            case Types.sqsQueue:
            case Types.eventRule:
            case Types.schedulerSchedule:
            case Types.secretsManagerSecret:
            case Types.s3Bucket:
                return [String(resource.outputs.arn)];
            case Types.metricAlarm:
                return [`arn:aws:cloudwatch:us-east-1:${ACCOUNT}:alarm:${resource.inputs.name}`];
            case Types.dashboard:
                return [`arn:aws:cloudwatch::${ACCOUNT}:dashboard/${resource.inputs.dashboardName}`];
            case Types.codedeployDeploymentGroup:
                return [`arn:aws:codedeploy:us-east-1:${ACCOUNT}:deploymentgroup:${resource.inputs.appName}/${resource.inputs.deploymentGroupName}`];
            default:
                return [];
        }
    });
}

/** The statements narrowed to the service (the unscopable ones reach shared resources on purpose). */
function scopedPatterns(policy: PolicyDocument): RegExp[] {
    return policy.Statement.filter((statement) => !statement.Sid.endsWith("Unscopable") && !statement.Condition?.ArnLike).flatMap((statement) => statement.Resource.map(matcher));
}

describe("the deploy role of a service stack", function () {
    this.timeout(300_000);
    let runs: EnvironmentRuns;
    before(async () => {
        // prod: alarms, dashboards and a gradual release, so every kind of resource a service names is there.
        runs = await runBothLayouts("prod", readStackConfig("prod"));
    });

    const policyFor = (service: string) =>
        serviceDeployPolicy({ project: PROJECT, environment: "prod", service, region: "us-east-1", account: ACCOUNT, apiId: "a1b2c3d4e5", migrationFunctionName: "migrations-launcher-*" });

    for (const service of services.filter((candidate) => "routes" in candidate)) {
        it(`reaches every resource ${service.name} names, and nothing of another service or the platform`, () => {
            const own = runs.stacks.find((run) => run.stack === `prod-${service.name}`)!;
            const patterns = scopedPatterns(policyFor(service.name));
            const ownArns = namedArns(own);
            assert.ok(ownArns.length > 0);
            assert.deepEqual(ownArns.filter((arn) => !patterns.some((pattern) => pattern.test(arn))), [], "own resources the role cannot reach");
            const others = runs.stacks.filter((run) => run !== own).flatMap(namedArns);
            assert.deepEqual(others.filter((arn) => patterns.some((pattern) => pattern.test(arn))), [], "other stacks' resources the role reaches");
        });
    }

    it("reaches the event bucket of a dev service that hands its events over, and no other service's", async () => {
        // Prepare: dev hands events over through a bucket per publishing database service.
        const dev = await runProgramOffline({ stack: "dev" });
        const buckets = dev.resources.filter((resource) => resource.type === Types.s3Bucket);
        const patterns = (service: string) => scopedPatterns(serviceDeployPolicy({ project: PROJECT, environment: "dev", service, region: "us-east-1", account: ACCOUNT, apiId: "a1b2c3d4e5" }));
        // Assess
        assert.ok(buckets.length > 0, "dev has an event bucket");
        for (const bucket of buckets) {
            const owner = String(bucket.outputs.bucket).replace(/-events-bucket-.*$/, "");
            const arns = [String(bucket.outputs.arn), `${bucket.outputs.arn}/pending/x.json`];
            for (const service of services.map((candidate) => candidate.name)) {
                assert.equal(arns.every((arn) => patterns(service).some((pattern) => pattern.test(arn))), service === owner, `${service} and ${bucket.outputs.bucket}`);
            }
        }
    });

    it("grants routes and stage settings on the shared API alone, and the migration run on the migration function alone", () => {
        const unscoped = policyFor("users").Statement.filter((statement) => statement.Sid.endsWith("Unscopable"));
        assert.deepEqual(unscoped.flatMap((statement) => statement.Resource), [
            "arn:aws:apigateway:us-east-1::/apis/a1b2c3d4e5/routes*",
            "arn:aws:apigateway:us-east-1::/apis/a1b2c3d4e5/integrations*",
            "arn:aws:apigateway:us-east-1::/apis/a1b2c3d4e5/stages/*",
            `arn:aws:iam::${ACCOUNT}:role/releases-role-*`,
            `arn:aws:lambda:us-east-1:${ACCOUNT}:function:migrations-launcher-*`,
        ]);
        const withoutDatabase = serviceDeployPolicy({ project: PROJECT, environment: "dev", service: "auth", region: "us-east-1", account: ACCOUNT, apiId: "a1b2c3d4e5" });
        assert.equal(withoutDatabase.Statement.some((statement) => statement.Action.includes("lambda:InvokeFunction")), false);
    });

    it("finds names that share a prefix, and a stack-per-service environment refuses them before any resource", async () => {
        assert.deepEqual(prefixCollisions(["users", "users-admin", "auth", "authz"]), [["users", "users-admin"]]);
        const route = { description: "Answer", handler: async () => ({ ok: true }) };
        const users = defineService({ name: "users", description: "Users", database: false, routes: { "GET /users": route } });
        const shadow = defineService({ name: "users-admin", description: "Shares the users prefix", database: false, routes: { "GET /admin": route } });
        const perService = { dev: withLayout(readStackConfig("dev"), "stack-per-service") };
        await assert.rejects(
            runProgramOffline({ stack: "dev-platform", services: [users, shadow], environments: perService }),
            /services "users" and "users-admin": in a stack per service, the deploy role of dev-users reaches resources by the prefix "users-"/,
        );
        await assert.doesNotReject(runProgramOffline({ stack: "dev", config: readStackConfig("dev"), services: [users, shadow] }));
    });

    it("the command refuses a wrong account or API id", () => {
        assert.throws(() => parseArgs(["--stack", "dev-users", "--account", "12345"]), /--account takes a 12-digit AWS account id/);
        assert.throws(() => parseArgs(["--stack", "dev-users", "--api-id", "API!"]), /--api-id takes the platform stack's apiId output/);
        assert.throws(() => parseArgs(["--stack", "dev-users", "--layout", "micro"]), /--layout must be one of/);
        assert.deepEqual(parseArgs(["--stack", "dev-users", "--account", ACCOUNT]), { stack: "dev-users", account: ACCOUNT, apiId: "*" });
    });
});
