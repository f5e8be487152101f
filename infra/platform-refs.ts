/**
 * What a service's resources take from the shared platform: ids, names and ARNs only, never a
 * component. In the one-stack layout they are the platform components' own outputs; in the
 * stack-per-service layout the platform stack publishes them as its `platform` output and each
 * service stack reads them back through a `pulumi.StackReference`, so a service's resources are
 * built from the same values either way.
 *
 * Which parts exist (a bus, a database, containers...) follows from the registry and the
 * environment's settings, which every stack reads, so a service stack knows the shape before the
 * reference resolves (`PlatformShape`).
 */
import * as pulumi from "@pulumi/pulumi";
import { platformStackName } from "../platform/config/stack-layout";

export interface PlatformRefs {
    /** The HTTP API routes and integrations join. */
    api: {
        apiId: pulumi.Input<string>;
        executionArn: pulumi.Input<string>;
        /** The JWT authorizer, when some route uses it. */
        jwtAuthorizerId?: pulumi.Input<string>;
        /** The API's one stage: per-route throttles are settings of it. */
        stageName: pulumi.Input<string>;
    };
    /** The environment's event bus, while some service publishes or subscribes. */
    eventBus?: { name: pulumi.Input<string>; arn: pulumi.Input<string> };
    /** The private subnets database functions and container tasks run in. */
    network?: {
        privateSubnetIds: pulumi.Input<string[]>;
        functionSecurityGroupId: pulumi.Input<string>;
        /** `arn:<partition>:ec2:<region>:<account>`, to scope network interface permissions. */
        ec2ArnPrefix: pulumi.Input<string>;
    };
    /** The Aurora cluster, for services with a database. */
    database?: {
        host: pulumi.Input<string>;
        port: pulumi.Input<number>;
        name: pulumi.Input<string>;
        /** `arn:<partition>:rds-db:<region>:<account>:dbuser:<cluster resource id>/`: a login role's ARN is this and its name. */
        userArnPrefix: pulumi.Input<string>;
        /** The migration function: each service's migrations run through it, carrying their own SQL. */
        migrationFunctionName: pulumi.Input<string>;
        /** Its code's hash: new runner code runs every service's migrations again. */
        migrationRunnerCodeHash: pulumi.Input<string>;
    };
    /** The ECS cluster, the namespace and the VPC link, for container services. */
    containers?: {
        clusterArn: pulumi.Input<string>;
        clusterName: pulumi.Input<string>;
        namespaceId: pulumi.Input<string>;
        vpcLinkId: pulumi.Input<string>;
        taskSecurityGroupId: pulumi.Input<string>;
    };
    /** The topic every alarm notifies, when the environment has alarms. */
    alarmTopicArn?: pulumi.Input<string>;
    /** CodeDeploy's application and service role, when the environment releases gradually. */
    releaseApplication?: { name: pulumi.Input<string>; roleArn: pulumi.Input<string>; roleName: pulumi.Input<string> };
}

/** Which optional parts of `PlatformRefs` the platform has. */
export type PlatformShape = { readonly [K in Exclude<keyof PlatformRefs, "api">]: boolean } & { readonly jwtAuthorizer: boolean };

/** The name of the platform stack's output that carries `PlatformRefs`. */
export const PLATFORM_OUTPUT = "platform";

/**
 * The platform's refs as a service stack sees them: every value read from the platform stack's
 * `platform` output. Reading a part the shape says the platform lacks is a programming error; a
 * part the shape promises but the output lacks (a platform deployed from another registry) fails
 * the service stack's `up` with a message that says to deploy the platform first.
 */
export function platformRefsFromStack(environment: string, shape: PlatformShape, opts?: pulumi.CustomResourceOptions): PlatformRefs {
    const stack = platformStackName(environment);
    const reference = new pulumi.StackReference(stack, { name: stack }, opts);
    const published = reference.requireOutput(PLATFORM_OUTPUT) as pulumi.Output<Record<string, any>>;
    const read = <T>(path: string): pulumi.Output<T> =>
        published.apply((platform) => {
            const value = path.split(".").reduce<any>((node, key) => node?.[key], platform);
            if (value === undefined) {
                throw new Error(`Stack ${stack} publishes no ${PLATFORM_OUTPUT}.${path}: deploy ${stack} (pulumi up -s ${stack}) from this commit before the service stacks`);
            }
            return value as T;
        });
    return {
        api: {
            apiId: read("api.apiId"),
            executionArn: read("api.executionArn"),
            ...(shape.jwtAuthorizer ? { jwtAuthorizerId: read<string>("api.jwtAuthorizerId") } : {}),
            stageName: read("api.stageName"),
        },
        ...(shape.eventBus ? { eventBus: { name: read<string>("eventBus.name"), arn: read<string>("eventBus.arn") } } : {}),
        ...(shape.network
            ? { network: { privateSubnetIds: read<string[]>("network.privateSubnetIds"), functionSecurityGroupId: read<string>("network.functionSecurityGroupId"), ec2ArnPrefix: read<string>("network.ec2ArnPrefix") } }
            : {}),
        ...(shape.database
            ? {
                  database: {
                      host: read<string>("database.host"),
                      port: read<number>("database.port"),
                      name: read<string>("database.name"),
                      userArnPrefix: read<string>("database.userArnPrefix"),
                      migrationFunctionName: read<string>("database.migrationFunctionName"),
                      migrationRunnerCodeHash: read<string>("database.migrationRunnerCodeHash"),
                  },
              }
            : {}),
        ...(shape.containers
            ? {
                  containers: {
                      clusterArn: read<string>("containers.clusterArn"),
                      clusterName: read<string>("containers.clusterName"),
                      namespaceId: read<string>("containers.namespaceId"),
                      vpcLinkId: read<string>("containers.vpcLinkId"),
                      taskSecurityGroupId: read<string>("containers.taskSecurityGroupId"),
                  },
              }
            : {}),
        ...(shape.alarmTopicArn ? { alarmTopicArn: read<string>("alarmTopicArn") } : {}),
        ...(shape.releaseApplication
            ? { releaseApplication: { name: read<string>("releaseApplication.name"), roleArn: read<string>("releaseApplication.roleArn"), roleName: read<string>("releaseApplication.roleName") } }
            : {}),
    };
}
