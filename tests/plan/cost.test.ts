/**
 * The cost model on synthetic resource lists: each line item from the price table, by hand.
 */
import { strict as assert } from "assert";
import { DEFAULT_ASSUMPTIONS, estimateCost, idleCost, trafficCost, type CostLine } from "../../tools/plan/cost";
import { HOURS_PER_MONTH, PRICES } from "../../tools/plan/pricing";
import type { ResourceRecord as CostResource } from "../../tools/registered-resource";

const PREFIX = "urn:pulumi:test::serverless-microservices::";
let counter = 0;

function resource(type: string, name: string, inputs: Record<string, any>, extra: Partial<CostResource> = {}): CostResource {
    counter++;
    return { urn: `${PREFIX}${type}::${name}`, type, name, inputs, outputs: { ...inputs, id: `${name}-id` }, ...extra };
}

const vpc = (strategy: string | undefined, zones = 2, publicSubnets = strategy !== "None") =>
    resource("awsx:ec2:Vpc", "vpc", {
        numberOfAvailabilityZones: zones,
        ...(strategy ? { natGateways: { strategy } } : {}),
        subnetSpecs: [...(publicSubnets ? [{ type: "Public" }] : []), { type: "Private" }, { type: "Isolated" }],
    });
const endpoint = (zones: number, type = "Interface") =>
    resource("aws:ec2/vpcEndpoint:VpcEndpoint", `endpoint-${counter}`, {
        vpcEndpointType: type,
        serviceName: "com.amazonaws.us-east-1.secretsmanager",
        subnetIds: Array.from({ length: zones }, (_, i) => `subnet-${i}`),
    });
const cluster = (minCapacity: number, name = "db") =>
    resource("aws:rds/cluster:Cluster", name, {
        engine: "aurora-postgresql",
        manageMasterUserPassword: true,
        serverlessv2ScalingConfiguration: { minCapacity, maxCapacity: 4, ...(minCapacity === 0 ? { secondsUntilAutoPause: 300 } : {}) },
    });
const instance = (of: CostResource, name: string) =>
    resource("aws:rds/clusterInstance:ClusterInstance", name, { instanceClass: "db.serverless", clusterIdentifier: `${of.name}-id` }, { propertyDependencies: { clusterIdentifier: [of.urn] } });
/** The cluster's parameter group, linked as the engine records it, with `idle_session_timeout` in ms when given. */
const closingIdleSessions = (of: CostResource, milliseconds: number | undefined) => {
    const group = resource("aws:rds/clusterParameterGroup:ClusterParameterGroup", `${of.name}-params`, {
        family: "aurora-postgresql17",
        parameters: [{ name: "rds.force_ssl", value: "1" }, ...(milliseconds !== undefined ? [{ name: "idle_session_timeout", value: String(milliseconds) }] : [])],
    });
    of.inputs.dbClusterParameterGroupName = `${group.name}-1a2b3c4`;
    of.propertyDependencies = { ...of.propertyDependencies, dbClusterParameterGroupName: [group.urn] };
    return group;
};
/**
 * A route, its integration and its function, linked as the engine records it (each input's
 * property dependencies) or, `byValue`, only by the values (target id, function ARN).
 */
const routed = (routeKey: string, memorySize: number, timeout: number, architecture = "arm64", byValue = false): CostResource[] => {
    const name = routeKey.replace(/\W+/g, "-");
    const fn = resource("aws:lambda/function:Function", name, { memorySize, timeout, architectures: [architecture], environment: { variables: { SERVICE_NAME: "svc" } } });
    fn.outputs = { ...fn.outputs, arn: `arn:aws:lambda:us-east-1:123456789012:function:${name}` };
    const integration = resource("aws:apigatewayv2/integration:Integration", name, { integrationUri: fn.outputs.arn }, byValue ? {} : { propertyDependencies: { integrationUri: [fn.urn] } });
    const route = resource("aws:apigatewayv2/route:Route", name, { routeKey, target: `integrations/${integration.outputs!.id}` }, byValue ? {} : { propertyDependencies: { target: [integration.urn] } });
    return [fn, integration, route];
};

function item(lines: readonly CostLine[], name: string | RegExp): CostLine {
    const found = lines.find((l) => (typeof name === "string" ? l.item === name : name.test(l.item)));
    assert.ok(found, `no line ${name} in ${lines.map((l) => l.item).join(", ")}`);
    return found;
}

const near = (actual: number, expected: number, what: string) => assert.ok(Math.abs(actual - expected) < 1e-9, `${what}: ${actual} != ${expected}`);

describe("cost model", () => {
    describe("idle cost", () => {
        it("prices nothing for a stack of routes only", () => {
            const lines = idleCost(routed("GET /a", 256, 5));
            near(lines.reduce((t, l) => t + l.amount, 0), 0, "total");
        });

        it("bills an interface endpoint per AZ-hour and a gateway endpoint nothing", () => {
            const lines = idleCost([endpoint(1), endpoint(2), endpoint(3, "Gateway")]);
            const line = item(lines, "Interface VPC endpoints");
            assert.equal(line.quantity, 3 * HOURS_PER_MONTH);
            near(line.amount, 3 * HOURS_PER_MONTH * PRICES.interfaceEndpoint.perAzHour, "endpoints");
            near(line.amount, 21.9, "endpoints in dollars");
        });

        it("prices an outbox wake alarm by the metrics it reads, apart from the other alarms, and counts no check, GetMetricData or schedule for it", () => {
            // Prepare: a wake alarm over the service's writes and its relay's backlog, beside an ordinary alarm.
            const metric = (metricName: string, stat: string) => ({ namespace: "serverless-microservices/outbox", metricName, dimensions: { Service: "svc" }, period: 60, stat });
            const wake = resource("aws:cloudwatch/metricAlarm:MetricAlarm", "svc-outbox-relay-wake", {
                evaluationPeriods: 2,
                metricQueries: [
                    { id: "wake", expression: "SUM([writes, unsent])", returnData: true },
                    { id: "writes", metric: metric("OutboxWrites", "Sum") },
                    { id: "unsent", metric: metric("OutboxUnsent", "Maximum") },
                ],
            });
            const other = resource("aws:cloudwatch/metricAlarm:MetricAlarm", "svc-errors", { namespace: "AWS/Lambda", metricName: "Errors" });
            // Act
            const lines = idleCost([wake, other]);
            const withoutWake = idleCost([other]);
            const notes = estimateCost([wake, other]).notes;
            // Assess
            const line = item(lines, "Outbox wake alarms: alarm metrics");
            assert.equal(line.quantity, 2);
            near(line.amount, 2 * PRICES.cloudWatch.perAlarmMonth, "two alarm metrics");
            assert.equal(item(lines, "CloudWatch alarms").quantity, 1, "the wake alarm is not counted twice");
            assert.deepEqual(lines.filter((l) => l.item.startsWith("Outbox checks")), []);
            assert.deepEqual(withoutWake.filter((l) => l.item.startsWith("Outbox")), [], "no wake alarm, no wake line");
            assert.ok(notes.some((note) => /woken by an alarm.*2 period\(s\) of 60 s/.test(note)), notes.join("\n"));
        });

        it("prices an outbox relay check run every minute: its Scheduler invocations, its Lambda requests and compute, and one metric requested per publishing function plus the backlog", () => {
            // Prepare: a check watching three publishing functions, on its every-minute schedule.
            const settings = JSON.stringify({ service: "svc", relayFunctionName: "svc-relay", producerFunctionNames: ["a", "b", "c"], backlogMetric: { namespace: "n", metricName: "m" }, lookbackSeconds: 310 });
            const check = resource("aws:lambda/function:Function", "svc-outbox-relay-check", { memorySize: 256, timeout: 10, architectures: ["arm64"], environment: { variables: { OUTBOX_RELAY_CHECK: settings } } });
            check.outputs = { ...check.outputs, arn: "arn:aws:lambda:us-east-1:123456789012:function:svc-outbox-relay-check" };
            const schedule = resource("aws:scheduler/schedule:Schedule", "svc-outbox-relay-check", { scheduleExpression: "rate(1 minute)", target: { arn: check.outputs.arn } });
            const runs = HOURS_PER_MONTH * 60;
            // Act
            const lines = idleCost([check, schedule]);
            const unscheduled = idleCost([check]);
            // Assess
            near(item(lines, "Outbox checks: Scheduler invocations").amount, runs * PRICES.scheduler.perInvocation, "scheduler");
            near(item(lines, "Outbox checks: Lambda requests and compute").amount, runs * PRICES.lambda.perRequest + ((runs * 0.25 * DEFAULT_ASSUMPTIONS.averageDurationMs) / 1000) * PRICES.lambda.perGbSecond.arm64, "lambda");
            const metrics = item(lines, "Outbox checks: CloudWatch GetMetricData");
            assert.equal(metrics.quantity, runs * 4);
            near(metrics.amount, runs * 4 * 0.00001, "GetMetricData at $0.01 per 1,000 metrics");
            assert.deepEqual(unscheduled.filter((l) => l.item.startsWith("Outbox")), [], "a check nothing runs costs nothing");
        });

        it("adds a NAT gateway's cost: none, single and one per AZ", () => {
            near(item(idleCost([vpc("None")]), "NAT gateways").amount, 0, "None");
            near(item(idleCost([vpc("Single")]), "NAT gateways").amount, HOURS_PER_MONTH * PRICES.natGateway.perHour, "Single");
            near(item(idleCost([vpc("Single")]), "NAT gateways").amount, 32.85, "Single in dollars");
            near(item(idleCost([vpc("OnePerAz", 3)]), "NAT gateways").amount, 3 * HOURS_PER_MONTH * PRICES.natGateway.perHour, "OnePerAz x3");
            // awsx's default is one per AZ when there are public subnets; none without them.
            near(item(idleCost([vpc(undefined, 2, true)]), "NAT gateways").amount, 2 * HOURS_PER_MONTH * PRICES.natGateway.perHour, "default");
            near(item(idleCost([vpc("OnePerAz", 2, false)]), "NAT gateways").amount, 0, "no public subnets");
            // An explicit NatGateway resource counts too.
            const explicit = resource("aws:ec2/natGateway:NatGateway", "nat", {});
            near(item(idleCost([vpc("None"), explicit]), "NAT gateways").amount, HOURS_PER_MONTH * PRICES.natGateway.perHour, "explicit");
        });

        it("costs 0 ACU idle at min capacity 0 when the server closes idle sessions, but still bills storage and the secret", () => {
            // Prepare
            const db = cluster(0);
            const parameters = closingIdleSessions(db, 240_000);
            // Act
            const lines = idleCost([db, parameters, instance(db, "writer")]);
            // Assess
            near(item(lines, /^Aurora capacity floor/).amount, 0, "floor");
            assert.match(item(lines, /^Aurora capacity floor/).note, /assumed paused, as it is 300 s after its last session closes; the server closes sessions idle 240 s/);
            near(item(lines, /^Aurora storage/).amount, DEFAULT_ASSUMPTIONS.databaseStorageGb * PRICES.aurora.storagePerGbMonth, "storage");
            near(item(lines, "Secrets Manager secrets").amount, PRICES.secretsManager.perSecretMonth, "secret");
        });

        it("prices a 0-ACU cluster as running at 0.5 ACU when nothing closes idle sessions (frozen functions keep theirs open)", () => {
            // Prepare: a parameter group without idle_session_timeout, and none at all.
            const db = cluster(0);
            const withoutTimeout = closingIdleSessions(db, undefined);
            // Act
            const floors = [idleCost([db, withoutTimeout, instance(db, "writer")]), idleCost([db, instance(db, "writer")])].map((lines) => item(lines, /^Aurora capacity floor/));
            // Assess
            for (const floor of floors) {
                near(floor.amount, 0.5 * HOURS_PER_MONTH * PRICES.aurora.perAcuHour, "floor");
                assert.match(floor.note, /nothing closes idle sessions: a frozen function's connection keeps it running at 0.5 ACU/);
            }
        });

        it("bills the floor on every instance: two instances double it", () => {
            const db = cluster(0.5);
            const one = item(idleCost([db, instance(db, "writer")]), /^Aurora capacity floor/).amount;
            const two = item(idleCost([db, instance(db, "writer"), instance(db, "reader-1")]), /^Aurora capacity floor/).amount;
            near(one, 0.5 * HOURS_PER_MONTH * PRICES.aurora.perAcuHour, "one instance");
            near(one, 43.8, "one instance in dollars");
            near(two, 2 * one, "two instances");
        });

        it("keeps each cluster's instances to itself", () => {
            const a = cluster(1, "a");
            const b = cluster(2, "b");
            const lines = idleCost([a, b, instance(a, "a-writer"), instance(b, "b-writer"), instance(b, "b-reader")]);
            near(item(lines, "Aurora capacity floor (a)").amount, 1 * HOURS_PER_MONTH * PRICES.aurora.perAcuHour, "a");
            near(item(lines, "Aurora capacity floor (b)").amount, 4 * HOURS_PER_MONTH * PRICES.aurora.perAcuHour, "b");
            assert.equal(item(lines, "Secrets Manager secrets").quantity, 2);
        });

        it("counts alarms, dashboards, secrets and keys that are present", () => {
            const lines = idleCost([
                resource("aws:cloudwatch/metricAlarm:MetricAlarm", "a1", {}),
                resource("aws:cloudwatch/metricAlarm:MetricAlarm", "a2", {}),
                resource("aws:cloudwatch/metricAlarm:MetricAlarm", "a3", {}),
                resource("aws:cloudwatch/dashboard:Dashboard", "d", {}),
                resource("aws:secretsmanager/secret:Secret", "s", {}),
                resource("aws:kms/key:Key", "k", {}),
                resource("aws:sns/topic:Topic", "t", {}),
            ]);
            near(item(lines, "CloudWatch alarms").amount, 0.3, "alarms");
            near(item(lines, "CloudWatch dashboards").amount, 3, "dashboards");
            near(item(lines, "Secrets Manager secrets").amount, 0.4, "secrets");
            near(item(lines, "KMS customer-managed keys").amount, 1, "keys");
            near(item(lines, "SNS topics").amount, 0, "topics are free idle");
        });

        it("bills an RDS proxy on at least 8 ACUs", () => {
            const db = cluster(0.5);
            const lines = idleCost([db, instance(db, "writer"), resource("aws:rds/proxy:Proxy", "proxy", {})]);
            near(item(lines, "RDS Proxy").amount, 8 * HOURS_PER_MONTH * PRICES.rdsProxy.perAcuHour, "proxy");
        });

        it("adds the lines up to the idle total", () => {
            const db = cluster(0.5);
            const estimate = estimateCost([vpc("Single"), endpoint(2), db, instance(db, "writer")]);
            const expected = 32.85 + 14.6 + 43.8 + 0.1 + 0.4;
            near(Math.round(estimate.idle.total * 100) / 100, expected, "total");
        });
    });

    describe("cost per million requests", () => {
        it("is HTTP API + Lambda requests + compute at the route's memory and the average duration + logs", () => {
            const t = trafficCost(routed("GET /a", 1024, 10));
            near(item(t.lines, "HTTP API requests").amount, 1.0, "http api");
            near(item(t.lines, "Lambda requests").amount, 0.2, "lambda requests");
            // 1 GB x 0.1 s x 1e6 requests = 100,000 GB-s at the arm64 price.
            near(item(t.lines, "Lambda compute").amount, 100_000 * PRICES.lambda.perGbSecond.arm64, "compute");
            near(item(t.lines, "CloudWatch Logs ingestion").amount, 0.5, "logs");
            near(t.typical, 1.2 + 1.33334 + 0.5, "typical");
            // Worst case: every request runs the full 10 s.
            near(t.worstCase, 1.2 + 10 * 1_000_000 * PRICES.lambda.perGbSecond.arm64 + 0.5, "worst");
        });

        it("averages compute over the routes equally and uses each function's architecture (linked by dependency or by value)", () => {
            const t = trafficCost([...routed("GET /a", 512, 5), ...routed("GET /b", 2048, 20, "x86_64", true)]);
            const a = 0.5 * 0.1 * 1e6 * PRICES.lambda.perGbSecond.arm64;
            const b = 2 * 0.1 * 1e6 * PRICES.lambda.perGbSecond.x86_64;
            near(item(t.lines, "Lambda compute").amount, (a + b) / 2, "mean compute");
            assert.deepEqual(
                t.routes.map((r) => [r.routeKey, r.memoryMb, r.timeoutSeconds, r.architecture]),
                [
                    ["GET /a", 512, 5, "arm64"],
                    ["GET /b", 2048, 20, "x86_64"],
                ],
            );
            near(t.routes[1].computeWorst, 2 * 20 * 1e6 * PRICES.lambda.perGbSecond.x86_64, "worst b");
        });

        it("leaves out functions that serve no route (the migration function)", () => {
            const migrations = resource("aws:lambda/function:Function", "migrations", { memorySize: 256, timeout: 300, architectures: ["arm64"] });
            const t = trafficCost([migrations, ...routed("GET /a", 128, 3)]);
            assert.deepEqual(t.routes.map((r) => r.routeKey), ["GET /a"]);
        });

        it("follows the assumptions it is given", () => {
            const t = trafficCost(routed("GET /a", 1024, 10), { averageDurationMs: 250, databaseStorageGb: 1, logBytesPerRequest: 0, imageStorageGbPerRepository: 0, eventBytes: 1024 });
            near(item(t.lines, "Lambda compute").amount, 250_000 * PRICES.lambda.perGbSecond.arm64, "compute at 250 ms");
            near(item(t.lines, "CloudWatch Logs ingestion").amount, 0, "no logs");
        });
    });

    describe("container services", () => {
        /** A container route as the ServiceContainer component links it: route -> integration -> Cloud Map <- ECS service -> task. */
        const containerStack = (minTasks: number, cpu = "512", memory = "1024", architecture = "ARM64"): CostResource[] => {
            const parent = `${PREFIX}serverless-microservices:containers:ServiceContainer::svc`;
            const task = resource("aws:ecs/taskDefinition:TaskDefinition", "svc-task", { cpu, memory, runtimePlatform: { cpuArchitecture: architecture } }, { parent });
            task.outputs = { ...task.outputs, arn: "arn:task" };
            const discovery = resource("aws:servicediscovery/service:Service", "svc-discovery", {}, { parent });
            discovery.outputs = { ...discovery.outputs, arn: "arn:srv" };
            const service = resource("aws:ecs/service:Service", "svc-service", { name: "svc", desiredCount: minTasks, taskDefinition: "arn:task", serviceRegistries: { registryArn: "arn:srv" } }, { parent, propertyDependencies: { taskDefinition: [task.urn], serviceRegistries: [discovery.urn] } });
            const scaling = resource("aws:appautoscaling/target:Target", "svc-scaling", { minCapacity: minTasks, maxCapacity: 3 }, { parent, propertyDependencies: { resourceId: [service.urn] } });
            const integration = resource("aws:apigatewayv2/integration:Integration", "svc-get", { connectionType: "VPC_LINK", integrationUri: "arn:srv", timeoutMilliseconds: 29000 }, { propertyDependencies: { integrationUri: [discovery.urn] } });
            const route = resource("aws:apigatewayv2/route:Route", "svc-get", { routeKey: "GET /svc", target: `integrations/${integration.outputs!.id}` }, { propertyDependencies: { target: [integration.urn] } });
            const namespace = resource("aws:servicediscovery/privateDnsNamespace:PrivateDnsNamespace", "ns", {});
            const repository = resource("aws:ecr/repository:Repository", "svc-images", {}, { parent });
            return [task, discovery, service, scaling, integration, route, namespace, repository];
        };

        it("prices Fargate arm64 at the minimum tasks: vCPU-hours and GB-hours from the price table", () => {
            // Act
            const lines = idleCost(containerStack(2));
            // Assess
            const perTaskHour = 0.5 * PRICES.fargate.arm64.perVcpuHour + 1 * PRICES.fargate.arm64.perGbHour;
            near(item(lines, "Fargate tasks (svc)").amount, 2 * HOURS_PER_MONTH * perTaskHour, "2 tasks x 730 h");
            near(item(lines, "Cloud Map instances (svc)").amount, 2 * PRICES.cloudMap.perInstanceMonth, "one instance per task");
            near(item(lines, "Cloud Map namespaces").amount, PRICES.cloudMap.perHostedZoneMonth, "the hosted zone");
            near(item(lines, "ECR image storage").amount, DEFAULT_ASSUMPTIONS.imageStorageGbPerRepository * PRICES.ecr.storagePerGbMonth, "stored images");
        });

        it("prices x86_64 tasks at the x86 rate, and a service scaled to 0 at nothing", () => {
            const x86 = item(idleCost(containerStack(1, "256", "512", "X86_64")), "Fargate tasks (svc)");
            near(x86.amount, HOURS_PER_MONTH * (0.25 * PRICES.fargate.x86_64.perVcpuHour + 0.5 * PRICES.fargate.x86_64.perGbHour), "x86 task");
            const idle = item(idleCost(containerStack(0)), "Fargate tasks (svc)");
            assert.equal(idle.amount, 0);
            assert.match(idle.note, /scaled to zero, its routes answer 503/);
        });

        it("counts a container route's requests at the API and adds no Lambda request or compute for it", () => {
            // Act
            const t = trafficCost([...containerStack(1), ...routed("GET /a", 1024, 10)]);
            // Assess
            assert.deepEqual(t.routes.map((r) => [r.routeKey, r.target, r.computeTypical]).sort(), [["GET /a", "function", t.routes.find((r) => r.routeKey === "GET /a")!.computeTypical], ["GET /svc", "container", 0]].sort());
            near(item(t.lines, "Lambda requests").amount, 0.5 * PRICES.lambda.perRequest * 1_000_000, "half the requests reach a function");
            near(item(t.lines, "HTTP API requests").amount, PRICES.httpApi.perRequest * 1_000_000, "every request reaches the API");
        });
    });
});
