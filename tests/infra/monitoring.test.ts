/**
 * Alarms, the alarm topic and the dashboard, as the program registers them under Pulumi's mocks
 * with the real stack files: prod watches every function, the API and the database with the
 * configured thresholds; dev registers none of it. Over the fixture registry, with every count
 * derived from it, and over whatever `infra/registry.ts` holds.
 */
import * as assert from "node:assert/strict";
import * as path from "node:path";
import { MONITORING_THRESHOLD_RANGES, PROJECT, parseStackConfig } from "../../platform/config/stack-config";
import type { RegisteredService } from "../../functions/runtime/container";
import { MONITORING_DEFAULTS, PlatformMonitoring, ServiceMonitoring, serviceMonitoringProblems, type ServiceMonitoringArgs } from "../../infra/components/monitoring";
import { functionBoundsFor } from "../../platform/function-bounds";
import { resolveRegistry } from "../../platform/registry/resolution";
import { publishesThroughOutbox } from "../../platform/triggers/outbox-relay";
import { type ResolvedRegistry } from "../../platform/model";
import { services } from "../../infra/services";
import { estimatedMaxConnections } from "../../policy/lib/limits";
import { policies } from "../../policy/policies";
import { ComponentTypes } from "../../policy/lib/types";
import { loadPackConfig, PACK_DIR, runPolicies } from "../../tools/policy-engine";
import { fixtureServices } from "../../testing/fixtures";
import { ofType, one } from "../../testing/graph";
import { lastRegistered, readStackConfig, runProgramOffline, type OfflineRun } from "../../tools/offline";
import { type RegisteredResource } from "../../tools/registered-resource";

const ALARM = "aws:cloudwatch/metricAlarm:MetricAlarm";
const key = (name: string) => `${PROJECT}:${name}`;

function alarmNamed(run: OfflineRun, name: string): RegisteredResource {
    const found = ofType(run, ALARM).find((alarm) => alarm.inputs.name === name);
    assert.ok(found, `no alarm named ${name}; have ${ofType(run, ALARM).map((a) => a.inputs.name).join(", ")}`);
    return found;
}
/** The dimensions of the Lambda Errors metric in an error-rate alarm. */
function queryMetric(alarm: RegisteredResource, metricName: string): { namespace: string; dimensions: Record<string, string>; stat: string; period: number } {
    const query = alarm.inputs.metricQueries.find((q: { metric?: { metricName: string } }) => q.metric?.metricName === metricName);
    assert.ok(query, `${alarm.inputs.name} reads no ${metricName}`);
    return query.metric;
}
/** Every function of the stack, with what its alarms are named after. */
function functionsOf(run: OfflineRun): { name: string; alarmPrefix: string; timeout: number }[] {
    return ofType(run, "aws:lambda/function:Function").map((fn) => {
        const variables = fn.inputs.environment?.variables ?? {};
        // The platform's own functions: the migration worker (`migrations`) and its launcher (`migrations-launcher`).
        const alarmPrefix = variables.SERVICE_NAME ? `${variables.SERVICE_NAME}-${fn.name.slice(variables.SERVICE_NAME.length + 1)}` : fn.name === "migrations-function" ? "platform-migrations" : `platform-${fn.name}`;
        return { name: fn.outputs.name, alarmPrefix, timeout: fn.inputs.timeout };
    });
}

const DASHBOARD = "aws:cloudwatch/dashboard:Dashboard";
type DashboardBody = { widgets: { type: string; properties: any }[] };
function dashboardNamed(run: OfflineRun, name: string): RegisteredResource {
    const found = ofType(run, DASHBOARD).find((dashboard) => dashboard.inputs.dashboardName === name);
    assert.ok(found, `no dashboard named ${name}; have ${ofType(run, DASHBOARD).map((d) => d.inputs.dashboardName).join(", ")}`);
    return found;
}
const bodyOf = (dashboard: RegisteredResource): DashboardBody => JSON.parse(dashboard.inputs.dashboardBody);
const metricsOf = (body: DashboardBody): unknown[][] => body.widgets.filter((w) => w.type === "metric").flatMap((w) => w.properties.metrics as unknown[][]);
/** The function names a dashboard's Lambda graphs read, sorted. */
const lambdaNamesOf = (body: DashboardBody): string[] => [...new Set(metricsOf(body).filter((m) => m[0] === "AWS/Lambda").map((m) => m[3] as string))].sort();
/** The migration worker's and launcher's deployed names, sorted. */
const migrationFunctionNames = (run: OfflineRun): string[] => functionsOf(run).filter((fn) => fn.alarmPrefix.startsWith("platform-migrations")).map((fn) => fn.name).sort();

/** The alarms on Lambda metrics. */
const lambdaAlarmsOf = (run: OfflineRun) => ofType(run, ALARM).filter((alarm) => alarm.inputs.namespace === "AWS/Lambda" || alarm.inputs.metricQueries?.[0]?.metric?.namespace === "AWS/Lambda");

const usesDatabase = (resolved: ResolvedRegistry) => [...resolved.services, ...resolved.containers].some((service) => service.database);
/** A registry's subscriptions and schedules: a queue and a function each. */
const queueConsumerCount = (resolved: ResolvedRegistry) => resolved.subscriptions.length + resolved.schedules.length;
/** The services that publish through an outbox: a relay, its check, and alarms on the oldest unsent event and on parked events each. */
const outboxCount = (resolved: ResolvedRegistry) => resolved.services.filter(publishesThroughOutbox).length;
/** The functions a registry gives a stack: one per route and per queue consumer, the migration runner's two (launcher and worker) when a service keeps data, an outbox's relay and check. */
const functionCount = (resolved: ResolvedRegistry) => resolved.routes.length + queueConsumerCount(resolved) + (usesDatabase(resolved) ? 2 : 0) + 2 * outboxCount(resolved);
/**
 * Three per function, two on the API, three on the database when there is one, two per consumer's
 * queue (dead letters, oldest message), two per outbox (its oldest unsent event, its parked events), and per container service CPU and memory, and its running
 * tasks where it must keep some.
 */
const alarmCount = (resolved: ResolvedRegistry) =>
    functionCount(resolved) * 3 +
    2 +
    (usesDatabase(resolved) ? 3 : 0) +
    queueConsumerCount(resolved) * 2 +
    outboxCount(resolved) * 2 +
    resolved.containers.reduce((sum, container) => sum + 2 + (container.scaling.minTasks > 0 ? 1 : 0), 0);

describe("monitoring under mocks", function () {
    this.timeout(120_000);
    let prod: OfflineRun;
    let dev: OfflineRun;
    const prodConfig = parseStackConfig("prod", readStackConfig("prod"));
    const thresholds = { ...MONITORING_DEFAULTS.thresholds, ...prodConfig.monitoring.thresholds };
    const resolve = (registry: readonly RegisteredService[]) =>
        resolveRegistry(registry, prodConfig.functionDefaults, { stack: "prod", reservations: prodConfig.concurrency.reservations, bounds: functionBoundsFor("prod") });
    const fixture = resolve(fixtureServices);

    before(async () => {
        prod = await runProgramOffline({ stack: "prod", services: fixtureServices });
        dev = await runProgramOffline({ stack: "dev", services: fixtureServices });
    });

    describe("prod stack (fixture registry)", () => {
        it("gives every function (each route's and the migration runner) error, throttle and duration alarms named <project>-<stack>-<service>-<id>-<what>", () => {
            const functions = functionsOf(prod);
            assert.equal(functions.length, functionCount(fixture));
            const expected = functions.flatMap((fn) => ["errors", "throttles", "duration"].map((what) => `${PROJECT}-prod-${fn.alarmPrefix}-${what}`)).sort();
            assert.deepEqual(lambdaAlarmsOf(prod).map((alarm) => alarm.inputs.name).sort(), expected);
            assert.ok(
                expected.includes(`${PROJECT}-prod-notes-get-notes-id-errors`) && expected.includes(`${PROJECT}-prod-ping-get-ping-throttles`) && expected.includes(`${PROJECT}-prod-platform-migrations-duration`),
            );
        });

        it("alarms on each function's error rate (Errors / Invocations) with the real function name and the configured threshold", () => {
            for (const fn of functionsOf(prod)) {
                const alarm = alarmNamed(prod, `serverless-microservices-prod-${fn.alarmPrefix}-errors`);
                for (const metricName of ["Errors", "Invocations"]) {
                    const metric = queryMetric(alarm, metricName);
                    assert.deepEqual([metric.namespace, metric.dimensions, metric.stat, metric.period], ["AWS/Lambda", { FunctionName: fn.name }, "Sum", 300], alarm.inputs.name);
                }
                const expression = alarm.inputs.metricQueries.find((q: { returnData: boolean }) => q.returnData);
                assert.equal(expression.expression, "100 * errors / invocations");
                assert.equal(alarm.inputs.threshold, thresholds.functionErrorRatePercent);
                assert.equal(alarm.inputs.comparisonOperator, "GreaterThanOrEqualToThreshold");
            }
        });

        it("alarms on throttles and on p99 duration at 80% of that function's own timeout", () => {
            for (const fn of functionsOf(prod)) {
                const throttles = alarmNamed(prod, `serverless-microservices-prod-${fn.alarmPrefix}-throttles`);
                assert.deepEqual([throttles.inputs.namespace, throttles.inputs.metricName, throttles.inputs.dimensions, throttles.inputs.statistic, throttles.inputs.threshold], ["AWS/Lambda", "Throttles", { FunctionName: fn.name }, "Sum", thresholds.functionThrottles]);
                const duration = alarmNamed(prod, `serverless-microservices-prod-${fn.alarmPrefix}-duration`);
                assert.deepEqual([duration.inputs.metricName, duration.inputs.dimensions, duration.inputs.extendedStatistic], ["Duration", { FunctionName: fn.name }, "p99"]);
                assert.equal(duration.inputs.threshold, fn.timeout * 1000 * 0.8, duration.inputs.name);
            }
            // GET /ping sets 3 s, GET /notes 12 s, the other notes routes take the stack's 10 s, the migration worker 300 s, its launcher 390 s.
            assert.equal(alarmNamed(prod, `${PROJECT}-prod-ping-get-ping-duration`).inputs.threshold, 2400);
            assert.equal(alarmNamed(prod, `${PROJECT}-prod-notes-get-notes-duration`).inputs.threshold, 9600);
            assert.equal(alarmNamed(prod, `${PROJECT}-prod-notes-get-notes-id-duration`).inputs.threshold, prodConfig.functionDefaults.timeoutSeconds * 800);
            assert.equal(alarmNamed(prod, `${PROJECT}-prod-platform-migrations-duration`).inputs.threshold, 240_000);
            assert.equal(alarmNamed(prod, `${PROJECT}-prod-platform-migrations-launcher-duration`).inputs.threshold, 312_000);
        });

        it("alarms on the API's 5xx rate and p99 latency with the ApiId and $default stage dimensions", () => {
            const apiId = one(prod, "aws:apigatewayv2/api:Api").outputs.id;
            const rate = alarmNamed(prod, "serverless-microservices-prod-api-5xx-rate");
            for (const metricName of ["5xx", "Count"]) {
                assert.deepEqual(queryMetric(rate, metricName).dimensions, { ApiId: apiId, Stage: "$default" });
                assert.equal(queryMetric(rate, metricName).namespace, "AWS/ApiGateway");
            }
            assert.equal(rate.inputs.threshold, 5);
            const latency = alarmNamed(prod, "serverless-microservices-prod-api-latency-p99");
            assert.deepEqual([latency.inputs.namespace, latency.inputs.metricName, latency.inputs.dimensions, latency.inputs.extendedStatistic], ["AWS/ApiGateway", "Latency", { ApiId: apiId, Stage: "$default" }, "p99"]);
            // Pulumi.prod.yaml overrides the 3000 ms default.
            assert.equal(latency.inputs.threshold, 2000);
        });

        it("alarms on the database writer's capacity at its maximum, connections near max_connections and CPU", () => {
            const clusterId = one(prod, "aws:rds/cluster:Cluster").outputs.clusterIdentifier;
            const dimensions = { DBClusterIdentifier: clusterId, Role: "WRITER" };
            const expected: Record<string, [string, string, number]> = {
                "serverless-microservices-prod-database-capacity-at-max": ["ServerlessDatabaseCapacity", "Average", 8],
                "serverless-microservices-prod-database-connections": ["DatabaseConnections", "Maximum", Math.floor(estimatedMaxConnections(0.5, 8) * 0.8)],
                "serverless-microservices-prod-database-cpu": ["CPUUtilization", "Average", 80],
            };
            for (const [name, [metricName, statistic, threshold]] of Object.entries(expected)) {
                const alarm = alarmNamed(prod, name);
                assert.deepEqual([alarm.inputs.namespace, alarm.inputs.metricName, alarm.inputs.dimensions, alarm.inputs.statistic, alarm.inputs.threshold], ["AWS/RDS", metricName, dimensions, statistic, threshold], name);
            }
            assert.equal(estimatedMaxConnections(0.5, 8), 1680);
            assert.equal(estimatedMaxConnections(0.5, 16), 2000);
            assert.equal(estimatedMaxConnections(1, 64), 5000);
        });

        it("sends every alarm, and its return to OK, to the one SNS topic, and treats missing data as not breaching", () => {
            const topic = one(prod, "aws:sns/topic:Topic");
            const alarms = ofType(prod, ALARM);
            assert.equal(alarms.length, alarmCount(fixture));
            for (const alarm of alarms) {
                assert.deepEqual(alarm.inputs.alarmActions, [topic.outputs.arn], alarm.inputs.name);
                assert.deepEqual(alarm.inputs.okActions, [topic.outputs.arn], alarm.inputs.name);
                assert.equal(alarm.inputs.treatMissingData, "notBreaching");
                assert.equal(alarm.inputs.actionsEnabled, true);
                assert.match(alarm.inputs.alarmDescription, /\S/);
            }
        });

        it("puts each service's alarms in its own ServiceMonitoring and the API's, the database's and the migration runner's, with the topic, in PlatformMonitoring", () => {
            // Prepare
            const parentOf = (resource: RegisteredResource) => prod.resources.find((candidate) => candidate.urn === resource.parent)!;
            const platform = one(prod, ComponentTypes.platformMonitoring);
            // Assess
            assert.equal(one(prod, "aws:sns/topic:Topic").parent, platform.urn);
            assert.deepEqual(ofType(prod, ComponentTypes.serviceMonitoring).map((part) => part.name).sort(), fixture.services.map((service) => `monitoring-${service.name}`).sort());
            for (const alarm of ofType(prod, ALARM)) {
                const part = parentOf(alarm);
                const service = fixture.services.find((candidate) => alarm.inputs.name.startsWith(`${PROJECT}-prod-${candidate.name}-`));
                if (service) assert.deepEqual([part.type, part.name], [ComponentTypes.serviceMonitoring, `monitoring-${service.name}`], alarm.inputs.name);
                else assert.equal(part.urn, platform.urn, alarm.inputs.name);
            }
        });

        it("encrypts the topic with a rotating customer key CloudWatch may use", () => {
            const topic = one(prod, "aws:sns/topic:Topic");
            const key = one(prod, "aws:kms/key:Key");
            assert.equal(topic.inputs.name, "serverless-microservices-prod-alarms");
            assert.equal(topic.inputs.kmsMasterKeyId, key.outputs.arn);
            assert.equal(key.inputs.enableKeyRotation, true);
            const statements = JSON.parse(key.inputs.policy).Statement;
            const cloudwatch = statements.find((s: { Principal: { Service?: string } }) => s.Principal.Service === "cloudwatch.amazonaws.com");
            assert.deepEqual(cloudwatch.Action, ["kms:Decrypt", "kms:GenerateDataKey*"]);
            assert.equal(statements.find((s: { Principal: { AWS?: string } }) => s.Principal.AWS).Principal.AWS, "arn:aws:iam::123456789012:root");
            // Pulumi.prod.yaml names no address yet: no subscription.
            assert.equal(ofType(prod, "aws:sns/topicSubscription:TopicSubscription").length, 0);
        });

        it("builds the environment's dashboard <project>-<stack> with the real API id, cluster id and migration runner, and none of the services' functions", () => {
            // Prepare
            const body = bodyOf(dashboardNamed(prod, `${PROJECT}-prod`));
            const metrics = metricsOf(body);
            const apiId = one(prod, "aws:apigatewayv2/api:Api").outputs.id;
            const clusterId = one(prod, "aws:rds/cluster:Cluster").outputs.clusterIdentifier;
            // Assess
            assert.deepEqual(lambdaNamesOf(body), migrationFunctionNames(prod));
            assert.ok(metrics.some((m) => m[0] === "AWS/ApiGateway" && m[1] === "Count" && m[3] === apiId && m[5] === "$default"));
            assert.deepEqual(metrics.filter((m) => m[0] === "AWS/RDS").map((m) => [m[1], m[3]]), [["ServerlessDatabaseCapacity", clusterId], ["DatabaseConnections", clusterId], ["CPUUtilization", clusterId]]);
            assert.ok(!metrics.some((m) => m[0] === "AWS/SQS"));
            for (const widget of body.widgets.filter((w) => w.type === "metric")) assert.equal(widget.properties.region, "us-east-1");
        });

        it("builds one dashboard per service, <project>-<stack>-<service>, listing exactly that service's functions and queues, and no API or database row", () => {
            // Prepare
            const functionsByService = new Map(fixture.services.map((service) => [service.name, functionsOf(prod).filter((fn) => fn.alarmPrefix.startsWith(`${service.name}-`)).map((fn) => fn.name).sort()]));
            const queues = ofType(prod, "aws:sqs/queue:Queue");
            // Assess
            assert.deepEqual(ofType(prod, DASHBOARD).map((d) => d.inputs.dashboardName).sort(), [`${PROJECT}-prod`, ...fixture.services.map((s) => `${PROJECT}-prod-${s.name}`)].sort());
            for (const service of fixture.services) {
                const body = bodyOf(dashboardNamed(prod, `${PROJECT}-prod-${service.name}`));
                const own = functionsByService.get(service.name)!;
                assert.ok(own.length > 0, service.name);
                assert.deepEqual(lambdaNamesOf(body), own, service.name);
                const queueNames = new Set(metricsOf(body).filter((m) => m[0] === "AWS/SQS").map((m) => m[3]));
                const ownQueues = queues.filter((queue) => queue.name.startsWith(`${service.name}-`)).map((queue) => queue.outputs.name);
                assert.deepEqual([...queueNames].sort(), ownQueues.sort(), service.name);
                assert.ok(!metricsOf(body).some((m) => m[0] === "AWS/ApiGateway" || m[0] === "AWS/RDS"), service.name);
            }
        });

        it("lays the environment's dashboard out as the API row, the platform functions' row and the database row; a service's as its own row", () => {
            // Prepare
            const headings = (body: DashboardBody) => body.widgets.filter((w) => w.type === "text").map((w) => w.properties.markdown.split("\n")[0]);
            const clusterId = one(prod, "aws:rds/cluster:Cluster").outputs.clusterIdentifier;
            // Assess
            const platform = bodyOf(dashboardNamed(prod, `${PROJECT}-prod`));
            assert.deepEqual(headings(platform), [`# ${PROJECT}-prod`, "## API", "## Service `platform`", `## Database \`${clusterId}\``]);
            for (const service of fixture.services) {
                const body = bodyOf(dashboardNamed(prod, `${PROJECT}-prod-${service.name}`));
                assert.deepEqual(headings(body), [`# ${PROJECT}-prod-${service.name}`, `## Service \`${service.name}\``]);
                assert.deepEqual(body.widgets.filter((w) => w.type === "metric").map((w) => w.properties.title).slice(0, 4), ["Invocations", "Errors", "Duration p99 (ms)", "Throttles"]);
            }
        });

        it("shows on each dashboard the states of its own alarms, and every alarm on exactly one", () => {
            // Prepare
            const alarmArnsOf = (body: DashboardBody): string[] => body.widgets.find((w) => w.type === "alarm")?.properties.alarms ?? [];
            const arnOf = new Map(ofType(prod, ALARM).map((alarm) => [alarm.outputs.arn, alarm.inputs.name as string]));
            // Assess
            const platform = alarmArnsOf(bodyOf(dashboardNamed(prod, `${PROJECT}-prod`))).map((arn) => arnOf.get(arn)!);
            assert.deepEqual(platform.sort(), ofType(prod, ALARM).map((a) => a.inputs.name as string).filter((name) => /-prod-(api|database|platform)-/.test(name)).sort());
            const shown = [...platform];
            for (const service of fixture.services) {
                const own = alarmArnsOf(bodyOf(dashboardNamed(prod, `${PROJECT}-prod-${service.name}`))).map((arn) => arnOf.get(arn)!);
                assert.ok(own.length > 0 && own.every((name) => name.startsWith(`${PROJECT}-prod-${service.name}-`)), `${service.name}: ${own.join(", ")}`);
                shown.push(...own);
            }
            assert.deepEqual(shown.sort(), [...arnOf.values()].sort());
        });

        it("exports the alarm topic and the dashboard's console address", () => {
            assert.match(prod.outputs.alarmTopicArn, /sns/);
            assert.equal(prod.outputs.dashboardUrl, "https://us-east-1.console.aws.amazon.com/cloudwatch/home?region=us-east-1#dashboards/dashboard/serverless-microservices-prod");
        });

        it("passes the pack's lambda-error-alarm rule with no finding", async () => {
            const config = loadPackConfig(path.join(PACK_DIR, "config.prod.json"));
            const result = await runPolicies(prod.resources, config);
            assert.deepEqual(result.violations.filter((v) => v.policy === "lambda-error-alarm"), []);
            assert.ok(policies.some((p) => p.name === "lambda-error-alarm"));
        });
    });

    it("prod with the real registry (infra/registry.ts, whatever it holds): three alarms per function, the API's and the database's, all to the topic", async () => {
        // Prepare
        const real = resolve(services);
        // Act
        const run = await runProgramOffline({ stack: "prod" });
        // Assess
        const functions = functionsOf(run);
        assert.equal(functions.length, functionCount(real));
        assert.deepEqual(lambdaAlarmsOf(run).map((alarm) => alarm.inputs.name).sort(), functions.flatMap((fn) => ["errors", "throttles", "duration"].map((what) => `${PROJECT}-prod-${fn.alarmPrefix}-${what}`)).sort());
        assert.equal(ofType(run, ALARM).length, alarmCount(real));
        const topic = one(run, "aws:sns/topic:Topic").outputs.arn;
        for (const alarm of ofType(run, ALARM)) assert.deepEqual(alarm.inputs.alarmActions, [topic], alarm.inputs.name);
    });

    it("dev, with monitoring.enabled false, registers no alarm, topic, key or dashboard", () => {
        for (const type of [ALARM, "aws:sns/topic:Topic", "aws:sns/topicSubscription:TopicSubscription", "aws:kms/key:Key", DASHBOARD, ComponentTypes.platformMonitoring, ComponentTypes.serviceMonitoring]) {
            assert.equal(ofType(dev, type).length, 0, type);
        }
        assert.equal(dev.outputs.alarmTopicArn, undefined);
    });

    it("a stack-file override changes that threshold and keeps the other defaults", async () => {
        const config = { ...readStackConfig("prod"), [key("monitoring")]: { enabled: true, thresholds: { functionDurationPercentOfTimeout: 50, databaseCpuPercent: 90 } } };
        const run = await runProgramOffline({ stack: "prod", config, services: fixtureServices });
        assert.equal(alarmNamed(run, `${PROJECT}-prod-notes-get-notes-id-duration`).inputs.threshold, prodConfig.functionDefaults.timeoutSeconds * 500);
        assert.equal(alarmNamed(run, `${PROJECT}-prod-database-cpu`).inputs.threshold, 90);
        assert.equal(alarmNamed(run, `${PROJECT}-prod-api-latency-p99`).inputs.threshold, MONITORING_DEFAULTS.thresholds.apiLatencyP99Ms);
    });

    it("subscribes the stack file's email to the alarm topic", async () => {
        const config = { ...readStackConfig("prod"), [key("monitoring")]: { enabled: true, email: "oncall@example.com" } };
        const run = await runProgramOffline({ stack: "prod", config, services: fixtureServices });
        const subscription = one(run, "aws:sns/topicSubscription:TopicSubscription");
        assert.deepEqual([subscription.inputs.topic, subscription.inputs.protocol, subscription.inputs.endpoint], [one(run, "aws:sns/topic:Topic").outputs.arn, "email", "oncall@example.com"]);
    });

    it("a dashboard without alarms: monitoring.dashboard true with enabled false gives the environment's and each service's dashboard, with no alarm widget", async () => {
        const config = { ...readStackConfig("dev"), [key("monitoring")]: { enabled: false, dashboard: true } };
        const run = await runProgramOffline({ stack: "dev", config, services: fixtureServices });
        assert.equal(ofType(run, ALARM).length, 0);
        assert.equal(ofType(run, "aws:sns/topic:Topic").length, 0);
        assert.deepEqual(ofType(run, DASHBOARD).map((d) => d.inputs.dashboardName).sort(), [`${PROJECT}-dev`, ...fixture.services.map((s) => `${PROJECT}-dev-${s.name}`)].sort());
        for (const dashboard of ofType(run, DASHBOARD)) assert.ok(!bodyOf(dashboard).widgets.some((w) => w.type === "alarm"), dashboard.inputs.dashboardName);
    });

    it("stops on an invalid monitoring config before any resource, naming the key", async () => {
        const config = { ...readStackConfig("prod"), [key("monitoring")]: { enabled: true, email: "ops at example", thresholds: { apiLatencyP99Ms: 60000 } } };
        await assert.rejects(
            runProgramOffline({ stack: "prod", config, services: fixtureServices }),
            /Stack "prod" configuration \(Pulumi\.prod\.yaml\) is invalid:\n  - serverless-microservices:monitoring\.email: "ops at example" is not allowed; use one email address such as ops@example\.com\n  - serverless-microservices:monitoring\.thresholds\.apiLatencyP99Ms: 60000 is not allowed; use an integer from 10 to 30000/,
        );
        assert.deepEqual(lastRegistered.filter((r) => r.type !== "pulumi:pulumi:Stack").map((r) => r.urn), []);
    });

    it("keeps every threshold's default in MONITORING_DEFAULTS and its allowed range in the config module, for the same keys", () => {
        assert.deepEqual(Object.keys(MONITORING_DEFAULTS.thresholds).sort(), Object.keys(MONITORING_THRESHOLD_RANGES).sort());
        for (const [name, value] of Object.entries(MONITORING_DEFAULTS.thresholds)) {
            const range = MONITORING_THRESHOLD_RANGES[name as keyof typeof MONITORING_THRESHOLD_RANGES];
            assert.ok(value >= range.min && value <= range.max, `${name} default ${value} is outside ${range.min}-${range.max}`);
        }
    });
});

describe("the monitoring parts refuse what is not theirs, before registering anything", () => {
    // The checks run before the component registers itself: no Pulumi runtime is needed to see them throw.
    const scope = { environment: "prod", region: "us-east-1", alarms: true, dashboard: true, thresholds: {} };
    const fn = (service: string) => ({ service, id: "get-notes", label: "GET /notes", functionName: "notes-get-notes-1234", timeoutSeconds: 10 });
    const notes: ServiceMonitoringArgs = {
        ...scope,
        service: "notes",
        alarmTopicArn: "arn:aws:sns:us-east-1:123456789012:serverless-microservices-prod-alarms",
        functions: [fn("notes")],
        queues: [{ service: "notes", id: "subscription-welcome", label: "subscription welcome", queueName: "q", deadLetterQueueName: "dlq" }],
        outboxes: [{ service: "notes", relayLogGroupName: "/relay" }],
        container: { service: "notes", clusterName: "c", serviceName: "notes", minTasks: 1 },
    };

    it("a service's own functions, queues, outbox and container with the topic: no problem", () => {
        assert.deepEqual(serviceMonitoringProblems(notes), []);
        assert.deepEqual(serviceMonitoringProblems({ ...notes, alarms: false, alarmTopicArn: undefined }), []);
    });

    it("ServiceMonitoring with alarms but no alarm topic", () => {
        assert.throws(
            () => new ServiceMonitoring("monitoring-notes", { ...notes, alarmTopicArn: undefined }),
            /^Error: ServiceMonitoring of service "notes" cannot be made:\n  - alarms: needs alarmTopicArn, the ARN of the environment's alarm topic/,
        );
    });

    const strangers: [string, Partial<ServiceMonitoringArgs>, string][] = [
        ["a function", { functions: [fn("notes"), fn("ping")] }, "function get-notes"],
        ["a queue", { queues: [{ service: "ping", id: "schedule-purge", label: "schedule purge", queueName: "q", deadLetterQueueName: "dlq" }] }, "queue schedule-purge"],
        ["an outbox", { outboxes: [{ service: "ping", relayLogGroupName: "/relay" }] }, "outbox"],
        ["a container service", { container: { service: "ping", clusterName: "c", serviceName: "ping", minTasks: 0 } }, "container service"],
    ];
    for (const [what, change, named] of strangers) {
        it(`ServiceMonitoring given ${what} of another service`, () => {
            assert.throws(() => new ServiceMonitoring("monitoring-notes", { ...notes, ...change }), new RegExp(`  - ${named}: belongs to service "ping"; a service's monitoring watches its own resources only$`));
        });
    }

    it("PlatformMonitoring given a service's function (only the platform's own, service platform, are its)", () => {
        assert.throws(
            () => new PlatformMonitoring("monitoring", { ...scope, api: { apiId: "api", stage: "$default" }, functions: [{ ...fn("platform"), id: "migrations" }, fn("notes")] }),
            /PlatformMonitoring watches the platform's own functions only \(service "platform"\), not notes\/get-notes/,
        );
    });
});
