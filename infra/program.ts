/**
 * The Pulumi program: validated config and registry in, the whole stack out.
 *
 *   config + registry (validated, no resource yet)
 *     -> Api (+ JWT authorizer) -> [Network -> Database -> Migrations] -> one ServiceFunctions per service
 *     -> ApiStage (throttling, route overrides, domain) -> Monitoring (alarms, their topic and the dashboard, when the stack turns them on)
 */
import * as pulumi from "@pulumi/pulumi";
import type { AnyService } from "../functions/runtime/service";
import { Api, ApiStage } from "./components/api";
import { Database } from "./components/database";
import type { DatabaseConnection, FunctionSettings } from "./components/function-settings";
import { Migrations } from "./components/migrations";
import { Monitoring, type MonitoredFunction } from "./components/monitoring";
import { Network } from "./components/network";
import { ServiceFunctions } from "./components/service-functions";
import { ConfigError, parseStackConfig, PROJECT, type StackConfig } from "./config";
import { functionBoundsFor } from "./function-bounds";
import { functionLogGroupName } from "./naming";
import { RegistryError, resolveRegistry, type ResolvedRegistry } from "./registry-resolution";
import { services as registeredServices } from "./services";

export interface PlatformOutputs {
    apiUrl: pulumi.Output<string>;
    apiId: pulumi.Output<string>;
    databaseEndpoint?: pulumi.Output<string>;
    databaseClusterId?: pulumi.Output<string>;
    migrationFunction?: pulumi.Output<string>;
    functionNames: Record<string, pulumi.Output<Record<string, string>>>;
    /** Where to point DNS for the custom domain (stacks with `domain` and no hosted zone). */
    domainTarget?: pulumi.Output<string>;
    /** The SNS topic the alarms notify (stacks with `monitoring.enabled`). */
    alarmTopicArn?: pulumi.Output<string>;
    /** The CloudWatch dashboard in the console (stacks with a dashboard). */
    dashboardUrl?: pulumi.Output<string>;
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
export function resolveInputs(stack: string, rawConfig: Readonly<Record<string, unknown>>, services: readonly AnyService[]): ProgramInputs {
    try {
        const config = parseStackConfig(stack, rawConfig);
        const registry = resolveRegistry(services, config.functionDefaults, functionBoundsFor(stack));
        const protectedRoutes = registry.routes.filter((route) => route.auth === "jwt").map((route) => route.routeKey);
        if (protectedRoutes.length > 0 && !config.auth.jwt) {
            throw new ConfigError(stack, [
                `${PROJECT}:auth.jwt: is required (issuer and audience) because routes ${protectedRoutes.join(", ")} use auth "jwt"`,
            ]);
        }
        return { config, registry };
    } catch (error) {
        // RunError prints the message alone: the stack trace of a validation error helps nobody.
        if (error instanceof ConfigError || error instanceof RegistryError) throw new pulumi.RunError(error.message);
        throw error;
    }
}

/** Builds the stack from the registry. `services` is a parameter so tests can deploy other registries. */
export async function deployPlatform(services: readonly AnyService[] = registeredServices): Promise<PlatformOutputs> {
    const stack = pulumi.getStack();
    const { config, registry } = resolveInputs(stack, pulumi.runtime.allConfig(), services);
    const { routes } = registry;

    const tags = { project: PROJECT, stack, "managed-by": "pulumi" };
    const settings: FunctionSettings = {
        logRetentionDays: config.logRetentionDays,
        logLevel: config.logLevel,
        tags,
        logGroupName: (service, functionId) => functionLogGroupName(PROJECT, stack, service, functionId),
    };

    const api = new Api("api", {
        cors: config.api.cors,
        // One authorizer per API, only when a route uses it.
        jwt: routes.some((route) => route.auth === "jwt") ? config.auth.jwt : undefined,
        tags,
    });

    let connection: DatabaseConnection | undefined;
    let database: Database | undefined;
    let migrationRun: Migrations | undefined;
    if (registry.services.some((service) => service.database)) {
        const network = new Network("network", { ...config.network, tags });
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
            secretArn: database.secretArn,
            subnetIds: network.privateSubnetIds,
            securityGroupIds: [network.functionSecurityGroupId],
        };
        if (registry.migrations.length > 0) {
            migrationRun = new Migrations("migrations", { migrations: registry.migrations, migrationSetHash: registry.migrationSetHash, database: connection, settings });
        }
    }

    const functionNames: PlatformOutputs["functionNames"] = {};
    const serviceFunctions: ServiceFunctions[] = [];
    const monitored: MonitoredFunction[] = [];
    for (const { name: serviceName, routes: serviceRoutes, database: usesDatabase } of registry.services) {
        const functions = new ServiceFunctions(serviceName, {
            routes: serviceRoutes,
            apiId: api.apiId,
            apiExecutionArn: api.executionArn,
            jwtAuthorizerId: api.jwtAuthorizerId,
            settings,
            // New code goes live only after the schema it expects is in place.
            database: usesDatabase && connection ? { ...connection, migrationSet: migrationRun?.appliedMigrationSet } : undefined,
        });
        functionNames[serviceName] = functions.functionNames;
        serviceFunctions.push(functions);
        for (const route of serviceRoutes) {
            monitored.push({
                service: serviceName,
                id: route.id,
                label: route.routeKey,
                functionName: functions.functionNames.apply((names) => names[route.routeKey]),
                timeoutSeconds: route.timeoutSeconds,
                logGroupName: settings.logGroupName(serviceName, route.id),
            });
        }
    }
    if (migrationRun) {
        monitored.push({
            service: "platform",
            id: "migrations",
            label: "database migrations",
            functionName: migrationRun.functionName,
            timeoutSeconds: migrationRun.timeoutSeconds,
            logGroupName: settings.logGroupName("platform", "migrations"),
        });
    }

    // After the routes: a stage's per-route settings may only name routes that exist.
    const stage = new ApiStage(
        "api",
        {
            apiId: api.apiId,
            logRetentionDays: config.logRetentionDays,
            throttlingRateLimit: config.api.throttlingRateLimit,
            throttlingBurstLimit: config.api.throttlingBurstLimit,
            routeThrottles: routes.flatMap((route) => (route.throttle ? [{ routeKey: route.routeKey, ...route.throttle }] : [])),
            domain: config.domain,
            tags,
        },
        { dependsOn: serviceFunctions },
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
            api: { apiId: api.apiId, stage: stage.stageName },
            database: database && {
                clusterIdentifier: database.clusterIdentifier,
                minCapacity: config.database.minCapacity,
                maxCapacity: config.database.maxCapacity,
            },
            tags,
        });
    }

    return {
        apiUrl: stage.url ?? api.endpoint,
        apiId: api.apiId,
        functionNames,
        // Only what exists: an undefined output makes the runtime print a warning.
        ...(database ? { databaseEndpoint: database.endpoint, databaseClusterId: database.clusterIdentifier } : {}),
        ...(migrationRun ? { migrationFunction: migrationRun.functionName } : {}),
        ...(stage.domainTarget ? { domainTarget: stage.domainTarget } : {}),
        ...(monitoring?.alarmTopicArn ? { alarmTopicArn: monitoring.alarmTopicArn } : {}),
        ...(monitoring?.dashboardUrl ? { dashboardUrl: monitoring.dashboardUrl } : {}),
    };
}
