/**
 * The Pulumi program: validated config and registry in, the whole stack out.
 *
 *   config + registry (validated, no resource yet)
 *     -> Api (+ JWT authorizer) -> [EventBus] -> [Network -> Database -> MigrationRunner -> one ServiceMigration per database service] -> one Service per service
 *        (its HttpRoutes, QueueSubscriptions and Schedules, each on a Function)
 *     -> [ContainerPlatform -> one ServiceContainer per container service] (infra/containers.ts)
 *     -> ApiStage (throttling, route overrides, domain) -> Monitoring (alarms, their topic and the dashboard, when the stack turns them on)
 *     -> [Releases: CodeDeploy's application and a deployment group per function, in a gradual stack]
 */
import * as pulumi from "@pulumi/pulumi";
import type { RegisteredService } from "../functions/runtime/container";
import { Api, ApiStage } from "./components/api";
import { deployContainers } from "./containers";
import { Database } from "./components/database";
import type { DatabaseConnection, FunctionSettings } from "./components/function-settings";
import { MigrationRunner, ServiceMigration } from "./components/migrations";
import { Monitoring, releaseAlarmIds, type MonitoredFunction, type MonitoredOutbox, type MonitoredQueue } from "./components/monitoring";
import { Releases, releasesOutput, type ReleasedFunction, type ReleasesOutput } from "./components/releases";
import { functionEndpoints, gatewayEndpointsFor, interfaceEndpointsFor, Network } from "./components/network";
import { EventBus } from "./components/event-bus";
import { Service } from "./components/service";
import { ConfigError, isGradual, parseStackConfig, PROJECT, type StackConfig } from "../platform/config/stack-config";
import { migrationPayloadProblems, migrationRunRequest, serviceMigrationRequests } from "../platform/data-plan";
import { functionBoundsFor } from "../platform/function-bounds";
import { eventBusName, functionLogGroupName, generatedNameProblems, serviceSecretName } from "../platform/naming";
import { secretRecoveryWindowDays } from "./components/service-secret";
import { verifiedRdsCaBundle } from "./rds-ca-bundle";
import { RegistryError, reservationProblems, resolveRegistry } from "../platform/registry/resolution";
import { type ResolvedRegistry } from "../platform/model";
import { services as registeredServices } from "./services";

export interface PlatformOutputs {
    apiUrl: pulumi.Output<string>;
    apiId: pulumi.Output<string>;
    databaseEndpoint?: pulumi.Output<string>;
    databaseClusterId?: pulumi.Output<string>;
    migrationFunction?: pulumi.Output<string>;
    /** The migration function's code hash: what a service's migration invocation is keyed on besides its own SQL (a service stack reads it with the function's name). */
    migrationRunnerCodeHash?: pulumi.Output<string>;
    functionNames: Record<string, pulumi.Output<Record<string, string>>>;
    /** Where to point DNS for the custom domain (stacks with `domain` and no hosted zone). */
    domainTarget?: pulumi.Output<string>;
    /** The SNS topic the alarms notify (stacks with `monitoring.enabled`). */
    alarmTopicArn?: pulumi.Output<string>;
    /** The CloudWatch dashboard in the console (stacks with a dashboard). */
    dashboardUrl?: pulumi.Output<string>;
    /** ECS service name per container service (stacks with container services). */
    containerServices?: Record<string, pulumi.Output<string>>;
    /** The stack's event bus (stacks whose services publish or subscribe). */
    eventBusName?: pulumi.Output<string>;
    /** Each queue consumer's dead-letter queue by service and subscription or schedule: where failed messages wait to be redriven. */
    deadLetterQueues?: Record<string, pulumi.Output<Record<string, string>>>;
    /** The release strategy and every function's alias (and deployment group): what `npm run release` reads after `up`. */
    releases: pulumi.Output<ReleasesOutput>;
}

/** What the program is built from: the stack's settings and the registry, both checked. */
interface ProgramInputs {
    config: StackConfig;
    registry: ResolvedRegistry;
}

/**
 * Everything that can be wrong with the inputs, checked before the first resource: a mistake in a
 * stack file or a service file ends the program here with a message that names it.
 */
export function resolveInputs(stack: string, rawConfig: Readonly<Record<string, unknown>>, services: readonly RegisteredService[]): ProgramInputs {
    try {
        const config = parseStackConfig(stack, rawConfig);
        const registry = resolveRegistry(services, config.functionDefaults, {
            stack,
            reservations: config.concurrency.reservations,
            bounds: functionBoundsFor(stack),
        });
        const problems: string[] = generatedNameProblems(PROJECT, stack, registry.containers.map((container) => container.name));
        if (registry.containers.some((container) => container.database && "context" in container.image)) {
            try {
                verifiedRdsCaBundle();
            } catch (error) {
                problems.push((error as Error).message);
            }
        }
        const protectedRoutes = registry.apiRoutes.filter((route) => route.auth === "jwt").map((route) => route.routeKey);
        if (protectedRoutes.length > 0 && !config.auth.jwt) {
            problems.push(`${PROJECT}:auth.jwt: is required (issuer and audience) because routes ${protectedRoutes.join(", ")} use auth "jwt"`);
        }
        problems.push(...migrationPayloadProblems(serviceMigrationRequests(registry, config.database.connectionsPerFunction, "iam")));
        for (const problem of reservationProblems(registry.reservations, config.concurrency.accountLimit)) {
            problems.push(`${PROJECT}:concurrency.reservations: ${problem}`);
        }
        if (problems.length > 0) throw new ConfigError(stack, problems);
        return { config, registry };
    } catch (error) {
        // RunError prints the message alone: the stack trace of a validation error helps nobody.
        if (error instanceof ConfigError || error instanceof RegistryError) throw new pulumi.RunError(error.message);
        throw error;
    }
}

/** Builds the stack from the registry. `services` is a parameter so tests can deploy other registries. */
export async function deployPlatform(services: readonly RegisteredService[] = registeredServices): Promise<PlatformOutputs> {
    const stack = pulumi.getStack();
    const { config, registry } = resolveInputs(stack, pulumi.runtime.allConfig(), services);
    const { containers, apiRoutes } = registry;
    const publishers = registry.services.filter((service) => service.events.length > 0);

    const tags = { project: PROJECT, stack, "managed-by": "pulumi" };
    const settings: FunctionSettings = {
        logRetentionDays: config.logRetentionDays,
        logLevel: config.logLevel,
        tags,
        gradualRelease: isGradual(config.release),
        logGroupName: (service, functionId) => functionLogGroupName(PROJECT, stack, service, functionId),
    };

    const api = new Api("api", {
        cors: config.api.cors,
        // One authorizer per API, only when a route uses it.
        jwt: apiRoutes.some((route) => route.auth === "jwt") ? config.auth.jwt : undefined,
        tags,
    });

    // One bus per stack, while some service publishes or subscribes.
    const eventBus =
        publishers.length > 0 || registry.subscriptions.length > 0 ? new EventBus("events", { busName: eventBusName(PROJECT, stack), tags }) : undefined;

    let connection: Omit<DatabaseConnection, "signIn"> | undefined;
    let database: Database | undefined;
    let migrationRunner: MigrationRunner | undefined;
    /** Each database service's applied migration set: its functions (or tasks) wait for its own migrations alone. */
    const appliedMigrationSets = new Map<string, pulumi.Output<string>>();
    const dataPlan = migrationRunRequest(registry, config.database.connectionsPerFunction, "iam");
    const usesDatabase = dataPlan.services.length > 0 || containers.some((service) => service.database);
    let network: Network | undefined;
    // Container tasks live in the private subnets too, with or without the database.
    if (containers.length > 0 || usesDatabase) {
        const { xrayEndpoint, ...networkSettings } = config.network;
        const needs = {
            databaseFunctions: usesDatabase,
            xray: xrayEndpoint,
            containerTasks: containers.some((container) => container.scaling.minTasks > 0),
            containerSecrets: containers.some((container) => container.scaling.minTasks > 0 && container.secrets.length > 0),
            publishingDatabaseFunctions: publishers.some((service) => service.database),
        };
        network = new Network("network", { ...networkSettings, interfaceEndpoints: interfaceEndpointsFor(needs), gatewayEndpoints: gatewayEndpointsFor(needs), tags });
    }
    if (network && usesDatabase) {
        database = new Database("database", {
            ...config.database,
            subnetIds: network.isolatedSubnetIds,
            securityGroupIds: [network.databaseSecurityGroupId],
            tags,
        });
        connection = {
            host: database.endpoint,
            port: database.port,
            name: database.databaseName,
            subnetIds: network.privateSubnetIds,
            securityGroupIds: [network.functionSecurityGroupId],
            ec2ArnPrefix: network.ec2ArnPrefix,
            endpoints: functionEndpoints(network),
        };
        migrationRunner = new MigrationRunner("migrations", {
            database: { ...connection, signIn: { masterSecretArn: database.secretArn } },
            settings,
            reservedConcurrency: registry.reservations.migrationFunction,
        });
        // Also without migrations: the run creates the service's schema and roles.
        for (const request of serviceMigrationRequests(registry, config.database.connectionsPerFunction, "iam")) {
            const migration = new ServiceMigration(request.service.service, { request, functionName: migrationRunner.functionName, runnerCodeHash: migrationRunner.codeHash });
            appliedMigrationSets.set(request.service.service, migration.appliedMigrationSet);
        }
    }

    /** A database service signs in as its own login role, with IAM authentication. */
    const signInOf = (service: string): DatabaseConnection["signIn"] | undefined => {
        const data = dataPlan.services.find((candidate) => candidate.service === service);
        return data && database ? { user: data.loginRole, userArn: database.userArn(data.loginRole) } : undefined;
    };

    const functionNames: PlatformOutputs["functionNames"] = {};
    const deadLetterQueues: NonNullable<PlatformOutputs["deadLetterQueues"]> = {};
    const serviceComponents: Service[] = [];
    const monitored: MonitoredFunction[] = [];
    const monitoredQueues: MonitoredQueue[] = [];
    const monitoredOutboxes: MonitoredOutbox[] = [];
    const releasedFunctions: ReleasedFunction[] = [];
    for (const service of registry.services) {
        const serviceName = service.name;
        const signIn = signInOf(serviceName);
        const component = new Service(serviceName, {
            service,
            api: { apiId: api.apiId, executionArn: api.executionArn, jwtAuthorizerId: api.jwtAuthorizerId },
            settings,
            // Signed in as the service's own role; new code goes live only after the schema and role it expects are in place.
            database: signIn && connection ? { ...connection, signIn, migrationSet: appliedMigrationSets.get(serviceName) } : undefined,
            eventBus: eventBus && { name: eventBus.name, arn: eventBus.arn },
            secret: { name: serviceSecretName(PROJECT, stack, serviceName), recoveryWindowInDays: secretRecoveryWindowDays(config.database.deletionProtection) },
        });
        functionNames[serviceName] = component.functionNames;
        serviceComponents.push(component);
        for (const fn of component.functions) {
            monitored.push({
                service: serviceName,
                id: fn.id,
                label: fn.label,
                functionName: fn.function.name,
                timeoutSeconds: fn.timeoutSeconds,
                logGroupName: fn.function.logGroupName,
            });
            // A route's handler errors are 500 answers, which Lambda counts as successes: the API's own alarms judge its release too.
            const isRoute = service.routes.some((route) => route.id === fn.id);
            releasedFunctions.push({ service: serviceName, id: fn.id, function: fn.function, alarmIds: releaseAlarmIds(serviceName, fn.id, isRoute) });
        }
        if (component.outboxRelay) {
            const { check } = component.outboxRelay;
            monitored.push({ service: serviceName, id: "outbox-relay-check", label: "outbox relay check", functionName: check.name, timeoutSeconds: component.outboxRelay.checkTimeoutSeconds, logGroupName: check.logGroupName });
            releasedFunctions.push({ service: serviceName, id: "outbox-relay-check", function: check, alarmIds: releaseAlarmIds(serviceName, "outbox-relay-check", false) });
            monitoredOutboxes.push({ service: serviceName, relayLogGroupName: component.outboxRelay.relay.logGroup.name });
        }
        for (const queue of component.queues) monitoredQueues.push({ service: serviceName, ...queue });
        if (component.queues.length > 0) {
            deadLetterQueues[serviceName] = pulumi.output(Object.fromEntries(component.queues.map((queue) => [queue.id, queue.deadLetterQueueName])));
        }
    }
    if (migrationRunner) {
        monitored.push({
            service: "platform",
            id: "migrations",
            label: "database migrations",
            functionName: migrationRunner.functionName,
            timeoutSeconds: migrationRunner.timeoutSeconds,
            logGroupName: settings.logGroupName("platform", "migrations"),
        });
    }

    // Container services: their platform, tasks and routes (infra/containers.ts).
    const containerDeployment = network
        ? deployContainers({ stack, config, containers, network, api, connection, signInOf, migrationSetOf: (service) => appliedMigrationSets.get(service), tags })
        : undefined;

    // After the routes: a stage's per-route settings may only name routes that exist.
    const stage = new ApiStage(
        "api",
        {
            apiId: api.apiId,
            logRetentionDays: config.logRetentionDays,
            throttlingRateLimit: config.api.throttlingRateLimit,
            throttlingBurstLimit: config.api.throttlingBurstLimit,
            routeThrottles: apiRoutes.flatMap((route) => (route.throttle ? [{ routeKey: route.routeKey, ...route.throttle }] : [])),
            domain: config.domain,
            tags,
        },
        { dependsOn: [...serviceComponents, ...(containerDeployment?.components ?? [])] },
    );

    // Off in dev: alarms nobody answers and a $3 dashboard buy nothing there.
    let monitoring: Monitoring | undefined;
    if (config.monitoring.enabled || config.monitoring.dashboard) {
        monitoring = new Monitoring("monitoring", {
            stack,
            region: config.region,
            alarms: config.monitoring.enabled,
            dashboard: config.monitoring.dashboard,
            email: config.monitoring.email,
            thresholds: config.monitoring.thresholds,
            functions: monitored,
            queues: monitoredQueues,
            outboxes: monitoredOutboxes,
            containers: containerDeployment?.monitored ?? [],
            api: { apiId: api.apiId, stage: stage.stageName },
            database: database && {
                clusterIdentifier: database.clusterIdentifier,
                minCapacity: config.database.minCapacity,
                maxCapacity: config.database.maxCapacity,
            },
            tags,
        });
    }

    // After the alarms it names: CodeDeploy checks them when a deployment starts.
    const releases = isGradual(config.release)
        ? new Releases("releases", { stack, release: config.release, functions: releasedFunctions, tags }, { dependsOn: monitoring ? [monitoring] : [] })
        : undefined;

    return {
        apiUrl: stage.url ?? api.endpoint,
        apiId: api.apiId,
        functionNames,
        // Only what exists: an undefined output makes the runtime print a warning.
        ...(database ? { databaseEndpoint: database.endpoint, databaseClusterId: database.clusterIdentifier } : {}),
        ...(migrationRunner ? { migrationFunction: migrationRunner.functionName, migrationRunnerCodeHash: migrationRunner.codeHash } : {}),
        ...(stage.domainTarget ? { domainTarget: stage.domainTarget } : {}),
        ...(monitoring?.alarmTopicArn ? { alarmTopicArn: monitoring.alarmTopicArn } : {}),
        ...(monitoring?.dashboardUrl ? { dashboardUrl: monitoring.dashboardUrl } : {}),
        ...(containerDeployment ? { containerServices: containerDeployment.serviceNames } : {}),
        ...(eventBus ? { eventBusName: eventBus.name } : {}),
        ...(Object.keys(deadLetterQueues).length > 0 ? { deadLetterQueues } : {}),
        releases: releasesOutput(config.release, releasedFunctions, releases),
    };
}
