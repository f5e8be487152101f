/**
 * The program's container part, called once by `infra/program.ts` after the function services:
 * the shared ContainerPlatform (only when the registry has a container service) and one
 * ServiceContainer per container service, with what monitoring needs to watch them.
 */
import type * as pulumi from "@pulumi/pulumi";
import type { Api } from "./components/api";
import { ContainerPlatform } from "./components/container-platform";
import type { DatabaseConnection } from "./components/function-settings";
import { containerDeploymentAlarmIds, type MonitoredContainer } from "./components/monitoring";
import type { Network } from "./components/network";
import { ServiceContainer } from "./components/service-container";
import { PROJECT, type StackConfig } from "../platform/config/stack-config";
import type { ResolvedContainerService } from "../platform/model";
import { alarmName, containerPlatformNames, containerServiceNames, serviceSecretName } from "../platform/naming";
import { secretRecoveryWindowDays } from "./components/service-secret";

export interface ContainerDeploymentInputs {
    stack: string;
    config: StackConfig;
    containers: readonly ResolvedContainerService[];
    network: Network;
    api: Api;
    /** The stack's database, when it has one (each service adds its own sign-in). */
    connection?: Omit<DatabaseConnection, "signIn">;
    /** How a database service signs in: its own login role (`platform/data-plan.ts` names it). */
    signInOf?: (service: string) => DatabaseConnection["signIn"] | undefined;
    /** A database service's applied migration set: its new task definition waits for its own schema. */
    migrationSetOf?: (service: string) => pulumi.Input<string> | undefined;
    tags: Record<string, string>;
}

export interface ContainerDeployment {
    components: pulumi.Resource[];
    monitored: MonitoredContainer[];
    serviceNames: Record<string, pulumi.Output<string>>;
}

export function deployContainers(inputs: ContainerDeploymentInputs): ContainerDeployment | undefined {
    const { stack, config, containers, network, api, connection, tags } = inputs;
    if (containers.length === 0) return undefined;

    const platform = new ContainerPlatform("containers", {
        names: containerPlatformNames(PROJECT, stack),
        vpcId: network.vpcId,
        cidrBlock: config.network.cidrBlock,
        privateSubnetIds: network.privateSubnetIds,
        ports: containers.map((container) => container.port),
        endpointSecurityGroupId: network.endpointSecurityGroupId,
        s3PrefixListId: network.s3PrefixListId,
        tags,
    });

    const databaseOf = (service: string, usesDatabase: boolean): DatabaseConnection | undefined => {
        const signIn = inputs.signInOf?.(service);
        return usesDatabase && connection && signIn ? { ...connection, signIn, migrationSet: inputs.migrationSetOf?.(service) } : undefined;
    };
    const components: pulumi.Resource[] = [platform];
    const monitored: MonitoredContainer[] = [];
    const serviceNames: Record<string, pulumi.Output<string>> = {};
    for (const container of containers) {
        const names = containerServiceNames(PROJECT, stack, container.name);
        const logGroupName = names.logGroup;
        const component = new ServiceContainer(container.name, {
            service: container,
            names,
            placement: {
                clusterArn: platform.clusterArn,
                namespaceId: platform.namespaceId,
                vpcLinkId: platform.vpcLinkId,
                subnetIds: network.privateSubnetIds,
                taskSecurityGroupId: platform.taskSecurityGroupId,
                apiId: api.apiId,
                jwtAuthorizerId: api.jwtAuthorizerId,
            },
            logRetentionDays: config.logRetentionDays,
            logLevel: config.logLevel,
            database: databaseOf(container.name, container.database),
            // A stack that protects its data keeps the images its rollbacks run, repository and all.
            destroyImagesWithStack: !config.database.deletionProtection,
            secret: { name: serviceSecretName(PROJECT, stack, container.name), recoveryWindowInDays: secretRecoveryWindowDays(config.database.deletionProtection) },
            // The alarms the monitoring makes for it (by name: they are made after the service).
            deploymentAlarmNames: config.monitoring.enabled ? containerDeploymentAlarmIds(container.name, container.scaling.minTasks).map((id) => alarmName(PROJECT, stack, id)) : undefined,
            tags,
        });
        components.push(component);
        serviceNames[container.name] = component.serviceName;
        monitored.push({
            service: container.name,
            clusterName: platform.clusterName,
            serviceName: component.serviceName,
            minTasks: container.scaling.minTasks,
            logGroupName,
        });
    }
    return { components, monitored, serviceNames };
}
