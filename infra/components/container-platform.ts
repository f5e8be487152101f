import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { ComponentTypes } from "../../policy/lib/types";

/**
 * The AWS services a task in a private subnet with no NAT gateway must reach, and how: the image
 * pull (the ECR API for the token, the ECR registry for the manifest, S3 for the layers) and the
 * log shipping. The one list of the container platform's endpoints: each interface endpoint bills
 * ~$7.30 a month per zone, the S3 gateway endpoint nothing.
 */
export const CONTAINER_ENDPOINTS: readonly { service: string; type: "Interface" | "Gateway" }[] = [
    { service: "ecr.api", type: "Interface" },
    { service: "ecr.dkr", type: "Interface" },
    { service: "logs", type: "Interface" },
    { service: "s3", type: "Gateway" },
];

/** What the ContainerPlatform component needs. Fields without a default are required. */
export interface ContainerPlatformArgs {
    /** The stack's VPC (the Network component's). */
    vpcId: pulumi.Input<string>;
    /** Its address range: tasks talk to the endpoints and the database inside it. */
    cidrBlock: string;
    /** Private subnets: the tasks, the VPC link and the interface endpoints live there. */
    privateSubnetIds: pulumi.Input<string[]>;
    /** The private subnets' route tables, for the S3 gateway endpoint. */
    privateRouteTableIds: pulumi.Input<string[]>;
    /** The container ports the VPC link forwards to, one per container service. */
    ports: number[];
    /**
     * Create the image pull and log endpoints (`CONTAINER_ENDPOINTS`). They are needed only while
     * tasks run; a stack whose container services all scale to 0 leaves them out and pays nothing
     * for them. Caution: tasks started outside the program (a console or CLI change of the desired
     * count) cannot pull their image without them.
     */
    endpoints: boolean;
    /** Zones holding each interface endpoint (the stack's `network.secretsEndpointZones`). */
    endpointZones: number;
    /** @default none */
    tags?: Record<string, string>;
}

/**
 * What every container service of a stack shares: the ECS cluster, the private DNS namespace the
 * tasks register in (Cloud Map), the HTTP API's VPC link into the private subnets, the tasks' and
 * the link's security groups, and the endpoints that let tasks pull images and ship logs without a
 * NAT gateway.
 *
 * Cloud Map rather than an internal load balancer: the HTTP API's private integration can target a
 * Cloud Map service directly, which costs a hosted zone ($0.50 a month) and $0.10 per running task,
 * where an internal ALB or NLB bills ~$16 a month from the first hour, tasks or not: more than the
 * whole dev stack's idle budget. The price is what a load balancer would add: no health-checked
 * draining of its own (ECS deregisters a task before stopping it) and no path routing (the HTTP
 * API routes already do it).
 */
export class ContainerPlatform extends pulumi.ComponentResource {
    readonly clusterArn: pulumi.Output<string>;
    readonly clusterName: pulumi.Output<string>;
    readonly namespaceId: pulumi.Output<string>;
    readonly vpcLinkId: pulumi.Output<string>;
    /** Attached to every task: reaches the endpoints, admits the VPC link on the container ports. */
    readonly taskSecurityGroupId: pulumi.Output<string>;

    constructor(name: string, args: ContainerPlatformArgs, opts?: pulumi.ComponentResourceOptions) {
        super(ComponentTypes.containerPlatform, name, {}, opts);
        const tags = args.tags ?? {};
        const region = aws.getRegionOutput({}, { parent: this });
        const prefix = `${pulumi.getProject()}-${pulumi.getStack()}`;

        const cluster = new aws.ecs.Cluster(
            `${name}-cluster`,
            {
                name: prefix,
                // Container Insights bills per metric; the alarms use the service metrics ECS publishes for free.
                settings: [{ name: "containerInsights", value: "disabled" }],
                tags,
            },
            { parent: this },
        );

        const namespace = new aws.servicediscovery.PrivateDnsNamespace(
            `${name}-namespace`,
            { name: `${prefix}.internal`, vpc: args.vpcId, description: `Container services of ${prefix}`, tags },
            { parent: this },
        );

        const ports = [...new Set(args.ports)].sort((a, b) => a - b);
        const vpcLinkGroup = new aws.ec2.SecurityGroup(
            `${name}-vpc-link`,
            {
                vpcId: args.vpcId,
                description: "HTTP API VPC link: to the container ports only",
                egress: ports.map((port) => ({ protocol: "tcp", fromPort: port, toPort: port, cidrBlocks: [args.cidrBlock], description: `Container port ${port}` })),
                tags: { ...tags, Name: `${name}-vpc-link` },
            },
            { parent: this },
        );

        const endpointsGroupName = `${name}-endpoints`;
        const s3 = args.endpoints
            ? new aws.ec2.VpcEndpoint(
                  `${name}-s3`,
                  {
                      vpcId: args.vpcId,
                      serviceName: pulumi.interpolate`com.amazonaws.${region.region}.s3`,
                      vpcEndpointType: "Gateway",
                      routeTableIds: args.privateRouteTableIds,
                      tags: { ...tags, Name: `${name}-s3` },
                  },
                  { parent: this },
              )
            : undefined;

        const tasks = new aws.ec2.SecurityGroup(
            `${name}-tasks`,
            {
                vpcId: args.vpcId,
                description: "Container tasks: from the VPC link on their ports; out to the VPC and S3",
                ingress: ports.map((port) => ({ protocol: "tcp", fromPort: port, toPort: port, securityGroups: [vpcLinkGroup.id], description: `From the VPC link on ${port}` })),
                egress: [
                    { protocol: "tcp", fromPort: 443, toPort: 443, cidrBlocks: [args.cidrBlock], description: "HTTPS to the interface endpoints" },
                    // Image layers come from S3 through the gateway endpoint, at S3's public addresses.
                    ...(s3 ? [{ protocol: "tcp", fromPort: 443, toPort: 443, prefixListIds: [s3.prefixListId], description: "HTTPS to S3 (image layers)" }] : []),
                ],
                tags: { ...tags, Name: `${name}-tasks` },
            },
            { parent: this },
        );

        if (args.endpoints) {
            const endpointsGroup = new aws.ec2.SecurityGroup(
                endpointsGroupName,
                {
                    vpcId: args.vpcId,
                    description: "Image pull and log endpoints: HTTPS from the container tasks",
                    ingress: [{ protocol: "tcp", fromPort: 443, toPort: 443, securityGroups: [tasks.id], description: "HTTPS from the tasks" }],
                    tags: { ...tags, Name: endpointsGroupName },
                },
                { parent: this },
            );
            for (const endpoint of CONTAINER_ENDPOINTS.filter((e) => e.type === "Interface")) {
                new aws.ec2.VpcEndpoint(
                    `${name}-${endpoint.service.replace(/\./g, "-")}`,
                    {
                        vpcId: args.vpcId,
                        serviceName: pulumi.interpolate`com.amazonaws.${region.region}.${endpoint.service}`,
                        vpcEndpointType: "Interface",
                        privateDnsEnabled: true,
                        subnetIds: pulumi.output(args.privateSubnetIds).apply((ids) => ids.slice(0, args.endpointZones)),
                        securityGroupIds: [endpointsGroup.id],
                        tags: { ...tags, Name: `${name}-${endpoint.service}` },
                    },
                    { parent: this },
                );
            }
        }

        const vpcLink = new aws.apigatewayv2.VpcLink(
            `${name}-vpc-link`,
            { name: prefix, subnetIds: args.privateSubnetIds, securityGroupIds: [vpcLinkGroup.id], tags },
            { parent: this },
        );

        this.clusterArn = cluster.arn;
        this.clusterName = cluster.name;
        this.namespaceId = namespace.id;
        this.vpcLinkId = vpcLink.id;
        this.taskSecurityGroupId = tasks.id;
        this.registerOutputs({ clusterArn: this.clusterArn, namespaceId: this.namespaceId, vpcLinkId: this.vpcLinkId });
    }
}
