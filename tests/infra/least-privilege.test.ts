/**
 * Least privilege in the stacks the program deploys (dev and prod, over the real registry): each
 * grant a review of the generated resources found too wide, held to its narrowest form. Network
 * interfaces are created only in the stack's subnets with its functions' group; the functions send
 * PostgreSQL to the database and HTTPS to the endpoints, nothing else; a service principal trusted
 * by a role or a key acts only for this account (and the resource AWS names as its source); the
 * cluster logs DDL.
 */
import * as assert from "node:assert/strict";
import { Types } from "../../policy/lib/types";
import { parseStackConfig } from "../../platform/config/stack-config";
import { readStackConfig, runProgramOffline, type OfflineRun } from "../../tools/offline";
import { type RegisteredResource } from "../../tools/registered-resource";
import { ofType, one } from "../../testing/graph";

const ACCOUNT = "123456789012";
const REGION = "us-east-1";

interface Statement {
    Sid?: string;
    Action: string | string[];
    Resource: string | string[];
    Principal?: { Service?: string };
    Condition?: Record<string, Record<string, string>>;
}

const list = (value: string | string[]) => (Array.isArray(value) ? value : [value]);
const statementsOf = (policy: string): Statement[] => JSON.parse(policy).Statement;

describe("least privilege in the deployed stacks", function () {
    this.timeout(180_000);
    const runs: Record<string, OfflineRun> = {};
    before(async () => {
        for (const stack of ["dev", "prod"]) runs[stack] = await runProgramOffline({ stack });
    });

    for (const stack of ["dev", "prod"]) {
        describe(stack, () => {
            const run = () => runs[stack];
            /** 1 where the stack's outbox relays are checked every minute (a schedule and its role more), else 0. */
            const checkedEveryMinute = () => (parseStackConfig(stack, readStackConfig(stack)).events.relayWake === "every-minute" ? 1 : 0);
            /** The role policies that let Lambda manage network interfaces: every database function's role. */
            const networkPolicies = () => ofType(run(), Types.iamRolePolicy).filter((policy) => statementsOf(policy.inputs.policy).some((statement) => list(statement.Action).some((action) => action.startsWith("ec2:"))));

            it("lets Lambda create network interfaces only in the private subnets with the functions' group, and touch only interfaces otherwise", () => {
                // Prepare
                const vpc = one(run(), Types.awsxVpc).outputs;
                const functionsGroup = ofType(run(), Types.securityGroup).find((group) => group.name === "network-functions")!.outputs.id;
                const arn = (kind: string, id: string) => `arn:aws:ec2:${REGION}:${ACCOUNT}:${kind}/${id}`;
                const expected = [
                    { Sid: "CreateNetworkInterfacesInOwnSubnets", Action: ["ec2:CreateNetworkInterface"], Resource: [...vpc.privateSubnetIds.map((id: string) => arn("subnet", id)), arn("security-group", functionsGroup), arn("network-interface", "*")] },
                    { Sid: "ManageNetworkInterfaces", Action: ["ec2:DeleteNetworkInterface", "ec2:AssignPrivateIpAddresses", "ec2:UnassignPrivateIpAddresses"], Resource: [arn("network-interface", "*")] },
                    { Sid: "DescribeNetwork", Action: ["ec2:DescribeNetworkInterfaces", "ec2:DescribeSubnets"], Resource: ["*"] },
                ];
                // Act
                const policies = networkPolicies();
                // Assess: the migration function's role and each database service's.
                assert.ok(policies.length >= 2, `${policies.length} policies`);
                for (const policy of policies) {
                    const ec2 = statementsOf(policy.inputs.policy)
                        .filter((statement) => list(statement.Action).some((action) => action.startsWith("ec2:")))
                        .map((statement) => ({ Sid: statement.Sid, Action: list(statement.Action), Resource: list(statement.Resource) }));
                    assert.deepEqual(ec2, expected, policy.name);
                }
            });

            it(`lets the functions send PostgreSQL to the database's group and HTTPS to the endpoints' group${stack === "dev" ? " and to S3 (the event handover)" : ""}, nothing more`, () => {
                // Prepare
                const groups = new Map(ofType(run(), Types.securityGroup).map((group) => [group.outputs.id, group.name]));
                // Act
                const egress = ofType(run(), Types.securityGroupEgressRule)
                    .filter((rule) => groups.get(rule.inputs.securityGroupId) === "network-functions")
                    .map((rule) => `${rule.inputs.ipProtocol} ${rule.inputs.fromPort}-${rule.inputs.toPort} ${rule.inputs.cidrIpv4 ?? rule.inputs.prefixListId ?? groups.get(rule.inputs.referencedSecurityGroupId)}`)
                    .sort();
                // Assess: dev hands its events to S3 through the gateway endpoint, whose prefix list the rule names.
                const s3 = ofType(run(), Types.vpcEndpoint).find((endpoint) => endpoint.inputs.vpcEndpointType === "Gateway")?.outputs.prefixListId;
                assert.deepEqual(egress, ["tcp 443-443 network-endpoints", ...(stack === "dev" ? [`tcp 443-443 ${s3}`] : []), "tcp 5432-5432 network-database"]);
            });

            it("lets EventBridge Scheduler assume each schedule's role only for this account's default schedule group", () => {
                // Prepare
                const schedulerRoles = ofType(run(), Types.iamRole).filter((role) => statementsOf(role.inputs.assumeRolePolicy).some((statement) => statement.Principal?.Service === "scheduler.amazonaws.com"));
                // Act, Assess: the notifications purge, and the users outbox's relay check where relays are checked every minute.
                assert.ok(schedulerRoles.length >= 1 + checkedEveryMinute(), `${schedulerRoles.length} roles`);
                for (const role of schedulerRoles) {
                    assert.deepEqual(statementsOf(role.inputs.assumeRolePolicy), [
                        {
                            Effect: "Allow",
                            Principal: { Service: "scheduler.amazonaws.com" },
                            Action: "sts:AssumeRole",
                            Condition: { StringEquals: { "aws:SourceAccount": ACCOUNT }, ArnEquals: { "aws:SourceArn": `arn:aws:scheduler:${REGION}:${ACCOUNT}:schedule-group/default` } },
                        },
                    ], role.name);
                }
            });

            it("puts every schedule in the default group its roles' trust names", () => {
                const schedules = ofType(run(), Types.schedulerSchedule);
                assert.ok(schedules.length >= 1 + checkedEveryMinute());
                for (const schedule of schedules) assert.equal(schedule.inputs.groupName ?? "default", "default", schedule.name);
            });

            it("logs DDL on the cluster (log_statement = ddl)", () => {
                const parameters: { name: string; value: string }[] = one(run(), Types.rdsClusterParameterGroup).inputs.parameters;
                assert.deepEqual(parameters.filter((parameter) => parameter.name === "log_statement"), [{ name: "log_statement", value: "ddl" }]);
            });
        });
    }

    it("prod: lets CloudWatch use the alarm topic's key only for this account's alarms in the stack's region", () => {
        // Prepare
        const key: RegisteredResource = one(runs.prod, Types.kmsKey);
        // Act
        const cloudwatch = statementsOf(key.inputs.policy).filter((statement) => statement.Principal?.Service === "cloudwatch.amazonaws.com");
        // Assess
        assert.deepEqual(cloudwatch.map((statement) => statement.Condition), [
            { StringEquals: { "aws:SourceAccount": ACCOUNT }, ArnLike: { "aws:SourceArn": `arn:aws:cloudwatch:${REGION}:${ACCOUNT}:alarm:*` } },
        ]);
    });
});
