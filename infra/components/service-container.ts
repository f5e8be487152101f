import * as fs from "node:fs";
import * as path from "node:path";
import * as aws from "@pulumi/aws";
import * as dockerBuild from "@pulumi/docker-build";
import * as pulumi from "@pulumi/pulumi";
import { CLAIM_HEADERS, claimsPassed, CONTAINER_DATABASE_CA_ENVIRONMENT, CONTAINER_ENVIRONMENT, REQUEST_ID_HEADER } from "../../functions/runtime/container";
import { ComponentTypes } from "../../policy/lib/types";
import type { ResolvedContainerRoute, ResolvedContainerService } from "../../platform/model";
import { buildTag, lifecyclePolicy, type ImageBuild } from "../image-build";
import type { ContainerServiceNames } from "../../platform/naming";
import { RDS_CA_BUNDLE, rdsCaInstruction } from "../rds-ca-bundle";
import { databaseEnvironment, type DatabaseConnection } from "./function-settings";
import { routeAuthorization } from "./http-route";
import { ServiceSecret } from "./service-secret";

/** Fargate on Graviton: ~20% cheaper per vCPU-hour than x86_64, like the functions' arm64. */
export const CONTAINER_ARCHITECTURE = { ecs: "ARM64", docker: "linux/arm64" } as const;
/** What target tracking holds the service's average CPU at, in percent. */
export const TARGET_CPU_PERCENT = 60;
/** The one container of each task. */
const CONTAINER_NAME = "app";
/** The writable scratch space of a read-only root filesystem. */
const TMP_VOLUME = { name: "tmp", containerPath: "/tmp" };

/** The cluster, discovery, network and API a container service joins (the ContainerPlatform's, and the Api's). */
export interface ContainerPlacement {
    clusterArn: pulumi.Input<string>;
    namespaceId: pulumi.Input<string>;
    vpcLinkId: pulumi.Input<string>;
    subnetIds: pulumi.Input<string[]>;
    taskSecurityGroupId: pulumi.Input<string>;
    apiId: pulumi.Input<string>;
    /** For routes with `auth: "jwt"`. @default none (then no route may use jwt) */
    jwtAuthorizerId?: pulumi.Input<string>;
}

/** What a ServiceContainer component needs. Fields without a default are required. */
export interface ServiceContainerArgs {
    /** The service, validated and resolved for this stack (its scaling included). */
    service: ResolvedContainerService;
    /** Its repository's, task family's and log group's names, fitted to AWS's rules (`containerServiceNames`, platform/naming.ts). */
    names: ContainerServiceNames;
    placement: ContainerPlacement;
    /** Retention of that log group, in days. */
    logRetentionDays: number;
    /** The application log level handed to the process as `LOG_LEVEL`. */
    logLevel: string;
    /** The database and its network, for services with `database: true`. @default none */
    database?: DatabaseConnection;
    /**
     * Whether destroying the stack deletes the image repository with the images in it (ECR
     * `forceDelete`). Only where the stack lets its data be destroyed: elsewhere `pulumi destroy`
     * stops at a repository that still holds images, which are what a rollback runs.
     */
    destroyImagesWithStack: boolean;
    /**
     * Its secret's name (`serviceSecretName`) and recovery window (`secretRecoveryWindowDays`), for
     * a service that declares secrets; the program always passes them.
     */
    secret: { name: string; recoveryWindowInDays: number };
    /**
     * CloudWatch alarms that stop a deployment and roll it back to the last completed one, beside
     * the circuit breaker (which sees only tasks that fail to start or stay healthy): the stack's
     * alarms on this service (`containerDeploymentAlarmIds`, monitoring.ts), named in full.
     * @default none: the circuit breaker alone (a stack without monitoring)
     */
    deploymentAlarmNames?: string[];
    /** @default none */
    tags?: Record<string, string>;
}

/**
 * The container definition's `secrets`: each declared name as an environment variable of the
 * process, ECS reading it from that key of the service's secret's JSON (`<arn>:<key>::`) when the
 * task starts.
 */
export function containerSecrets(secretArn: string, names: readonly string[]): { name: string; valueFrom: string }[] {
    return names.map((name) => ({ name, valueFrom: `${secretArn}:${name}::` }));
}

/**
 * What a task of a database service gets to reach the database, decided in one place: the same
 * `DB_*` variables a function of the stack gets (`databaseEnvironment`, named in
 * `functions/runtime/environment.ts`): the cluster, and the service's own login role in `DB_USER`,
 * which the process signs in as with IAM database authentication (a token its language's AWS SDK
 * signs from the task role's credentials); the RDS certificate authorities its image holds
 * (`NODE_EXTRA_CA_CERTS` for Node.js, `PGSSLROOTCERT` for libpq-based clients), in place of the
 * Lambda runtime's; the task-role statement that allows exactly that sign-in (`rds-db:connect` on
 * that database user), and the security group the database admits. The master secret is the
 * migration launcher's alone.
 */
export function containerDatabaseAccess(database: DatabaseConnection, timeoutSeconds: number) {
    const { signIn } = database;
    if (!("user" in signIn)) throw new Error("A container service signs in as its own database role, never as the master user.");
    const { NODE_EXTRA_CA_CERTS: _lambdaRuntimeBundle, ...variables } = databaseEnvironment(database, timeoutSeconds);
    const environment: Record<string, pulumi.Input<string>> = {
        ...variables,
        ...Object.fromEntries(Object.values(CONTAINER_DATABASE_CA_ENVIRONMENT).map((name) => [name, RDS_CA_BUNDLE.imagePath])),
    };
    return {
        environment,
        taskRoleStatements: pulumi.output(signIn.userArn).apply((userArn) => [{ Sid: "DatabaseConnect", Effect: "Allow", Action: ["rds-db:connect"], Resource: userArn }]),
        securityGroupIds: database.securityGroupIds,
    };
}

/**
 * The integration's request parameters: the claims the route passes (`claimsPassed`) overwrite
 * their `x-jwt-*` headers, and every other `x-jwt-*` header a client sent is removed, so a header
 * the process reads was set by the gateway. The request id goes along on every route.
 */
export function claimMappings(route: Pick<ResolvedContainerRoute, "auth" | "scopes">): Record<string, string> {
    const mappings: Record<string, string> = { [`overwrite:header.${REQUEST_ID_HEADER}`]: "$context.requestId" };
    const passed: readonly string[] = claimsPassed(route);
    for (const [claim, header] of Object.entries(CLAIM_HEADERS)) {
        // `remove` takes a value, which it ignores; an empty string literal is what AWS documents.
        if (passed.includes(claim)) mappings[`overwrite:header.${header}`] = `$context.authorizer.claims.${claim}`;
        else mappings[`remove:header.${header}`] = "''";
    }
    return mappings;
}

function assumeRolePolicy(): string {
    return JSON.stringify({
        Version: "2012-10-17",
        Statement: [{ Effect: "Allow", Principal: { Service: "ecs-tasks.amazonaws.com" }, Action: "sts:AssumeRole" }],
    });
}

/**
 * One container service on Fargate (its `ContainerServiceDefinition`, `functions/<service>/service.ts`):
 * its image (an ECR repository with scanning and a lifecycle, built for arm64 and pushed at
 * `pulumi up`), a log group, an execution role that may only pull that image and write that
 * group, a task role with only what the service needs, a task definition (non-root as the image
 * says, read-only root filesystem with a writable `/tmp`, no privileges, a health check), its
 * Cloud Map service, the ECS service (private subnets, no public IP, circuit breaker with rollback),
 * target-tracking scaling, and per route an integration through the VPC link and the route.
 */
export class ServiceContainer extends pulumi.ComponentResource {
    readonly serviceName: pulumi.Output<string>;
    /** The task image as deployed: a digest-pinned reference. */
    readonly imageRef: pulumi.Output<string>;

    constructor(name: string, args: ServiceContainerArgs, opts?: pulumi.ComponentResourceOptions) {
        super(ComponentTypes.serviceContainer, name, {}, opts);
        const { service, placement } = args;
        const tags = { ...(args.tags ?? {}), service: service.name };
        const region = aws.getRegionOutput({}, { parent: this });
        const { names } = args;

        const logGroup = new aws.cloudwatch.LogGroup(
            `${name}-container`,
            { name: names.logGroup, retentionInDays: args.logRetentionDays, tags },
            { parent: this },
        );

        const image = this.createImage(name, service, names.repository, args.destroyImagesWithStack, tags);
        const database = args.database ? containerDatabaseAccess(args.database, service.timeoutSeconds) : undefined;

        const executionRole = new aws.iam.Role(
            `${name}-execution`,
            { description: `Starts the ${service.name} tasks: pulls the image, writes the log group`, assumeRolePolicy: assumeRolePolicy(), tags },
            { parent: this },
        );
        // ECS reads the values with the execution role when a task starts and hands each to the
        // process as an environment variable: any language gets them with no SDK, and the task
        // definition holds only the secret's ARN.
        const secret =
            service.secrets.length > 0
                ? new ServiceSecret(`${name}-secrets`, { service: service.name, secretName: args.secret.name, recoveryWindowInDays: args.secret.recoveryWindowInDays, declared: service.secrets, readerRoleArns: [executionRole.arn], tags }, { parent: this })
                : undefined;
        const executionPolicy = new aws.iam.RolePolicy(
            `${name}-execution`,
            {
                role: executionRole.id,
                policy: pulumi.all([logGroup.arn, image.repositoryArn, pulumi.all(secret?.readStatements() ?? [])]).apply(([logGroupArn, repositoryArn, readSecret]) =>
                    JSON.stringify({
                        Version: "2012-10-17",
                        Statement: [
                            { Sid: "OwnLogGroup", Effect: "Allow", Action: ["logs:CreateLogStream", "logs:PutLogEvents"], Resource: `${logGroupArn}:*` },
                            // ECR issues registry tokens for the account, not per repository.
                            { Sid: "RegistryToken", Effect: "Allow", Action: ["ecr:GetAuthorizationToken"], Resource: "*" },
                            { Sid: "PullOwnImage", Effect: "Allow", Action: ["ecr:BatchCheckLayerAvailability", "ecr:GetDownloadUrlForLayer", "ecr:BatchGetImage"], Resource: repositoryArn },
                            ...readSecret,
                        ],
                    }),
                ),
            },
            { parent: this },
        );

        const taskRole = new aws.iam.Role(
            `${name}-task`,
            { description: `The ${service.name} service's own permissions`, assumeRolePolicy: assumeRolePolicy(), tags },
            { parent: this },
        );
        const taskPolicies: pulumi.Resource[] = [];
        if (database) {
            taskPolicies.push(
                new aws.iam.RolePolicy(
                    `${name}-task`,
                    { role: taskRole.id, policy: database.taskRoleStatements.apply((statements: object[]) => JSON.stringify({ Version: "2012-10-17", Statement: statements })) },
                    { parent: this },
                ),
            );
        }

        const environment: Record<string, pulumi.Input<string>> = {
            ...service.environment,
            [CONTAINER_ENVIRONMENT.port]: String(service.port),
            [CONTAINER_ENVIRONMENT.serviceName]: service.name,
            [CONTAINER_ENVIRONMENT.logLevel]: args.logLevel,
            ...(database?.environment ?? {}),
        };
        const containerDefinitions = pulumi.all([image.ref, pulumi.all(environment), logGroup.name, region.region, secret?.arn]).apply(([imageRef, variables, group, regionName, secretArn]) =>
            JSON.stringify([
                {
                    name: CONTAINER_NAME,
                    image: imageRef,
                    essential: true,
                    portMappings: [{ containerPort: service.port, protocol: "tcp", name: "http" }],
                    environment: Object.entries(variables)
                        .sort(([a], [b]) => a.localeCompare(b))
                        .map(([key, value]) => ({ name: key, value })),
                    ...(secretArn ? { secrets: containerSecrets(secretArn, service.secrets) } : {}),
                    logConfiguration: { logDriver: "awslogs", options: { "awslogs-group": group, "awslogs-region": regionName, "awslogs-stream-prefix": service.name, mode: "non-blocking" } },
                    healthCheck: { command: ["CMD-SHELL", service.healthCheckCommand], interval: 15, timeout: 5, retries: 3, startPeriod: 30 },
                    privileged: false,
                    readonlyRootFilesystem: service.readOnlyRootFilesystem,
                    mountPoints: [{ sourceVolume: TMP_VOLUME.name, containerPath: TMP_VOLUME.containerPath, readOnly: false }],
                    // The image's USER decides who runs the process (the registry checks it is not root).
                    linuxParameters: { initProcessEnabled: true, capabilities: { drop: ["ALL"] } },
                },
            ]),
        );

        const taskDefinition = new aws.ecs.TaskDefinition(
            `${name}-task`,
            {
                family: names.taskFamily,
                networkMode: "awsvpc",
                requiresCompatibilities: ["FARGATE"],
                cpu: String(service.cpu),
                memory: String(service.memoryMb),
                runtimePlatform: { cpuArchitecture: CONTAINER_ARCHITECTURE.ecs, operatingSystemFamily: "LINUX" },
                executionRoleArn: executionRole.arn,
                taskRoleArn: taskRole.arn,
                volumes: [{ name: TMP_VOLUME.name }],
                containerDefinitions,
                tags,
            },
            // ECS checks the execution role when a task starts, not when the definition is registered;
            // the policies go first so the first task can pull its image.
            { parent: this, dependsOn: [executionPolicy, ...taskPolicies] },
        );

        const discovery = new aws.servicediscovery.Service(
            `${name}-discovery`,
            {
                name: service.name,
                namespaceId: placement.namespaceId,
                // SRV records carry the port, which the HTTP API's private integration needs.
                dnsConfig: { namespaceId: placement.namespaceId, dnsRecords: [{ type: "SRV", ttl: 10 }], routingPolicy: "MULTIVALUE" },
                // ECS reports each task's container health check to Cloud Map.
                healthCheckCustomConfig: {},
                forceDestroy: true,
                tags,
            },
            { parent: this },
        );

        const ecsService = new aws.ecs.Service(
            `${name}-service`,
            {
                name: service.name,
                cluster: placement.clusterArn,
                taskDefinition: taskDefinition.arn,
                launchType: "FARGATE",
                platformVersion: "LATEST",
                desiredCount: service.scaling.minTasks,
                deploymentCircuitBreaker: { enable: true, rollback: true },
                ...(args.deploymentAlarmNames && args.deploymentAlarmNames.length > 0 ? { alarms: { alarmNames: args.deploymentAlarmNames, enable: true, rollback: true } } : {}),
                deploymentMinimumHealthyPercent: 100,
                deploymentMaximumPercent: 200,
                networkConfiguration: {
                    subnets: placement.subnetIds,
                    securityGroups: pulumi.all([placement.taskSecurityGroupId, database?.securityGroupIds ?? []]).apply(([own, more]) => [own, ...more]),
                    assignPublicIp: false,
                },
                serviceRegistries: { registryArn: discovery.arn, containerName: CONTAINER_NAME, containerPort: service.port },
                propagateTags: "SERVICE",
                enableExecuteCommand: false,
                // A service scaled to 0 never becomes steady in the sense `pulumi up` would wait for.
                waitForSteadyState: false,
                tags,
            },
            // Scaling owns the running count between deployments; the program sets the floor.
            { parent: this, ignoreChanges: ["desiredCount"] },
        );

        const scaling = new aws.appautoscaling.Target(
            `${name}-scaling`,
            {
                serviceNamespace: "ecs",
                scalableDimension: "ecs:service:DesiredCount",
                resourceId: pulumi.interpolate`service/${clusterName(placement.clusterArn)}/${ecsService.name}`,
                minCapacity: service.scaling.minTasks,
                maxCapacity: service.scaling.maxTasks,
                tags,
            },
            { parent: this },
        );
        new aws.appautoscaling.Policy(
            `${name}-cpu`,
            {
                policyType: "TargetTrackingScaling",
                serviceNamespace: scaling.serviceNamespace,
                scalableDimension: scaling.scalableDimension,
                resourceId: scaling.resourceId,
                targetTrackingScalingPolicyConfiguration: {
                    predefinedMetricSpecification: { predefinedMetricType: "ECSServiceAverageCPUUtilization" },
                    targetValue: TARGET_CPU_PERCENT,
                    scaleInCooldown: 300,
                    scaleOutCooldown: 60,
                },
            },
            { parent: this },
        );

        for (const route of service.routes) {
            const integration = new aws.apigatewayv2.Integration(
                `${name}-${route.id}`,
                {
                    apiId: placement.apiId,
                    description: `${route.routeKey}: ${route.description}`.slice(0, 1024),
                    integrationType: "HTTP_PROXY",
                    integrationMethod: route.method,
                    integrationUri: discovery.arn,
                    connectionType: "VPC_LINK",
                    connectionId: placement.vpcLinkId,
                    // Private integrations speak payload 1.0: the request is proxied as it came.
                    payloadFormatVersion: "1.0",
                    timeoutMilliseconds: route.timeoutSeconds * 1000,
                    requestParameters: claimMappings(route),
                },
                { parent: this },
            );
            new aws.apigatewayv2.Route(
                `${name}-${route.id}`,
                {
                    apiId: placement.apiId,
                    routeKey: route.routeKey,
                    target: pulumi.interpolate`integrations/${integration.id}`,
                    ...routeAuthorization(route, placement.jwtAuthorizerId),
                },
                { parent: this },
            );
        }

        this.serviceName = ecsService.name;
        this.imageRef = image.ref;
        this.registerOutputs({ serviceName: this.serviceName, imageRef: this.imageRef });
    }

    /**
     * The image: a build context becomes an ECR repository (tags immutable, scanned on push, the
     * last builds kept) and an arm64 image built and pushed by `@pulumi/docker-build` at `pulumi up`
     * under its own tag, `build-<hash of what it is built from>` (infra/image-build.ts); previews
     * do not build (they need no Docker, no QEMU and no push rights). A build whose tag the
     * repository holds already (a redeploy of an earlier commit) is not pushed again: an
     * immutable tag cannot be, and the task runs the image the repository holds. An image URI is
     * used as it is.
     */
    private createImage(name: string, service: ResolvedContainerService, repositoryName: string, destroyImagesWithStack: boolean, tags: Record<string, string>): { ref: pulumi.Output<string>; repositoryArn: pulumi.Output<string> } {
        if ("uri" in service.image) {
            const uri = service.image.uri;
            // `<account>.dkr.ecr.<region>.amazonaws.com/<repository>[:tag|@digest]`, as the registry requires.
            const [host, ...rest] = uri.split("/");
            const repository = rest.join("/").split("@")[0].split(":")[0];
            const [account, , , regionName] = host.split(".");
            return { ref: pulumi.output(uri), repositoryArn: pulumi.output(`arn:aws:ecr:${regionName}:${account}:repository/${repository}`) };
        }
        const repository = new aws.ecr.Repository(
            `${name}-images`,
            {
                name: repositoryName,
                // Each build has a tag of its own that nothing moves: a tag names one image for good.
                imageTagMutability: "IMMUTABLE",
                imageScanningConfiguration: { scanOnPush: true },
                encryptionConfigurations: [{ encryptionType: "AES256" }],
                forceDelete: destroyImagesWithStack,
                tags,
            },
            { parent: this },
        );
        new aws.ecr.LifecyclePolicy(`${name}-images`, { repository: repository.name, policy: lifecyclePolicy() }, { parent: this });
        const build = imageBuildOf(service.image, service.database);
        const tag = buildTag(build);
        // An invoke that fails (the repository does not exist yet) means the tag is not there either.
        const heldDigest = pulumi.output(
            aws.ecr
                .getImages({ repositoryName }, { parent: this })
                .then((listing) => (listing.imageIds ?? []).find((held) => held.imageTag === tag)?.imageDigest)
                .catch(() => undefined),
        );
        const token = aws.ecr.getAuthorizationTokenOutput({ registryId: repository.registryId }, { parent: this });
        const image = new dockerBuild.Image(
            `${name}-image`,
            {
                ...build,
                platforms: build.platforms as dockerBuild.Platform[],
                push: heldDigest.apply((digest) => digest === undefined),
                buildOnPreview: false,
                tags: [pulumi.interpolate`${repository.repositoryUrl}:${tag}`],
                registries: [{ address: repository.repositoryUrl, username: token.userName, password: pulumi.secret(token.password) }],
            },
            { parent: this },
        );
        const ref = pulumi
            .all([heldDigest, image.ref, repository.repositoryUrl])
            .apply(([digest, built, url]) => (digest ? `${url}:${tag}@${digest}` : built));
        return { ref, repositoryArn: repository.arn };
    }
}

/**
 * What a service's image is built from: its context and Dockerfile, for arm64. A service that keeps
 * data gets the RDS certificate authorities too: its Dockerfile with one instruction appended to
 * the final stage that copies the vendored bundle from a build context of its own
 * (infra/rds-ca-bundle.ts), so the service's Dockerfile needs no change and the bundle is the
 * repository's, never fetched at build time.
 */
export function imageBuildOf(image: { context: string; dockerfile: string }, database: boolean): ImageBuild {
    const dockerfile = path.join(image.context, image.dockerfile);
    const platforms = [CONTAINER_ARCHITECTURE.docker];
    if (!database) return { context: { location: image.context }, dockerfile: { location: dockerfile }, platforms };
    const text = fs.readFileSync(dockerfile, "utf8").replace(/\s*$/, "");
    return {
        context: { location: image.context, named: { [RDS_CA_BUNDLE.buildContext]: { location: RDS_CA_BUNDLE.folder } } },
        dockerfile: { inline: `${text}\n# Added by the platform: the RDS certificate authorities (infra/rds-ca-bundle.ts).\n${rdsCaInstruction()}\n` },
        platforms,
    };
}

/** `arn:aws:ecs:<region>:<account>:cluster/<name>` -> `<name>`: scaling targets name the cluster, not its ARN. */
function clusterName(clusterArn: pulumi.Input<string>): pulumi.Output<string> {
    return pulumi.output(clusterArn).apply((arn) => arn.split("/").pop() ?? arn);
}
