import * as aws from "@pulumi/aws";
import * as awsx from "@pulumi/awsx";
import * as pulumi from "@pulumi/pulumi";
import { ComponentTypes } from "../../policy/lib/types";
import type { StackConfig } from "../config";
import { withPreviousType } from "./component-type";

/**
 * What the Network component needs: the stack file's `network` settings (each documented on
 * `StackConfig.network`, infra/config.ts, and defaulted there in `STACK_DEFAULTS`).
 */
export interface NetworkArgs extends Readonly<StackConfig["network"]> {
    /** Tags on every resource. @default none */
    tags?: Record<string, string>;
}

const NAT_STRATEGY = { none: "None", single: "Single", onePerAz: "OnePerAz" } as const;

/**
 * The VPC the functions and the database live in: private subnets for functions, isolated subnets
 * for the database, a Secrets Manager endpoint so the migration function reads the master secret
 * without a NAT gateway (route functions sign in with IAM tokens they sign themselves and call no
 * AWS API), and the security groups that let only the functions reach PostgreSQL.
 */
export class Network extends pulumi.ComponentResource {
    readonly vpcId: pulumi.Output<string>;
    /** Subnets the database functions run in. */
    readonly privateSubnetIds: pulumi.Output<string[]>;
    /** Subnets with no route out, for the database. */
    readonly isolatedSubnetIds: pulumi.Output<string[]>;
    /** Attached to every database function; the only source the database admits. */
    readonly functionSecurityGroupId: pulumi.Output<string>;
    /** Attached to the database; admits 5432 from the functions' group only. */
    readonly databaseSecurityGroupId: pulumi.Output<string>;

    constructor(name: string, args: NetworkArgs, opts?: pulumi.ComponentResourceOptions) {
        super(ComponentTypes.network, name, {}, withPreviousType("network", opts));
        const region = aws.getRegionOutput({}, { parent: this });
        const tags = args.tags ?? {};

        const vpc = new awsx.ec2.Vpc(
            `${name}-vpc`,
            {
                cidrBlock: args.cidrBlock,
                numberOfAvailabilityZones: args.availabilityZones,
                enableDnsHostnames: true, // interface endpoints with private DNS need both
                enableDnsSupport: true,
                natGateways: { strategy: NAT_STRATEGY[args.natGateways] },
                subnetStrategy: "Auto",
                subnetSpecs: [
                    // Public subnets exist only to hold NAT gateways.
                    ...(args.natGateways === "none" ? [] : [{ type: "Public" as const, name: "public" }]),
                    { type: "Private", name: "functions" },
                    { type: "Isolated", name: "database" },
                ],
                tags,
            },
            { parent: this },
        );

        const functions = new aws.ec2.SecurityGroup(
            `${name}-functions`,
            {
                vpcId: vpc.vpcId,
                description: "Lambda functions that use the database",
                // Functions talk only inside the VPC (database, endpoints) unless a NAT gateway exists.
                egress: [{ protocol: "-1", fromPort: 0, toPort: 0, cidrBlocks: [args.cidrBlock], description: "Inside the VPC" }],
                tags: { ...tags, Name: `${name}-functions` },
            },
            { parent: this },
        );
        if (args.natGateways !== "none") {
            new aws.vpc.SecurityGroupEgressRule(
                `${name}-functions-internet`,
                { securityGroupId: functions.id, ipProtocol: "tcp", fromPort: 443, toPort: 443, cidrIpv4: "0.0.0.0/0", description: "HTTPS through the NAT gateway" },
                { parent: this },
            );
        }

        const database = new aws.ec2.SecurityGroup(
            `${name}-database`,
            {
                vpcId: vpc.vpcId,
                description: "Aurora PostgreSQL: 5432 from the functions only",
                ingress: [{ protocol: "tcp", fromPort: 5432, toPort: 5432, securityGroups: [functions.id], description: "PostgreSQL from the functions" }],
                tags: { ...tags, Name: `${name}-database` },
            },
            { parent: this },
        );

        const endpoint = new aws.ec2.SecurityGroup(
            `${name}-endpoints`,
            {
                vpcId: vpc.vpcId,
                description: "Interface endpoints: HTTPS from the functions",
                ingress: [{ protocol: "tcp", fromPort: 443, toPort: 443, securityGroups: [functions.id], description: "HTTPS from the functions" }],
                tags: { ...tags, Name: `${name}-endpoints` },
            },
            { parent: this },
        );

        new aws.ec2.VpcEndpoint(
            `${name}-secretsmanager`,
            {
                vpcId: vpc.vpcId,
                serviceName: pulumi.interpolate`com.amazonaws.${region.region}.secretsmanager`,
                vpcEndpointType: "Interface",
                privateDnsEnabled: true, // the SDK's default endpoint resolves to the private addresses
                subnetIds: vpc.privateSubnetIds.apply((ids) => ids.slice(0, args.secretsEndpointZones)),
                securityGroupIds: [endpoint.id],
                tags: { ...tags, Name: `${name}-secretsmanager` },
            },
            { parent: this },
        );

        this.vpcId = vpc.vpcId;
        this.privateSubnetIds = vpc.privateSubnetIds;
        this.isolatedSubnetIds = vpc.isolatedSubnetIds;
        this.functionSecurityGroupId = functions.id;
        this.databaseSecurityGroupId = database.id;
        this.registerOutputs({
            vpcId: this.vpcId,
            privateSubnetIds: this.privateSubnetIds,
            isolatedSubnetIds: this.isolatedSubnetIds,
        });
    }
}
