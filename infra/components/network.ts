import * as aws from "@pulumi/aws";
import * as awsx from "@pulumi/awsx";
import * as pulumi from "@pulumi/pulumi";
import { ComponentTypes } from "../../policy/lib/types";
import type { StackConfig } from "../../platform/config/stack-config";

/**
 * The interface endpoints the platform creates, by the service name AWS gives each
 * (`com.amazonaws.<region>.<name>`), with why a function in a private subnet needs it: without a
 * NAT gateway, an AWS API is reachable from there only through its endpoint. A feature that calls
 * another AWS API adds its entry here and names it in `interfaceEndpointsFor`; the plan prices every
 * endpoint the same way, per zone and hour.
 */
export const INTERFACE_ENDPOINTS = {
    secretsmanager: {
        calledBy: "functions",
        why: "Secrets Manager: the functions of a database service that declares secrets read them, ECS the secrets of container tasks (the migration launcher reads the master secret from outside the VPC)",
    },
    xray: { calledBy: "functions", why: "X-Ray: traces of the functions in the private subnets" },
    events: { calledBy: "functions", why: "EventBridge: the database services' functions publish their events (PutEvents)" },
    "ecr.api": { calledBy: "containers", why: "ECR API: tasks get the token that lets them pull their image" },
    "ecr.dkr": { calledBy: "containers", why: "ECR registry: tasks pull their image's manifest (its layers come from S3)" },
    logs: { calledBy: "containers", why: "CloudWatch Logs: the tasks' awslogs driver ships their output" },
} as const satisfies Record<string, { calledBy: "functions" | "containers"; why: string }>;

export type InterfaceEndpoint = keyof typeof INTERFACE_ENDPOINTS;

/** What the stack needs an endpoint for. */
export interface EndpointNeeds {
    /**
     * A database service declares secrets: its functions, in the private subnets, read them through
     * Secrets Manager's endpoint. Every other function that reads a secret runs outside the VPC and
     * reaches Secrets Manager directly: the migration launcher (the master secret, which it hands
     * the worker in the VPC) and the functions of services without the database.
     */
    databaseFunctionSecrets: boolean;
    /** The stack file's `network.xrayEndpoint`. */
    xray: boolean;
    /**
     * A database service publishes events: its functions, in the private subnets, reach EventBridge
     * through its endpoint. Consumers need none: Lambda's poller reads their queues, outside the VPC.
     * @default false
     */
    publishingDatabaseFunctions?: boolean;
    /**
     * A database service hands its events to its bucket (`events.delivery: bucket-handover`): its
     * functions reach S3 through the free gateway endpoint instead of EventBridge through an
     * interface endpoint. @default false
     */
    eventHandover?: boolean;
    /**
     * Some container service runs tasks (a minimum above 0): they pull images (ECR, and S3 through
     * its free gateway endpoint) and ship logs. A stack whose container services all scale to 0 pays
     * nothing for these; tasks started outside the program then cannot pull their image.
     */
    containerTasks: boolean;
    /** A container service with tasks declares secrets: ECS reads them for each task it starts. @default false */
    containerSecrets?: boolean;
}

/** The interface endpoints a stack's private subnets need, in creation order. */
export function interfaceEndpointsFor(needs: EndpointNeeds): InterfaceEndpoint[] {
    return [
        ...(needs.databaseFunctionSecrets || needs.containerSecrets ? (["secretsmanager"] as const) : []),
        ...(needs.xray ? (["xray"] as const) : []),
        ...(needs.publishingDatabaseFunctions ? (["events"] as const) : []),
        ...(needs.containerTasks ? (["ecr.api", "ecr.dkr", "logs"] as const) : []),
    ];
}

/** The gateway endpoints (no charge) a stack's private subnets need: S3 for image layers and for handed-over events. */
export function gatewayEndpointsFor(needs: EndpointNeeds): "s3"[] {
    return needs.containerTasks || needs.eventHandover ? ["s3"] : [];
}

/** The interface endpoints functions call, of those the stack has: what a function must be created after. */
export function functionEndpoints(network: Network): aws.ec2.VpcEndpoint[] {
    return (Object.keys(network.endpoints) as InterfaceEndpoint[])
        .filter((name) => INTERFACE_ENDPOINTS[name].calledBy === "functions")
        .map((name) => network.endpoints[name]!);
}

/**
 * What the Network component needs: the stack file's `network` settings (each documented on
 * `StackConfig.network`, platform/config/stack-config.ts, and defaulted there in `STACK_DEFAULTS`) and the interface
 * endpoints the stack needs.
 */
export interface NetworkArgs extends Readonly<Omit<StackConfig["network"], "xrayEndpoint">> {
    /** The interface endpoints to create, each in `endpointZones` zones (`interfaceEndpointsFor`). */
    interfaceEndpoints: readonly InterfaceEndpoint[];
    /** The gateway endpoints to create, routed from the private subnets (`gatewayEndpointsFor`). @default none */
    gatewayEndpoints?: readonly "s3"[];
    /**
     * The functions send HTTPS to S3 through its gateway endpoint (handed-over events), so their
     * group gets an egress rule to S3's prefix list; needs `gatewayEndpoints` to hold "s3". @default false
     */
    functionsReachS3?: boolean;
    /** Tags on every resource. @default none */
    tags?: Record<string, string>;
}

const NAT_STRATEGY = { none: "None", single: "Single", onePerAz: "OnePerAz" } as const;

/**
 * How long deleting the functions' security group may wait. Lambda releases a deleted function's
 * network interfaces only after 20-45 minutes, and the group cannot go before them; the provider
 * already waits for those interfaces, then retries the deletion for this long.
 */
const FUNCTION_GROUP_DELETE_TIMEOUT = "45m";

/**
 * The VPC the functions and the database live in: private subnets for functions, isolated subnets
 * for the database, the interface endpoints the stack needs to reach AWS without a NAT gateway
 * (`interfaceEndpointsFor`: none for signing in, since route functions sign IAM tokens themselves
 * and the migration worker gets the master user's credentials from its launcher outside the VPC),
 * and the security groups that let only the functions reach PostgreSQL.
 *
 * Every security group rule is a resource of its own (`aws.vpc.SecurityGroupIngressRule` /
 * `EgressRule`), never an inline `ingress`/`egress` list: the provider cannot tell inline rules from
 * standalone ones, so mixing them overwrites rules and diffs on every update.
 */
export class Network extends pulumi.ComponentResource {
    readonly vpcId: pulumi.Output<string>;
    /** Subnets the database functions run in. */
    readonly privateSubnetIds: pulumi.Output<string[]>;
    /** Subnets with no route out, for the database. */
    readonly isolatedSubnetIds: pulumi.Output<string[]>;
    /** The route tables of the private subnets: where a gateway endpoint (S3) adds its routes. */
    readonly privateRouteTableIds: pulumi.Output<string[]>;
    /** Attached to every database function; the only source the database admits. */
    readonly functionSecurityGroupId: pulumi.Output<string>;
    /** Attached to the database; admits 5432 from the functions' group only. */
    readonly databaseSecurityGroupId: pulumi.Output<string>;
    /**
     * The interface endpoints, by name. Functions in the private subnets depend on them: a function
     * created before an endpoint's private DNS exists fails its first calls.
     */
    readonly endpoints: Readonly<Partial<Record<InterfaceEndpoint, aws.ec2.VpcEndpoint>>>;
    /**
     * The group of the interface endpoints. It admits HTTPS from the functions; another client (the
     * container tasks) adds an ingress rule of its own.
     */
    readonly endpointSecurityGroupId: pulumi.Output<string>;
    /** The S3 gateway endpoint's prefix list, for egress rules to S3; undefined without it. */
    readonly s3PrefixListId?: pulumi.Output<string>;
    /** `arn:<partition>:ec2:<region>:<account>`: how the ARNs of the VPC's subnets, security groups and network interfaces begin. */
    readonly ec2ArnPrefix: pulumi.Output<string>;

    constructor(name: string, args: NetworkArgs, opts?: pulumi.ComponentResourceOptions) {
        super(ComponentTypes.network, name, {}, opts);
        const region = aws.getRegionOutput({}, { parent: this });
        const caller = aws.getCallerIdentityOutput({}, { parent: this });
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

        // A new group has AWS's allow-all egress rule; the provider removes it, so a group without an
        // egress rule below sends nothing (the database and the endpoints only answer).
        const functions = new aws.ec2.SecurityGroup(
            `${name}-functions`,
            { vpcId: vpc.vpcId, description: "Lambda functions that use the database", tags: { ...tags, Name: `${name}-functions` } },
            { parent: this, customTimeouts: { delete: FUNCTION_GROUP_DELETE_TIMEOUT } },
        );
        const database = new aws.ec2.SecurityGroup(
            `${name}-database`,
            { vpcId: vpc.vpcId, description: "Aurora PostgreSQL: 5432 from the functions only", tags: { ...tags, Name: `${name}-database` } },
            { parent: this },
        );
        const endpointGroup = new aws.ec2.SecurityGroup(
            `${name}-endpoints`,
            { vpcId: vpc.vpcId, description: "Interface endpoints: HTTPS from the functions", tags: { ...tags, Name: `${name}-endpoints` } },
            { parent: this },
        );

        // Functions send only what they have a reason to: PostgreSQL to the database's group and HTTPS
        // to the interface endpoints' (plus HTTPS out through a NAT gateway where there is one), each
        // matched by the rule on the other side, never every protocol to the whole VPC range.
        new aws.vpc.SecurityGroupEgressRule(
            `${name}-functions-database`,
            { securityGroupId: functions.id, ipProtocol: "tcp", fromPort: 5432, toPort: 5432, referencedSecurityGroupId: database.id, description: "PostgreSQL to the database", tags },
            { parent: this },
        );
        new aws.vpc.SecurityGroupEgressRule(
            `${name}-functions-endpoints`,
            { securityGroupId: functions.id, ipProtocol: "tcp", fromPort: 443, toPort: 443, referencedSecurityGroupId: endpointGroup.id, description: "HTTPS to the interface endpoints", tags },
            { parent: this },
        );
        if (args.natGateways !== "none") {
            new aws.vpc.SecurityGroupEgressRule(
                `${name}-functions-internet`,
                { securityGroupId: functions.id, ipProtocol: "tcp", fromPort: 443, toPort: 443, cidrIpv4: "0.0.0.0/0", description: "HTTPS through the NAT gateway", tags },
                { parent: this },
            );
        }

        new aws.vpc.SecurityGroupIngressRule(
            `${name}-database-postgres`,
            { securityGroupId: database.id, ipProtocol: "tcp", fromPort: 5432, toPort: 5432, referencedSecurityGroupId: functions.id, description: "PostgreSQL from the functions", tags },
            { parent: this },
        );
        new aws.vpc.SecurityGroupIngressRule(
            `${name}-endpoints-https`,
            { securityGroupId: endpointGroup.id, ipProtocol: "tcp", fromPort: 443, toPort: 443, referencedSecurityGroupId: functions.id, description: "HTTPS from the functions", tags },
            { parent: this },
        );

        const endpoints: Partial<Record<InterfaceEndpoint, aws.ec2.VpcEndpoint>> = {};
        for (const service of args.interfaceEndpoints) {
            endpoints[service] = new aws.ec2.VpcEndpoint(
                `${name}-${service.replace(/\./g, "-")}`,
                {
                    vpcId: vpc.vpcId,
                    serviceName: pulumi.interpolate`com.amazonaws.${region.region}.${service}`,
                    vpcEndpointType: "Interface",
                    privateDnsEnabled: true, // the SDK's default endpoint resolves to the private addresses
                    subnetIds: vpc.privateSubnetIds.apply((ids) => ids.slice(0, args.endpointZones)),
                    securityGroupIds: [endpointGroup.id],
                    tags: { ...tags, Name: `${name}-${service}` },
                },
                { parent: this },
            );
        }

        const privateRouteTableIds = privateRouteTables(vpc);
        if (args.gatewayEndpoints?.includes("s3")) {
            const s3 = new aws.ec2.VpcEndpoint(
                `${name}-s3`,
                {
                    vpcId: vpc.vpcId,
                    serviceName: pulumi.interpolate`com.amazonaws.${region.region}.s3`,
                    vpcEndpointType: "Gateway",
                    routeTableIds: privateRouteTableIds,
                    tags: { ...tags, Name: `${name}-s3` },
                },
                { parent: this },
            );
            this.s3PrefixListId = s3.prefixListId;
            if (args.functionsReachS3) {
                new aws.vpc.SecurityGroupEgressRule(
                    `${name}-functions-s3`,
                    { securityGroupId: functions.id, ipProtocol: "tcp", fromPort: 443, toPort: 443, prefixListId: s3.prefixListId, description: "HTTPS to S3 (handed-over events)", tags },
                    { parent: this },
                );
            }
        } else if (args.functionsReachS3) {
            throw new Error("The functions cannot reach S3 without its gateway endpoint: gatewayEndpoints must hold \"s3\".");
        }

        this.vpcId = vpc.vpcId;
        this.privateSubnetIds = vpc.privateSubnetIds;
        this.isolatedSubnetIds = vpc.isolatedSubnetIds;
        this.privateRouteTableIds = privateRouteTableIds;
        this.endpointSecurityGroupId = endpointGroup.id;
        this.functionSecurityGroupId = functions.id;
        this.databaseSecurityGroupId = database.id;
        this.endpoints = endpoints;
        this.ec2ArnPrefix = pulumi.interpolate`arn:${caller.arn.apply((arn) => arn.split(":")[1] ?? "aws")}:ec2:${region.region}:${caller.accountId}`;
        this.registerOutputs({
            vpcId: this.vpcId,
            privateSubnetIds: this.privateSubnetIds,
            isolatedSubnetIds: this.isolatedSubnetIds,
        });
    }
}

/** The route tables awsx associated with the VPC's private subnets (one per subnet). */
function privateRouteTables(vpc: awsx.ec2.Vpc): pulumi.Output<string[]> {
    return pulumi.all([vpc.routeTableAssociations, vpc.privateSubnetIds]).apply(([associations, privateSubnetIds]) =>
        pulumi
            .all((associations ?? []).map((association) => pulumi.all([association.subnetId, association.routeTableId])))
            .apply((pairs) => [...new Set(pairs.filter(([subnetId]) => subnetId !== undefined && privateSubnetIds.includes(subnetId)).flatMap(([, routeTableId]) => (routeTableId ? [routeTableId] : [])))]),
    );
}
