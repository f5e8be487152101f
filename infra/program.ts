/**
 * The Pulumi program: which stack of which environment this is, its validated settings and the
 * whole registry in; that stack's resources out.
 *
 *   one-stack `<env>`:  shared platform -> every service -> ApiStage -> PlatformMonitoring -> [ReleaseApplication]
 *                       -> per service: ServiceMonitoring -> [ServiceReleases]
 *   `<env>-platform`:   shared platform -> ApiStage (per-route throttles left to the services)
 *                       -> PlatformMonitoring -> [ReleaseApplication]; publishes `PlatformRefs`
 *   `<env>-<service>`:  StackReference to `<env>-platform` -> that service -> its RouteThrottles
 *                       -> ServiceMonitoring -> [ServiceReleases]
 *
 * The shared platform is infra/shared-platform.ts, a service's part infra/service-part.ts; both
 * take the same `PlatformRefs` whichever layout builds them, so the resources of `<env>-platform` and
 * every `<env>-<service>` are those of `<env>` (tests/infra/layouts.test.ts).
 */
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import type { RegisteredService } from "../functions/runtime/container";
import { ApiStage } from "./components/api";
import { throttleRoute } from "./components/route-throttle";
import type { FunctionSettings } from "./components/function-settings";
import { PlatformMonitoring, ServiceMonitoring } from "./components/monitoring";
import { ReleaseApplication, releasesOutput, ServiceReleases, type ReleasesOutput } from "./components/releases";
import { PLATFORM_OUTPUT, platformRefsFromStack, type PlatformRefs } from "./platform-refs";
import { inputsForStack, type ProgramInputs } from "./program-inputs";
import { deployContainerService, deployFunctionService, type ServicePart, type ServicePartContext } from "./service-part";
import { API_STAGE_NAME, deploySharedPlatform, platformShape, type SharedPlatform } from "./shared-platform";
import { isGradual, PROJECT } from "../platform/config/stack-config";
import { PLATFORM_ALARM_NAMES_OUTPUT } from "../policy/lib/platform-outputs";
import { PLATFORM_PART } from "../platform/config/stack-layout";
import { functionLogGroupName, routeId } from "../platform/naming";
import { services as registeredServices } from "./services";

/** The outputs of a stack; which are present depends on the layout and the part. */
export interface StackOutputs {
    apiUrl?: pulumi.Output<string>;
    apiId?: pulumi.Output<string>;
    databaseEndpoint?: pulumi.Output<string>;
    databaseClusterId?: pulumi.Output<string>;
    migrationFunction?: pulumi.Output<string>;
    /** The migration function's code hash: a service's migration invocation is keyed on it besides its own SQL. */
    migrationRunnerCodeHash?: pulumi.Output<string>;
    /** Function name per route key, by service. */
    functionNames?: Record<string, pulumi.Output<Record<string, string>>>;
    /** Where to point DNS for the custom domain (environments with `domain` and no hosted zone). */
    domainTarget?: pulumi.Output<string>;
    /** The SNS topic the alarms notify (environments with `monitoring.enabled`). */
    alarmTopicArn?: pulumi.Output<string>;
    /** The CloudWatch dashboard in the console (environments with a dashboard). */
    dashboardUrl?: pulumi.Output<string>;
    /** ECS service name per container service. */
    containerServices?: Record<string, pulumi.Output<string>>;
    /** The environment's event bus (when services publish or subscribe). */
    eventBusName?: pulumi.Output<string>;
    /** Each queue consumer's dead-letter queue by service and subscription or schedule: where failed messages wait to be redriven. */
    deadLetterQueues?: Record<string, pulumi.Output<Record<string, string>>>;
    /** The release strategy and every function's alias (and deployment group): what `npm run release` reads after `up`. */
    releases?: pulumi.Output<ReleasesOutput>;
    /** What the service stacks build on (`<env>-platform` only). */
    platform?: pulumi.Output<unknown>;
    /** The alarms the platform stack creates, which service stacks' deployment groups name (`<env>-platform` only). */
    platformAlarmNames?: string[];
}

export interface ProgramOptions {
    /** Reads `Pulumi.<env>.yaml` of an environment, or undefined without one. @default the repository's stack files */
    environmentConfig?: (environment: string) => Readonly<Record<string, unknown>> | undefined;
}

/** Builds the stack from the registry. `services` is a parameter so tests can deploy other registries. */
export async function deployStack(services: readonly RegisteredService[] = registeredServices, options: ProgramOptions = {}): Promise<StackOutputs> {
    const inputs = inputsForStack(pulumi.getStack(), services, { ownConfig: pulumi.runtime.allConfig(), environmentConfig: options.environmentConfig });
    const { part } = inputs.target;
    if (part.kind === "environment") return deployOneStack(inputs);
    // A stack of a stack-per-service environment has no `aws:region` of its own: its resources
    // take the environment's through this provider (children inherit it, invokes too).
    const provider = new aws.Provider("aws", { region: inputs.config.region as aws.Region });
    const opts: pulumi.ComponentResourceOptions = { providers: [provider] };
    return part.kind === "platform" ? deployPlatformStack(inputs, opts) : deployServiceStack(inputs, part.service, opts);
}

function functionSettings({ config, environment, tags }: ProgramInputs): FunctionSettings {
    return {
        logRetentionDays: config.logRetentionDays,
        logLevel: config.logLevel,
        tags,
        gradualRelease: isGradual(config.release),
        logGroupName: (service, functionId) => functionLogGroupName(PROJECT, environment, service, functionId),
    };
}

function deployServiceParts(inputs: ProgramInputs, context: ServicePartContext, only?: string): ServicePart[] {
    const parts: ServicePart[] = [];
    for (const service of inputs.registry.services) {
        if (only === undefined || service.name === only) parts.push(deployFunctionService(service, context));
    }
    for (const container of inputs.registry.containers) {
        if (only === undefined || container.name === only) parts.push(deployContainerService(container, context));
    }
    return parts;
}

/** The stage, after the routes in one stack: a stage's per-route settings may only name routes that exist. */
function apiStage(inputs: ProgramInputs, apiId: pulumi.Input<string>, routeThrottles: ServicePart["routeThrottles"] | "owned-by-services", opts: pulumi.ComponentResourceOptions): ApiStage {
    const { config, environment, tags } = inputs;
    return new ApiStage(
        "api",
        {
            environment,
            apiId,
            logRetentionDays: config.logRetentionDays,
            throttlingRateLimit: config.api.throttlingRateLimit,
            throttlingBurstLimit: config.api.throttlingBurstLimit,
            routeThrottles: routeThrottles === "owned-by-services" ? [] : routeThrottles,
            routeThrottlesOwnedByServices: routeThrottles === "owned-by-services",
            domain: config.domain,
            tags,
        },
        opts,
    );
}

/** The environment's shared monitoring (topic, API, database and migration alarms, the environment's dashboard), when it has any. */
function platformMonitoring(inputs: ProgramInputs, shared: SharedPlatform, stageName: pulumi.Input<string>, opts: pulumi.ComponentResourceOptions): PlatformMonitoring | undefined {
    const { config } = inputs;
    // Off in dev: alarms nobody answers and a $3 dashboard buy nothing there.
    if (!config.monitoring.enabled && !config.monitoring.dashboard) return undefined;
    const settings = functionSettings(inputs);
    return new PlatformMonitoring(
        "monitoring",
        {
            ...monitoringScope(inputs),
            email: config.monitoring.email,
            functions: shared.migrations
                ? [
                      {
                          service: PLATFORM_PART,
                          id: "migrations",
                          label: "database migrations",
                          functionName: shared.migrations.workerFunctionName,
                          timeoutSeconds: shared.migrations.timeoutSeconds,
                          logGroupName: settings.logGroupName(PLATFORM_PART, "migrations"),
                      },
                      {
                          service: PLATFORM_PART,
                          id: "migrations-launcher",
                          label: "database migration launcher",
                          functionName: shared.migrations.functionName,
                          timeoutSeconds: shared.migrations.launcherTimeoutSeconds,
                          logGroupName: settings.logGroupName(PLATFORM_PART, "migrations-launcher"),
                      },
                  ]
                : [],
            api: { apiId: shared.api.apiId, stage: stageName },
            database: shared.database && { clusterIdentifier: shared.database.clusterIdentifier, minCapacity: config.database.minCapacity, maxCapacity: config.database.maxCapacity },
        },
        opts,
    );
}

function monitoringScope({ config, environment, tags }: ProgramInputs) {
    return { environment, region: config.region, alarms: config.monitoring.enabled, dashboard: config.monitoring.dashboard, thresholds: config.monitoring.thresholds, tags };
}

/**
 * A service's alarms and dashboard, and its deployment groups in a gradual environment: after the
 * alarms they name, which CodeDeploy checks when a deployment starts (the API's are the
 * platform's, created before).
 */
function serviceOperations(inputs: ProgramInputs, part: ServicePart, refs: PlatformRefs, platformMonitor: pulumi.Resource | undefined, opts: pulumi.ComponentResourceOptions): ServiceReleases | undefined {
    const { config, environment, tags } = inputs;
    const monitor =
        config.monitoring.enabled || config.monitoring.dashboard
            ? new ServiceMonitoring(
                  `monitoring-${part.name}`,
                  { ...monitoringScope(inputs), service: part.name, alarmTopicArn: refs.alarmTopicArn, functions: part.functions, queues: part.queues, outboxes: part.outboxes, container: part.containers[0] },
                  opts,
              )
            : undefined;
    if (!isGradual(config.release) || part.released.length === 0 || !refs.releaseApplication) return undefined;
    return new ServiceReleases(
        `releases-${part.name}`,
        { environment, service: part.name, release: config.release, ...refs.releaseApplication, applicationName: refs.releaseApplication.name, functions: part.released, tags },
        { ...opts, dependsOn: [...(platformMonitor ? [platformMonitor] : []), ...(monitor ? [monitor] : [])] },
    );
}

/** The parts of the platform only monitoring and releases add: the alarm topic and CodeDeploy's application. */
function operationsRefs(monitor: PlatformMonitoring | undefined, application: ReleaseApplication | undefined): Pick<PlatformRefs, "alarmTopicArn" | "releaseApplication"> {
    return {
        ...(monitor?.alarmTopicArn ? { alarmTopicArn: monitor.alarmTopicArn } : {}),
        ...(application ? { releaseApplication: { name: application.applicationName, roleArn: application.roleArn, roleName: application.roleName } } : {}),
    };
}

/** The outputs of the shared platform, as the one-stack layout and the platform stack publish them. */
function sharedOutputs(shared: SharedPlatform, stage: ApiStage, monitor?: PlatformMonitoring): StackOutputs {
    return {
        apiUrl: stage.url ?? shared.api.endpoint,
        apiId: shared.api.apiId,
        // Only what exists: an undefined output makes the runtime print a warning.
        ...(shared.database ? { databaseEndpoint: shared.database.endpoint, databaseClusterId: shared.database.clusterIdentifier } : {}),
        ...(shared.migrations ? { migrationFunction: shared.migrations.functionName, migrationRunnerCodeHash: shared.migrations.codeHash } : {}),
        ...(stage.domainTarget ? { domainTarget: stage.domainTarget } : {}),
        ...(monitor?.alarmTopicArn ? { alarmTopicArn: monitor.alarmTopicArn } : {}),
        ...(monitor?.dashboardUrl ? { dashboardUrl: monitor.dashboardUrl } : {}),
        ...(shared.eventBus ? { eventBusName: shared.eventBus.name } : {}),
    };
}

/** The outputs of services, as the one-stack layout and a service stack publish them. */
function serviceOutputs(parts: ServicePart[]): StackOutputs {
    const functionNames = Object.fromEntries(parts.flatMap((part) => (part.functionNames ? [[part.name, part.functionNames]] : [])));
    const deadLetterQueues = Object.fromEntries(parts.flatMap((part) => (part.deadLetterQueues ? [[part.name, part.deadLetterQueues]] : [])));
    const containerServices = Object.fromEntries(parts.flatMap((part) => (part.containerServiceName ? [[part.name, part.containerServiceName]] : [])));
    return {
        ...(Object.keys(functionNames).length > 0 ? { functionNames } : {}),
        ...(Object.keys(containerServices).length > 0 ? { containerServices } : {}),
        ...(Object.keys(deadLetterQueues).length > 0 ? { deadLetterQueues } : {}),
    };
}

function deployOneStack(inputs: ProgramInputs): StackOutputs {
    const settings = functionSettings(inputs);
    const shared = deploySharedPlatform(inputs, settings, {});
    const parts = deployServiceParts(inputs, { inputs, refs: shared.refs, settings, functionEndpoints: shared.functionEndpoints, opts: {} });
    const stage = apiStage(inputs, shared.api.apiId, parts.flatMap((part) => part.routeThrottles), { dependsOn: parts.map((part) => part.component) });
    const monitor = platformMonitoring(inputs, shared, stage.stageName, {});
    const application = isGradual(inputs.config.release) ? new ReleaseApplication("releases", { environment: inputs.environment, tags: inputs.tags }) : undefined;
    const refs: PlatformRefs = { ...shared.refs, ...operationsRefs(monitor, application) };
    const releases = parts.flatMap((part) => serviceOperations(inputs, part, refs, monitor, {}) ?? []);
    const services = serviceOutputs(parts);
    return {
        ...sharedOutputs(shared, stage, monitor),
        ...services,
        functionNames: services.functionNames ?? {},
        releases: releasesOutput(inputs.config.release, parts.flatMap((part) => part.released), releases),
    };
}

function deployPlatformStack(inputs: ProgramInputs, opts: pulumi.ComponentResourceOptions): StackOutputs {
    const settings = functionSettings(inputs);
    const shared = deploySharedPlatform(inputs, settings, opts);
    const stage = apiStage(inputs, shared.api.apiId, "owned-by-services", opts);
    const monitor = platformMonitoring(inputs, shared, stage.stageName, opts);
    const application = isGradual(inputs.config.release) ? new ReleaseApplication("releases", { environment: inputs.environment, tags: inputs.tags }, opts) : undefined;
    const refs: PlatformRefs = { ...shared.refs, api: { ...shared.refs.api, stageName: stage.stageName }, ...operationsRefs(monitor, application) };
    return {
        ...sharedOutputs(shared, stage, monitor),
        platform: pulumi.output(refs),
        // What the service stacks' policy runs count on: the alarms their route releases watch live here.
        ...(monitor && monitor.alarmNames.length > 0 ? { [PLATFORM_ALARM_NAMES_OUTPUT]: monitor.alarmNames } : {}),
    };
}

function deployServiceStack(inputs: ProgramInputs, service: string, opts: pulumi.ComponentResourceOptions): StackOutputs {
    const settings = functionSettings(inputs);
    const refs = platformRefsFromStack(inputs.environment, platformShape(inputs));
    const parts = deployServiceParts(inputs, { inputs, refs, settings, functionEndpoints: [], opts }, service);
    // The platform's stage leaves the routes' throttles to the stacks that own the routes: a stage
    // setting may only name a route that exists, and the platform deploys before any service.
    for (const part of parts) {
        for (const route of part.routeThrottles) {
            throttleRoute(
                `${part.name}-${routeId(...(route.routeKey.split(" ") as [string, string]))}-throttle`,
                { routeKey: route.routeKey, throttle: { rateLimit: route.rateLimit, burstLimit: route.burstLimit } },
                { region: inputs.config.region, apiId: refs.api.apiId, stageName: refs.api.stageName },
                // Created after its route and deleted before it: a stale key blocks every later stage update.
                { parent: part.component, dependsOn: [part.component] },
            );
        }
    }
    const releases = parts.flatMap((part) => serviceOperations(inputs, part, refs, undefined, opts) ?? []);
    return { ...serviceOutputs(parts), releases: releasesOutput(inputs.config.release, parts.flatMap((part) => part.released), releases) };
}

export { API_STAGE_NAME, PLATFORM_OUTPUT };
