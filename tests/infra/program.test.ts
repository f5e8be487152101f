/**
 * The program run under Pulumi's mocks with the real stack files: what `pulumi up` would register
 * for dev and prod, asserted resource by resource.
 */
import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import type { RegisteredService } from "../../functions/runtime/container";
import { defineService, type AnyService } from "../../functions/runtime/service";
import { PROJECT } from "../../infra/config";
import { services } from "../../infra/registry";
import { functionServices } from "../support/function-services";
import { ofType, one } from "../support/graph";
import { lastRegistered, readStackConfig, runProgramOffline, type OfflineResource, type OfflineRun } from "../../tools/offline";

const ROUTE_KEYS = ["POST /auth", "POST /users", "GET /users/{id}", "GET /users", "PATCH /users/{id}", "DELETE /users/{id}"];

/** Route functions: every function but the migration runner. */
function routeFunctions(run: OfflineRun): OfflineResource[] {
    return ofType(run, "aws:lambda/function:Function").filter((fn) => fn.inputs.environment?.variables?.ROUTE_KEY);
}

describe("the program under mocks", function () {
    this.timeout(120_000);
    let dev: OfflineRun;
    let prod: OfflineRun;

    before(async () => {
        dev = await runProgramOffline({ stack: "dev", services: functionServices });
        prod = await runProgramOffline({ stack: "prod", services: functionServices });
    });

    for (const stack of ["dev", "prod"] as const) {
        describe(`${stack} stack`, () => {
            const run = () => (stack === "dev" ? dev : prod);
            const config = readStackConfig(stack);
            const retention = Number(config[`${PROJECT}:logRetentionDays`]);

            it("registers one function, integration, route and permission per registry route", () => {
                assert.deepEqual(routeFunctions(run()).map((fn) => fn.inputs.environment.variables.ROUTE_KEY).sort(), [...ROUTE_KEYS].sort());
                assert.deepEqual(ofType(run(), "aws:apigatewayv2/route:Route").map((route) => route.inputs.routeKey).sort(), [...ROUTE_KEYS].sort());
                assert.equal(ofType(run(), "aws:apigatewayv2/integration:Integration").length, ROUTE_KEYS.length);
                assert.equal(ofType(run(), "aws:lambda/permission:Permission").length, ROUTE_KEYS.length);
            });

            it("pins nodejs24.x on arm64 with memory and a timeout of at most 29 s on every function", () => {
                for (const fn of ofType(run(), "aws:lambda/function:Function")) {
                    assert.equal(fn.inputs.runtime, "nodejs24.x", fn.name);
                    assert.deepEqual(fn.inputs.architectures, ["arm64"], fn.name);
                    assert.ok(Number.isInteger(fn.inputs.memorySize) && fn.inputs.memorySize >= 128, fn.name);
                }
                for (const fn of routeFunctions(run())) assert.ok(fn.inputs.timeout >= 1 && fn.inputs.timeout <= 29, `${fn.name}: ${fn.inputs.timeout}`);
                const auth = routeFunctions(run()).find((fn) => fn.inputs.environment.variables.ROUTE_KEY === "POST /auth")!;
                assert.deepEqual([auth.inputs.memorySize, auth.inputs.timeout], [256, 5]);
            });

            it("sends every function's JSON logs to its own log group with the stack's retention", () => {
                const groups = new Map(ofType(run(), "aws:cloudwatch/logGroup:LogGroup").map((group) => [group.inputs.name, group]));
                const used = new Set<string>();
                for (const fn of ofType(run(), "aws:lambda/function:Function")) {
                    assert.equal(fn.inputs.loggingConfig.logFormat, "JSON", fn.name);
                    const group = groups.get(fn.inputs.loggingConfig.logGroup);
                    assert.ok(group, `${fn.name} logs to ${fn.inputs.loggingConfig.logGroup}, which the stack does not create`);
                    assert.equal(group.inputs.retentionInDays, retention);
                    assert.ok(!used.has(group.inputs.name), `${group.inputs.name} is shared`);
                    used.add(group.inputs.name);
                }
                for (const group of groups.values()) assert.equal(group.inputs.retentionInDays, retention, group.name);
            });

            it("attaches each function's permissions before the function is created", () => {
                const policies = new Set(ofType(run(), "aws:iam/rolePolicy:RolePolicy").map((policy) => policy.urn));
                for (const fn of ofType(run(), "aws:lambda/function:Function")) {
                    assert.ok(fn.dependencies.some((urn) => policies.has(urn)), `${fn.name} may be created before its role policy`);
                }
            });

            it("traces every function with X-Ray", () => {
                for (const fn of ofType(run(), "aws:lambda/function:Function")) assert.deepEqual(fn.inputs.tracingConfig, { mode: "Active" }, fn.name);
            });

            it("gives the HTTP API stage JSON access logs and the stack's default throttling", () => {
                const stage = one(run(), "aws:apigatewayv2/stage:Stage");
                const api = config[`${PROJECT}:api`] as { throttlingRateLimit: number; throttlingBurstLimit: number };
                assert.match(stage.inputs.accessLogSettings.destinationArn, /^arn:aws:logs:.*:log-group:\/aws\/apigateway\//);
                assert.equal(JSON.parse(stage.inputs.accessLogSettings.format).requestId, "$context.requestId");
                assert.equal(stage.inputs.defaultRouteSettings.throttlingRateLimit, api.throttlingRateLimit);
                assert.equal(stage.inputs.defaultRouteSettings.throttlingBurstLimit, api.throttlingBurstLimit);
                assert.equal(one(run(), "aws:apigatewayv2/api:Api").inputs.protocolType, "HTTP");
            });

            it("integrates each route with payload 2.0 and an integration timeout above the function's", () => {
                const functionsByArn = new Map(ofType(run(), "aws:lambda/function:Function").map((fn) => [fn.outputs.arn, fn]));
                for (const integration of ofType(run(), "aws:apigatewayv2/integration:Integration")) {
                    const fn = functionsByArn.get(integration.inputs.integrationUri);
                    assert.ok(fn, `${integration.name} points at no function of the stack`);
                    assert.equal(integration.inputs.payloadFormatVersion, "2.0");
                    assert.ok(integration.inputs.timeoutMilliseconds > fn.inputs.timeout * 1000 && integration.inputs.timeoutMilliseconds <= 30_000);
                }
            });

            it("scopes each invoke permission to the stack's API and the route's method", () => {
                const executionArn = one(run(), "aws:apigatewayv2/api:Api").outputs.executionArn;
                const sourceArns = ofType(run(), "aws:lambda/permission:Permission").map((permission) => permission.inputs.sourceArn).sort();
                assert.deepEqual(sourceArns, ["DELETE/users/*", "GET/users", "GET/users/*", "PATCH/users/*", "POST/auth", "POST/users"].map((route) => `${executionArn}/*/${route}`));
            });

            it("attaches no AWS-managed policy to any role, and grants no wildcard action", () => {
                assert.equal(ofType(run(), "aws:iam/rolePolicyAttachment:RolePolicyAttachment").length, 0);
                for (const role of ofType(run(), "aws:iam/role:Role")) assert.equal(role.inputs.managedPolicyArns, undefined);
                for (const policy of ofType(run(), "aws:iam/rolePolicy:RolePolicy")) {
                    for (const statement of JSON.parse(policy.inputs.policy).Statement) assert.ok(!statement.Action.includes("*") && !statement.Action.some((a: string) => a.endsWith(":*")), policy.name);
                }
            });

            it("lets each database service's role connect as its own database user only, and only the migration role read the master secret", () => {
                // Prepare
                const cluster = one(run(), "aws:rds/cluster:Cluster");
                const secretArn = cluster.outputs.masterUserSecrets[0].secretArn;
                const statements = (name: string) => JSON.parse(one(run(), "aws:iam/rolePolicy:RolePolicy", name).inputs.policy).Statement as { Sid: string; Action: string[]; Resource: unknown }[];
                const granting = (name: string, action: string) => statements(name).filter((s) => s.Action.includes(action)).map((s) => s.Resource);
                // Act
                const users = { connect: granting("users-permissions", "rds-db:connect"), secret: granting("users-permissions", "secretsmanager:GetSecretValue") };
                const migrations = { connect: granting("migrations-permissions", "rds-db:connect"), secret: granting("migrations-permissions", "secretsmanager:GetSecretValue") };
                // Assess
                assert.deepEqual(users, { connect: [`arn:aws:rds-db:us-east-1:123456789012:dbuser:${cluster.outputs.clusterResourceId}/users_app`], secret: [] });
                assert.match(cluster.outputs.clusterResourceId, /^cluster-[A-Z0-9]+$/);
                assert.deepEqual(migrations, { connect: [], secret: [secretArn] });
                assert.deepEqual([...granting("auth-permissions", "rds-db:connect"), ...granting("auth-permissions", "secretsmanager:GetSecretValue")], []);
            });

            it("turns on IAM database authentication on the cluster", () => {
                assert.equal(one(run(), "aws:rds/cluster:Cluster").inputs.iamDatabaseAuthenticationEnabled, true);
            });

            it("runs database functions in the VPC signed in as their service's role, never with a password or the master secret in their environment", () => {
                for (const fn of routeFunctions(run())) {
                    const variables = fn.inputs.environment.variables;
                    if (variables.SERVICE_NAME === "users") {
                        assert.deepEqual(fn.inputs.vpcConfig.subnetIds, ["subnet-private0", "subnet-private1"]);
                        assert.equal(variables.DB_USER, "users_app");
                        assert.equal(variables.DB_STATEMENT_TIMEOUT_MS, String((fn.inputs.timeout - 1) * 1000));
                    } else {
                        assert.equal(fn.inputs.vpcConfig, undefined);
                        assert.equal(variables.DB_USER, undefined);
                    }
                    assert.equal(variables.DB_SECRET_ARN, undefined);
                    assert.ok(!Object.keys(variables).some((name) => /PASSWORD/i.test(name)));
                }
                const migrations = one(run(), "aws:lambda/function:Function", "migrations-function").inputs.environment.variables;
                assert.match(migrations.DB_SECRET_ARN, /^arn:aws:secretsmanager:.*:secret:rds!cluster-/);
                assert.equal(migrations.DB_USER, undefined);
            });

            it("registers an Aurora PostgreSQL 17 Serverless v2 cluster with a managed, encrypted, TLS-only setup", () => {
                const cluster = one(run(), "aws:rds/cluster:Cluster");
                assert.equal(cluster.inputs.engine, "aurora-postgresql");
                assert.match(cluster.inputs.engineVersion, /^17\./);
                assert.equal(cluster.inputs.manageMasterUserPassword, true);
                assert.equal(cluster.inputs.masterPassword, undefined);
                assert.equal(cluster.inputs.storageEncrypted, true);
                assert.deepEqual(cluster.inputs.enabledCloudwatchLogsExports, ["postgresql"]);
                const parameters = one(run(), "aws:rds/clusterParameterGroup:ClusterParameterGroup");
                assert.equal(parameters.inputs.family, "aurora-postgresql17");
                assert.ok(parameters.inputs.parameters.some((p: { name: string; value: string }) => p.name === "rds.force_ssl" && p.value === "1"));
                for (const instance of ofType(run(), "aws:rds/clusterInstance:ClusterInstance")) {
                    assert.equal(instance.inputs.instanceClass, "db.serverless");
                    assert.equal(instance.inputs.publiclyAccessible, false);
                }
            });

            it("admits PostgreSQL only from the functions' security group", () => {
                const groups = ofType(run(), "aws:ec2/securityGroup:SecurityGroup");
                const database = groups.find((group) => group.name === "network-database")!;
                const functions = groups.find((group) => group.name === "network-functions")!;
                const rules = ofType(run(), "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule").filter((rule) => rule.inputs.securityGroupId === database.outputs.id);
                assert.deepEqual(
                    rules.map((rule) => [rule.inputs.ipProtocol, rule.inputs.fromPort, rule.inputs.toPort, rule.inputs.referencedSecurityGroupId, rule.inputs.cidrIpv4]),
                    [["tcp", 5432, 5432, functions.outputs.id, undefined]],
                );
            });

            it("reaches Secrets Manager through an interface endpoint", () => {
                const endpoint = one(run(), "aws:ec2/vpcEndpoint:VpcEndpoint");
                assert.equal(endpoint.inputs.serviceName, "com.amazonaws.us-east-1.secretsmanager");
                assert.equal(endpoint.inputs.privateDnsEnabled, true);
                const zones = (config[`${PROJECT}:network`] as { endpointZones: number }).endpointZones;
                assert.equal(endpoint.inputs.subnetIds.length, zones);
            });

            it("invokes the migration function keyed on the migration set's hash and the services' data settings, before the database services deploy", () => {
                const invocation = one(run(), "aws:lambda/invocation:Invocation");
                assert.match(invocation.inputs.triggers.migrationSetHash, /^[0-9a-f]{64}$/);
                assert.match(invocation.inputs.triggers.serviceData, /^[0-9a-f]{64}$/);
                for (const fn of routeFunctions(run())) {
                    const waits = (fn.propertyDependencies.environment ?? []).includes(invocation.urn);
                    assert.equal(waits, fn.inputs.environment.variables.SERVICE_NAME === "users", `${fn.name} waits for the migrations: ${waits}`);
                    if (waits) assert.equal(fn.inputs.environment.variables.DB_MIGRATION_SET, invocation.inputs.triggers.migrationSetHash);
                }
            });

            it("asks the migration run for each database service's schema, roles and limits: its functions' ceilings added up", () => {
                // Prepare
                const invocation = one(run(), "aws:lambda/invocation:Invocation");
                // Act
                const request = JSON.parse(invocation.inputs.input);
                // Assess: users reserves 10 per function and has five database functions of 10 s.
                assert.deepEqual(request, {
                    migrationSetHash: invocation.inputs.triggers.migrationSetHash,
                    services: [{ service: "users", schema: "users", ownerRole: "users_owner", loginRole: "users_app", connectionLimit: 50, statementTimeoutMs: 9000 }],
                    login: "iam",
                });
            });

            it("parents every resource to a component (the tree reads by concern)", () => {
                const stackUrn = one(run(), "pulumi:pulumi:Stack").urn;
                const roots = run().resources.filter((r) => r.parent === stackUrn);
                const monitoring = stack === "prod" ? ["serverless-microservices:monitoring:Monitoring"] : [];
                assert.deepEqual(roots.map((r) => r.type).sort(), [
                    "serverless-microservices:api:Api",
                    "serverless-microservices:api:ApiStage",
                    "serverless-microservices:database:Database",
                    "serverless-microservices:migrations:Migrations",
                    ...monitoring,
                    "serverless-microservices:network:Network",
                    "serverless-microservices:service:Service",
                    "serverless-microservices:service:Service",
                ]);
            });

            it("exports the API URL, the database endpoint and every function name", () => {
                assert.match(run().outputs.apiUrl, /^https:\/\/.+\.execute-api\.us-east-1\.amazonaws\.com$/);
                assert.match(run().outputs.databaseEndpoint, /\.rds\.amazonaws\.com$/);
                assert.deepEqual(Object.keys(run().outputs.functionNames.users).sort(), ROUTE_KEYS.filter((k) => k.includes("/users")).sort());
            });
        });
    }

    it("dev scales the database to zero with auto-pause and has no NAT gateway", () => {
        const cluster = one(dev, "aws:rds/cluster:Cluster");
        assert.deepEqual(cluster.inputs.serverlessv2ScalingConfiguration, { minCapacity: 0, maxCapacity: 2, secondsUntilAutoPause: 600 });
        assert.equal(one(dev, "awsx:ec2:Vpc").inputs.natGateways.strategy, "None");
        assert.ok(!one(dev, "awsx:ec2:Vpc").inputs.subnetSpecs.some((spec: { type: string }) => spec.type === "Public"));
        assert.equal(ofType(dev, "aws:rds/clusterInstance:ClusterInstance").length, 1);
    });

    it("prod keeps a capacity floor, deletion protection, two weeks of backups, a final snapshot and protect", () => {
        const cluster = one(prod, "aws:rds/cluster:Cluster");
        assert.ok(cluster.inputs.serverlessv2ScalingConfiguration.minCapacity >= 0.5);
        assert.equal(cluster.inputs.serverlessv2ScalingConfiguration.secondsUntilAutoPause, undefined);
        assert.equal(cluster.inputs.deletionProtection, true);
        assert.ok(cluster.inputs.backupRetentionPeriod >= 7);
        assert.equal(cluster.inputs.skipFinalSnapshot, false);
        assert.match(cluster.inputs.finalSnapshotIdentifier, /^serverless-microservices-prod-database-final-[0-9a-f]{8}$/);
        assert.equal(cluster.protect, true);
    });

    it("prod adds a reader in another zone than the writer", () => {
        const instances = ofType(prod, "aws:rds/clusterInstance:ClusterInstance");
        assert.deepEqual(instances.map((i) => [i.name, i.inputs.promotionTier]), [["database-writer", 0], ["database-reader-1", 1]]);
        assert.notEqual(instances[0].inputs.availabilityZone, instances[1].inputs.availabilityZone);
        assert.ok(instances.every((i) => i.protect));
    });

    describe("bad input registers no resource", () => {
        /** Only the root stack resource may exist after a rejected run. */
        function assertNothingRegistered() {
            assert.deepEqual(lastRegistered.filter((r) => r.type !== "pulumi:pulumi:Stack").map((r) => r.urn), []);
        }

        it("stops on a wrong stack value, naming the stack and the key", async () => {
            const config = { ...readStackConfig("dev"), [`${PROJECT}:logRetentionDays`]: 10 };
            await assert.rejects(runProgramOffline({ stack: "dev", config, services: functionServices }), /Stack "dev" configuration \(Pulumi\.dev\.yaml\) is invalid:\n  - serverless-microservices:logRetentionDays: 10 is not allowed/);
            assertNothingRegistered();
        });

        it("stops on a wrong registry entry, naming the service and route", async () => {
            const broken: RegisteredService[] = [...services, defineService({ name: "extra", description: "x", database: false, routes: { "GET /x": { handler: async () => ({}), timeoutSeconds: 60 } } })];
            await assert.rejects(runProgramOffline({ stack: "dev", services: broken }), /service "extra", route "GET \/x": timeoutSeconds 60 is not allowed/);
            assertNothingRegistered();
        });

        it("stops on a misnamed migration file, naming the service and the file", async () => {
            const dir = fs.mkdtempSync(path.join(os.tmpdir(), "migrations-"));
            fs.writeFileSync(path.join(dir, "create.sql"), "SELECT 1");
            const broken = [defineService({ name: "extra", description: "x", database: true, migrationsDir: dir, routes: { "GET /x": { handler: async () => ({}) } } })];
            await assert.rejects(runProgramOffline({ stack: "dev", services: broken }), /Service "extra": migration file "create\.sql" must be named NNNN_name\.sql/);
            assertNothingRegistered();
        });
    });

    it("runs the migration function for a database service without migrations: it still needs its schema and roles", async () => {
        // Prepare
        const ledger = defineService({ name: "ledger", description: "x", database: true, routes: { "GET /ledger": { handler: async () => ({}) } } });
        // Act
        const run = await runProgramOffline({ stack: "dev", services: [ledger] });
        // Assess
        const request = JSON.parse(one(run, "aws:lambda/invocation:Invocation").inputs.input);
        assert.deepEqual(request.services.map((s: { loginRole: string; connectionLimit: number }) => [s.loginRole, s.connectionLimit]), [["ledger_app", 10]]);
    });

    it("deploys a registry without database services with no network, database or migrations", async () => {
        const run = await runProgramOffline({ stack: "dev", services: [services[0]] });
        for (const type of ["awsx:ec2:Vpc", "aws:rds/cluster:Cluster", "aws:lambda/invocation:Invocation"]) assert.equal(ofType(run, type).length, 0, type);
        assert.equal(routeFunctions(run).length, 1);
    });
});
