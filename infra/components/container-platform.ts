import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { ComponentTypes } from "../../policy/lib/types";
import type { ContainerPlatformNames } from "../../platform/naming";

/** What the ContainerPlatform component needs. Fields without a default are required. */
export interface ContainerPlatformArgs {
    /** The cluster's, the namespace's and the VPC link's names, fitted to AWS's rules (`containerPlatformNames`, platform/naming.ts). */
    names: ContainerPlatformNames;
    /** The stack's VPC (the Network component's). */
    vpcId: pulumi.Input<string>;
    /** Its address range: tasks talk to the endpoints and the database inside it. */
    cidrBlock: string;
    /** Private subnets: the tasks, the VPC link and the interface endpoints live there. */
    privateSubnetIds: pulumi.Input<string[]>;
    /** The container ports the VPC link forwards to, one per container service. */
    ports: number[];
    /**
     * The network's interface endpoints' group: the platform admits its tasks there. Which endpoints
     * exist (image pull and logs only while some task runs) is the network's decision
     * (`interfaceEndpointsFor` in network.ts), priced with every other endpoint.
     */
    endpointSecurityGroupId: pulumi.Input<string>;
    /** The S3 gateway endpoint's prefix list (image layers), when the network has one. @default none */
    s3PrefixListId?: pulumi.Input<string>;
    /** @default none */
    tags?: Record<string, string>;
}

/**
 * What every container service of a stack shares: the ECS cluster, the private DNS namespace the
 * tasks register in (Cloud Map), the HTTP API's VPC link into the private subnets, the tasks' and
 * the link's security groups, and the tasks' way to the network's endpoints (image pulls and log
 * shipping without a NAT gateway). Every rule is a resource of its own, as in the network.
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
        const { names } = args;

        const cluster = new aws.ecs.Cluster(
            `${name}-cluster`,
            {
                name: names.cluster,
                // Container Insights bills per metric; the alarms use the service metrics ECS publishes for free.
                settings: [{ name: "containerInsights", value: "disabled" }],
                tags,
            },
            { parent: this },
        );

        const namespace = new aws.servicediscovery.PrivateDnsNamespace(
            `${name}-namespace`,
            { name: names.namespace, vpc: args.vpcId, description: `Container services of ${names.cluster}`, tags },
            { parent: this },
        );

        const ports = [...new Set(args.ports)].sort((a, b) => a - b);
        // A new group's allow-all egress is removed by the provider: a group sends only what its rules allow.
        const vpcLinkGroup = new aws.ec2.SecurityGroup(
            `${name}-vpc-link`,
            { vpcId: args.vpcId, description: "HTTP API VPC link: to the container ports only", tags: { ...tags, Name: `${name}-vpc-link` } },
            { parent: this },
        );
        const tasks = new aws.ec2.SecurityGroup(
            `${name}-tasks`,
            { vpcId: args.vpcId, description: "Container tasks: from the VPC link on their ports; out to the VPC and S3", tags: { ...tags, Name: `${name}-tasks` } },
            { parent: this },
        );
        for (const port of ports) {
            new aws.vpc.SecurityGroupEgressRule(
                `${name}-vpc-link-${port}`,
                { securityGroupId: vpcLinkGroup.id, ipProtocol: "tcp", fromPort: port, toPort: port, cidrIpv4: args.cidrBlock, description: `Container port ${port}`, tags },
                { parent: this },
            );
            new aws.vpc.SecurityGroupIngressRule(
                `${name}-tasks-${port}`,
                { securityGroupId: tasks.id, ipProtocol: "tcp", fromPort: port, toPort: port, referencedSecurityGroupId: vpcLinkGroup.id, description: `From the VPC link on ${port}`, tags },
                { parent: this },
            );
        }
        new aws.vpc.SecurityGroupEgressRule(
            `${name}-tasks-vpc-https`,
            { securityGroupId: tasks.id, ipProtocol: "tcp", fromPort: 443, toPort: 443, cidrIpv4: args.cidrBlock, description: "HTTPS to the interface endpoints", tags },
            { parent: this },
        );
        if (args.s3PrefixListId) {
            // Image layers come from S3 through the gateway endpoint, at S3's public addresses.
            new aws.vpc.SecurityGroupEgressRule(
                `${name}-tasks-s3`,
                { securityGroupId: tasks.id, ipProtocol: "tcp", fromPort: 443, toPort: 443, prefixListId: args.s3PrefixListId, description: "HTTPS to S3 (image layers)", tags },
                { parent: this },
            );
        }
        new aws.vpc.SecurityGroupIngressRule(
            `${name}-endpoints-https`,
            { securityGroupId: args.endpointSecurityGroupId, ipProtocol: "tcp", fromPort: 443, toPort: 443, referencedSecurityGroupId: tasks.id, description: "HTTPS from the container tasks", tags },
            { parent: this },
        );

        const vpcLink = new aws.apigatewayv2.VpcLink(
            `${name}-vpc-link`,
            { name: names.vpcLink, subnetIds: args.privateSubnetIds, securityGroupIds: [vpcLinkGroup.id], tags },
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
