/**
 * One service's part of an environment: its functions and triggers (a `Service`) or its container
 * (a `ServiceContainer`), built on the shared platform's `PlatformRefs`. The one-stack layout calls
 * it for every service; a service stack calls it for its own service alone.
 */
import * as pulumi from "@pulumi/pulumi";
import type { DatabaseConnection, FunctionSettings } from "./components/function-settings";
import { containerDeploymentAlarmIds, releaseAlarmIds, type MonitoredContainer, type MonitoredFunction, type MonitoredOutbox, type MonitoredQueue } from "./components/monitoring";
import type { ReleasedFunction } from "./components/releases";
import { ServiceMigration } from "./components/migrations";
import type { OutboxRelayWake } from "./components/outbox-relay";
import { Service } from "./components/service";
import { ServiceContainer } from "./components/service-container";
import { secretRecoveryWindowDays } from "./components/service-secret";
import type { PlatformRefs } from "./platform-refs";
import type { ProgramInputs } from "./program-inputs";
import { PROJECT } from "../platform/config/stack-config";
import type { ResolvedContainerService, ResolvedService } from "../platform/model";
import { alarmName, containerServiceNames, serviceSecretName } from "../platform/naming";

/** What a service adds to the environment's monitoring, releases and outputs. */
export interface ServicePart {
    name: string;
    component: pulumi.Resource;
    /** Per-route throttles of its routes, set on the API's stage. */
    routeThrottles: { routeKey: string; rateLimit: number; burstLimit: number }[];
    functions: MonitoredFunction[];
    queues: MonitoredQueue[];
    outboxes: MonitoredOutbox[];
    containers: MonitoredContainer[];
    released: ReleasedFunction[];
    functionNames?: pulumi.Output<Record<string, string>>;
    deadLetterQueues?: pulumi.Output<Record<string, string>>;
    containerServiceName?: pulumi.Output<string>;
}

export interface ServicePartContext {
    inputs: ProgramInputs;
    refs: PlatformRefs;
    settings: FunctionSettings;
    /** The interface endpoints a database function must be created after: those of this stack (none in a service stack). */
    functionEndpoints: pulumi.Resource[];
    opts: pulumi.ComponentResourceOptions;
}

/**
 * A database service's migrations: its own invocation of the platform's migration function,
 * carrying its schema's plan and its SQL. Its code waits for the applied set, so a failing
 * migration stops this service's `up` before its new code goes live, and no other's.
 */
function migrate(service: string, context: ServicePartContext): pulumi.Output<string> | undefined {
    const { inputs, refs } = context;
    const request = inputs.migrationRequests.find((candidate) => candidate.service.service === service);
    if (!request || !refs.database) return undefined;
    const migration = new ServiceMigration(service, { request, functionName: refs.database.migrationFunctionName, runnerCodeHash: refs.database.migrationRunnerCodeHash }, context.opts);
    return migration.appliedMigrationSet;
}

/** How a database service reaches the cluster: its own login role, signed in with IAM. */
function databaseOf(service: string, usesDatabase: boolean, context: ServicePartContext): DatabaseConnection | undefined {
    const { refs, inputs } = context;
    const data = inputs.dataPlan.services.find((candidate) => candidate.service === service);
    if (!usesDatabase || !data || !refs.database || !refs.network) return undefined;
    const migrationSet = migrate(service, context);
    return {
        host: refs.database.host,
        port: refs.database.port,
        name: refs.database.name,
        subnetIds: refs.network.privateSubnetIds,
        securityGroupIds: [refs.network.functionSecurityGroupId],
        ec2ArnPrefix: refs.network.ec2ArnPrefix,
        endpoints: context.functionEndpoints,
        signIn: { user: data.loginRole, userArn: pulumi.interpolate`${refs.database.userArnPrefix}${data.loginRole}` },
        migrationSet,
    };
}

function secretOf(service: string, inputs: ProgramInputs) {
    return { name: serviceSecretName(PROJECT, inputs.environment, service), recoveryWindowInDays: secretRecoveryWindowDays(inputs.config.database.deletionProtection) };
}

/** What wakes a publishing database service's outbox relay, from the stack's `events.relayWake`. */
function relayWakeOf(service: string, inputs: ProgramInputs): OutboxRelayWake {
    return inputs.config.events.relayWake === "on-alarm" ? { mode: "on-alarm", alarmName: alarmName(PROJECT, inputs.environment, `${service}-outbox-wake`) } : { mode: "every-minute" };
}

export function deployFunctionService(service: ResolvedService, context: ServicePartContext): ServicePart {
    const { refs, settings } = context;
    const serviceName = service.name;
    const component = new Service(
        serviceName,
        {
            service,
            api: refs.api,
            settings,
            // Signed in as the service's own role; new code goes live only after the schema and role it expects are in place.
            database: databaseOf(serviceName, service.database, context),
            eventBus: refs.eventBus,
            secret: secretOf(serviceName, context.inputs),
            eventDelivery: context.inputs.config.events.delivery,
            // Events still in the bucket go with the stack, as the data does where nothing protects it.
            forceDestroyEventBucket: !context.inputs.config.database.deletionProtection,
            relayWake: relayWakeOf(serviceName, context.inputs),
        },
        context.opts,
    );
    const part: ServicePart = {
        name: serviceName,
        component,
        routeThrottles: service.routes.flatMap((route) => (route.throttle ? [{ routeKey: route.routeKey, ...route.throttle }] : [])),
        functions: [],
        queues: [],
        outboxes: [],
        containers: [],
        released: [],
        functionNames: component.functionNames,
    };
    for (const fn of component.functions) {
        part.functions.push({ service: serviceName, id: fn.id, label: fn.label, functionName: fn.function.name, timeoutSeconds: fn.timeoutSeconds, logGroupName: fn.function.logGroupName });
        // A route's handler errors are 500 answers, which Lambda counts as successes: the API's own alarms judge its release too.
        const isRoute = service.routes.some((route) => route.id === fn.id);
        part.released.push({ service: serviceName, id: fn.id, function: fn.function, alarmIds: releaseAlarmIds(serviceName, fn.id, isRoute) });
    }
    if (component.outboxRelay) {
        const { check } = component.outboxRelay;
        if (check) {
            part.functions.push({ service: serviceName, id: "outbox-relay-check", label: "outbox relay check", functionName: check.name, timeoutSeconds: component.outboxRelay.checkTimeoutSeconds, logGroupName: check.logGroupName });
            part.released.push({ service: serviceName, id: "outbox-relay-check", function: check, alarmIds: releaseAlarmIds(serviceName, "outbox-relay-check", false) });
        }
        part.outboxes.push({ service: serviceName, relayLogGroupName: component.outboxRelay.relay.logGroup.name });
    }
    if (component.eventHandover) {
        const { forwarder } = component.eventHandover;
        part.functions.push({ service: serviceName, id: "event-forwarder", label: "event forwarder", functionName: forwarder.name, timeoutSeconds: component.eventHandover.forwarderTimeoutSeconds, logGroupName: forwarder.logGroupName });
        part.released.push({ service: serviceName, id: "event-forwarder", function: forwarder, alarmIds: releaseAlarmIds(serviceName, "event-forwarder", false) });
    }
    for (const queue of component.queues) part.queues.push({ service: serviceName, ...queue });
    if (component.queues.length > 0) {
        part.deadLetterQueues = pulumi.output(Object.fromEntries(component.queues.map((queue) => [queue.id, queue.deadLetterQueueName])));
    }
    return part;
}

export function deployContainerService(container: ResolvedContainerService, context: ServicePartContext): ServicePart {
    const { refs, inputs } = context;
    const { config, environment } = inputs;
    if (!refs.containers || !refs.network) throw new Error(`Container service "${container.name}" needs the container platform, which the environment lacks`);
    const names = containerServiceNames(PROJECT, environment, container.name);
    const component = new ServiceContainer(
        container.name,
        {
            service: container,
            names,
            placement: {
                clusterArn: refs.containers.clusterArn,
                namespaceId: refs.containers.namespaceId,
                vpcLinkId: refs.containers.vpcLinkId,
                subnetIds: refs.network.privateSubnetIds,
                taskSecurityGroupId: refs.containers.taskSecurityGroupId,
                apiId: refs.api.apiId,
                jwtAuthorizerId: refs.api.jwtAuthorizerId,
            },
            logRetentionDays: config.logRetentionDays,
            logLevel: config.logLevel,
            database: databaseOf(container.name, container.database, context),
            // An environment that protects its data keeps the images its rollbacks run, repository and all.
            destroyImagesWithStack: !config.database.deletionProtection,
            secret: secretOf(container.name, inputs),
            // The alarms the monitoring makes for it (by name: they are made after the service).
            deploymentAlarmNames: config.monitoring.enabled ? containerDeploymentAlarmIds(container.name, container.scaling.minTasks).map((id) => alarmName(PROJECT, environment, id)) : undefined,
            tags: inputs.tags,
        },
        context.opts,
    );
    return {
        name: container.name,
        component,
        routeThrottles: [],
        functions: [],
        queues: [],
        outboxes: [],
        containers: [{ service: container.name, clusterName: refs.containers.clusterName, serviceName: component.serviceName, minTasks: container.scaling.minTasks, logGroupName: names.logGroup }],
        released: [],
        containerServiceName: component.serviceName,
    };
}
