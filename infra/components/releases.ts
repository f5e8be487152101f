/**
 * What CodeDeploy needs to release a gradual stack's functions (`release.strategy` canary or
 * linear): one application (compute platform Lambda) for the stack, its service role, and a
 * deployment group per function, which names the shift (`deploymentConfigName`), the alarms that
 * stop it and the automatic rollback. Nothing here moves an alias: a deployment is created after
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
    /** The ids of the alarms (`alarmIds` in monitoring.ts) that stop its release and roll it back. */
    alarmIds: string[];
}

/** What the Releases component needs. Fields without a default are required. */
export interface ReleasesArgs {
    /** The stack: with the project, the application's name. */
    stack: string;
    /** The stack's release setting; its strategy is canary or linear. */
    release: ReleaseConfig;
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
    /** The CodeDeploy application, in a gradual stack. */
    application?: string;
    functions: FunctionRelease[];
}

export class Releases extends pulumi.ComponentResource {
    readonly applicationName: pulumi.Output<string>;
    /** Deployment group name per released function, in the order given. */
    readonly deploymentGroupNames: pulumi.Output<string>[] = [];

    constructor(name: string, args: ReleasesArgs, opts?: pulumi.ComponentResourceOptions) {
        super(ComponentTypes.releases, name, {}, opts);
        const project = pulumi.getProject();
        const tags = args.tags ?? {};
        const configName = deploymentConfigName(args.release);

        const application = new aws.codedeploy.Application(
            name,
            { name: fitName(`${project}-${args.stack}`, NAME_RULES.codedeploy), computePlatform: "Lambda", tags },
            { parent: this },
        );
        this.applicationName = application.name;

        const caller = aws.getCallerIdentityOutput({}, { parent: this });
        const role = new aws.iam.Role(
            `${name}-role`,
            {
                description: `CodeDeploy: shifts the live aliases of ${project} (${args.stack})`,
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
        // What AWSCodeDeployRoleForLambda grants, narrowed to the stack's functions; no hooks, no S3 AppSpec, no SNS triggers.
        const functionArns = args.functions.map(({ function: fn }) => pulumi.all([fn.arn, fn.targetArn]));
        const permissions = new aws.iam.RolePolicy(
            `${name}-permissions`,
            {
                role: role.id,
                policy: pulumi.all(functionArns).apply((arns) =>
                    JSON.stringify({
                        Version: "2012-10-17",
                        Statement: [
                            { Sid: "ShiftTheLiveAliases", Effect: "Allow", Action: ["lambda:GetAlias", "lambda:UpdateAlias", "lambda:GetProvisionedConcurrencyConfig"], Resource: arns.flat() },
                            // DescribeAlarms reads alarm states only; CodeDeploy's own managed policy grants it on "*".
                            { Sid: "ReadAlarms", Effect: "Allow", Action: "cloudwatch:DescribeAlarms", Resource: "*" },
                        ],
                    }),
                ),
            },
            { parent: this },
        );

        for (const released of args.functions) {
            const groupName = fitName(`${released.service}-${released.id}`, NAME_RULES.codedeploy);
            const alarms = released.alarmIds.map((id) => alarmName(project, args.stack, id));
            if (alarms.length === 0 || alarms.length > CODEDEPLOY_LAMBDA.maxAlarms) {
                throw new Error(`The release of ${released.service}/${released.id} names ${alarms.length} alarms; a deployment group takes 1 to ${CODEDEPLOY_LAMBDA.maxAlarms}.`);
            }
            const group = new aws.codedeploy.DeploymentGroup(
                `${name}-${released.service}-${released.id}`,
                {
                    appName: application.name,
                    deploymentGroupName: groupName,
                    serviceRoleArn: role.arn,
                    deploymentConfigName: configName,
                    deploymentStyle: { deploymentType: "BLUE_GREEN", deploymentOption: "WITH_TRAFFIC_CONTROL" },
                    // An alarm CodeDeploy cannot read stops the release too: no shift goes unwatched.
                    alarmConfiguration: { enabled: true, alarms, ignorePollAlarmFailure: false },
                    autoRollbackConfiguration: { enabled: true, events: ["DEPLOYMENT_FAILURE", "DEPLOYMENT_STOP_ON_ALARM"] },
                    // Each deployment's AppSpec names the function; the tag ties the group to it between deployments (and to its service).
                    tags: released.function.name.apply((functionName) => ({ ...tags, function: functionName })),
                },
                { parent: this, dependsOn: [permissions] },
            );
            this.deploymentGroupNames.push(group.deploymentGroupName);
        }
        this.registerOutputs({ applicationName: this.applicationName });
    }
}

/** The `releases` output of a stack: every released function with its alias and, gradually, its deployment group. */
export function releasesOutput(release: ReleaseConfig, functions: { service: string; id: string; function: Function }[], releases?: Releases): pulumi.Output<ReleasesOutput> {
    return pulumi
        .all([releases?.applicationName, pulumi.all(functions.map((fn) => fn.function.name)), pulumi.all(releases?.deploymentGroupNames ?? [])])
        .apply(([application, names, groups]) => ({
            strategy: release.strategy,
            deploymentConfigName: deploymentConfigName(release),
            keepVersions: release.keepVersions,
            ...(application ? { application } : {}),
            functions: functions.map((fn, index) => ({ service: fn.service, id: fn.id, functionName: names[index], alias: LIVE_ALIAS, ...(releases ? { deploymentGroup: groups[index] } : {}) })),
        }));
}
