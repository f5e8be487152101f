/**
 * What every service of an environment shares: the HTTP API (and its JWT authorizer), the event
 * bus, the network and its endpoints, the Aurora cluster with the migration function, and the
 * container platform. The one-stack layout builds it beside the services; the stack-per-service
 * layout builds it alone in `<env>-platform` and publishes its `PlatformRefs`.
 */
import * as pulumi from "@pulumi/pulumi";
import { Api } from "./components/api";
import { ContainerPlatform } from "./components/container-platform";
import { Database } from "./components/database";
import { EventBus } from "./components/event-bus";
import type { FunctionSettings } from "./components/function-settings";
import { MigrationRunner } from "./components/migrations";
import { functionEndpoints, gatewayEndpointsFor, interfaceEndpointsFor, Network } from "./components/network";
import type { PlatformRefs, PlatformShape } from "./platform-refs";
import { isGradual, PROJECT } from "../platform/config/stack-config";
import { containerPlatformNames, eventBusName } from "../platform/naming";
import type { ProgramInputs } from "./program-inputs";

/** The API's one stage: `$default`, so URLs carry no stage prefix. */
export const API_STAGE_NAME = "$default";

/** Which shared parts an environment has: decided by the registry and the settings alone, so every stack of it agrees. */
export function platformShape({ config, registry, dataPlan }: ProgramInputs): PlatformShape {
    const { containers, apiRoutes } = registry;
    const usesDatabase = dataPlan.services.length > 0 || containers.some((service) => service.database);
    const publishers = registry.services.filter((service) => service.events.length > 0);
    return {
        jwtAuthorizer: apiRoutes.some((route) => route.auth === "jwt"),
        eventBus: publishers.length > 0 || registry.subscriptions.length > 0,
        network: containers.length > 0 || usesDatabase,
        database: usesDatabase,
        containers: containers.length > 0,
        alarmTopicArn: config.monitoring.enabled,
        releaseApplication: isGradual(config.release),
    };
}

export interface SharedPlatform {
    refs: PlatformRefs;
    api: Api;
    database?: Database;
    network?: Network;
    migrations?: MigrationRunner;
    eventBus?: EventBus;
    containerPlatform?: ContainerPlatform;
    /** The interface endpoints functions call: in one stack, a database function is created after them. */
    functionEndpoints: pulumi.Resource[];
}

/** Builds the shared platform. `opts` carries the explicit AWS provider of a stack that has no settings of its own. */
export function deploySharedPlatform(inputs: ProgramInputs, settings: FunctionSettings, opts: pulumi.ComponentResourceOptions): SharedPlatform {
    const { config, registry, dataPlan, environment, tags } = inputs;
    const { containers } = registry;
    const shape = platformShape(inputs);
    const publishers = registry.services.filter((service) => service.events.length > 0);

    const api = new Api("api", { environment, cors: config.api.cors, jwt: shape.jwtAuthorizer ? config.auth.jwt : undefined, tags }, opts);
    // One bus per environment, while some service publishes or subscribes.
    const eventBus = shape.eventBus ? new EventBus("events", { busName: eventBusName(PROJECT, environment), tags }, opts) : undefined;

    let network: Network | undefined;
    // Container tasks live in the private subnets too, with or without the database.
    if (shape.network) {
        const { xrayEndpoint, ...networkSettings } = config.network;
        const needs = {
            databaseFunctionSecrets: registry.services.some((service) => service.database && service.secrets.length > 0),
            xray: xrayEndpoint,
            containerTasks: containers.some((container) => container.scaling.minTasks > 0),
            containerSecrets: containers.some((container) => container.scaling.minTasks > 0 && container.secrets.length > 0),
            // Handing events over through buckets, they need the free S3 gateway endpoint instead of EventBridge's.
            publishingDatabaseFunctions: config.events.delivery === "interface-endpoint" && publishers.some((service) => service.database),
            eventHandover: config.events.delivery === "bucket-handover" && publishers.some((service) => service.database),
        };
        network = new Network("network", { ...networkSettings, interfaceEndpoints: interfaceEndpointsFor(needs), gatewayEndpoints: gatewayEndpointsFor(needs), functionsReachS3: needs.eventHandover, tags }, opts);
    }

    let database: Database | undefined;
    let migrations: MigrationRunner | undefined;
    if (network && shape.database) {
        database = new Database("database", { ...config.database, environment, subnetIds: network.isolatedSubnetIds, securityGroupIds: [network.databaseSecurityGroupId], tags }, opts);
        // Holds no service's SQL: each database service's stack invokes it with its own.
        migrations = new MigrationRunner(
            "migrations",
            {
                database: {
                    host: database.endpoint,
                    port: database.port,
                    name: database.databaseName,
                    subnetIds: network.privateSubnetIds,
                    securityGroupIds: [network.functionSecurityGroupId],
                    ec2ArnPrefix: network.ec2ArnPrefix,
                    endpoints: functionEndpoints(network),
                },
                masterSecretArn: database.secretArn,
                settings,
                reservedConcurrency: registry.reservations.migrationFunction,
            },
            opts,
        );
    }

    const containerPlatform =
        network && shape.containers
            ? new ContainerPlatform(
                  "containers",
                  {
                      names: containerPlatformNames(PROJECT, environment),
                      vpcId: network.vpcId,
                      cidrBlock: config.network.cidrBlock,
                      privateSubnetIds: network.privateSubnetIds,
                      ports: containers.map((container) => container.port),
                      endpointSecurityGroupId: network.endpointSecurityGroupId,
                      s3PrefixListId: network.s3PrefixListId,
                      tags,
                  },
                  opts,
              )
            : undefined;

    const refs: PlatformRefs = {
        api: { apiId: api.apiId, executionArn: api.executionArn, ...(api.jwtAuthorizerId ? { jwtAuthorizerId: api.jwtAuthorizerId } : {}), stageName: API_STAGE_NAME },
        ...(eventBus ? { eventBus: { name: eventBus.name, arn: eventBus.arn } } : {}),
        ...(network ? { network: { privateSubnetIds: network.privateSubnetIds, functionSecurityGroupId: network.functionSecurityGroupId, ec2ArnPrefix: network.ec2ArnPrefix } } : {}),
        ...(database && migrations
            ? { database: { host: database.endpoint, port: database.port, name: database.databaseName, userArnPrefix: database.userArn(""), migrationFunctionName: migrations.functionName, migrationRunnerCodeHash: migrations.codeHash } }
            : {}),
        ...(containerPlatform
            ? {
                  containers: {
                      clusterArn: containerPlatform.clusterArn,
                      clusterName: containerPlatform.clusterName,
                      namespaceId: containerPlatform.namespaceId,
                      vpcLinkId: containerPlatform.vpcLinkId,
                      taskSecurityGroupId: containerPlatform.taskSecurityGroupId,
                  },
              }
            : {}),
    };
    return { refs, api, database, network, migrations, eventBus, containerPlatform, functionEndpoints: network ? functionEndpoints(network) : [] };
}
