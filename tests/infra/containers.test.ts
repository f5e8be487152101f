/**
 * Container services, on fixture registries: every registry check with its failing case, the
 * Dockerfile check, the resolution per stack, and the program under mocks for dev and prod (the
 * platform, the task, its roles, its routes through the VPC link with their authorization and
 * claim mappings, scaling, endpoints only while tasks run, monitoring), with nothing registered
 * for a bad entry.
 */
import * as assert from "node:assert/strict";
import { X509Certificate } from "node:crypto";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import type { ContainerServiceDefinition } from "../../functions/runtime/container";
import { defineService } from "../../functions/runtime/service";
import { imageBuildOf } from "../../infra/components/service-container";
import { dockerfileProblems } from "../../platform/containers/validation";
import { buildTag, KEPT_BUILDS } from "../../infra/image-build";
import { RDS_CA_BUNDLE, verifiedRdsCaBundle } from "../../infra/rds-ca-bundle";
import { resolveRegistry } from "../../platform/registry/resolution";
import { validateRegistry } from "../../platform/registry/validation";
import { Types } from "../../policy/lib/types";
import { lastRegistered, runProgramOffline, type OfflineRun } from "../../tools/offline";
import { type RegisteredResource } from "../../tools/registered-resource";
import { ping } from "../../testing/fixtures/registry";
import { echoContainer, ECHO_CONTAINER_DIR } from "../../testing/fixtures/registries";
import { ofType, one } from "../../testing/graph";

const DEFAULTS = { memoryMb: 256, timeoutSeconds: 10 };
const problemsOf = (overrides: Partial<ContainerServiceDefinition>) => validateRegistry([ping, echoContainer(overrides)]);

function policyOf(run: OfflineRun, name: string): { Statement: { Sid: string; Action: string[]; Resource: unknown }[] } {
    const policy = ofType(run, Types.iamRolePolicy).find((p) => p.name === name);
    assert.ok(policy, `no role policy ${name}`);
    return JSON.parse(policy.inputs.policy);
}

describe("container services in the registry", () => {
    it("accepts a container service next to a function service", () => {
        assert.deepEqual(problemsOf({}), []);
    });

    const cases: [string, Partial<ContainerServiceDefinition>, RegExp][] = [
        ["a CPU size Fargate does not have", { cpu: 300 }, /service "echo" \(testing\/fixtures\/registries\.ts\): cpu 300 is not a Fargate size; use 256, 512, 1024, 2048, 4096, 8192, 16384 CPU units/],
        ["memory that does not go with the CPU", { cpu: 256, memoryMb: 4096 }, /service "echo" \(testing\/fixtures\/registries\.ts\): memoryMb 4096 does not go with cpu 256; Fargate runs 256 with 512, 1024, 2048;/],
        ["a privileged port", { port: 80 }, /service "echo" \(testing\/fixtures\/registries\.ts\): port 80 is not allowed; use an integer from 1024 to 65535/],
        ["a health check path that is not a path", { healthCheckPath: "health?x=1" }, /service "echo" \(testing\/fixtures\/registries\.ts\): healthCheckPath "health\?x=1" is not allowed/],
        ["a timeout past the HTTP API's 30 s", { timeoutSeconds: 31 }, /service "echo" \(testing\/fixtures\/registries\.ts\): timeoutSeconds 31 is not allowed; use an integer from 1 to 30/],
        ["no scaling", { scaling: undefined as never }, /service "echo" \(testing\/fixtures\/registries\.ts\): scaling is required/],
        ["a minimum above the maximum", { scaling: { default: { minTasks: 3, maxTasks: 2 } } }, /service "echo" \(testing\/fixtures\/registries\.ts\): scaling.default: minTasks 3 is above maxTasks 2/],
        ["a maximum of 0 tasks", { scaling: { default: { minTasks: 0, maxTasks: 0 } } }, /service "echo" \(testing\/fixtures\/registries\.ts\): scaling.default.maxTasks 0 is not allowed; use an integer from 1 to 100/],
        ["a secret in the environment", { environment: { DB_PASSWORD: "hunter2" } }, /service "echo" \(testing\/fixtures\/registries\.ts\): environment.DB_PASSWORD looks like a secret/],
        ["a variable the platform sets", { environment: { PORT: "1" } }, /service "echo" \(testing\/fixtures\/registries\.ts\): environment.PORT is set by the platform/],
        ["the address the local runtime binds it to", { environment: { HOST: "0.0.0.0" } }, /service "echo" \(testing\/fixtures\/registries\.ts\): environment.HOST is set by the platform/],
        ["no local command", { local: { command: [] } }, /service "echo" \(testing\/fixtures\/registries\.ts\): local.command must be the program and its arguments/],
        ["both an image context and a URI", { image: { context: ECHO_CONTAINER_DIR, uri: "x" } as never }, /service "echo" \(testing\/fixtures\/registries\.ts\): image needs exactly one of context/],
        ["an image outside private ECR", { image: { uri: "docker.io/library/nginx:1.27" }, local: { command: ["node", "server.mjs"], cwd: ECHO_CONTAINER_DIR } }, /service "echo" \(testing\/fixtures\/registries\.ts\): image.uri "docker.io\/library\/nginx:1.27" is not a private ECR image/],
        ["an image URI without a local folder to run in", { image: { uri: "123456789012.dkr.ecr.us-east-1.amazonaws.com/echo:1" } }, /service "echo" \(testing\/fixtures\/registries\.ts\): local.cwd must be a folder/],
        ["a context without a Dockerfile", { image: { context: os.tmpdir() } }, /service "echo" \(testing\/fixtures\/registries\.ts\): image.context has no Dockerfile/],
        ["migrations without the database", { migrationsDir: ECHO_CONTAINER_DIR }, /service "echo" \(testing\/fixtures\/registries\.ts\): migrationsDir is set but database is false/],
        ["a route auth that does not exist", { routes: { "GET /echo/x": { auth: "iam" as never } } }, /service "echo" \(testing\/fixtures\/registries\.ts\), route "GET \/echo\/x": auth "iam" is not allowed/],
    ];
    for (const [what, overrides, expected] of cases) {
        it(`refuses ${what}, naming the service and the field`, () => {
            // Act
            const problems = problemsOf(overrides);
            // Assess
            assert.ok(problems.some((problem) => expected.test(problem)), problems.join("\n"));
        });
    }

    it("refuses a route a function service already declares, whoever declares it first", () => {
        // Prepare
        const clash = echoContainer({ routes: { "GET /ping": {} } });
        // Act
        const problems = validateRegistry([ping, clash]);
        // Assess
        assert.deepEqual(problems, ['service "echo" (testing/fixtures/registries.ts), route "GET /ping": duplicates route "GET /ping" of service "ping"; every method and path may be declared once across the registry']);
    });

    it("refuses a function route that a container service declares, with the parameter names erased", () => {
        const later = defineService({ name: "later", description: "x", database: false, routes: { "GET /echo/{rest+}": { handler: async () => ({}) } } });
        const problems = validateRegistry([echoContainer(), later]);
        assert.deepEqual(problems, ['service "later" (tests/infra/containers.test.ts), route "GET /echo/{rest+}": duplicates route "GET /echo/{proxy+}" of service "echo"; every method and path may be declared once across the registry']);
    });

    it("refuses a container service named like a function service", () => {
        const problems = validateRegistry([ping, echoContainer({ name: "ping" })]);
        assert.ok(problems.includes('service "ping" (testing/fixtures/registries.ts): another service has the same name; service names must be unique'), problems.join("\n"));
    });

    describe("its Dockerfile, read because it is never built here", () => {
        const expected = { port: 8080, command: ["node", "server.mjs"] };

        it("passes the fixture's Dockerfile", () => {
            assert.deepEqual(dockerfileProblems(fs.readFileSync(path.join(ECHO_CONTAINER_DIR, "Dockerfile"), "utf8"), expected, "echo"), []);
        });

        it("refuses a final stage that runs as root, even when an earlier stage switched user", () => {
            const dockerfile = "FROM node:24 AS build\nUSER node\nRUN true\nFROM node:24-alpine\nEXPOSE 8080\nCMD [\"node\", \"server.mjs\"]\n";
            assert.deepEqual(dockerfileProblems(dockerfile, expected, "echo"), ["echo: the Dockerfile's final stage must switch to a user other than root (USER node, USER 1000, ...)"]);
        });

        it("refuses USER root and USER 0:0", () => {
            for (const user of ["root", "0:0"]) {
                const problems = dockerfileProblems(`FROM node:24-alpine\nUSER ${user}\nEXPOSE 8080\nCMD ["node", "server.mjs"]`, expected, "echo");
                assert.equal(problems.length, 1, user);
            }
        });

        it("refuses a Dockerfile that exposes another port", () => {
            const problems = dockerfileProblems('FROM node:24-alpine\nUSER node\nEXPOSE 3000/tcp\nCMD ["node", "server.mjs"]', expected, "echo");
            assert.deepEqual(problems, ["echo: the Dockerfile must EXPOSE the declared port 8080 (it exposes 3000)"]);
        });

        it("refuses a CMD that is not the local command, or not in exec form", () => {
            const other = dockerfileProblems('FROM node:24-alpine\nUSER node\nEXPOSE 8080\nCMD ["node", "main.mjs"]', expected, "echo");
            const shell = dockerfileProblems("FROM node:24-alpine\nUSER node\nEXPOSE 8080\nCMD node server.mjs", expected, "echo");
            assert.deepEqual(other, ['echo: the Dockerfile\'s CMD must be the exec form of local.command, ["node","server.mjs"] (it is ["node", "main.mjs"])']);
            assert.deepEqual(shell, ['echo: the Dockerfile\'s CMD must be the exec form of local.command, ["node","server.mjs"] (it is node server.mjs)']);
        });

        it("stops the registry when the service's Dockerfile disagrees with it", () => {
            // Prepare: a copy of the fixture whose Dockerfile runs as root.
            const context = fs.mkdtempSync(path.join(os.tmpdir(), "dockerfile-"));
            fs.writeFileSync(path.join(context, "Dockerfile"), 'FROM node:24-alpine\nEXPOSE 8080\nCMD ["node", "server.mjs"]\n');
            // Act
            const problems = problemsOf({ image: { context } });
            // Assess
            assert.deepEqual(problems, ['service "echo" (testing/fixtures/registries.ts): the Dockerfile\'s final stage must switch to a user other than root (USER node, USER 1000, ...)']);
            fs.rmSync(context, { recursive: true });
        });
    });

    it("resolves each stack's scaling, its default otherwise, and the route defaults", () => {
        // Act
        const dev = resolveRegistry([echoContainer()], DEFAULTS, { stack: "dev" }).containers[0];
        const prod = resolveRegistry([echoContainer()], DEFAULTS, { stack: "prod" }).containers[0];
        // Assess
        assert.deepEqual([dev.scaling, prod.scaling], [{ minTasks: 0, maxTasks: 1 }, { minTasks: 1, maxTasks: 2 }]);
        assert.equal(dev.healthCheckCommand, "wget -q -O /dev/null http://127.0.0.1:8080/health || exit 1");
        assert.deepEqual(dev.routes.map((r) => [r.routeKey, r.id, r.auth, r.scopes, r.timeoutSeconds]), [
            ["GET /echo/public", "get-echo-public", "none", [], 5],
            ["POST /echo/private", "post-echo-private", "jwt", ["echo:write"], 5],
            ["GET /echo/{proxy+}", "get-echo-proxy", "jwt", [], 5],
        ]);
        assert.equal(dev.readOnlyRootFilesystem, true);
    });

    it("puts a database container's migrations in the one migration set", () => {
        // Prepare
        const migrationsDir = fs.mkdtempSync(path.join(os.tmpdir(), "echo-migrations-"));
        fs.writeFileSync(path.join(migrationsDir, "0001_create_echoes.sql"), "CREATE TABLE echoes (id int);");
        // Act
        const registry = resolveRegistry([ping, echoContainer({ database: true, migrationsDir })], DEFAULTS, { stack: "dev" });
        // Assess
        assert.deepEqual(registry.migrations.map((m) => `${m.service}/${m.version}_${m.name}`), ["echo/1_create_echoes"]);
        assert.deepEqual(registry.routes.map((r) => r.routeKey), ["GET /ping"]);
        fs.rmSync(migrationsDir, { recursive: true });
    });
});

describe("container services under mocks", function () {
    this.timeout(120_000);
    const runs = new Map<string, OfflineRun>();

    before(async () => {
        for (const stack of ["dev", "prod"]) runs.set(stack, await runProgramOffline({ stack, services: [ping, echoContainer()] }));
    });

    for (const stack of ["dev", "prod"] as const) {
        describe(`${stack} stack`, () => {
            const run = () => runs.get(stack)!;
            const task = () => one(run(), Types.ecsTaskDefinition);
            const containerOf = () => JSON.parse(task().inputs.containerDefinitions)[0];

            it("runs one ECS cluster and a Fargate service on arm64 in the private subnets, with no public IP", () => {
                const cluster = one(run(), Types.ecsCluster);
                const service = one(run(), Types.ecsService);
                assert.equal(cluster.inputs.name, `serverless-microservices-${stack}`);
                assert.equal(service.inputs.launchType, "FARGATE");
                assert.equal(service.inputs.cluster, cluster.outputs.arn);
                assert.deepEqual(service.inputs.networkConfiguration.subnets, ["subnet-private0", "subnet-private1"]);
                assert.equal(service.inputs.networkConfiguration.assignPublicIp, false);
                assert.deepEqual(task().inputs.runtimePlatform, { cpuArchitecture: "ARM64", operatingSystemFamily: "LINUX" });
                assert.deepEqual([task().inputs.cpu, task().inputs.memory, task().inputs.requiresCompatibilities], ["256", "512", ["FARGATE"]]);
            });

            it("rolls a failed deployment back and lets target tracking own the running count", () => {
                const service = one(run(), Types.ecsService);
                const target = one(run(), Types.scalingTarget);
                const policy = one(run(), Types.scalingPolicy);
                assert.deepEqual(service.inputs.deploymentCircuitBreaker, { enable: true, rollback: true });
                const scaling = stack === "prod" ? [1, 2] : [0, 1];
                assert.deepEqual([target.inputs.minCapacity, target.inputs.maxCapacity, service.inputs.desiredCount], [...scaling, scaling[0]]);
                assert.equal(target.inputs.resourceId, "service/serverless-microservices-" + stack + "/echo");
                assert.equal(policy.inputs.targetTrackingScalingPolicyConfiguration.predefinedMetricSpecification.predefinedMetricType, "ECSServiceAverageCPUUtilization");
            });

            it(stack === "prod" ? "rolls a deployment back when its tasks, memory or the API's 5xx alarm fires, alarms the stack creates" : "has no deployment alarms in a stack without monitoring: the circuit breaker alone", () => {
                // Prepare
                const service = one(run(), Types.ecsService);
                const alarms = new Set(ofType(run(), Types.metricAlarm).map((alarm) => alarm.inputs.name));
                // Assess
                if (stack === "dev") {
                    assert.equal(service.inputs.alarms, undefined);
                    return;
                }
                const expected = ["echo-container-tasks", "echo-container-memory", "api-5xx-rate"].map((id) => `serverless-microservices-prod-${id}`);
                assert.deepEqual(service.inputs.alarms, { alarmNames: expected, enable: true, rollback: true });
                for (const name of expected) assert.ok(alarms.has(name), `${name} is not an alarm of the stack`);
            });

            it("runs the image as the build pushed it, unprivileged, read-only with a writable /tmp, and health-checked", () => {
                const container = containerOf();
                assert.match(container.image, /^123456789012\.dkr\.ecr\.us-east-1\.amazonaws\.com\/serverless-microservices-\w+-echo@sha256:0{64}$/);
                assert.equal(container.privileged, false);
                assert.equal(container.readonlyRootFilesystem, true);
                assert.deepEqual(container.mountPoints, [{ sourceVolume: "tmp", containerPath: "/tmp", readOnly: false }]);
                assert.deepEqual(task().inputs.volumes, [{ name: "tmp" }]);
                assert.deepEqual(container.linuxParameters.capabilities, { drop: ["ALL"] });
                assert.deepEqual(container.healthCheck.command, ["CMD-SHELL", "wget -q -O /dev/null http://127.0.0.1:8080/health || exit 1"]);
                assert.deepEqual(container.portMappings, [{ containerPort: 8080, protocol: "tcp", name: "http" }]);
            });

            it("builds and pushes the image for arm64 under its own build tag only, into a scanned repository whose tags never move, and never on preview", () => {
                const image = one(run(), Types.dockerImage);
                const repository = one(run(), Types.ecrRepository);
                assert.deepEqual(image.inputs.platforms, ["linux/arm64"]);
                assert.equal(image.inputs.push, true);
                assert.equal(image.inputs.buildOnPreview, false);
                assert.equal(image.inputs.context.location, ECHO_CONTAINER_DIR);
                assert.deepEqual(image.inputs.tags, [`${repository.outputs.repositoryUrl}:${buildTag(imageBuildOf({ context: ECHO_CONTAINER_DIR, dockerfile: "Dockerfile" }, false))}`]);
                assert.match(image.inputs.tags[0], /:build-[0-9a-f]{16}$/);
                assert.equal(repository.inputs.imageTagMutability, "IMMUTABLE");
                assert.deepEqual(repository.inputs.imageScanningConfiguration, { scanOnPush: true });
            });

            it("keeps the last builds by their tag prefix and expires nothing else", () => {
                const lifecycle = JSON.parse(one(run(), Types.ecrLifecyclePolicy).inputs.policy);
                assert.deepEqual(lifecycle.rules, [
                    {
                        rulePriority: 1,
                        description: `Keep the last ${KEPT_BUILDS} builds (build-*)`,
                        selection: { tagStatus: "tagged", tagPrefixList: ["build-"], countType: "imageCountMoreThan", countNumber: KEPT_BUILDS },
                        action: { type: "expire" },
                    },
                ]);
            });

            it(stack === "prod" ? "keeps the repository and its images when the stack is destroyed (the stack protects its data)" : "deletes the repository with its images when the stack is destroyed (the stack's data may go)", () => {
                assert.equal(one(run(), Types.ecrRepository).inputs.forceDelete, stack !== "prod");
            });

            it("sends the container's logs to its own log group with the stack's retention", () => {
                const logging = containerOf().logConfiguration;
                const group = ofType(run(), Types.logGroup).find((g) => g.inputs.name === `/serverless-microservices/${stack}/echo/container`);
                assert.ok(group);
                assert.equal(logging.logDriver, "awslogs");
                assert.equal(logging.options["awslogs-group"], group.inputs.name);
                assert.equal(group.inputs.retentionInDays, stack === "prod" ? 90 : 7);
            });

            it("gives the execution role only its image and its log group, and the task role nothing without the database", () => {
                const execution = policyOf(run(), "echo-execution");
                const repository = one(run(), Types.ecrRepository);
                assert.deepEqual(execution.Statement.map((s) => [s.Sid, s.Resource]), [
                    ["OwnLogGroup", `arn:aws:logs:us-east-1:123456789012:log-group:/serverless-microservices/${stack}/echo/container:*`],
                    ["RegistryToken", "*"],
                    ["PullOwnImage", repository.outputs.arn],
                ]);
                assert.equal(ofType(run(), Types.iamRolePolicy).filter((p) => p.name === "echo-task").length, 0);
                assert.deepEqual(containerOf().environment.map((e: { name: string }) => e.name), ["GREETING", "LOG_LEVEL", "PORT", "SERVICE_NAME"]);
            });

            it("wires every route through the VPC link to the service's Cloud Map entry, authorized like a function route", () => {
                const link = one(run(), Types.httpApiVpcLink);
                const discovery = one(run(), Types.serviceDiscoveryService);
                const integrations = ofType(run(), Types.httpApiIntegration).filter((i) => i.inputs.connectionType === "VPC_LINK");
                const routes = new Map(ofType(run(), Types.httpApiRoute).map((r) => [r.inputs.routeKey, r]));
                assert.equal(integrations.length, 3);
                for (const integration of integrations) {
                    assert.deepEqual(
                        [integration.inputs.integrationType, integration.inputs.integrationUri, integration.inputs.connectionId, integration.inputs.payloadFormatVersion, integration.inputs.timeoutMilliseconds],
                        ["HTTP_PROXY", discovery.outputs.arn, link.outputs.id, "1.0", 5000],
                    );
                }
                assert.deepEqual(discovery.inputs.dnsConfig.dnsRecords, [{ type: "SRV", ttl: 10 }]);
                assert.deepEqual(one(run(), Types.ecsService).inputs.serviceRegistries, { registryArn: discovery.outputs.arn, containerName: "app", containerPort: 8080 });
                assert.equal(routes.get("GET /echo/public")!.inputs.authorizationType, "NONE");
                assert.deepEqual([routes.get("POST /echo/private")!.inputs.authorizationType, routes.get("POST /echo/private")!.inputs.authorizationScopes], ["JWT", ["echo:write"]]);
                assert.equal(routes.get("GET /echo/{proxy+}")!.inputs.authorizerId, one(run(), "aws:apigatewayv2/authorizer:Authorizer").outputs.id);
            });

            it("sets the claim headers from the authorizer where the route passes them, and removes client copies everywhere else", () => {
                const byDescription = (key: string) => ofType(run(), Types.httpApiIntegration).find((i) => String(i.inputs.description).startsWith(key))!;
                // A route that requires scopes passes the subject and the scopes the authorizer checked.
                assert.deepEqual(byDescription("POST /echo/private").inputs.requestParameters, {
                    "overwrite:header.x-apigw-request-id": "$context.requestId",
                    "overwrite:header.x-jwt-sub": "$context.authorizer.claims.sub",
                    "overwrite:header.x-jwt-scope": "$context.authorizer.claims.scope",
                });
                // Any valid token: the subject only; a token may carry no scope claim at all.
                assert.deepEqual(byDescription("GET /echo/{proxy+}").inputs.requestParameters, {
                    "overwrite:header.x-apigw-request-id": "$context.requestId",
                    "overwrite:header.x-jwt-sub": "$context.authorizer.claims.sub",
                    "remove:header.x-jwt-scope": "''",
                });
                assert.deepEqual(byDescription("GET /echo/public").inputs.requestParameters, {
                    "overwrite:header.x-apigw-request-id": "$context.requestId",
                    "remove:header.x-jwt-sub": "''",
                    "remove:header.x-jwt-scope": "''",
                });
            });

            it("admits the VPC link to the tasks on the container port only", () => {
                const groups = new Map(ofType(run(), Types.securityGroup).map((g) => [g.name, g]));
                const tasks = groups.get("containers-tasks")!;
                const link = groups.get("containers-vpc-link")!;
                const rulesOf = (type: string, group: RegisteredResource) => ofType(run(), type).filter((r) => r.inputs.securityGroupId === group.outputs.id);
                assert.deepEqual(rulesOf(Types.securityGroupIngressRule, tasks).map((r) => [r.inputs.fromPort, r.inputs.toPort, r.inputs.referencedSecurityGroupId]), [[8080, 8080, link.outputs.id]]);
                assert.deepEqual(rulesOf(Types.securityGroupEgressRule, link).map((r) => [r.inputs.fromPort, r.inputs.toPort]), [[8080, 8080]]);
                for (const group of [tasks, link]) assert.deepEqual([group.inputs.ingress, group.inputs.egress], [undefined, undefined], group.name);
                assert.deepEqual(one(run(), Types.ecsService).inputs.networkConfiguration.securityGroups, [tasks.outputs.id]);
            });

            it(stack === "prod" ? "adds the image pull and log endpoints, and S3 on the private route tables, while tasks run" : "adds no pull or log endpoint while every container service is scaled to 0", () => {
                const endpoints = ofType(run(), Types.vpcEndpoint).map((e) => [String(e.inputs.serviceName).split(".").slice(3).join("."), e.inputs.vpcEndpointType, e.inputs.subnetIds?.length ?? e.inputs.routeTableIds]);
                const container = stack === "prod" ? [["ecr.api", "Interface", 2], ["ecr.dkr", "Interface", 2], ["logs", "Interface", 2], ["s3", "Gateway", ["rtb-private0", "rtb-private1"]]] : [];
                assert.deepEqual(endpoints.filter(([service]) => service !== "secretsmanager").sort(), container.sort());
            });

            it("registers nothing more when the registry has no container service", async () => {
                const without = await runProgramOffline({ stack, services: [ping] });
                for (const type of [Types.ecsCluster, Types.httpApiVpcLink, Types.vpcEndpoint, Types.awsxVpc]) assert.equal(ofType(without, type).length, 0, type);
            });
        });
    }

    it("watches CPU, memory and, where tasks must run, missing tasks, with a row on its own dashboard (prod)", () => {
        const prod = runs.get("prod")!;
        const alarms = new Map(ofType(prod, Types.metricAlarm).map((a) => [a.inputs.name, a]));
        const tasks = alarms.get("serverless-microservices-prod-echo-container-tasks")!;
        assert.deepEqual([tasks.inputs.namespace, tasks.inputs.metricName, tasks.inputs.statistic, tasks.inputs.comparisonOperator, tasks.inputs.threshold, tasks.inputs.treatMissingData], ["AWS/ECS", "CPUUtilization", "SampleCount", "LessThanThreshold", 1, "breaching"]);
        assert.deepEqual(tasks.inputs.dimensions, { ClusterName: "serverless-microservices-prod", ServiceName: "echo" });
        assert.equal(alarms.get("serverless-microservices-prod-echo-container-cpu")!.inputs.threshold, 85);
        assert.equal(alarms.get("serverless-microservices-prod-echo-container-memory")!.inputs.metricName, "MemoryUtilization");
        const body = JSON.parse(ofType(prod, Types.dashboard).find((d) => d.inputs.dashboardName === "serverless-microservices-prod-echo")!.inputs.dashboardBody);
        const texts = body.widgets.filter((w: any) => w.type === "text").map((w: any) => w.properties.markdown);
        assert.ok(texts.includes("## Container service `echo`"), texts.join("\n"));
    });

    it("gives a database container the functions' database settings, its own login role (rds-db:connect on that user only, no secret) and the group the database admits", async () => {
        // Prepare
        const run = await runProgramOffline({ stack: "dev", services: [ping, echoContainer({ database: true })] });
        // Act
        const environment = Object.fromEntries(JSON.parse(one(run, Types.ecsTaskDefinition).inputs.containerDefinitions)[0].environment.map((e: { name: string; value: string }) => [e.name, e.value]));
        const cluster = one(run, Types.rdsCluster);
        const functionsGroup = ofType(run, Types.securityGroup).find((g) => g.name === "network-functions")!;
        // Assess
        assert.equal(environment.DB_HOST, cluster.outputs.endpoint);
        assert.equal(environment.DB_SECRET_ARN, undefined);
        assert.equal(environment.DB_USER, "echo_app");
        assert.deepEqual([environment.DB_NAME, environment.DB_PORT, environment.DB_STATEMENT_TIMEOUT_MS], ["app", "5432", "4000"]);
        const [, , , region, account] = String(cluster.outputs.arn).split(":");
        assert.deepEqual(policyOf(run, "echo-task").Statement, [
            { Sid: "DatabaseConnect", Effect: "Allow", Action: ["rds-db:connect"], Resource: `arn:aws:rds-db:${region}:${account}:dbuser:${cluster.outputs.clusterResourceId}/echo_app` },
        ]);
        assert.ok(one(run, Types.ecsService).inputs.networkConfiguration.securityGroups.includes(functionsGroup.outputs.id));
    });

    it("builds a database container's image with the vendored RDS certificate authorities and points its clients at them", async () => {
        // Prepare
        const run = await runProgramOffline({ stack: "dev", services: [ping, echoContainer({ database: true })] });
        // Act
        const image = one(run, Types.dockerImage);
        const environment = Object.fromEntries(JSON.parse(one(run, Types.ecsTaskDefinition).inputs.containerDefinitions)[0].environment.map((e: { name: string; value: string }) => [e.name, e.value]));
        // Assess: the service's own Dockerfile, then one copy of the bundle from its own build context.
        const dockerfile = fs.readFileSync(path.join(ECHO_CONTAINER_DIR, "Dockerfile"), "utf8").trimEnd();
        assert.equal(image.inputs.dockerfile.inline, `${dockerfile}\n# Added by the platform: the RDS certificate authorities (infra/rds-ca-bundle.ts).\nCOPY --from=rds-ca rds-ca-bundle.pem /etc/ssl/certs/rds-ca-bundle.pem\n`);
        assert.equal(image.inputs.dockerfile.location, undefined);
        assert.deepEqual(image.inputs.context, { location: ECHO_CONTAINER_DIR, named: { "rds-ca": { location: RDS_CA_BUNDLE.folder } } });
        assert.deepEqual(fs.readdirSync(RDS_CA_BUNDLE.folder), ["rds-ca-bundle.pem"]);
        assert.deepEqual([environment.NODE_EXTRA_CA_CERTS, environment.PGSSLROOTCERT], ["/etc/ssl/certs/rds-ca-bundle.pem", "/etc/ssl/certs/rds-ca-bundle.pem"]);
        // A service without data gets neither.
        const plain = await runProgramOffline({ stack: "dev", services: [ping, echoContainer()] });
        const plainEnvironment = JSON.parse(one(plain, Types.ecsTaskDefinition).inputs.containerDefinitions)[0].environment.map((e: { name: string }) => e.name);
        assert.deepEqual([one(plain, Types.dockerImage).inputs.dockerfile, plainEnvironment.includes("NODE_EXTRA_CA_CERTS")], [{ location: path.join(ECHO_CONTAINER_DIR, "Dockerfile") }, false]);
    });

    it("does not push a build the repository holds already (a redeploy of an earlier commit): the task runs the held image", async () => {
        // Prepare: the repository holds this very build, pushed by an earlier deployment.
        const tag = buildTag(imageBuildOf({ context: ECHO_CONTAINER_DIR, dockerfile: "Dockerfile" }, false));
        const digest = `sha256:${"7".repeat(64)}`;
        // Act
        const run = await runProgramOffline({ stack: "dev", services: [ping, echoContainer()], heldImages: { "serverless-microservices-dev-echo": [{ imageTag: "build-0000000000000000", imageDigest: `sha256:${"1".repeat(64)}` }, { imageTag: tag, imageDigest: digest }] } });
        // Assess
        const image = one(run, Types.dockerImage);
        const repository = one(run, Types.ecrRepository);
        assert.equal(image.inputs.push, false);
        assert.equal(JSON.parse(one(run, Types.ecsTaskDefinition).inputs.containerDefinitions)[0].image, `${repository.outputs.repositoryUrl}:${tag}@${digest}`);
    });

    it("refuses a container service that keeps data when the vendored RDS bundle does not match its checksum, naming both", async () => {
        // Prepare: a copy of the bundle with one byte changed.
        const folder = fs.mkdtempSync(path.join(os.tmpdir(), "rds-ca-"));
        const bytes = fs.readFileSync(path.join(RDS_CA_BUNDLE.folder, RDS_CA_BUNDLE.file));
        bytes[bytes.length - 2] ^= 1;
        fs.writeFileSync(path.join(folder, RDS_CA_BUNDLE.file), bytes);
        // Act, Assess
        assert.equal(verifiedRdsCaBundle(), path.join(RDS_CA_BUNDLE.folder, RDS_CA_BUNDLE.file));
        assert.throws(() => verifiedRdsCaBundle({ ...RDS_CA_BUNDLE, folder }), new RegExp(`rds-ca-bundle\\.pem has SHA-256 [0-9a-f]{64}, not the ${RDS_CA_BUNDLE.sha256} it was vendored with`));
        fs.rmSync(folder, { recursive: true });
    });

    it("vendors only certificate authorities of Amazon RDS that Node.js reads", () => {
        // Act
        const text = fs.readFileSync(path.join(RDS_CA_BUNDLE.folder, RDS_CA_BUNDLE.file), "utf8");
        const certificates = text.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g)!.map((pem) => new X509Certificate(pem));
        // Assess
        assert.ok(certificates.length > 50, `${certificates.length} certificates`);
        for (const certificate of certificates) {
            assert.ok(certificate.ca, certificate.subject);
            assert.match(certificate.subject, /^OU=Amazon RDS$/m);
        }
    });

    it("stops before any resource on a bad container entry, naming the service and field", async () => {
        await assert.rejects(runProgramOffline({ stack: "dev", services: [ping, echoContainer({ cpu: 256, memoryMb: 8192 })] }), /service "echo" \(testing\/fixtures\/registries\.ts\): memoryMb 8192 does not go with cpu 256/);
        assert.deepEqual(lastRegistered.filter((r: RegisteredResource) => r.custom), []);
    });
});
