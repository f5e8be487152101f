/**
 * The least-privilege rules, each with the compliant shape the program deploys and the failing
 * shapes a review found or that would slip back: service principals without a source condition,
 * network interface actions on "*", egress to every protocol, and a PostgreSQL cluster that logs
 * no DDL (or every value).
 */
import { strict as assert } from "assert";
import { Types } from "../../policy/lib/types";
import { UNKNOWN_STRING_SENTINEL } from "../../policy/lib/unknown";
import { NOT_APPLICABLE, validateResource } from "./harness";

const ACCOUNT = "123456789012";
const document = (...Statement: object[]) => JSON.stringify({ Version: "2012-10-17", Statement });

describe("lambda-permission-source", () => {
    const permission = (props: object) => validateResource("lambda-permission-source", { type: Types.lambdaPermission, props: { action: "lambda:InvokeFunction", function: "accounts-outbox-relay-1234567", qualifier: "live", ...props } });
    const RULE_ARN = `arn:aws:events:us-east-1:${ACCOUNT}:rule/accounts-outbox-relay-wake-1234567`;

    it("accepts a service's permission that names its source rule, or its source account, and one whose source is not known yet (preview)", async () => {
        assert.deepEqual(await permission({ principal: "events.amazonaws.com", sourceArn: RULE_ARN }), []);
        assert.deepEqual(await permission({ principal: "s3.amazonaws.com", sourceAccount: ACCOUNT }), []);
        assert.deepEqual(await permission({ principal: "events.amazonaws.com", sourceArn: UNKNOWN_STRING_SENTINEL }), []);
    });

    it("leaves alone a permission for an account, which names no service", async () => {
        assert.deepEqual(await permission({ principal: ACCOUNT }), []);
    });

    it("rejects a service's permission that names neither, naming the principal and the fix", async () => {
        assert.deepEqual(await permission({ principal: "events.amazonaws.com" }), [
            "Invoke permission for events.amazonaws.com names no sourceArn or sourceAccount: any events.amazonaws.com resource in any account that names this function may invoke it. Set sourceArn to the resource that invokes it.",
        ]);
        assert.equal((await permission({ principal: "apigateway.amazonaws.com", sourceArn: "" })).length, 1);
    });
});

describe("iam-service-principal-source", () => {
    const trust = (statement: object) => validateResource("iam-service-principal-source", { type: Types.iamRole, props: { assumeRolePolicy: document(statement) } });
    const keyPolicy = (statement: object) => validateResource("iam-service-principal-source", { type: Types.kmsKey, props: { policy: document(statement) } });
    const scheduler = { Effect: "Allow", Principal: { Service: "scheduler.amazonaws.com" }, Action: "sts:AssumeRole" };
    const cloudwatch = { Sid: "CloudWatchAlarmsPublish", Effect: "Allow", Principal: { Service: "cloudwatch.amazonaws.com" }, Action: ["kms:Decrypt", "kms:GenerateDataKey*"], Resource: "*" };

    it("accepts the Scheduler trust and the alarm key statement the program deploys", async () => {
        // Prepare
        const sourced = { StringEquals: { "aws:SourceAccount": ACCOUNT }, ArnEquals: { "aws:SourceArn": `arn:aws:scheduler:us-east-1:${ACCOUNT}:schedule-group/default` } };
        // Act, Assess
        assert.deepEqual(await trust({ ...scheduler, Condition: sourced }), []);
        assert.deepEqual(await keyPolicy({ ...cloudwatch, Condition: { StringEquals: { "aws:SourceAccount": ACCOUNT }, ArnLike: { "aws:SourceArn": `arn:aws:cloudwatch:us-east-1:${ACCOUNT}:alarm:*` } } }), []);
    });

    it("accepts either key alone, in any case, and principals it does not govern (Lambda's trust)", async () => {
        assert.deepEqual(await trust({ ...scheduler, Condition: { StringEquals: { "AWS:SOURCEACCOUNT": ACCOUNT } } }), []);
        assert.deepEqual(await trust({ ...scheduler, Condition: { ArnLike: { "aws:SourceArn": [`arn:aws:scheduler:us-east-1:${ACCOUNT}:schedule-group/default`] } } }), []);
        assert.deepEqual(await trust({ Effect: "Allow", Principal: { Service: "lambda.amazonaws.com" }, Action: "sts:AssumeRole" }), []);
        assert.deepEqual(await trust({ ...scheduler, Condition: { StringEquals: { "aws:SourceAccount": UNKNOWN_STRING_SENTINEL } } }), []);
    });

    it("rejects a Scheduler trust with no condition, naming the principal and the fix", async () => {
        const messages = await trust(scheduler);
        assert.deepEqual(messages, [
            "Trust policy statement 1 lets scheduler.amazonaws.com act with no aws:SourceAccount or aws:SourceArn condition, so a resource of any account that names this role can use it; add the condition naming this account (and the source resource).",
        ]);
    });

    it("rejects a key policy letting CloudWatch use the key with no source, and a condition that names no source or any", async () => {
        assert.equal((await keyPolicy(cloudwatch)).length, 1);
        assert.match(((await keyPolicy(cloudwatch)) as string[])[0], /^Key policy statement "CloudWatchAlarmsPublish" lets cloudwatch\.amazonaws\.com act .*this key can use it/);
        assert.equal((await keyPolicy({ ...cloudwatch, Condition: { StringEquals: { "kms:ViaService": "sns.us-east-1.amazonaws.com" } } })).length, 1);
        assert.equal((await trust({ ...scheduler, Condition: { StringLike: { "aws:SourceAccount": "*" } } })).length, 1);
    });

    it("reads the principal list from its config, and a KeyPolicy resource's policy too", async () => {
        const sns = { Effect: "Allow", Principal: { Service: ["sns.amazonaws.com"] }, Action: "kms:Decrypt", Resource: "*" };
        assert.deepEqual(await validateResource("iam-service-principal-source", { type: Types.kmsKeyPolicy, props: { keyId: "k", policy: document(sns) } }), []);
        const configured = await validateResource("iam-service-principal-source", { type: Types.kmsKeyPolicy, props: { keyId: "k", policy: document(sns) } }, { servicePrincipals: ["sns.amazonaws.com"] });
        assert.equal(configured.length, 1);
    });

    it("does not apply to other resources", async () => {
        assert.equal(await validateResource("iam-service-principal-source", { type: Types.iamRolePolicy, props: { policy: document(scheduler) } }), NOT_APPLICABLE);
    });
});

describe("iam-network-interfaces-scoped", () => {
    const policy = (...statements: object[]) => validateResource("iam-network-interfaces-scoped", { type: Types.iamRolePolicy, props: { role: "r", policy: document(...statements) } });
    const prefix = `arn:aws:ec2:us-east-1:${ACCOUNT}`;

    it("accepts the scoped statements the program deploys", async () => {
        assert.deepEqual(
            await policy(
                { Sid: "CreateNetworkInterfacesInOwnSubnets", Effect: "Allow", Action: "ec2:CreateNetworkInterface", Resource: [`${prefix}:subnet/subnet-1`, `${prefix}:security-group/sg-1`, `${prefix}:network-interface/*`] },
                { Sid: "ManageNetworkInterfaces", Effect: "Allow", Action: ["ec2:DeleteNetworkInterface", "ec2:AssignPrivateIpAddresses", "ec2:UnassignPrivateIpAddresses"], Resource: `${prefix}:network-interface/*` },
                { Sid: "DescribeNetwork", Effect: "Allow", Action: ["ec2:DescribeNetworkInterfaces", "ec2:DescribeSubnets"], Resource: "*" },
            ),
            [],
        );
    });

    it("rejects AWSLambdaVPCAccessExecutionRole's statement, every interface action on \"*\"", async () => {
        const messages = await policy({
            Sid: "VpcNetworkInterfaces",
            Effect: "Allow",
            Action: ["ec2:CreateNetworkInterface", "ec2:DescribeNetworkInterfaces", "ec2:DescribeSubnets", "ec2:DeleteNetworkInterface", "ec2:AssignPrivateIpAddresses", "ec2:UnassignPrivateIpAddresses"],
            Resource: "*",
        });
        assert.deepEqual(messages, [
            'Policy statement "VpcNetworkInterfaces" allows ec2:CreateNetworkInterface, ec2:DeleteNetworkInterface, ec2:AssignPrivateIpAddresses, ec2:UnassignPrivateIpAddresses on every resource; name the stack\'s subnets, security groups and network-interface/*.',
        ]);
    });

    it("rejects a wildcard action that covers them, and an EC2 ARN that names no resource type", async () => {
        assert.equal((await policy({ Effect: "Allow", Action: "ec2:*NetworkInterface", Resource: `${prefix}:network-interface/*` })).length, 0);
        assert.equal((await policy({ Effect: "Allow", Action: "ec2:*NetworkInterface", Resource: "*" })).length, 1);
        assert.equal((await policy({ Effect: "Allow", Action: "ec2:DeleteNetworkInterface", Resource: "arn:aws:ec2:*:*:*" })).length, 1);
    });

    it("checks a role's inline policies too", async () => {
        const messages = await validateResource("iam-network-interfaces-scoped", { type: Types.iamRole, props: { assumeRolePolicy: "{}", inlinePolicies: [{ name: "vpc", policy: document({ Effect: "Allow", Action: "ec2:CreateNetworkInterface", Resource: "*" }) }] } });
        assert.equal(messages.length, 1);
    });
});

describe("security-group-egress-scoped", () => {
    const rule = (props: object) => validateResource("security-group-egress-scoped", { type: Types.securityGroupEgressRule, props: { securityGroupId: "sg-1", ...props } });

    it("accepts PostgreSQL to the database's group and HTTPS to the endpoints' group", async () => {
        assert.deepEqual(await rule({ ipProtocol: "tcp", fromPort: 5432, toPort: 5432, referencedSecurityGroupId: "sg-db" }), []);
        assert.deepEqual(await rule({ ipProtocol: "tcp", fromPort: 443, toPort: 443, referencedSecurityGroupId: "sg-endpoints" }), []);
    });

    it("rejects every protocol to the VPC's range, the rule the functions' group had", async () => {
        assert.deepEqual(await rule({ ipProtocol: "-1", cidrIpv4: "10.20.0.0/16" }), ['Egress allows every protocol and port to "10.20.0.0/16"; allow the protocol and port the group\'s members use.']);
    });

    it("rejects it inline in a group and as an older SecurityGroupRule, and passes their ingress", async () => {
        const inline = await validateResource("security-group-egress-scoped", { type: Types.securityGroup, props: { egress: [{ protocol: "-1", fromPort: 0, toPort: 0, cidrBlocks: ["0.0.0.0/0"] }], ingress: [{ protocol: "-1" }] } });
        const older = await validateResource("security-group-egress-scoped", { type: Types.securityGroupRule, props: { type: "egress", protocol: "all", fromPort: 0, toPort: 65535, cidrBlocks: ["0.0.0.0/0"] } });
        const ingress = await validateResource("security-group-egress-scoped", { type: Types.securityGroupRule, props: { type: "ingress", protocol: "-1" } });
        assert.deepEqual([inline.length, older.length, ingress.length], [1, 1, 0]);
    });
});

describe("rds-log-statement-ddl", () => {
    const group = (parameters: unknown, family = "aurora-postgresql17") => validateResource("rds-log-statement-ddl", { type: Types.rdsClusterParameterGroup, props: { family, parameters } });

    it("accepts log_statement = ddl beside the other parameters", async () => {
        assert.deepEqual(await group([{ name: "rds.force_ssl", value: "1" }, { name: "log_statement", value: "ddl" }]), []);
    });

    it("rejects a group that logs no DDL, and one that logs every value", async () => {
        assert.deepEqual(await group([{ name: "rds.force_ssl", value: "1" }]), ["log_statement is not set (none): no change of structure or roles is logged; set it to ddl."]);
        assert.deepEqual(await group([{ name: "log_statement", value: "none" }]), ["log_statement is none: no change of structure or roles is logged; set it to ddl."]);
        assert.deepEqual(await group([{ name: "log_statement", value: "mod" }]), ["log_statement is mod: every data change is logged with its values; set it to ddl."]);
        assert.deepEqual(await group([{ name: "log_statement", value: "all" }]), ["log_statement is all: every statement is logged with its values; set it to ddl."]);
    });

    it("skips other engines and parameters unknown in a preview", async () => {
        assert.deepEqual(await group([], "aurora-mysql8.0"), []);
        assert.deepEqual(await group(UNKNOWN_STRING_SENTINEL), []);
    });
});
