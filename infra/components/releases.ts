/**
 * What CodeDeploy needs to release a gradual environment's functions (`release.strategy` canary
 * or linear), in two parts so that each service's stack can deploy its own: the environment's
 * application (compute platform Lambda) and the role its deployments run as (`ReleaseApplication`),
 * and per service a deployment group per function, which names the shift (`deploymentConfigName`),
 * the alarms that stop it and the automatic rollback, with the role's grant on that service's
 * aliases (`ServiceReleases`). Nothing here moves an alias: a deployment is created after
 * `pulumi up` by the release step (`tools/release.ts`), from the stack's `releases` output.
 *
 * Why CodeDeploy rather than weighted aliases driven by the release step: it is what SAM
 * (`DeploymentPreference`) and CDK (`LambdaDeploymentGroup`) use, it watches the alarms and rolls
 * back by itself even if the deploy job dies half-way, and each release leaves a deployment record
 * (who, which versions, why it stopped) in the account. CodeDeploy for Lambda costs nothing.
 */
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { CODEDEPLOY_LAMBDA, NAME_RULES } from "../../policy/lib/limits";
import { ComponentTypes } from "../../policy/lib/types";
import { deploymentConfigName, type ReleaseConfig } from "../../platform/config/stack-config";
import { alarmName, fitName } from "../../platform/naming";
import { LIVE_ALIAS, type Function } from "./function";

/** A function CodeDeploy releases, and the alarms that judge its new version. */
export interface ReleasedFunction {
    service: string;
    /** Its id in the service: part of its deployment group's name. */
    id: string;
    function: Function;
    /**
     * The ids of the alarms (`alarmIds` in monitoring.ts) that stop its release and roll it back.
     * Named, not held: a route's include the API's alarms, which the platform's part owns.
     */
    alarmIds: string[];
}

/** What the ReleaseApplication component needs. Fields without a default are required. */
export interface ReleaseApplicationArgs {
    /** The environment: with the project, the application's name. */
    environment: string;
    /** @default none */
    tags?: Record<string, string>;
}

/** What the ServiceReleases component needs. Fields without a default are required. */
export interface ServiceReleasesArgs {
    /** The environment: with the project, the names of the alarms the groups watch. */
    environment: string;
    /** The registry's service: every function below belongs to it. */
    service: string;
    /** The environment's release setting; its strategy is canary or linear. */
    release: ReleaseConfig;
    /** The CodeDeploy application (`ReleaseApplication.applicationName`, or the platform stack's output). */
    applicationName: pulumi.Input<string>;
    /** The role CodeDeploy runs the deployments as (`ReleaseApplication.roleArn`/`roleName`, or the platform stack's outputs). */
    roleArn: pulumi.Input<string>;
    /** The same role's name: the service grants it its own aliases by an inline policy on it. */
    roleName: pulumi.Input<string>;
    functions: ReleasedFunction[];
    /** @default none */
    tags?: Record<string, string>;
}

/** One function's entry in the stack's `releases` output: what the release step reads. */
export interface FunctionRelease {
    service: string;
    id: string;
    functionName: string;
    alias: string;
    /** Its CodeDeploy deployment group, in a gradual stack. */
    deploymentGroup?: string;
}

/** The stack's `releases` output. */
export interface ReleasesOutput {
    strategy: ReleaseConfig["strategy"];
    /** The CodeDeploy configuration each deployment group names. */
    deploymentConfigName: string;
    keepVersions: number;
    /** The CodeDeploy application, in a gradual stack with functions. */
    application?: string;
    /** Empty in a stack with no released function (the platform stack of the per-service layout). */
    functions: FunctionRelease[];
}

/**
 * Where the stacks deployed before the split into an application and per-service parts hold these
 * resources: one component of this type and name for all of them. The aliases below resolve to it,
 * so those stacks keep their application, role and deployment groups instead of replacing them.
 */
const FORMER_RELEASES = { type: "serverless-microservices:releases:Releases", name: "releases" } as const;

/**
 * The environment's CodeDeploy application and the role its deployments run as. The role may read
 * alarm states; each service grants it its own aliases (`ServiceReleases`), so the platform needs
 * to know no service's functions.
 */
export class ReleaseApplication extends pulumi.ComponentResource {
    readonly applicationName: pulumi.Output<string>;
    readonly roleArn: pulumi.Output<string>;
    readonly roleName: pulumi.Output<string>;

    constructor(name: string, args: ReleaseApplicationArgs, opts?: pulumi.ComponentResourceOptions) {
        // The children keep their names, so this alias moves them along with the component.
        super(ComponentTypes.releaseApplication, name, {}, { ...opts, aliases: [...(opts?.aliases ?? []), { type: FORMER_RELEASES.type }] });
        const project = pulumi.getProject();
        const tags = args.tags ?? {};

        const application = new aws.codedeploy.Application(
            name,
            { name: fitName(`${project}-${args.environment}`, NAME_RULES.codedeploy), computePlatform: "Lambda", tags },
            { parent: this },
        );
        this.applicationName = application.name;

        const caller = aws.getCallerIdentityOutput({}, { parent: this });
        const role = new aws.iam.Role(
            `${name}-role`,
            {
                description: `CodeDeploy: shifts the live aliases of ${project} (${args.environment})`,
                // The account's own deployments only (the confused deputy).
                assumeRolePolicy: caller.apply(({ accountId }) =>
                    JSON.stringify({
                        Version: "2012-10-17",
                        Statement: [{ Effect: "Allow", Principal: { Service: "codedeploy.amazonaws.com" }, Action: "sts:AssumeRole", Condition: { StringEquals: { "aws:SourceAccount": accountId } } }],
                    }),
                ),
                tags,
            },
            { parent: this },
        );
        this.roleArn = role.arn;
        this.roleName = role.name;
        new aws.iam.RolePolicy(
            `${name}-permissions`,
            {
                role: role.id,
                policy: JSON.stringify({
                    Version: "2012-10-17",
                    // DescribeAlarms reads alarm states only; CodeDeploy's own managed policy grants it on "*".
                    Statement: [{ Sid: "ReadAlarms", Effect: "Allow", Action: "cloudwatch:DescribeAlarms", Resource: "*" }],
                }),
            },
            { parent: this },
        );
        this.registerOutputs({ applicationName: this.applicationName, roleArn: this.roleArn });
    }
}

/**
 * One service's releases: the release role's grant on that service's functions and aliases (what
 * AWSCodeDeployRoleForLambda grants, narrowed to them; no hooks, no S3 AppSpec, no SNS triggers),
 * and a deployment group per function. Its children are named `<name>-<what>`: with `name`
 * `releases-<service>` (as the program does) a group keeps the name `releases-<service>-<id>` it had
 * when one component held every group.
 */
export class ServiceReleases extends pulumi.ComponentResource {
    readonly service: string;
    /** Deployment group name per released function's id. */
    readonly deploymentGroupNames: Record<string, pulumi.Output<string>>;
    readonly applicationName: pulumi.Output<string>;

    constructor(name: string, args: ServiceReleasesArgs, opts?: pulumi.ComponentResourceOptions) {
        const problems = serviceReleasesProblems(args);
        if (problems.length > 0) throw new Error(`ServiceReleases of service "${args.service}" cannot be made:\n${problems.map((problem) => `  - ${problem}`).join("\n")}`);
        super(ComponentTypes.serviceReleases, name, {}, opts);
        const project = pulumi.getProject();
        const tags = args.tags ?? {};
        const configName = deploymentConfigName(args.release);
        const aliases = [{ parent: pulumi.createUrn(FORMER_RELEASES.name, FORMER_RELEASES.type) }];
        this.service = args.service;
        this.applicationName = pulumi.output(args.applicationName);

        const functionArns = args.functions.map(({ function: fn }) => pulumi.all([fn.arn, fn.targetArn]));
        const permissions = new aws.iam.RolePolicy(
            `${name}-permissions`,
            {
                role: args.roleName,
                policy: pulumi.all(functionArns).apply((arns) =>
                    JSON.stringify({
                        Version: "2012-10-17",
                        Statement: [{ Sid: "ShiftTheLiveAliases", Effect: "Allow", Action: ["lambda:GetAlias", "lambda:UpdateAlias", "lambda:GetProvisionedConcurrencyConfig"], Resource: arns.flat() }],
                    }),
                ),
            },
            { parent: this },
        );

        this.deploymentGroupNames = {};
        for (const released of args.functions) {
            const group = new aws.codedeploy.DeploymentGroup(
                `${name}-${released.id}`,
                {
                    appName: args.applicationName,
                    deploymentGroupName: fitName(`${released.service}-${released.id}`, NAME_RULES.codedeploy),
                    serviceRoleArn: args.roleArn,
                    deploymentConfigName: configName,
                    deploymentStyle: { deploymentType: "BLUE_GREEN", deploymentOption: "WITH_TRAFFIC_CONTROL" },
                    // An alarm CodeDeploy cannot read stops the release too: no shift goes unwatched.
                    alarmConfiguration: { enabled: true, alarms: released.alarmIds.map((id) => alarmName(project, args.environment, id)), ignorePollAlarmFailure: false },
                    autoRollbackConfiguration: { enabled: true, events: ["DEPLOYMENT_FAILURE", "DEPLOYMENT_STOP_ON_ALARM"] },
                    // Each deployment's AppSpec names the function; the tag ties the group to it between deployments (and to its service).
                    tags: released.function.name.apply((functionName) => ({ ...tags, function: functionName })),
                },
                { parent: this, dependsOn: [permissions], aliases },
            );
            this.deploymentGroupNames[released.id] = group.deploymentGroupName;
        }
        this.registerOutputs({ applicationName: this.applicationName });
    }
}

/** What is wrong with a service's release arguments: a function of another service, or a group with no alarms or too many. */
export function serviceReleasesProblems(args: Pick<ServiceReleasesArgs, "service" | "functions">): string[] {
    const problems: string[] = [];
    for (const released of args.functions) {
        if (released.service !== args.service) problems.push(`${released.service}/${released.id}: belongs to service "${released.service}"; a service releases its own functions only`);
        const count = released.alarmIds.length;
        if (count === 0 || count > CODEDEPLOY_LAMBDA.maxAlarms) problems.push(`${released.service}/${released.id}: names ${count} alarms; a deployment group takes 1 to ${CODEDEPLOY_LAMBDA.maxAlarms}`);
    }
    return problems;
}

/**
 * The `releases` output of a stack: every released function with its alias and, gradually, its
 * deployment group. Given one service's functions and releases it is that service stack's; given
 * none it is the platform stack's, which has nothing to release.
 */
export function releasesOutput(release: ReleaseConfig, functions: { service: string; id: string; function: Function }[], releases: readonly ServiceReleases[] = []): pulumi.Output<ReleasesOutput> {
    const groupOf = (fn: { service: string; id: string }): pulumi.Output<string> | undefined => releases.find((part) => part.service === fn.service)?.deploymentGroupNames[fn.id];
    const missing = releases.length > 0 ? functions.filter((fn) => groupOf(fn) === undefined) : [];
    if (missing.length > 0) throw new Error(`No deployment group releases ${missing.map((fn) => `${fn.service}/${fn.id}`).join(", ")}: a gradual stack releases every function through CodeDeploy.`);
    return pulumi
        .all([releases[0]?.applicationName, pulumi.all(functions.map((fn) => fn.function.name)), pulumi.all(functions.map((fn) => groupOf(fn)))])
        .apply(([application, names, groups]) => ({
            strategy: release.strategy,
            deploymentConfigName: deploymentConfigName(release),
            keepVersions: release.keepVersions,
            ...(application ? { application } : {}),
            functions: functions.map((fn, index) => ({ service: fn.service, id: fn.id, functionName: names[index], alias: LIVE_ALIAS, ...(groups[index] ? { deploymentGroup: groups[index] } : {}) })),
        }));
}
