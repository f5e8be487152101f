/**
 * The program run under Pulumi's mocks with the real stack files: what `pulumi up` would register
 * for dev and prod, asserted resource by resource, for any registry. Each property is checked over
 * the fixture registry (a service with the database and one without), over its service without
 * the database alone (no network, cluster or migrations), and over whatever `infra/registry.ts`
 * holds (container services included), with every expected count and setting derived from the
 * registry under test; the stacks' own settings (capacity, backups, zones) over the fixture registry.
 * Container services' own resources are asserted in `containers.test.ts`.
 */
import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import type { RegisteredService } from "../../functions/runtime/container";
import { statementTimeoutFor } from "../../functions/runtime/data/database";
import { MIGRATION_LAUNCHER_EXTRA_SECONDS, migrationSetHash, sha256 } from "../../functions/runtime/data/migrations";
import { SERVICE_EVENT_TABLES_SQL } from "../../functions/runtime/data/provisioning";
import { RELAY_CONNECTION_CEILING } from "../../functions/runtime/outbox/relay";
import { defineService } from "../../functions/runtime/service";
import { serviceRoles, serviceSchema } from "../../functions/runtime/data/service-data";
import { isGradual, parseStackConfig, PROJECT } from "../../platform/config/stack-config";
import { functionBoundsFor } from "../../platform/function-bounds";
import { resolveRegistry } from "../../platform/registry/resolution";
import { publishesThroughOutbox } from "../../platform/triggers/outbox-relay";
import { queueConsumersOf } from "../../platform/triggers/queue-consumer";
import { type ResolvedRegistry } from "../../platform/model";
import { services } from "../../infra/services";
import { ComponentTypes, Types } from "../../policy/lib/types";
import { fixtureServices } from "../../testing/fixtures";
import { echoContainer } from "../../testing/fixtures/registries";
import { ofType, one } from "../../testing/graph";
import { archiveFiles } from "../../testing/lambda/archive";
import { lastRegistered, readStackConfig, runProgramOffline, type OfflineRun } from "../../tools/offline";
import { type RegisteredResource } from "../../tools/registered-resource";

/** Route functions: every function but the migration runner. */
function routeFunctions(run: OfflineRun): RegisteredResource[] {
    return ofType(run, Types.lambdaFunction).filter((fn) => fn.inputs.environment?.variables?.ROUTE_KEY);
}

/** The API's integrations with a Lambda function (a container route's goes through the VPC link). */
function functionIntegrations(run: OfflineRun): RegisteredResource[] {
    return ofType(run, Types.httpApiIntegration).filter((integration) => integration.inputs.integrationType === "AWS_PROXY");
}

const REGISTRIES: Array<[string, readonly RegisteredService[]]> = [
    ["fixture registry", fixtureServices],
    ["fixture registry without a database service", fixtureServices.filter((service) => !service.database)],
    ["real registry (infra/registry.ts)", services],
];

describe("the program under mocks", function () {
    this.timeout(120_000);

    for (const [label, registry] of REGISTRIES) {
        for (const stack of ["dev", "prod"] as const) {
            describe(`${label}, ${stack} stack`, () => {
                let run: OfflineRun;
                const config = readStackConfig(stack);
                const stackConfig = parseStackConfig(stack, config);
                const resolved: ResolvedRegistry = resolveRegistry(registry, stackConfig.functionDefaults, {
                    stack,
                    reservations: stackConfig.concurrency.reservations,
                    bounds: functionBoundsFor(stack),
                });
                const routeKeys = resolved.routes.map((route) => route.routeKey);
                const routeOf = (fn: RegisteredResource) => resolved.routes.find((route) => route.routeKey === fn.inputs.environment.variables.ROUTE_KEY)!;
                const databaseServices = [...resolved.services, ...resolved.containers].filter((service) => service.database);
                // The migration run creates each database service's schema and roles, so it exists with any of them, migrations or not.
                const usesDatabase = databaseServices.length > 0;
                const hasContainers = resolved.containers.length > 0;
                // The stack's bus exists while a service publishes or subscribes.
                const usesEvents = resolved.subscriptions.length > 0 || resolved.services.some((service) => service.events.length > 0);
                // A service publishing through its outbox has a relay, the relay's check where relays are checked every minute, and its forwarder where the stack hands events over through a bucket.
                const outboxServices = resolved.services.filter(publishesThroughOutbox);
                const handsOver = stackConfig.events.delivery === "bucket-handover";
                const onAlarm = stackConfig.events.relayWake === "on-alarm";
                const outboxFunctions = 1 + (onAlarm ? 0 : 1) + (handsOver ? 1 : 0);
                // The API's invoke permissions; the others are the outbox wake rules' (on-alarm: the relay's, and the forwarder's where there is one) and S3's on each forwarder.
                const otherPermissionsPerOutbox = (onAlarm ? 1 + (handsOver ? 1 : 0) : 0) + (handsOver ? 1 : 0);
                const apiPermissions = () => ofType(run, "aws:lambda/permission:Permission").filter((permission) => permission.inputs.principal === "apigateway.amazonaws.com");

                before(async () => {
                    run = await runProgramOffline({ stack, services: registry });
                });

                it("registers one function, log group, integration, route and invoke permission per function route, and an API route for every route", () => {
                    assert.deepEqual(routeFunctions(run).map((fn) => fn.inputs.environment.variables.ROUTE_KEY).sort(), [...routeKeys].sort());
                    assert.deepEqual(ofType(run, Types.httpApiRoute).map((route) => route.inputs.routeKey).sort(), resolved.apiRoutes.map((route) => route.routeKey).sort());
                    assert.equal(functionIntegrations(run).length, routeKeys.length);
                    assert.equal(apiPermissions().length, routeKeys.length);
                    assert.equal(ofType(run, "aws:lambda/permission:Permission").length, routeKeys.length + otherPermissionsPerOutbox * outboxServices.length, "and the outbox wake rules' and S3's on the forwarders");
                    // Each subscription and schedule has a function; the migration runner two (its launcher and its worker) when a service keeps data; an outbox its relay (and check, and forwarder).
                    assert.equal(ofType(run, Types.lambdaFunction).length, routeKeys.length + resolved.subscriptions.length + resolved.schedules.length + (usesDatabase ? 2 : 0) + outboxFunctions * outboxServices.length);
                });

                it("pins nodejs24.x on arm64 and gives each route function the memory and timeout the registry resolves to", () => {
                    for (const fn of ofType(run, Types.lambdaFunction)) {
                        assert.equal(fn.inputs.runtime, "nodejs24.x", fn.name);
                        assert.deepEqual(fn.inputs.architectures, ["arm64"], fn.name);
                    }
                    for (const fn of routeFunctions(run)) {
                        const route = routeOf(fn);
                        assert.deepEqual([fn.inputs.memorySize, fn.inputs.timeout], [route.memoryMb, route.timeoutSeconds], fn.name);
                        assert.ok(fn.inputs.timeout >= 1 && fn.inputs.timeout <= 29, `${fn.name}: ${fn.inputs.timeout}`);
                    }
                });

                it("sends every function's JSON logs to its own log group with the stack's retention", () => {
                    const groups = new Map(ofType(run, Types.logGroup).map((group) => [group.inputs.name, group]));
                    const used = new Set<string>();
                    for (const fn of ofType(run, Types.lambdaFunction)) {
                        assert.equal(fn.inputs.loggingConfig.logFormat, "JSON", fn.name);
                        const group = groups.get(fn.inputs.loggingConfig.logGroup);
                        assert.ok(group, `${fn.name} logs to ${fn.inputs.loggingConfig.logGroup}, which the stack does not create`);
                        assert.equal(group.inputs.retentionInDays, stackConfig.logRetentionDays);
                        assert.ok(!used.has(group.inputs.name), `${group.inputs.name} is shared`);
                        used.add(group.inputs.name);
                    }
                    for (const group of groups.values()) assert.equal(group.inputs.retentionInDays, stackConfig.logRetentionDays, group.name);
                });

                it("attaches each function's permissions before the function is created, and traces it with X-Ray", () => {
                    const policies = new Set(ofType(run, Types.iamRolePolicy).map((policy) => policy.urn));
                    for (const fn of ofType(run, Types.lambdaFunction)) {
                        assert.ok(fn.dependencies.some((urn) => policies.has(urn)), `${fn.name} may be created before its role policy`);
                        assert.deepEqual(fn.inputs.tracingConfig, { mode: "Active" }, fn.name);
                    }
                });

                it("gives the HTTP API stage JSON access logs and the stack's default throttling", () => {
                    const stage = one(run, Types.httpApiStage);
                    assert.match(stage.inputs.accessLogSettings.destinationArn, /^arn:aws:logs:.*:log-group:\/aws\/apigateway\//);
                    assert.equal(JSON.parse(stage.inputs.accessLogSettings.format).requestId, "$context.requestId");
                    assert.equal(stage.inputs.defaultRouteSettings.throttlingRateLimit, stackConfig.api.throttlingRateLimit);
                    assert.equal(stage.inputs.defaultRouteSettings.throttlingBurstLimit, stackConfig.api.throttlingBurstLimit);
                    assert.equal(one(run, "aws:apigatewayv2/api:Api").inputs.protocolType, "HTTP");
                });

                it("integrates each route with its function's live alias, payload 2.0 and an integration timeout above its function's", () => {
                    const functionsByName = new Map(ofType(run, Types.lambdaFunction).map((fn) => [fn.outputs.name, fn]));
                    const functionsByAliasArn = new Map(ofType(run, Types.lambdaAlias).map((alias) => [alias.outputs.arn, functionsByName.get(alias.inputs.functionName)]));
                    for (const integration of functionIntegrations(run)) {
                        const fn = functionsByAliasArn.get(integration.inputs.integrationUri);
                        assert.ok(fn, `${integration.name} points at no function of the stack`);
                        assert.equal(integration.inputs.payloadFormatVersion, "2.0");
                        assert.ok(integration.inputs.timeoutMilliseconds > fn.inputs.timeout * 1000 && integration.inputs.timeoutMilliseconds <= 30_000);
                    }
                });

                it("scopes each invoke permission to the stack's API and its route's method", () => {
                    const executionArn = one(run, "aws:apigatewayv2/api:Api").outputs.executionArn;
                    const permissions = apiPermissions();
                    const functionsByName = new Map(routeFunctions(run).map((fn) => [fn.outputs.name, fn]));
                    for (const permission of permissions) {
                        const route = routeOf(functionsByName.get(permission.inputs.function)!);
                        const method = route.method === "ANY" ? "*" : route.method;
                        assert.ok(permission.inputs.sourceArn.startsWith(`${executionArn}/*/${method}/`), `${route.routeKey}: ${permission.inputs.sourceArn}`);
                        assert.doesNotMatch(permission.inputs.sourceArn, /[{}]/, route.routeKey);
                    }
                });

                it("attaches no AWS-managed policy and grants no wildcard action", () => {
                    assert.equal(ofType(run, "aws:iam/rolePolicyAttachment:RolePolicyAttachment").length, 0);
                    for (const role of ofType(run, Types.iamRole)) assert.equal(role.inputs.managedPolicyArns, undefined);
                    for (const policy of ofType(run, Types.iamRolePolicy)) {
                        for (const statement of JSON.parse(policy.inputs.policy).Statement) {
                            const actions: string[] = [statement.Action].flat();
                            assert.ok(!actions.some((action) => action === "*" || action.endsWith(":*")), policy.name);
                        }
                    }
                });

                it("lets each database service's role connect as its own login role only and read no secret but its own service's, and only the migration launcher's read the master secret and invoke the worker", () => {
                    // Prepare
                    const statements = (name: string) => JSON.parse(one(run, Types.iamRolePolicy, name).inputs.policy).Statement as { Action: string[]; Resource: unknown }[];
                    const granting = (name: string, action: string) => statements(name).filter((s) => s.Action.includes(action)).map((s) => s.Resource);
                    const cluster = usesDatabase ? one(run, Types.rdsCluster) : undefined;
                    // Act, Assess
                    for (const service of resolved.services) {
                        const connect = service.database ? [`arn:aws:rds-db:us-east-1:123456789012:dbuser:${cluster!.outputs.clusterResourceId}/${serviceRoles(service.name).login}`] : [];
                        assert.deepEqual(granting(`${service.name}-permissions`, "rds-db:connect"), connect, service.name);
                        const ownSecret = service.secrets.length > 0 ? [one(run, Types.secretsManagerSecret, `${service.name}-secrets`).outputs.arn] : [];
                        assert.deepEqual(granting(`${service.name}-permissions`, "secretsmanager:GetSecretValue"), ownSecret, service.name);
                    }
                    if (!usesDatabase) return;
                    assert.match(cluster!.outputs.clusterResourceId, /^cluster-[A-Z0-9]+$/);
                    assert.equal(cluster!.inputs.iamDatabaseAuthenticationEnabled, true);
                    const secretArn = cluster!.outputs.masterUserSecrets[0].secretArn;
                    const worker = one(run, Types.lambdaFunction, "migrations-function");
                    // The worker signs in with what its invocation brings: no secret, no IAM sign-in, and nothing to invoke.
                    assert.deepEqual(["rds-db:connect", "secretsmanager:GetSecretValue", "lambda:InvokeFunction"].map((action) => granting("migrations-permissions", action)), [[], [], []]);
                    assert.ok(!statements("migrations-permissions").some((s) => [s.Action].flat().some((action) => action.startsWith("secretsmanager:"))), "the worker's role calls no Secrets Manager action");
                    // The launcher reads that one secret and invokes that one function, and does nothing in the VPC.
                    assert.deepEqual(granting("migrations-launcher-permissions", "secretsmanager:GetSecretValue"), [secretArn]);
                    assert.deepEqual(granting("migrations-launcher-permissions", "lambda:InvokeFunction"), [worker.outputs.arn]);
                    assert.deepEqual(statements("migrations-launcher-permissions").flatMap((s) => [s.Action].flat()).sort(), ["lambda:InvokeFunction", "logs:CreateLogStream", "logs:PutLogEvents", "secretsmanager:GetSecretValue", "xray:PutTelemetryRecords", "xray:PutTraceSegments"]);
                    // Each runs as its own role.
                    assert.equal(worker.inputs.role, one(run, Types.iamRole, "migrations-role").outputs.arn);
                    assert.equal(one(run, Types.lambdaFunction, "migrations-launcher").inputs.role, one(run, Types.iamRole, "migrations-launcher-role").outputs.arn);
                });

                it("runs database functions in the VPC signed in as their service's login role, never with a password or the master secret; the others outside", () => {
                    for (const fn of routeFunctions(run)) {
                        const variables = fn.inputs.environment.variables;
                        const route = routeOf(fn);
                        if (route.database) {
                            assert.deepEqual(fn.inputs.vpcConfig.subnetIds, ["subnet-private0", "subnet-private1"], fn.name);
                            assert.equal(variables.DB_USER, serviceRoles(route.service).login, fn.name);
                            assert.equal(variables.DB_STATEMENT_TIMEOUT_MS, String((fn.inputs.timeout - 1) * 1000));
                        } else {
                            assert.equal(fn.inputs.vpcConfig, undefined, fn.name);
                            assert.equal(variables.DB_USER, undefined, fn.name);
                        }
                        assert.equal(variables.DB_SECRET_ARN, undefined, fn.name);
                        assert.ok(!Object.keys(variables).some((name) => /PASSWORD/i.test(name)));
                    }
                    if (!usesDatabase) return;
                    // The worker in the VPC, told nothing of who signs in; the launcher outside it, told the secret's ARN and the worker's name, never a value.
                    const worker = one(run, Types.lambdaFunction, "migrations-function");
                    const launcher = one(run, Types.lambdaFunction, "migrations-launcher");
                    assert.deepEqual(worker.inputs.vpcConfig.subnetIds, ["subnet-private0", "subnet-private1"]);
                    assert.deepEqual([worker.inputs.environment.variables.DB_SECRET_ARN, worker.inputs.environment.variables.DB_USER], [undefined, undefined]);
                    assert.equal(launcher.inputs.vpcConfig, undefined);
                    assert.deepEqual(launcher.inputs.environment.variables, { DB_SECRET_ARN: one(run, Types.rdsCluster).outputs.masterUserSecrets[0].secretArn, MIGRATION_WORKER_FUNCTION: worker.outputs.name });
                    for (const fn of [worker, launcher]) assert.ok(!Object.keys(fn.inputs.environment.variables).some((name) => /PASSWORD/i.test(name)), fn.name);
                    // The launcher waits for the worker, and longer than one refused run and a full one.
                    assert.ok(launcher.inputs.timeout > worker.inputs.timeout, `${launcher.inputs.timeout} <= ${worker.inputs.timeout}`);
                    assert.equal(launcher.inputs.timeout, worker.inputs.timeout + MIGRATION_LAUNCHER_EXTRA_SECONDS);
                    assert.ok(launcher.inputs.timeout <= 900);
                });

                it("registers the network when a service uses the database or runs in a container, and an Aurora PostgreSQL 17 Serverless v2 cluster (managed, encrypted, TLS-only) exactly when a service uses the database", () => {
                    assert.equal(ofType(run, Types.rdsCluster).length, usesDatabase ? 1 : 0);
                    assert.equal(ofType(run, Types.awsxVpc).length, usesDatabase || hasContainers ? 1 : 0);
                    if (!usesDatabase) return;
                    const cluster = one(run, Types.rdsCluster);
                    assert.equal(cluster.inputs.engine, "aurora-postgresql");
                    assert.match(cluster.inputs.engineVersion, /^17\./);
                    assert.equal(cluster.inputs.manageMasterUserPassword, true);
                    assert.equal(cluster.inputs.masterPassword, undefined);
                    assert.equal(cluster.inputs.storageEncrypted, true);
                    assert.deepEqual(cluster.inputs.enabledCloudwatchLogsExports, ["postgresql"]);
                    const parameters = one(run, "aws:rds/clusterParameterGroup:ClusterParameterGroup");
                    assert.equal(parameters.inputs.family, "aurora-postgresql17");
                    assert.ok(parameters.inputs.parameters.some((p: { name: string; value: string }) => p.name === "rds.force_ssl" && p.value === "1"));
                    for (const instance of ofType(run, Types.rdsClusterInstance)) {
                        assert.equal(instance.inputs.instanceClass, "db.serverless");
                        assert.equal(instance.inputs.publiclyAccessible, false);
                    }
                    // No Secrets Manager endpoint for the database itself (the migration launcher reads the master secret outside the VPC), only for database services that read declared secrets; every interface endpoint in as many zones as the stack says.
                    const endpoints = ofType(run, Types.vpcEndpoint);
                    const secrets = endpoints.filter((endpoint) => endpoint.inputs.serviceName === "com.amazonaws.us-east-1.secretsmanager");
                    assert.equal(secrets.length, resolved.services.some((service) => service.database && service.secrets.length > 0) ? 1 : 0);
                    for (const endpoint of secrets) assert.equal(endpoint.inputs.privateDnsEnabled, true);
                    for (const endpoint of endpoints.filter((e) => e.inputs.vpcEndpointType === "Interface")) {
                        assert.equal(endpoint.inputs.subnetIds.length, stackConfig.network.endpointZones, endpoint.name);
                    }
                });

                /** Each database service's own migrations, as the registry read them. */
                const ownMigrations = (service: string) => resolved.migrations.filter((migration) => migration.service === service);
                const invocationOf = (service: string) => ofType(run, Types.lambdaInvocation).find((invocation) => invocation.name === `${service}-migrations`);

                it("invokes the migration launcher once per database service, keyed on that service's own migration hash and data, the platform's tables and the runner's code", () => {
                    // Prepare
                    const runner = ofType(run, Types.lambdaFunction).filter((fn) => fn.name === "migrations-launcher");
                    // Act
                    const invocations = ofType(run, Types.lambdaInvocation);
                    // Assess
                    assert.deepEqual(invocations.map((invocation) => invocation.name).sort(), databaseServices.map((service) => `${service.name}-migrations`).sort());
                    assert.equal(runner.length, usesDatabase ? 1 : 0);
                    for (const service of databaseServices) {
                        const invocation = invocationOf(service.name)!;
                        assert.equal(invocation.inputs.functionName, runner[0].outputs.name ?? runner[0].inputs.name, service.name);
                        assert.equal(invocation.inputs.triggers.migrationSetHash, migrationSetHash(ownMigrations(service.name)), service.name);
                        assert.equal(invocation.inputs.triggers.serviceData, sha256(JSON.stringify(JSON.parse(invocation.inputs.input).service)), service.name);
                        assert.equal(invocation.inputs.triggers.platformTables, sha256(SERVICE_EVENT_TABLES_SQL.join("\n")), service.name);
                        assert.match(invocation.inputs.triggers.runnerCode, /^[0-9a-f]{64}$/, service.name);
                    }
                });

                it("keys every service's run on the launcher's and the worker's bundled code, so new code in either re-runs each, and exports that hash", async () => {
                    if (!usesDatabase) return;
                    // Prepare
                    const codeHash = async (name: string) => sha256((await archiveFiles(one(run, Types.lambdaFunction, name).inputs.code))[0].data.toString("utf8"));
                    const expected = sha256(`${await codeHash("migrations-launcher")}\n${await codeHash("migrations-function")}`);
                    // Act
                    const keys = new Set(ofType(run, Types.lambdaInvocation).map((invocation) => invocation.inputs.triggers.runnerCode));
                    // Assess: the same hash the stack exports beside the launcher's name, for a service stack to read.
                    assert.deepEqual([...keys], [expected]);
                    assert.equal(run.outputs.migrationRunnerCodeHash, expected);
                    assert.equal(run.outputs.migrationFunction, one(run, Types.lambdaFunction, "migrations-launcher").outputs.name);
                });

                it("makes each database service's functions (and tasks) wait for their own service's migrations alone", () => {
                    const invocationUrns = new Set(ofType(run, Types.lambdaInvocation).map((invocation) => invocation.urn));
                    for (const fn of routeFunctions(run)) {
                        const route = routeOf(fn);
                        const waitsFor = (fn.propertyDependencies.environment ?? []).filter((urn) => invocationUrns.has(urn));
                        assert.deepEqual(waitsFor, route.database ? [invocationOf(route.service)!.urn] : [], fn.name);
                        if (route.database) assert.equal(fn.inputs.environment.variables.DB_MIGRATION_SET, migrationSetHash(ownMigrations(route.service)), fn.name);
                    }
                    for (const container of resolved.containers.filter((service) => service.database)) {
                        const taskDefinition = ofType(run, Types.ecsTaskDefinition).find((task) => task.name.startsWith(container.name));
                        assert.ok(taskDefinition, container.name);
                        const waitsFor = Object.values(taskDefinition.propertyDependencies).flat().filter((urn) => invocationUrns.has(urn));
                        assert.deepEqual([...new Set(waitsFor)], [invocationOf(container.name)!.urn], container.name);
                    }
                });

                it("asks each service's run for that service's schema, roles and limits (its functions' or tasks' connection ceilings added up) and its own migrations alone", () => {
                    // Prepare: a function holds its reservation's connections, else the stack's connectionsPerFunction; a task the latter.
                    const { connectionsPerFunction } = stackConfig.database;
                    const limits = [
                        ...resolved.services
                            .filter((service) => service.database)
                            .map((service) => ({
                                service: service.name,
                                // A queue consumer holds a connection per invocation its mapping allows.
                                connectionLimit:
                                    service.routes.reduce((sum, route) => sum + (route.reservedConcurrency ?? connectionsPerFunction), 0) +
                                    queueConsumersOf(service).reduce((sum, consumer) => sum + consumer.maxConcurrency, 0) +
                                    (publishesThroughOutbox(service) ? RELAY_CONNECTION_CEILING : 0),
                                statementTimeoutMs: statementTimeoutFor(Math.max(...[...service.routes, ...queueConsumersOf(service)].map((fn) => fn.timeoutSeconds))),
                            })),
                        ...resolved.containers
                            .filter((service) => service.database)
                            .map((service) => ({ service: service.name, connectionLimit: service.scaling.maxTasks * connectionsPerFunction, statementTimeoutMs: statementTimeoutFor(service.timeoutSeconds) })),
                    ];
                    for (const { service, connectionLimit, statementTimeoutMs } of limits) {
                        // Act
                        const request = JSON.parse(invocationOf(service)!.inputs.input);
                        // Assess
                        assert.deepEqual(request, {
                            migrationSetHash: migrationSetHash(ownMigrations(service)),
                            service: { service, schema: serviceSchema(service), ownerRole: serviceRoles(service).owner, loginRole: serviceRoles(service).login, connectionLimit, statementTimeoutMs },
                            migrations: ownMigrations(service),
                            login: "iam",
                        });
                    }
                });

                it("keeps every service's SQL out of the migration functions' code: each service's invocation carries it", async () => {
                    if (!usesDatabase) return;
                    // Prepare
                    const [source] = await archiveFiles(one(run, Types.lambdaFunction, "migrations-function").inputs.code);
                    const [launcherSource] = await archiveFiles(one(run, Types.lambdaFunction, "migrations-launcher").inputs.code);
                    const text = source.data.toString("utf8");
                    // Act: each migration's first statement line, as the service wrote it.
                    const statements = resolved.migrations.map((migration) => migration.sql.split("\n").find((line) => /^\s*(CREATE|ALTER|INSERT|DROP)\b/i.test(line))!.trim());
                    // Assess
                    for (const statement of statements) assert.ok(!text.includes(statement) && !launcherSource.data.toString("utf8").includes(statement), `the runner's code holds "${statement}"`);
                    // The platform's own tables stay in the runner: they are platform code.
                    assert.ok(text.includes("platform_outbox"), "the runner creates the platform's tables");
                    for (const migration of resolved.migrations) assert.ok(invocationOf(migration.service)!.inputs.input.includes(JSON.stringify(migration.sql)), migration.file);
                });

                it("parents every resource to a component: the API, its stage, one per service, the database's when used, the container platform's when there are containers, the monitoring's (the platform's and one per service) when on, the releases' (the application and one per service) in a gradual stack", () => {
                    const stackUrn = one(run, Types.stack).urn;
                    const roots = run.resources.filter((r) => r.parent === stackUrn);
                    const expected = [
                        ComponentTypes.api,
                        ComponentTypes.apiStage,
                        ...(usesDatabase || hasContainers ? [ComponentTypes.network] : []),
                        ...(usesDatabase ? [ComponentTypes.database, ComponentTypes.migrations] : []),
                        ...databaseServices.map(() => ComponentTypes.serviceMigration),
                        ...(hasContainers ? [ComponentTypes.containerPlatform] : []),
                        ...(usesEvents ? [ComponentTypes.eventBus] : []),
                        ...(stackConfig.monitoring.enabled || stackConfig.monitoring.dashboard
                            ? [ComponentTypes.platformMonitoring, ...[...resolved.services, ...resolved.containers].map(() => ComponentTypes.serviceMonitoring)]
                            : []),
                        ...(isGradual(stackConfig.release) ? [ComponentTypes.releaseApplication, ...resolved.services.map(() => ComponentTypes.serviceReleases)] : []),
                        ...resolved.services.map(() => ComponentTypes.service),
                        ...resolved.containers.map(() => ComponentTypes.serviceContainer),
                    ];
                    assert.deepEqual(roots.map((r) => r.type).sort(), [...expected].sort());
                    assert.deepEqual(roots.filter((r) => r.type === ComponentTypes.service).map((r) => r.name), resolved.services.map((s) => s.name));
                });

                it("exports the API URL, every function name per service and route, and the database endpoint when there is one", () => {
                    assert.match(run.outputs.apiUrl, /^https:\/\/.+\.execute-api\.us-east-1\.amazonaws\.com$/);
                    assert.equal(run.outputs.databaseEndpoint === undefined, !usesDatabase);
                    if (usesDatabase) assert.match(run.outputs.databaseEndpoint, /\.rds\.amazonaws\.com$/);
                    assert.deepEqual(Object.keys(run.outputs.functionNames), resolved.services.map((s) => s.name));
                    for (const service of resolved.services) {
                        assert.deepEqual(Object.keys(run.outputs.functionNames[service.name]), service.routes.map((r) => r.routeKey), service.name);
                    }
                });
            });
        }
    }

    describe("the stacks' own settings (fixture registry)", () => {
        let dev: OfflineRun;
        let prod: OfflineRun;
        before(async () => {
            dev = await runProgramOffline({ stack: "dev", services: fixtureServices });
            prod = await runProgramOffline({ stack: "prod", services: fixtureServices });
        });

        it("gives each invoke permission the method and path of its route, parameters as wildcards", () => {
            const executionArn = one(prod, "aws:apigatewayv2/api:Api").outputs.executionArn;
            const sourceArns = ofType(prod, "aws:lambda/permission:Permission").map((permission) => permission.inputs.sourceArn).sort();
            assert.deepEqual(sourceArns, ["DELETE/notes/*", "GET/notes", "GET/notes/*", "GET/ping", "POST/notes"].map((route) => `${executionArn}/*/${route}`));
        });

        it("dev scales the database to zero with auto-pause and has no NAT gateway", () => {
            const cluster = one(dev, Types.rdsCluster);
            assert.deepEqual(cluster.inputs.serverlessv2ScalingConfiguration, { minCapacity: 0, maxCapacity: 2, secondsUntilAutoPause: 600 });
            assert.equal(one(dev, Types.awsxVpc).inputs.natGateways.strategy, "None");
            assert.ok(!one(dev, Types.awsxVpc).inputs.subnetSpecs.some((spec: { type: string }) => spec.type === "Public"));
            assert.equal(ofType(dev, Types.rdsClusterInstance).length, 1);
        });

        it("admits PostgreSQL only from the functions' security group, with a rule resource of its own", () => {
            const groups = ofType(dev, Types.securityGroup);
            const database = groups.find((group) => group.name === "network-database")!;
            const functions = groups.find((group) => group.name === "network-functions")!;
            assert.equal(database.inputs.ingress, undefined, "no inline rules beside the standalone ones");
            const rules = ofType(dev, Types.securityGroupIngressRule).filter((rule) => rule.inputs.securityGroupId === database.outputs.id);
            assert.deepEqual(
                rules.map((rule) => [rule.inputs.ipProtocol, rule.inputs.fromPort, rule.inputs.toPort, rule.inputs.referencedSecurityGroupId, rule.inputs.cidrIpv4]),
                [["tcp", 5432, 5432, functions.outputs.id, undefined]],
            );
        });

        it("prod keeps a capacity floor, deletion protection, two weeks of backups, a final snapshot and protect", () => {
            const cluster = one(prod, Types.rdsCluster);
            assert.ok(cluster.inputs.serverlessv2ScalingConfiguration.minCapacity >= 0.5);
            assert.equal(cluster.inputs.serverlessv2ScalingConfiguration.secondsUntilAutoPause, undefined);
            assert.equal(cluster.inputs.deletionProtection, true);
            assert.ok(cluster.inputs.backupRetentionPeriod >= 7);
            assert.equal(cluster.inputs.skipFinalSnapshot, false);
            assert.match(cluster.inputs.finalSnapshotIdentifier, /^serverless-microservices-prod-database-final-[0-9a-f]{8}$/);
            assert.equal(cluster.protect, true);
        });

        it("prod adds a reader in another zone than the writer", () => {
            const instances = ofType(prod, Types.rdsClusterInstance);
            assert.deepEqual(instances.map((i) => [i.name, i.inputs.promotionTier]), [["database-writer", 0], ["database-reader-1", 1]]);
            assert.notEqual(instances[0].inputs.availabilityZone, instances[1].inputs.availabilityZone);
            assert.ok(instances.every((i) => i.protect));
        });
    });

    describe("bad input registers no resource", () => {
        /** Only the root stack resource may exist after a rejected run. */
        function assertNothingRegistered() {
            assert.deepEqual(lastRegistered.filter((r) => r.type !== Types.stack).map((r) => r.urn), []);
        }

        it("stops on a wrong stack value, naming the stack and the key", async () => {
            const config = { ...readStackConfig("dev"), [`${PROJECT}:logRetentionDays`]: 10 };
            await assert.rejects(runProgramOffline({ stack: "dev", config, services: fixtureServices }), /Stack "dev" configuration \(Pulumi\.dev\.yaml\) is invalid:\n  - serverless-microservices:logRetentionDays: 10 is not allowed/);
            assertNothingRegistered();
        });

        it("stops on a wrong registry entry, naming the service, its file and the route", async () => {
            const broken: RegisteredService[] = [...fixtureServices, defineService({ name: "extra", description: "x", database: false, routes: { "GET /x": { handler: async () => ({}), timeoutSeconds: 60 } } })];
            await assert.rejects(runProgramOffline({ stack: "dev", services: broken }), /service "extra" \(tests\/infra\/program\.test\.ts\), route "GET \/x": timeoutSeconds 60 is not allowed/);
            assertNothingRegistered();
        });

        it("stops on memory the stack's policy pack refuses, naming memoryMb and the service file, not the resource's memorySize", async () => {
            const big = defineService({ name: "extra", description: "x", database: false, memoryMb: 4096, routes: { "GET /x": { handler: async () => ({}) } } });
            await assert.rejects(
                runProgramOffline({ stack: "prod", services: [big] }),
                /service "extra" \(tests\/infra\/program\.test\.ts\): memoryMb 4096 is not allowed; use an integer from 128 to 3008 \(the prod stack's policy pack: lambda-memory-bounds in policy\/config\.prod\.json/,
            );
            assertNothingRegistered();
        });

        it("stops on a service whose migrations exceed one synchronous invocation's payload, naming the service and its largest file", async () => {
            // Prepare: a bulk-data migration just over Lambda's 6 MB request limit.
            const dir = fs.mkdtempSync(path.join(os.tmpdir(), "migrations-"));
            fs.writeFileSync(path.join(dir, "0001_seed.sql"), `INSERT INTO seed VALUES ('${"x".repeat(6 * 1024 * 1024)}');`);
            const bulky = defineService({ name: "bulky", description: "x", database: true, migrationsDir: dir, routes: { "GET /bulky": { handler: async () => ({}) } } });
            try {
                // Act + Assess
                await assert.rejects(
                    runProgramOffline({ stack: "dev", services: [...fixtureServices, bulky] }),
                    /service "bulky": its migrations make a \d+-byte migration payload, over the 6291456 bytes \(6 MB\) Lambda accepts in one synchronous invocation \(the largest is .*0001_seed\.sql, \d+ bytes\)/,
                );
                assertNothingRegistered();
            } finally {
                fs.rmSync(dir, { recursive: true, force: true });
            }
        });

        it("stops on a misnamed migration file, naming the service and the file", async () => {
            const dir = fs.mkdtempSync(path.join(os.tmpdir(), "migrations-"));
            fs.writeFileSync(path.join(dir, "create.sql"), "SELECT 1");
            const broken = [defineService({ name: "extra", description: "x", database: true, migrationsDir: dir, routes: { "GET /x": { handler: async () => ({}) } } })];
            await assert.rejects(runProgramOffline({ stack: "dev", services: broken }), /service "extra" \(tests\/infra\/program\.test\.ts\): migration file "create\.sql" must be named NNNN_name\.sql/);
            assertNothingRegistered();
        });
    });

    it("gives a database container's task its own service's migration run to wait for, and a function service's functions theirs", async () => {
        // Prepare: a function service and a container service, each with a migration of its own.
        const migrationsDir = fs.mkdtempSync(path.join(os.tmpdir(), "echo-migrations-"));
        fs.writeFileSync(path.join(migrationsDir, "0001_create_echoes.sql"), "CREATE TABLE echoes (id int);");
        try {
            // Act
            const run = await runProgramOffline({ stack: "dev", services: [...fixtureServices, echoContainer({ database: true, migrationsDir })] });
            // Assess
            const invocations = new Map(ofType(run, Types.lambdaInvocation).map((invocation) => [invocation.urn, invocation.name]));
            const waitsFor = (resource: RegisteredResource) => [...new Set(Object.values(resource.propertyDependencies).flat().filter((urn) => invocations.has(urn)).map((urn) => invocations.get(urn)))];
            assert.deepEqual(waitsFor(one(run, Types.ecsTaskDefinition)), ["echo-migrations"]);
            for (const fn of routeFunctions(run).filter((candidate) => candidate.inputs.environment.variables.DB_USER)) assert.deepEqual(waitsFor(fn), ["notes-migrations"], fn.name);
            const echo = JSON.parse(one(run, Types.lambdaInvocation, "echo-migrations").inputs.input);
            assert.deepEqual(echo.migrations.map((m: { sql: string }) => m.sql), ["CREATE TABLE echoes (id int);"]);
            assert.ok(!one(run, Types.lambdaInvocation, "notes-migrations").inputs.input.includes("echoes"));
        } finally {
            fs.rmSync(migrationsDir, { recursive: true, force: true });
        }
    });

    it("runs the migration function for a database service without migrations: it still needs its schema and roles", async () => {
        // Prepare
        const ledger = defineService({ name: "ledger", description: "x", database: true, routes: { "GET /ledger": { handler: async () => ({}) } } });
        // Act
        const run = await runProgramOffline({ stack: "dev", services: [ledger] });
        // Assess: dev reserves nothing, so its one function holds the stack's connectionsPerFunction.
        const request = JSON.parse(one(run, Types.lambdaInvocation, "ledger-migrations").inputs.input);
        const { connectionsPerFunction } = parseStackConfig("dev", readStackConfig("dev")).database;
        assert.deepEqual([request.service.loginRole, request.service.connectionLimit, request.migrations], ["ledger_app", connectionsPerFunction, []]);
    });
});
