/**
 * Runs the Pulumi program in-process, without the CLI or a cloud account: Pulumi's mock monitor
 * stands in for the engine, the real `Pulumi.<stack>.yaml` supplies the config, and every
 * registered resource is recorded with its inputs, outputs and dependencies. Tests, the offline
 * policy run and the plan all see the stack through this one function.
 */
import * as pulumi from "@pulumi/pulumi";
import type { RegisteredService } from "../functions/runtime/container";
import { Types } from "../policy/lib/types";
import type { RegisteredResource, ResourceAlias } from "./registered-resource";
import { PROJECT } from "../platform/config/stack-config";
import { listStacks, readStackConfig, readStackFile, REPOSITORY_ROOT } from "../platform/config/stack-files";
import { platformStackName, resolveStackTarget, withLayout, type StackLayout } from "../platform/config/stack-layout";
import { valueKey } from "../platform/value-key";

export { listStacks, readStackConfig, REPOSITORY_ROOT };

const ACCOUNT = "123456789012";

export interface OfflineRun {
    stack: string;
    resources: RegisteredResource[];
    outputs: Record<string, any>;
    /** The outputs of the stacks the run's StackReferences read, by stack (a service stack's platform). */
    referencedOutputs: Record<string, Record<string, any>>;
}

export interface OfflineOptions {
    stack: string;
    /** Run as `pulumi preview` would (the default is `pulumi up`). */
    preview?: boolean;
    /** Raw `namespace:key` config instead of `Pulumi.<stack>.yaml`. */
    config?: Record<string, unknown>;
    /** Another registry than `infra/registry.ts`. */
    services?: readonly RegisteredService[];
    /**
     * The settings of environments by name, as their `Pulumi.<env>.yaml` would hold them: what a
     * stack of a stack-per-service environment reads. @default the repository's stack files
     */
    environments?: Readonly<Record<string, Record<string, unknown>>>;
    /**
     * The outputs of the stacks `pulumi.StackReference`s name, by stack. @default for a service
     * stack, its platform stack's outputs from an offline run of it with the same options
     */
    stackOutputs?: Readonly<Record<string, Record<string, unknown>>>;
    /** Reads the stack's environment as if its file set this layout: what the offline tools' `--layout` asks. @default the file's */
    layout?: StackLayout;
    /** Images the stack's ECR repositories already hold, by repository name. @default none */
    heldImages?: Readonly<Record<string, ReadonlyArray<{ imageTag: string; imageDigest: string }>>>;
}

/** The outputs of the platform stack a service stack's run read, or undefined for any other stack. */
export function platformOutputsOf(run: Pick<OfflineRun, "referencedOutputs">): Record<string, any> | undefined {
    return Object.values(run.referencedOutputs)[0];
}

/** Pulumi passes every config value to the program as a string; structured values as JSON. */
function asPulumiConfig(config: Record<string, unknown>): Record<string, string> {
    const result: Record<string, string> = {};
    for (const [key, value] of Object.entries(config)) {
        if ((value as { secure?: unknown })?.secure !== undefined) continue; // secrets need the CLI to decrypt
        result[key] = typeof value === "string" ? value : JSON.stringify(value);
    }
    return result;
}

/** Plausible outputs for the resources the program creates, as AWS would return them. */
function mockOutputs(type: string, name: string, inputs: Record<string, any>): { id: string; state: Record<string, any> } {
    const region = "us-east-1";
    const id = `${name}-id`;
    switch (type) {
        case Types.lambdaFunction: {
            const functionName = inputs.name ?? `${name}-1a2b3c4`;
            const arn = `arn:aws:lambda:${region}:${ACCOUNT}:function:${functionName}`;
            return {
                id: functionName,
                state: {
                    ...inputs,
                    name: functionName,
                    arn,
                    invokeArn: `arn:aws:apigateway:${region}:lambda:path/2015-03-31/functions/${arn}/invocations`,
                    // A published function's first version; without publish, Lambda reports $LATEST.
                    ...(inputs.publish ? { version: "1", qualifiedArn: `${arn}:1` } : { version: "$LATEST", qualifiedArn: `${arn}:$LATEST` }),
                },
            };
        }
        case Types.lambdaAlias: {
            const functionArn = String(inputs.functionName).startsWith("arn:") ? inputs.functionName : `arn:aws:lambda:${region}:${ACCOUNT}:function:${inputs.functionName}`;
            const arn = `${functionArn}:${inputs.name}`;
            return { id: arn, state: { ...inputs, arn, invokeArn: `arn:aws:apigateway:${region}:lambda:path/2015-03-31/functions/${arn}/invocations` } };
        }
        case Types.codedeployApplication:
            return { id: inputs.name ?? id, state: { ...inputs, arn: `arn:aws:codedeploy:${region}:${ACCOUNT}:application:${inputs.name ?? id}` } };
        case Types.httpApi:
            return {
                id: "a1b2c3d4e5",
                state: {
                    ...inputs,
                    apiEndpoint: `https://a1b2c3d4e5.execute-api.${region}.amazonaws.com`,
                    executionArn: `arn:aws:execute-api:${region}:${ACCOUNT}:a1b2c3d4e5`,
                    arn: `arn:aws:apigateway:${region}::/apis/a1b2c3d4e5`,
                },
            };
        case Types.logGroup:
            return { id: inputs.name ?? id, state: { ...inputs, arn: `arn:aws:logs:${region}:${ACCOUNT}:log-group:${inputs.name ?? id}` } };
        case Types.s3Bucket: {
            // Autonamed as Pulumi names a bucket: the logical name and a random suffix, lower case.
            const bucket = inputs.bucket ?? `${name}-1a2b3c4`.toLowerCase();
            return { id: bucket, state: { ...inputs, bucket, arn: `arn:aws:s3:::${bucket}`, bucketDomainName: `${bucket}.s3.amazonaws.com` } };
        }
        case Types.iamRole:
            return { id: `${name}-1a2b3c4`, state: { ...inputs, name: `${name}-1a2b3c4`, arn: `arn:aws:iam::${ACCOUNT}:role/${name}-1a2b3c4` } };
        case Types.rdsCluster: {
            const identifier = `${name}-1a2b3c4`;
            return {
                id: identifier,
                state: {
                    ...inputs,
                    clusterIdentifier: identifier,
                    clusterResourceId: "cluster-7QXJ4VDMR2ZKHU5NBT3WACYLEI",
                    arn: `arn:aws:rds:${region}:${ACCOUNT}:cluster:${identifier}`,
                    endpoint: `${identifier}.cluster-abcdefghijkl.${region}.rds.amazonaws.com`,
                    readerEndpoint: `${identifier}.cluster-ro-abcdefghijkl.${region}.rds.amazonaws.com`,
                    port: 5432,
                    masterUserSecrets: [{ secretArn: `arn:aws:secretsmanager:${region}:${ACCOUNT}:secret:rds!cluster-${identifier}-AbCdEf`, secretStatus: "active", kmsKeyId: "" }],
                },
            };
        }
        case Types.awsxVpc: {
            const azs = Number(inputs.numberOfAvailabilityZones ?? 2);
            const subnets = (kind: string) => Array.from({ length: azs }, (_, i) => `subnet-${kind}${i}`);
            const hasPublic = (inputs.subnetSpecs ?? []).some((spec: { type: string }) => spec.type === "Public");
            return {
                id,
                state: {
                    vpcId: "vpc-0a1b2c3d",
                    privateSubnetIds: subnets("private"),
                    isolatedSubnetIds: subnets("isolated"),
                    publicSubnetIds: hasPublic ? subnets("public") : [],
                    // Plain values where awsx returns resources: the program reads only their ids.
                    routeTableAssociations: ["private", "isolated"].flatMap((kind) => subnets(kind).map((subnetId, i) => ({ subnetId, routeTableId: `rtb-${kind}${i}` }))),
                    subnetLayout: [],
                },
            };
        }
        case Types.rdsClusterParameterGroup:
        case Types.rdsSubnetGroup: {
            // Autonamed like the provider does it, so the cluster's inputs name them as in AWS.
            const autoname = inputs.name ?? `${name}-1a2b3c4`;
            return { id: autoname, state: { ...inputs, name: autoname, arn: `arn:aws:rds:${region}:${ACCOUNT}:${type === Types.rdsSubnetGroup ? "subgrp" : "cluster-pg"}:${autoname}` } };
        }
        case Types.httpApiDomainName:
            return {
                id: inputs.domainName ?? id,
                state: {
                    ...inputs,
                    domainNameConfiguration: { ...inputs.domainNameConfiguration, targetDomainName: "d-abc123.execute-api.us-east-1.amazonaws.com", hostedZoneId: "Z1UJRXOUMOOFQ8" },
                },
            };
        case Types.ecrRepository:
            return { id: inputs.name ?? id, state: { ...inputs, arn: `arn:aws:ecr:${region}:${ACCOUNT}:repository/${inputs.name ?? id}`, registryId: ACCOUNT, repositoryUrl: `${ACCOUNT}.dkr.ecr.${region}.amazonaws.com/${inputs.name ?? id}` } };
        case Types.dockerImage: {
            // What the provider returns after a push: the first tag, pinned to the pushed digest.
            const tag = String(inputs.tags?.[0] ?? `${name}:latest`);
            return { id, state: { ...inputs, digest: `sha256:${"0".repeat(64)}`, ref: `${tag.replace(/:[^:/]+$/, "")}@sha256:${"0".repeat(64)}` } };
        }
        case Types.ecsCluster:
            return { id: inputs.name ?? id, state: { ...inputs, arn: `arn:aws:ecs:${region}:${ACCOUNT}:cluster/${inputs.name ?? id}` } };
        case Types.ecsService:
            return { id: `arn:aws:ecs:${region}:${ACCOUNT}:service/${inputs.name ?? id}`, state: { ...inputs } };
        case Types.serviceDiscoveryService:
            return { id: `srv-${name}`, state: { ...inputs, arn: `arn:aws:servicediscovery:${region}:${ACCOUNT}:service/srv-${name}` } };
        case Types.vpcEndpoint:
            return { id: `vpce-${name}`, state: { ...inputs, prefixListId: inputs.vpcEndpointType === "Gateway" ? "pl-63a5400a" : undefined } };
        case Types.sqsQueue: {
            const queueName = inputs.name ?? `${name}-1a2b3c4`;
            return { id: `https://sqs.${region}.amazonaws.com/${ACCOUNT}/${queueName}`, state: { ...inputs, name: queueName, arn: `arn:aws:sqs:${region}:${ACCOUNT}:${queueName}`, url: `https://sqs.${region}.amazonaws.com/${ACCOUNT}/${queueName}` } };
        }
        case Types.eventBus:
            return { id: inputs.name ?? id, state: { ...inputs, arn: `arn:aws:events:${region}:${ACCOUNT}:event-bus/${inputs.name ?? id}` } };
        case Types.eventRule: {
            const ruleName = inputs.name ?? `${name}-1a2b3c4`;
            return { id: `${inputs.eventBusName ?? "default"}|${ruleName}`, state: { ...inputs, name: ruleName, arn: `arn:aws:events:${region}:${ACCOUNT}:rule/${inputs.eventBusName ?? "default"}/${ruleName}` } };
        }
        case Types.schedulerSchedule: {
            const scheduleName = inputs.name ?? `${name}-1a2b3c4`;
            return { id: `default/${scheduleName}`, state: { ...inputs, name: scheduleName, arn: `arn:aws:scheduler:${region}:${ACCOUNT}:schedule/default/${scheduleName}` } };
        }
        case Types.lambdaInvocation:
            return { id, state: { ...inputs, result: JSON.stringify({ applied: [], alreadyApplied: 0 }) } };
        case Types.secretsManagerSecret: {
            // Secrets Manager appends six random characters to the name in the ARN (and the id is the ARN).
            const arn = `arn:aws:secretsmanager:${region}:${ACCOUNT}:secret:${inputs.name ?? name}-AbCdEf`;
            return { id: arn, state: { ...inputs, arn } };
        }
        case Types.randomId: {
            // The same bytes every run, so the names made from them are stable under mocks.
            const hex = "1a2b3c4d5e6f7a8b".slice(0, 2 * Number(inputs.byteLength ?? 4));
            return { id: hex, state: { ...inputs, hex, dec: String(parseInt(hex, 16)), b64Url: Buffer.from(hex, "hex").toString("base64url") } };
        }
        default:
            return { id, state: { ...inputs, arn: `arn:aws:mock:${region}:${ACCOUNT}:${type}/${name}` } };
    }
}

/** A `pulumi.StackReference` reads the named stack's outputs (the engine's `state.outputs`). */
function stackReferenceOutputs(inputs: Record<string, any>, options: OfflineOptions): { id: string; state: Record<string, any> } {
    const name = String(inputs.name);
    const outputs = options.stackOutputs?.[name];
    if (!outputs) throw new Error(`Stack ${name} has no outputs in this offline run (pass them as stackOutputs)`);
    return { id: name, state: { name, outputs, secretOutputNames: [] } };
}

function mockCall(token: string, inputs: Record<string, any>, options: OfflineOptions): Record<string, any> {
    switch (token) {
        case "aws:ecr/getImages:getImages":
            return { ...inputs, imageIds: [...(options.heldImages?.[inputs.repositoryName] ?? [])], id: inputs.repositoryName };
        case "aws:index/getRegion:getRegion":
            return { name: "us-east-1", region: "us-east-1", id: "us-east-1" };
        case "aws:index/getAvailabilityZones:getAvailabilityZones":
            return { names: ["us-east-1a", "us-east-1b", "us-east-1c"], zoneIds: ["use1-az1", "use1-az2", "use1-az3"], id: "us-east-1" };
        case "aws:ecr/getAuthorizationToken:getAuthorizationToken":
            return { ...inputs, userName: "AWS", password: "offline-registry-token", proxyEndpoint: `https://${ACCOUNT}.dkr.ecr.us-east-1.amazonaws.com`, id: "us-east-1" };
        case "aws:index/getCallerIdentity:getCallerIdentity":
            return { accountId: ACCOUNT, arn: `arn:aws:iam::${ACCOUNT}:user/offline`, userId: "offline" };
        default:
            return inputs;
    }
}

/** Runs are serialized: the Pulumi runtime keeps its settings in process-wide state. */
let queue: Promise<unknown> = Promise.resolve();

/** Completed runs of this process by what determines them (`runKey`): the program is deterministic under mocks. */
const completedRuns = new Map<string, Promise<OfflineRun>>();

/**
 * Runs the program as `pulumi up` (or `preview`) would for `stack`, against mocks. Rejects with the
 * program's error (a config or registry error, for example) after recording what was registered.
 *
 * A run that succeeded is kept for the life of the process and handed out again for the same
 * stack, mode, config, registry and held images: the suites ask for the same few stacks dozens of
 * times, and a run costs seconds. What is handed out is frozen, so no caller can change what
 * another sees. A run that failed is not kept (its callers assert on what it registered).
 */
export async function runProgramOffline(options: OfflineOptions): Promise<OfflineRun> {
    if (options.layout) options = withLayoutOverride(options, options.layout);
    // A stack of a stack-per-service environment has no file of its own: it reads its environment's.
    const config = asPulumiConfig(options.config ?? readStackFile(options.stack) ?? {});
    const platform = platformStackOf(options);
    if (platform && !options.stackOutputs?.[platform]) {
        const { outputs } = await runProgramOffline({ ...options, stack: platform, config: undefined, stackOutputs: undefined });
        options = { ...options, stackOutputs: { ...options.stackOutputs, [platform]: outputs } };
    }
    return runKept(options, config);
}

/** The options with the stack's environment read as if its file set `layout`. */
function withLayoutOverride(options: OfflineOptions, layout: StackLayout): OfflineOptions {
    const { layout: _asked, ...rest } = options;
    const own = readStackFile(options.stack);
    if (own && !options.config) return { ...rest, config: withLayout(own, layout, PROJECT) };
    const environment = options.stack.split("-")[0];
    const file = readStackFile(environment);
    if (!options.environments && file) return { ...rest, environments: { [environment]: withLayout(file, layout, PROJECT) } };
    return rest;
}

/** The platform stack a service stack of a stack-per-service environment reads, or undefined for any other stack. */
function platformStackOf(options: OfflineOptions): string | undefined {
    const environments = options.environments;
    const read = (environment: string) => (environments ? environments[environment] : readStackFile(environment));
    try {
        const target = resolveStackTarget(options.stack, options.config ?? readStackFile(options.stack) ?? {}, read, PROJECT);
        return target.part.kind === "service" ? platformStackName(target.environment) : undefined;
    } catch {
        return undefined; // the program reports what is wrong with the stack
    }
}

function runKept(options: OfflineOptions, config: Record<string, string>): Promise<OfflineRun> {
    const key = runKey(options, config);
    const kept = completedRuns.get(key);
    if (kept) return kept;
    const run = queue.then(() => runOnce(options, config)).then(deepFreeze);
    queue = run.catch(() => undefined);
    completedRuns.set(key, run);
    run.catch(() => completedRuns.delete(key));
    return run;
}

/**
 * What makes two runs the same: the stack, the mode, the config as the program receives it, the
 * held images, and the registry, compared as `valueKey` compares (plain data by value, functions
 * and other objects by identity).
 */
function runKey(options: OfflineOptions, config: Record<string, string>): string {
    return valueKey([
        options.stack,
        options.preview ?? false,
        config,
        options.services ?? "registry",
        options.heldImages ?? {},
        options.environments ?? {},
        options.stackOutputs ?? {},
    ]);
}

/** Freezes a run's records all the way down (assets and archives too: nothing reads them by changing them). */
function deepFreeze<T>(value: T): T {
    if (value && typeof value === "object" && !Object.isFrozen(value)) {
        Object.freeze(value);
        for (const key of Object.keys(value)) deepFreeze((value as Record<string, unknown>)[key]);
    }
    return value;
}

/** The resources registered by the last run, also when it failed. */
export let lastRegistered: RegisteredResource[] = [];

async function runOnce(options: OfflineOptions, config: Record<string, string>): Promise<OfflineRun> {
    const { stack } = options;
    const resources: RegisteredResource[] = [];
    lastRegistered = resources;

    await pulumi.runtime.setMocks(
        {
            newResource: (args) => (args.type === Types.stackReference ? stackReferenceOutputs(args.inputs, options) : mockOutputs(args.type, args.name, args.inputs)),
            call: (args) => mockCall(args.token, args.inputs, options),
        },
        PROJECT,
        stack,
        options.preview ?? false,
    );
    pulumi.runtime.setAllConfig(config, []);

    // Record what the engine would see: the mock monitor keeps only URN and state.
    const monitor = pulumi.runtime.getMonitor() as any;
    const registerResource = monitor.registerResource.bind(monitor);
    monitor.registerResource = (request: any, callback: (error: unknown, response: any) => void) => {
        registerResource(request, (error: unknown, response: any) => {
            if (!error && response) {
                const inputs = pulumi.runtime.deserializeProperties(request.getObject()) as Record<string, any>;
                const state = pulumi.runtime.deserializeProperties(response.getObject()) as Record<string, any>;
                const propertyDependencies: Record<string, string[]> = {};
                request.getPropertydependenciesMap().forEach((value: any, key: string) => {
                    propertyDependencies[key] = value.getUrnsList();
                });
                resources.push({
                    urn: response.getUrn(),
                    type: request.getType(),
                    name: request.getName(),
                    custom: request.getCustom(),
                    parent: request.getParent() || undefined,
                    inputs,
                    outputs: { ...inputs, ...state, id: response.getId() || undefined },
                    dependencies: request.getDependenciesList(),
                    propertyDependencies,
                    protect: Boolean(request.getProtect?.()),
                    ...customTimeoutsOf(request),
                    provider: request.getProvider() || undefined,
                    ...(request.getIgnorechangesList().length > 0 ? { ignoreChanges: request.getIgnorechangesList() } : {}),
                    aliases: request.getAliasesList().map(aliasOf),
                });
            }
            callback(error, response);
        });
    };

    const { deployStack } = await import("../infra/program");
    // The SDK records a stack trace on every promise it creates, for its leak reports only; with
    // ts-node's source maps each costs ~0.1 ms, about half of a 200-route run. Errors still carry
    // their messages, and resources still get their source positions (the SDK lifts the limit there).
    const stackTraceLimit = Error.stackTraceLimit;
    Error.stackTraceLimit = 0;
    let stackOutputs: Record<string, unknown> | undefined;
    try {
        stackOutputs = await pulumi.runtime.runInPulumiStack(() => deployStack(options.services, { environmentConfig: options.environments ? (environment) => options.environments?.[environment] : undefined }));
        // Registrations go on after the program returns; a run is complete only when every RPC
        // has settled (else the next run's mocks would receive this run's last calls).
        await pulumi.runtime.awaitStackRegistrations();
        await (pulumi.runtime as unknown as { waitForRPCs(): Promise<void> }).waitForRPCs();
    } finally {
        Error.stackTraceLimit = stackTraceLimit;
    }
    const outputs: Record<string, any> = {};
    for (const [key, value] of Object.entries(stackOutputs ?? {})) {
        outputs[key] = await resolve(value);
    }
    return { stack, resources, outputs, referencedOutputs: { ...options.stackOutputs } };
}

/** The request's custom timeouts, only those set. */
function customTimeoutsOf(request: any): Pick<RegisteredResource, "customTimeouts"> {
    const timeouts = request.getCustomtimeouts?.();
    if (!timeouts) return {};
    const set = Object.fromEntries(
        (["create", "update", "delete"] as const).map((kind) => [kind, timeouts[`get${kind[0].toUpperCase()}${kind.slice(1)}`]()]).filter(([, value]) => value),
    );
    return Object.keys(set).length > 0 ? { customTimeouts: set } : {};
}

/** A `pulumirpc.Alias` as plain data: empty fields are the ones the engine takes from the resource. */
function aliasOf(alias: any): ResourceAlias {
    if (alias.hasUrn()) return { urn: alias.getUrn() };
    const spec = alias.getSpec();
    return {
        ...(spec.getName() ? { name: spec.getName() } : {}),
        ...(spec.getType() ? { type: spec.getType() } : {}),
        ...(spec.getStack() ? { stack: spec.getStack() } : {}),
        ...(spec.getProject() ? { project: spec.getProject() } : {}),
        ...(spec.hasParenturn() && spec.getParenturn() ? { parentUrn: spec.getParenturn() } : {}),
        ...(spec.hasNoparent() && spec.getNoparent() ? { noParent: true } : {}),
    };
}

/** Resolves Outputs (nested in objects too) to plain values. */
async function resolve(value: unknown): Promise<unknown> {
    if (pulumi.Output.isInstance(value)) {
        return resolve(await new Promise((done) => (value as pulumi.Output<unknown>).apply((inner) => done(inner))));
    }
    if (Array.isArray(value)) return Promise.all(value.map(resolve));
    if (value && typeof value === "object") {
        const entries = await Promise.all(Object.entries(value).map(async ([key, inner]) => [key, await resolve(inner)] as const));
        return Object.fromEntries(entries);
    }
    return value;
}
