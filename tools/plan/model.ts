/**
 * The plan as data: what a stack will contain, whether it passes policy and what it will cost, from
 * one offline run of the program (`tools/offline.ts`), the policy pack over it
 * (`tools/policy-engine.ts`) and the cost model (`cost.ts`). `render.ts` turns it into text; the
 * JSON output is this model as it is. A new column of the plan starts here, as a field of the
 * planned thing it describes; a new resource detail is an entry of `DESCRIPTIONS`.
 */
import * as path from "node:path";
import type { RegisteredService } from "../../functions/runtime/container";
import { deploymentConfigName, parseStackConfig, type ReleaseConfig } from "../../platform/config/stack-config";
import { AWS_DEFAULTS, estimatedMaxConnections, LAMBDA } from "../../policy/lib/limits";
import { serviceRoleLimits } from "../../policy/lib/migration-run";
import { Types } from "../../policy/lib/types";
import { platformOutputsOf, runProgramOffline } from "../offline";
import { readStackTarget } from "../../platform/config/stack-files";
import { platformStackName, type StackLayout } from "../../platform/config/stack-layout";
import { loadPackConfig, PACK_DIR, packConfigForStack, packLabel, runPolicies, type PolicyRunResult } from "../policy-engine";
import { estimateCost, usd, type CostEstimate } from "./cost";
import { eventLabelOf } from "./event-cost";
import { plannedEvents, type PlannedEvents } from "./events";
import { clustersWithInstances, endpointServiceOf, endpointTypeOf, endpointUsers, endpointZones, functionSettingsOf, idleSessionTimeoutOf, natGatewaysOf, natStrategyOf, ofType, minimumTasksOf, routeKeysOf, routesWithContainers, routesWithFunctions, serviceOf, taskSizeOf, valueOf } from "./resources";
import { type ResourceRecord } from "../registered-resource";
import { describedSecret } from "../../infra/components/service-secret";

export interface TreeNode {
    name: string;
    type: string;
    /** The settings worth a reviewer's glance, in one line; empty for plumbing. */
    detail: string;
    protect?: boolean;
    children: TreeNode[];
}

export interface PlannedRoute {
    routeKey: string;
    method: string;
    path: string;
    /** What answers it: a Lambda function, or a container service through the VPC link. */
    target: "function" | "container";
    service?: string;
    functionName?: string;
    /** The function's memory, or a container route's task memory. */
    memoryMb?: number;
    /** The function's timeout, or how long the API waits for the container. */
    timeoutSeconds?: number;
    architecture?: string;
    runtime?: string;
    /** `NONE`, `JWT`, `AWS_IAM` or `CUSTOM`. */
    authorizationType: string;
    /** Scopes a token must carry one of (JWT routes). */
    scopes?: string[];
    reservedConcurrency?: number;
    inVpc: boolean;
    logRetentionDays?: number;
}

/** A database service's login role and its limits, as the migration run sets them. */
export interface PlannedServiceRole {
    service: string;
    loginRole: string;
    connectionLimit: number;
    statementTimeoutMs: number;
}

export interface PlannedDatabase {
    name: string;
    /** `max_connections`, estimated from the maximum capacity (Aurora derives it from that). */
    maxConnections?: number;
    /** Each database service's role with its connection limit; together they must fit `maxConnections`. */
    serviceRoles: PlannedServiceRole[];
    engine?: string;
    engineVersion?: string;
    minCapacity?: number;
    maxCapacity?: number;
    /** Seconds without a session before pausing; absent when the cluster keeps a floor. */
    autoPauseSeconds?: number;
    /** Seconds after which the server closes an idle session; absent when nothing closes them. */
    idleSessionTimeoutSeconds?: number;
    /** Whether an idle cluster pauses: a 0-ACU floor, and idle sessions closed so that none stays open. */
    pauses: boolean;
    instances: number;
    readers: number;
    backupRetentionDays?: number;
    deletionProtection: boolean;
    finalSnapshot: boolean;
    protect: boolean;
    storageEncrypted: boolean;
}

export interface PlannedNetwork {
    name: string;
    cidrBlock?: string;
    availabilityZones?: number;
    natStrategy: string;
    natGateways: number;
    /** Each endpoint, with the functions in the VPC that call its service (what it is there for). */
    endpoints: Array<{ name: string; service: string; type: string; zones: number; usedBy: string[] }>;
}

/** What the stack's functions reserve of the account's concurrency, and what that leaves. */
export interface PlannedConcurrency {
    /** The stack file's `concurrency.reservations`. */
    reservations: string;
    /** Every function's `reservedConcurrentExecutions`, added up. */
    reserved: number;
    /** Functions that reserve, and what each reserves. */
    functions: Array<{ name: string; reserved: number }>;
    /** The account's quota: the stack file's `concurrency.accountLimit`, else AWS's default. */
    accountLimit: number;
    /** Whether `accountLimit` is AWS's default rather than a value the stack file states. */
    accountLimitAssumed: boolean;
    /** What stays unreserved; AWS requires at least `LAMBDA.minimumUnreservedConcurrency`. */
    unreserved: number;
}

export interface PlannedContainer {
    /** The ECS service's name (the registry's service name). */
    name: string;
    vcpu: number;
    memoryGb: number;
    architecture: string;
    minTasks: number;
    maxTasks?: number;
    publicIp: boolean;
    /** Where the image comes from: `built` from the repository's context, or a given reference. */
    image: string;
    routes: string[];
}

/** A service's secret: what its value must hold and how to set it (the program never does). */
export interface PlannedSecret {
    service: string;
    /** The secret's name, what `--secret-id` takes. */
    name: string;
    /** The names the service declares: the keys of the JSON object its value holds. */
    declared: string[];
    /** The command that sets (or rotates) every value at once. */
    setCommand: string;
}

export interface PlannedApi {
    name: string;
    throttlingRateLimit?: number;
    throttlingBurstLimit?: number;
    accessLogs: boolean;
}

/** How the stack's new versions reach traffic, and what stops and rolls a release back. */
export interface PlannedReleases {
    /** The stack file's `release.strategy`. */
    strategy: string;
    /** The CodeDeploy configuration its deployment groups name. */
    deploymentConfigName: string;
    /** Versions of each function the release step keeps. */
    keepVersions: number;
    /** Functions published behind an alias, which their triggers invoke. */
    aliasedFunctions: number;
    /** A gradual stack's deployment group per function, with the alarms that stop it and the events it rolls back on. */
    groups: Array<{ name: string; function?: string; alarms: string[]; rollbackOn: string[] }>;
    /** Container services whose deployments roll back on alarms (ECS deployment alarms). */
    containers: Array<{ name: string; alarms: string[] }>;
}

export interface StackPlan {
    stack: string;
    /** The environment the stack is part of and its file (`dev` for `dev-users`). */
    environment: string;
    /** What the stack holds: everything, the shared platform, or one service (with its platform stack). */
    part: { kind: "environment" } | { kind: "platform" } | { kind: "service"; service: string; platformStack: string };
    region?: string;
    resourceCount: number;
    tree: TreeNode[];
    routes: PlannedRoute[];
    databases: PlannedDatabase[];
    networks: PlannedNetwork[];
    containers: PlannedContainer[];
    /** Each service's secret, in registry order. */
    secrets: PlannedSecret[];
    apis: PlannedApi[];
    /** The buses, each event's flow from its producer to its subscribers, and the schedules (`events.ts`). */
    events: PlannedEvents;
    concurrency: PlannedConcurrency;
    logs: { groups: number; retentionDays: number[] };
    monitoring: { alarms: number; dashboards: number; topics: number };
    releases: PlannedReleases;
    policy: { pack: string; config: string; passed: boolean } & PolicyRunResult;
    cost: CostEstimate;
}

export const yesNo = (value: boolean) => (value ? "yes" : "no");

/** One line of a resource's settings a reviewer checks, from the resource and the rest of the stack. */
type Describe = (r: ResourceRecord, resources: readonly ResourceRecord[]) => string;

const joined = (parts: readonly unknown[]) => parts.filter(Boolean).join(", ");

/** The details the plan shows per resource type; types not listed are plumbing and show none. */
const DESCRIPTIONS: Readonly<Record<string, Describe>> = {
    [Types.lambdaFunction]: (r, resources) => {
        const i = r.inputs;
        const settings = functionSettingsOf(r);
        const routeKeys = routeKeysOf(r, resources);
        return joined([
            routeKeys.length > 0 ? `${routeKeys.join(", ")} ->` : undefined,
            `${settings.memoryMb} MB`,
            `${settings.timeoutSeconds} s`,
            settings.architecture,
            i.runtime,
            i.vpcConfig?.subnetIds?.length ? "in VPC" : undefined,
            i.reservedConcurrentExecutions !== undefined && i.reservedConcurrentExecutions >= 0 ? `reserved ${i.reservedConcurrentExecutions}` : undefined,
            i.loggingConfig?.logFormat ? `logs ${i.loggingConfig.logFormat}${i.loggingConfig.applicationLogLevel ? `/${i.loggingConfig.applicationLogLevel}` : ""}` : undefined,
        ]);
    },
    [Types.httpApiRoute]: ({ inputs: i }) => `${i.routeKey}, auth ${i.authorizationType ?? "NONE"}`,
    [Types.httpApiIntegration]: ({ inputs: i }) =>
        joined([i.integrationType, i.payloadFormatVersion ? `payload ${i.payloadFormatVersion}` : undefined, i.timeoutMilliseconds ? `timeout ${i.timeoutMilliseconds} ms` : undefined]),
    [Types.httpApi]: ({ inputs: i }) => `${i.protocolType ?? ""}${i.corsConfiguration ? `, CORS ${(i.corsConfiguration.allowOrigins ?? []).join(" ")}` : ""}`,
    [Types.httpApiStage]: ({ inputs: i }) => {
        const s = i.defaultRouteSettings ?? {};
        return `${i.name}, throttling ${s.throttlingRateLimit ?? "?"} rps / burst ${s.throttlingBurstLimit ?? "?"}${i.accessLogSettings ? ", access logs" : ""}`;
    },
    [Types.logGroup]: ({ inputs: i }) => `${i.name ?? ""} retention ${i.retentionInDays ?? "never expires"}${i.retentionInDays ? " d" : ""}`,
    [Types.rdsCluster]: ({ inputs: i }) => {
        const s = i.serverlessv2ScalingConfiguration ?? {};
        return [
            `${i.engine} ${i.engineVersion}`,
            `${s.minCapacity}-${s.maxCapacity} ACU`,
            s.secondsUntilAutoPause ? `auto-pause ${s.secondsUntilAutoPause} s` : "no pause",
            `backups ${i.backupRetentionPeriod ?? AWS_DEFAULTS.rdsBackupRetentionDays} d`,
            `deletion protection ${i.deletionProtection ? "on" : "off"}`,
            i.skipFinalSnapshot === false ? "final snapshot" : "no final snapshot",
        ].join(", ");
    },
    [Types.rdsClusterInstance]: ({ inputs: i }) => `${i.instanceClass}${i.promotionTier !== undefined ? `, promotion tier ${i.promotionTier}` : ""}`,
    [Types.awsxVpc]: (r) =>
        `${r.inputs.cidrBlock ?? ""}, ${r.inputs.numberOfAvailabilityZones ?? AWS_DEFAULTS.awsxVpc.availabilityZones} AZs, NAT ${natStrategyOf(r)} (${natGatewaysOf(r)})`,
    [Types.vpcEndpoint]: (r) => `${endpointTypeOf(r)} ${endpointServiceOf(r)} in ${endpointZones(r)} AZ(s)`,
    [Types.metricAlarm]: ({ inputs: i }) =>
        joined([i.namespace && i.metricName ? `${i.namespace} ${i.metricName}` : i.metricName, i.comparisonOperator && i.threshold !== undefined ? `${i.comparisonOperator} ${i.threshold}` : undefined]),
    [Types.lambdaInvocation]: () => "invoked during the update",
    [Types.ecsTaskDefinition]: (r) => {
        const size = taskSizeOf(r);
        return `${size.vcpu} vCPU, ${size.memoryGb} GB, ${size.architecture}, ${r.inputs.networkMode ?? "?"}`;
    },
    [Types.ecsService]: ({ inputs: i }) =>
        joined([i.launchType, `desired ${i.desiredCount ?? "?"}`, i.networkConfiguration?.assignPublicIp ? "PUBLIC IP" : "no public IP", i.deploymentCircuitBreaker?.rollback ? "circuit breaker with rollback" : undefined]),
    [Types.scalingTarget]: ({ inputs: i }) => `${i.minCapacity}-${i.maxCapacity} tasks`,
    [Types.ecrRepository]: ({ inputs: i }) => joined([i.imageScanningConfiguration?.scanOnPush ? "scan on push" : "no scan", `tags ${i.imageTagMutability ?? "MUTABLE"}`]),
    [Types.httpApiVpcLink]: () => "into the private subnets",
};

/** The one-line summary of a resource's reviewer-relevant settings. */
export function describe(r: ResourceRecord, resources: readonly ResourceRecord[]): string {
    return DESCRIPTIONS[r.type]?.(r, resources) ?? "";
}

/** Ordering inside a component: what a reviewer reads first. */
const TYPE_ORDER: readonly string[] = [
    Types.awsxVpc,
    Types.vpcEndpoint,
    Types.rdsCluster,
    Types.rdsClusterInstance,
    Types.httpApi,
    Types.httpApiStage,
    Types.httpApiRoute,
    Types.lambdaFunction,
    Types.httpApiIntegration,
    Types.lambdaInvocation,
    Types.logGroup,
];

function order(r: ResourceRecord): number {
    if (!r.custom) return -1; // components first
    const index = TYPE_ORDER.indexOf(r.type);
    return index === -1 ? TYPE_ORDER.length : index;
}

export function buildTree(resources: readonly ResourceRecord[]): TreeNode[] {
    const urns = new Set(resources.map((r) => r.urn));
    const children = new Map<string | undefined, ResourceRecord[]>();
    for (const r of resources) {
        const parent = r.parent && urns.has(r.parent) ? r.parent : undefined;
        children.set(parent, [...(children.get(parent) ?? []), r]);
    }
    const node = (r: ResourceRecord): TreeNode => ({
        name: r.name,
        type: r.type,
        detail: describe(r, resources),
        ...(r.protect ? { protect: true } : {}),
        children: (children.get(r.urn) ?? [])
            .slice()
            .sort((a, b) => order(a) - order(b) || a.type.localeCompare(b.type) || a.name.localeCompare(b.name))
            .map(node),
    });
    return (children.get(undefined) ?? []).map(node);
}

/** The functions' reservations against the account's quota (the stack file's, else AWS's default). */
export function plannedConcurrency(resources: readonly ResourceRecord[], settings: { reservations: string; accountLimit?: number }): PlannedConcurrency {
    const functions = ofType(resources, Types.lambdaFunction)
        .filter((fn) => Number(fn.inputs.reservedConcurrentExecutions ?? -1) >= 0)
        .map((fn) => ({ name: fn.name, reserved: Number(fn.inputs.reservedConcurrentExecutions) }));
    const reserved = functions.reduce((total, fn) => total + fn.reserved, 0);
    const accountLimit = settings.accountLimit ?? LAMBDA.defaultAccountConcurrency;
    return { reservations: settings.reservations, reserved, functions, accountLimit, accountLimitAssumed: settings.accountLimit === undefined, unreserved: accountLimit - reserved };
}

export function summarize(stack: string, resources: readonly ResourceRecord[], config: Record<string, unknown>, environment = stack): Omit<StackPlan, "policy" | "cost"> {
    const logGroups = ofType(resources, Types.logGroup);
    const retentionOf = (name: unknown) => logGroups.find((g) => g.inputs.name === name)?.inputs.retentionInDays;

    const containerRoutes = routesWithContainers(resources);
    const containerRouteUrns = new Set(containerRoutes.map(({ route }) => route.urn));
    const routes: PlannedRoute[] = routesWithFunctions(resources).filter(({ route }) => !containerRouteUrns.has(route.urn)).map(({ route, fn }) => {
        const routeKey: string = route.inputs.routeKey ?? "?";
        const [method, ...rest] = routeKey.split(" ");
        const f = fn?.inputs;
        const settings = fn ? functionSettingsOf(fn) : undefined;
        return {
            routeKey,
            method: rest.length > 0 ? method : "",
            path: rest.length > 0 ? rest.join(" ") : routeKey,
            target: "function" as const,
            service: fn ? serviceOf(fn) : undefined,
            functionName: fn?.name,
            memoryMb: settings?.memoryMb,
            timeoutSeconds: settings?.timeoutSeconds,
            architecture: settings?.architecture,
            runtime: f?.runtime,
            authorizationType: route.inputs.authorizationType ?? "NONE",
            ...(Array.isArray(route.inputs.authorizationScopes) ? { scopes: route.inputs.authorizationScopes.map(String) } : {}),
            ...(f && f.reservedConcurrentExecutions !== undefined && f.reservedConcurrentExecutions >= 0 ? { reservedConcurrency: Number(f.reservedConcurrentExecutions) } : {}),
            inVpc: Boolean(f?.vpcConfig?.subnetIds?.length),
            logRetentionDays: retentionOf(f?.loggingConfig?.logGroup),
        };
    });
    for (const { route, integration, service, taskDefinition } of containerRoutes) {
        const routeKey: string = route.inputs.routeKey ?? "?";
        const [method, ...rest] = routeKey.split(" ");
        routes.push({
            routeKey,
            method: rest.length > 0 ? method : "",
            path: rest.length > 0 ? rest.join(" ") : routeKey,
            target: "container",
            service: service ? valueOf(service, "name") : undefined,
            memoryMb: taskDefinition ? Number(valueOf(taskDefinition, "memory")) : undefined,
            timeoutSeconds: typeof integration.inputs.timeoutMilliseconds === "number" ? integration.inputs.timeoutMilliseconds / 1000 : undefined,
            architecture: taskDefinition ? taskSizeOf(taskDefinition).architecture : undefined,
            authorizationType: route.inputs.authorizationType ?? "NONE",
            ...(Array.isArray(route.inputs.authorizationScopes) ? { scopes: route.inputs.authorizationScopes.map(String) } : {}),
            inVpc: true,
        });
    }
    routes.sort((a, b) => a.path.localeCompare(b.path) || a.method.localeCompare(b.method));

    const containers: PlannedContainer[] = ofType(resources, Types.ecsService).map((service) => {
        const reached = containerRoutes.filter((r) => r.service === service);
        const task = reached[0]?.taskDefinition ?? ofType(resources, Types.ecsTaskDefinition).find((t) => t.parent === service.parent);
        const scaling = reached[0]?.scaling ?? ofType(resources, Types.scalingTarget).find((t) => t.parent === service.parent);
        const size = task ? taskSizeOf(task) : { vcpu: 0, memoryGb: 0, architecture: "?" };
        const built = ofType(resources, Types.dockerImage).some((image) => image.parent === service.parent);
        return {
            name: valueOf(service, "name") ?? service.name,
            vcpu: size.vcpu,
            memoryGb: size.memoryGb,
            architecture: size.architecture,
            minTasks: minimumTasksOf(service, scaling),
            ...(scaling ? { maxTasks: Number(valueOf(scaling, "maxCapacity")) } : {}),
            publicIp: valueOf(service, "networkConfiguration")?.assignPublicIp === true,
            image: built ? "built and pushed at pulumi up (arm64)" : "given reference",
            routes: reached.map((r) => String(r.route.inputs.routeKey)),
        };
    });

    const serviceRoles = serviceRoleLimits(resources.map((r) => ({ type: r.type, props: r.inputs })));
    const databases: PlannedDatabase[] = clustersWithInstances(resources).map(({ cluster, instances }) => {
        const i = cluster.inputs;
        const s = i.serverlessv2ScalingConfiguration ?? {};
        const idleSessionTimeoutSeconds = idleSessionTimeoutOf(cluster, resources);
        return {
            name: cluster.name,
            ...(typeof s.maxCapacity === "number" ? { maxConnections: estimatedMaxConnections(Number(s.minCapacity ?? 0), s.maxCapacity) } : {}),
            serviceRoles,
            engine: i.engine,
            engineVersion: i.engineVersion,
            minCapacity: s.minCapacity,
            maxCapacity: s.maxCapacity,
            ...(s.secondsUntilAutoPause !== undefined ? { autoPauseSeconds: s.secondsUntilAutoPause } : {}),
            ...(idleSessionTimeoutSeconds !== undefined ? { idleSessionTimeoutSeconds } : {}),
            pauses: Number(s.minCapacity ?? 0) === 0 && idleSessionTimeoutSeconds !== undefined,
            instances: instances.length,
            readers: Math.max(0, instances.length - 1),
            backupRetentionDays: i.backupRetentionPeriod,
            deletionProtection: Boolean(i.deletionProtection),
            finalSnapshot: i.skipFinalSnapshot === false,
            protect: Boolean(cluster.protect),
            storageEncrypted: Boolean(i.storageEncrypted),
        };
    });

    const endpoints = ofType(resources, Types.vpcEndpoint);
    const networks: PlannedNetwork[] = ofType(resources, Types.awsxVpc).map((vpc) => ({
        name: vpc.name,
        cidrBlock: vpc.inputs.cidrBlock,
        availabilityZones: vpc.inputs.numberOfAvailabilityZones,
        natStrategy: natStrategyOf(vpc),
        natGateways: natGatewaysOf(vpc),
        // The endpoints of a VPC: its component's siblings, and any endpoint placed in it from elsewhere (the container platform's).
        endpoints: endpoints
            .filter((e) => e.parent === vpc.parent || (e.propertyDependencies?.vpcId ?? []).includes(vpc.urn))
            .map((e) => ({ name: e.name, service: endpointServiceOf(e), type: endpointTypeOf(e), zones: endpointZones(e), usedBy: endpointUsers(e, resources) })),
    }));

    const apis: PlannedApi[] = ofType(resources, Types.httpApiStage).map((stage) => ({
        name: stage.name,
        throttlingRateLimit: stage.inputs.defaultRouteSettings?.throttlingRateLimit,
        throttlingBurstLimit: stage.inputs.defaultRouteSettings?.throttlingBurstLimit,
        accessLogs: Boolean(stage.inputs.accessLogSettings),
    }));

    // The program ran with this config, so it is valid here.
    const stackConfig = parseStackConfig(environment, config);
    const concurrency = plannedConcurrency(resources, stackConfig.concurrency);

    const part: StackPlan["part"] =
        stack === environment ? { kind: "environment" } : stack === platformStackName(environment) ? { kind: "platform" } : { kind: "service", service: stack.slice(environment.length + 1), platformStack: platformStackName(environment) };
    return {
        stack,
        environment,
        part,
        region: typeof config["aws:region"] === "string" ? (config["aws:region"] as string) : undefined,
        resourceCount: resources.filter((r) => r.custom).length,
        tree: buildTree(resources),
        routes,
        databases,
        networks,
        containers,
        secrets: plannedSecrets(resources),
        apis,
        events: plannedEvents(resources),
        concurrency,
        logs: {
            groups: logGroups.length,
            retentionDays: [...new Set(logGroups.map((g) => Number(g.inputs.retentionInDays ?? 0)))].sort((a, b) => a - b),
        },
        monitoring: {
            alarms: ofType(resources, Types.metricAlarm).length,
            dashboards: ofType(resources, Types.dashboard).length,
            topics: ofType(resources, Types.snsTopic).length,
        },
        releases: plannedReleases(resources, stackConfig.release),
    };
}

/** The release setting, and each deployment group's and container service's alarms, from the registered resources. */
function plannedReleases(resources: readonly ResourceRecord[], release: ReleaseConfig): PlannedReleases {
    const strings = (value: unknown): string[] => (Array.isArray(value) ? value.map(String) : []);
    return {
        strategy: release.strategy,
        deploymentConfigName: deploymentConfigName(release),
        keepVersions: release.keepVersions,
        aliasedFunctions: ofType(resources, Types.lambdaAlias).length,
        groups: ofType(resources, Types.codedeployDeploymentGroup).map((group) => ({
            name: valueOf(group, "deploymentGroupName") ?? group.name,
            ...(typeof valueOf(group, "tags")?.function === "string" ? { function: valueOf(group, "tags").function } : {}),
            alarms: valueOf(group, "alarmConfiguration")?.enabled === true ? strings(valueOf(group, "alarmConfiguration").alarms) : [],
            rollbackOn: valueOf(group, "autoRollbackConfiguration")?.enabled === true ? strings(valueOf(group, "autoRollbackConfiguration").events) : [],
        })),
        containers: ofType(resources, Types.ecsService).flatMap((service) => {
            const alarms = valueOf(service, "alarms");
            return alarms?.enable === true && alarms.rollback === true ? [{ name: valueOf(service, "name") ?? service.name, alarms: strings(alarms.alarmNames) }] : [];
        }),
    };
}

/** The services' secrets, from the secrets the program registers. */
function plannedSecrets(resources: readonly ResourceRecord[]): PlannedSecret[] {
    return ofType(resources, Types.secretsManagerSecret).flatMap((secret) => {
        const described = describedSecret(secret.inputs.description);
        if (!described) return [];
        const name = String(secret.inputs.name);
        return [{ ...described, name, setCommand: putSecretValueCommand(name, described.declared) }];
    });
}

/**
 * How a secret's values are set in the cloud: one JSON object with every declared name, read from a
 * file (`file://`) so the values stay out of the shell's history and the process list.
 */
export function putSecretValueCommand(secretName: string, declared: readonly string[]): string {
    return `aws secretsmanager put-secret-value --secret-id ${secretName} --secret-string file://values.json  # {${declared.map((name) => `"${name}": "..."`).join(", ")}}`;
}

export interface PlanInputs {
    stack: string;
    /** Reads the stack's environment as if its file set this layout (`--layout`). @default the file's */
    layout?: StackLayout;
    /** Pack config file; default `policy/config.<environment>.json`. */
    policyConfig?: string;
    /** Raw `namespace:key` stack config instead of `Pulumi.<stack>.yaml` (tests plant values here). */
    stackConfig?: Record<string, unknown>;
    /** Another registry than `infra/registry.ts` (tests plan a fixture). */
    services?: readonly RegisteredService[];
}

/** Runs the program offline for one stack, then the policy pack and the cost model over it. */
export async function planStack(inputs: PlanInputs): Promise<StackPlan> {
    // A service stack plans with its environment's settings and pack config: it has none of its own.
    const target = inputs.stackConfig ? undefined : readStackTarget(inputs.stack, inputs.layout);
    const configFile = inputs.policyConfig ?? path.join(PACK_DIR, `config.${target?.environment ?? inputs.stack}.json`);
    const packConfig = loadPackConfig(configFile);
    const stackConfig = inputs.stackConfig ?? target!.config;
    const run = await runProgramOffline({ stack: inputs.stack, ...(inputs.stackConfig ? { config: inputs.stackConfig } : {}), services: inputs.services, layout: inputs.layout });
    const { resources } = run;
    const policy = await runPolicies(resources, packConfigForStack(packConfig, platformOutputsOf(run)));
    return {
        ...summarize(inputs.stack, resources, stackConfig, target?.environment),
        policy: { pack: packLabel(), config: path.relative(process.cwd(), configFile) || configFile, passed: policy.mandatory === 0, ...policy },
        cost: estimateCost(resources),
    };
}

export interface ComparisonRow {
    section: "settings" | "routes" | "events" | "idle cost" | "per million requests" | "per million events" | "policy";
    item: string;
    values: [string, string];
}

function keySettings(plan: StackPlan): Map<string, string> {
    const settings = new Map<string, string>();
    settings.set("resources", String(plan.resourceCount));
    settings.set("routes", String(plan.routes.length));
    for (const a of plan.apis) settings.set(`API throttling (${a.name})`, `${a.throttlingRateLimit} rps / ${a.throttlingBurstLimit} burst`);
    for (const n of plan.networks) {
        settings.set(`AZs (${n.name})`, String(n.availabilityZones));
        settings.set(`NAT (${n.name})`, `${n.natStrategy} (${n.natGateways})`);
        settings.set(`endpoints (${n.name})`, n.endpoints.map((e) => `${e.service} x${e.zones} AZ`).join(", ") || "none");
    }
    for (const d of plan.databases) {
        settings.set(`engine (${d.name})`, `${d.engine} ${d.engineVersion}`);
        settings.set(`ACU min-max (${d.name})`, `${d.minCapacity}-${d.maxCapacity}`);
        settings.set(`auto-pause (${d.name})`, d.autoPauseSeconds !== undefined ? `${d.autoPauseSeconds} s` : "never");
        settings.set(`idle sessions closed (${d.name})`, d.idleSessionTimeoutSeconds !== undefined ? `after ${d.idleSessionTimeoutSeconds} s` : "never");
        settings.set(`instances (${d.name})`, `${d.instances} (${d.readers} reader${d.readers === 1 ? "" : "s"})`);
        settings.set(`connections (${d.name})`, `${d.serviceRoles.reduce((sum, role) => sum + role.connectionLimit, 0)} of ~${d.maxConnections ?? "?"}`);
        for (const role of d.serviceRoles) settings.set(`connection limit ${role.loginRole}`, String(role.connectionLimit));
        settings.set(`backups (${d.name})`, `${d.backupRetentionDays} d`);
        settings.set(`deletion protection (${d.name})`, yesNo(d.deletionProtection));
        settings.set(`pulumi protect (${d.name})`, yesNo(d.protect));
    }
    settings.set("reserved concurrency", `${plan.concurrency.reserved} (${plan.concurrency.reservations}) of ${plan.concurrency.accountLimit}${plan.concurrency.accountLimitAssumed ? " (assumed)" : ""}`);
    for (const c of plan.containers) settings.set(`tasks min-max (${c.name})`, `${c.minTasks}-${c.maxTasks ?? "?"} x ${c.vcpu} vCPU / ${c.memoryGb} GB`);
    for (const secret of plan.secrets) settings.set(`secrets (${secret.service})`, secret.declared.join(", "));
    settings.set("log retention", plan.logs.retentionDays.map((d) => `${d} d`).join(", "));
    settings.set("alarms / dashboards", `${plan.monitoring.alarms} / ${plan.monitoring.dashboards}`);
    settings.set("release", `${plan.releases.strategy} (${plan.releases.deploymentConfigName}), ${plan.releases.groups.length} deployment groups`);
    return settings;
}

function pair<K>(a: Map<K, string>, b: Map<K, string>): Array<[K, [string, string]]> {
    const keys = [...a.keys(), ...[...b.keys()].filter((k) => !a.has(k))];
    return keys.map((k) => [k, [a.get(k) ?? "-", b.get(k) ?? "-"]]);
}

/** Each subscriber's and schedule's settings, and what a million events or runs cost, side by side. */
export function eventComparison(a: StackPlan, b: StackPlan): ComparisonRow[] {
    const rows: ComparisonRow[] = [];
    const consumerSettings = (c: { batchSize?: number; maxReceiveCount?: number; maxConcurrency?: number; timeoutSeconds?: number; memoryMb?: number }) =>
        `batch ${c.batchSize ?? "-"}, attempts ${c.maxReceiveCount ?? "-"}, concurrency ${c.maxConcurrency ?? "-"}, ${c.memoryMb ?? "-"} MB, ${c.timeoutSeconds ?? "-"} s`;
    const settings = (p: StackPlan) =>
        new Map([
            ...p.events.flows.flatMap((flow) => flow.subscribers.map((s): [string, string] => [`${eventLabelOf(flow)} -> ${s.service ?? "?"}/${s.subscription ?? s.rule}`, consumerSettings(s)])),
            ...p.events.schedules.map((s): [string, string] => [`schedule ${s.service ?? "?"}/${s.schedule ?? s.name}`, `${s.expression} ${s.timeZone}; ${consumerSettings(s)}`]),
        ]);
    for (const [item, values] of pair(settings(a), settings(b))) rows.push({ section: "events", item, values });
    const costs = (p: StackPlan) => {
        const e = p.cost.perMillionEvents;
        return new Map([
            ...e.flows.flatMap((flow) => flow.subscribers.map((s): [string, string] => [`${flow.event} -> ${s.consumer}`, `${usd(s.fullBatches.delivery)} / ${usd(s.oneMessagePerBatch.delivery)}`])),
            ...e.flows.map((flow): [string, string] => [`${flow.event} (publish + every subscriber)`, `${usd(flow.totalFullBatches)} / ${usd(flow.totalOneMessagePerBatch)}`]),
            ...e.schedules.map((s): [string, string] => [`schedule ${s.consumer} (per million runs)`, usd(s.total)]),
        ]);
    };
    for (const [item, values] of pair(costs(a), costs(b))) rows.push({ section: "per million events", item, values });
    const total = (p: StackPlan) => `${usd(p.cost.perMillionEvents.totalFullBatches)} / ${usd(p.cost.perMillionEvents.totalOneMessagePerBatch)}`;
    if (a.events.flows.length + b.events.flows.length > 0) rows.push({ section: "per million events", item: "A million of every event (full batches / one per batch)", values: [total(a), total(b)] });
    return rows;
}

export function compare(a: StackPlan, b: StackPlan): ComparisonRow[] {
    const rows: ComparisonRow[] = [];
    for (const [item, values] of pair(keySettings(a), keySettings(b))) rows.push({ section: "settings", item, values });
    const routeSettings = (p: StackPlan) =>
        new Map(p.routes.map((r) => [r.routeKey, `${r.target === "container" ? "container, " : ""}${r.memoryMb ?? "-"} MB, ${r.timeoutSeconds ?? "-"} s, auth ${r.authorizationType}${r.reservedConcurrency !== undefined ? `, reserved ${r.reservedConcurrency}` : ""}`]));
    for (const [item, values] of pair(routeSettings(a), routeSettings(b))) rows.push({ section: "routes", item, values });
    const idle = (p: StackPlan) => new Map(p.cost.idle.lines.map((l) => [l.item, usd(l.amount)]));
    for (const [item, values] of pair(idle(a), idle(b))) rows.push({ section: "idle cost", item, values });
    rows.push({ section: "idle cost", item: "Idle total per month", values: [usd(a.cost.idle.total), usd(b.cost.idle.total)] });
    const traffic = (p: StackPlan) => new Map(p.cost.perMillionRequests.lines.map((l) => [l.item, usd(l.amount)]));
    for (const [item, values] of pair(traffic(a), traffic(b))) rows.push({ section: "per million requests", item, values });
    rows.push({ section: "per million requests", item: "Typical total", values: [usd(a.cost.perMillionRequests.typical), usd(b.cost.perMillionRequests.typical)] });
    rows.push({ section: "per million requests", item: "Worst case (full timeout)", values: [usd(a.cost.perMillionRequests.worstCase), usd(b.cost.perMillionRequests.worstCase)] });
    rows.push(...eventComparison(a, b));
    const verdict = (p: StackPlan) => `${p.policy.passed ? "passed" : "FAILED"} (${p.policy.mandatory} mandatory, ${p.policy.advisory} advisory)`;
    rows.push({ section: "policy", item: "policy pack", values: [verdict(a), verdict(b)] });
    return rows;
}

