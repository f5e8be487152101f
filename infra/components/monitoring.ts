import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { ComponentTypes } from "../../policy/lib/types";
import { estimatedMaxConnections } from "../../policy/lib/limits";
import type { MonitoringThresholds } from "../../platform/config/stack-config";
import { PLATFORM_PART } from "../../platform/config/stack-layout";
import { alarmName as alarmNameOf, alarmTopicName, dashboardName as dashboardNameOf, serviceDashboardName } from "../../platform/naming";
import { outboxMetric } from "./outbox-relay";

/** A function to watch: a route's function, or a platform function such as the migration runner. */
export interface MonitoredFunction {
    /** The service it belongs to (`platform` for the migration runner); groups the dashboard rows. */
    service: string;
    /** Unique within the service and part of the alarm names: the route id (`get-users-id`) or `migrations`. */
    id: string;
    /** What it serves, shown on the dashboard and in alarm descriptions: a route key such as `GET /users/{id}`. */
    label: string;
    /** The deployed function's name: the `FunctionName` dimension of its metrics. */
    functionName: pulumi.Input<string>;
    /** Its timeout; the duration alarm fires at a percentage of it. */
    timeoutSeconds: number;
    /** Where its logs are, named in the alarm descriptions. */
    logGroupName?: string;
}

/** A subscription's or a schedule's queues to watch. */
export interface MonitoredQueue {
    service: string;
    /** The consumer function's id in its service (`subscription-welcome`): part of the alarm names. */
    id: string;
    /** `subscription welcome`, `schedule purge`. */
    label: string;
    /** The `QueueName` dimension of the queue's metrics. */
    queueName: pulumi.Input<string>;
    deadLetterQueueName: pulumi.Input<string>;
}

/** A publishing database service's outbox to watch: the backlog its relay reports. */
export interface MonitoredOutbox {
    service: string;
    /** Where the relay logs its report, named in the alarm's description (the alarm reads what that group's metric filter makes). */
    relayLogGroupName: pulumi.Input<string>;
}

/** A container service to watch: its ECS service's CPU, memory and running tasks. */
export interface MonitoredContainer {
    /** The registry's service name; part of the alarm names. */
    service: string;
    /** The `ClusterName` dimension of its metrics. */
    clusterName: pulumi.Input<string>;
    /** The `ServiceName` dimension of its metrics. */
    serviceName: pulumi.Input<string>;
    /** The tasks it must keep running; at 0 no task alarm is made (nothing runs on purpose). */
    minTasks: number;
    /** Where its logs are, named in the alarm descriptions. */
    logGroupName?: string;
}

/** What both parts of the monitoring need: where they are, what they make, and the thresholds. */
interface MonitoringScope {
    /** The environment: with the project, the start of every alarm and dashboard name (`serverless-microservices-prod-users-get-users-id-errors`). */
    environment: string;
    /** The region the dashboard's widgets read metrics from. */
    region: string;
    /**
     * Alarms, the SNS topic they notify and its encryption key (`monitoring.enabled`). Each alarm
     * costs $0.10 a month per metric it reads (the rate alarms read two), the key $1 a month.
     */
    alarms: boolean;
    /**
     * The part's CloudWatch dashboard, $3 a month each beyond the account's 3 free ones (the
     * environment's, and one per service). Independent of `alarms` so a stack may have either; the
     * stack files tie both to `monitoring.enabled` unless `monitoring.dashboard` is set.
     */
    dashboard: boolean;
    /** The environment's overrides of `MONITORING_DEFAULTS.thresholds`; any left out keep the default. */
    thresholds: Partial<MonitoringThresholds>;
    /** @default none */
    tags?: Record<string, string>;
}

/** What the PlatformMonitoring component needs. Fields without a default are required. */
export interface PlatformMonitoringArgs extends MonitoringScope {
    /**
     * An address subscribed to the alarm topic. AWS sends it a confirmation link; nothing arrives
     * until someone clicks it. An unconfirmed subscription cannot be deleted (AWS drops it after 3 days).
     * @default none
     * @example "ops@example.com"
     */
    email?: string;
    /** The HTTP API and its stage. */
    api: { apiId: pulumi.Input<string>; stage: pulumi.Input<string> };
    /** The Aurora Serverless v2 cluster, when the environment has one. */
    database?: { clusterIdentifier: pulumi.Input<string>; minCapacity: number; maxCapacity: number };
    /** The platform's own functions (service `platform`): the migration runner, when there is a database. @default none */
    functions?: MonitoredFunction[];
}

/** What the ServiceMonitoring component needs. Fields without a default are required. */
export interface ServiceMonitoringArgs extends MonitoringScope {
    /** The registry's service: everything below belongs to it. */
    service: string;
    /**
     * The ARN of the environment's alarm topic (`PlatformMonitoring.alarmTopicArn`, or the platform
     * stack's `alarmTopicArn` output): every alarm of the service notifies it. Required with `alarms`.
     * @default none
     */
    alarmTopicArn?: pulumi.Input<string>;
    /** The service's functions, in dashboard order. @default none */
    functions?: MonitoredFunction[];
    /** Its queue consumers' queues, in dashboard order. @default none */
    queues?: MonitoredQueue[];
    /** Its outbox, when it publishes through one. @default none */
    outboxes?: MonitoredOutbox[];
    /** Its ECS service, when it is a container service. @default none */
    container?: MonitoredContainer;
}

/** How long a condition must hold before an alarm fires: `periods` of `period` seconds, `datapoints` of them breaching. */
interface Window {
    periodSeconds: number;
    evaluationPeriods: number;
    datapointsToAlarm: number;
}

/**
 * Every default of the monitoring, in one place: thresholds (which stack files may override under
 * `monitoring.thresholds`; platform/config/stack-config.ts knows their allowed ranges) and the evaluation windows
 * (fixed here, so every stack's alarms mean the same thing).
 */
export const MONITORING_DEFAULTS = {
    thresholds: {
        // The route wrapper turns a handler's exception into a 500 response, which Lambda counts as
        // a success: Lambda `Errors` are only crashes, timeouts, out-of-memory and failed cold starts.
        // Those should be near zero, so 1% of invocations already means something is broken.
        functionErrorRatePercent: 1,
        functionThrottles: 1,
        functionDurationPercentOfTimeout: 80,
        // Handled 500s, and the 503/504 the API returns when a function fails or times out.
        apiServerErrorRatePercent: 5,
        apiLatencyP99Ms: 3000,
        databaseCapacityPercentOfMax: 100,
        databaseConnectionsPercent: 80,
        databaseCpuPercent: 80,
        // Target tracking holds CPU near 60%; staying above 85% means it has reached maxTasks.
        containerCpuPercent: 85,
        // Memory does not scale: a task near its limit is about to be killed for it.
        containerMemoryPercent: 85,
        // Five minutes behind: a consumer failing or slower than its producer, not a busy second.
        queueOldestMessageAgeSeconds: 300,
        // The relay runs every minute: five minutes unsent means it cannot send (EventBridge refuses, the database is away).
        outboxOldestUnsentSeconds: 300,
    } satisfies MonitoringThresholds,
    windows: {
        /** A 5-minute rate: one bad 5 minutes is worth a message. */
        errorRate: { periodSeconds: 300, evaluationPeriods: 1, datapointsToAlarm: 1 },
        throttles: { periodSeconds: 300, evaluationPeriods: 1, datapointsToAlarm: 1 },
        /** 2 of 3 five-minute windows, so one slow cold start (or a resuming database) does not page. */
        latency: { periodSeconds: 300, evaluationPeriods: 3, datapointsToAlarm: 2 },
        /** At its maximum capacity for 15 minutes: scaling has nowhere left to go. */
        databaseCapacity: { periodSeconds: 300, evaluationPeriods: 3, datapointsToAlarm: 3 },
        databaseConnections: { periodSeconds: 300, evaluationPeriods: 2, datapointsToAlarm: 2 },
        databaseCpu: { periodSeconds: 300, evaluationPeriods: 3, datapointsToAlarm: 3 },
        /** 15 minutes, as for the database: a burst that scaling answers is not a problem. */
        containerUtilization: { periodSeconds: 300, evaluationPeriods: 3, datapointsToAlarm: 3 },
        /** One message in a dead-letter queue is a lost piece of work until someone redrives it. */
        deadLetters: { periodSeconds: 60, evaluationPeriods: 1, datapointsToAlarm: 1 },
        /** Behind for 10 minutes: retries of a few messages come and go faster. */
        queueAge: { periodSeconds: 300, evaluationPeriods: 2, datapointsToAlarm: 2 },
        /** Two relay runs in a row reporting it. */
        outboxAge: { periodSeconds: 60, evaluationPeriods: 2, datapointsToAlarm: 2 },
        /** One parked event is one a consumer will not get until someone redrives it. */
        outboxParked: { periodSeconds: 60, evaluationPeriods: 1, datapointsToAlarm: 1 },
        /** Tasks missing for 3 of 5 minutes: long enough for a replacement to start. */
        containerTasks: { periodSeconds: 60, evaluationPeriods: 5, datapointsToAlarm: 3 },
    } satisfies Record<string, Window>,
} as const;

/**
 * The ids (the end of an alarm's name, `alarmName` in platform/naming.ts) of the alarms a release
 * or a container deployment is judged by, so they are named once: a function's error rate and p99
 * duration, the API's 5xx rate and p99 latency (route functions answer a handler's exception with
 * a 500, which Lambda counts as a success), a container service's tasks, CPU and memory.
 */
export const alarmIds = {
    functionErrors: (service: string, id: string) => `${service}-${id}-errors`,
    functionThrottles: (service: string, id: string) => `${service}-${id}-throttles`,
    functionDuration: (service: string, id: string) => `${service}-${id}-duration`,
    apiServerErrorRate: "api-5xx-rate",
    apiLatencyP99: "api-latency-p99",
    containerCpu: (service: string) => `${service}-container-cpu`,
    containerMemory: (service: string) => `${service}-container-memory`,
    containerTasks: (service: string) => `${service}-container-tasks`,
} as const;

/** The alarms that stop a function's gradual release: its error rate and p99 duration, and for a route the API's 5xx rate and p99 latency. */
export function releaseAlarmIds(service: string, id: string, isRoute: boolean): string[] {
    const own = [alarmIds.functionErrors(service, id), alarmIds.functionDuration(service, id)];
    return isRoute ? [...own, alarmIds.apiServerErrorRate, alarmIds.apiLatencyP99] : own;
}

/**
 * The alarms that roll a container service's deployment back (ECS deployment alarms, beside the
 * circuit breaker): its healthy tasks below the minimum (when it keeps some), its memory, and the
 * API's 5xx rate, which its routes' failures raise. CPU is left out: a new task's start is busy.
 */
export function containerDeploymentAlarmIds(service: string, minTasks: number): string[] {
    return [...(minTasks > 0 ? [alarmIds.containerTasks(service)] : []), alarmIds.containerMemory(service), alarmIds.apiServerErrorRate];
}

type AlarmSettings = Omit<aws.cloudwatch.MetricAlarmArgs, "name" | "alarmActions" | "okActions" | "tags">;

/** Makes one alarm: its id (the end of its name, `alarmIds`), what it says when it fires, and what it watches. */
type AlarmMaker = (id: string, description: pulumi.Input<string>, settings: AlarmSettings) => void;

/** A metric: names known at once, dimensions once the resource they name exists. */
interface Metric {
    namespace: string;
    metricName: string;
    dimensions: pulumi.Output<Record<string, string>>;
}

/**
 * Where the stacks deployed before the split into platform and service parts hold these resources:
 * one component of this type and name for all of them. The aliases below resolve to it, so those
 * stacks keep their alarms, topic and dashboard instead of replacing them.
 */
const FORMER_MONITORING = { type: "serverless-microservices:monitoring:Monitoring", name: "monitoring" } as const;

/** The alarms of one part: each notifies the topic on alarm and back to OK; names and ARNs kept for the dashboard. */
class AlarmSet {
    readonly names: string[] = [];
    readonly arns: pulumi.Output<string>[] = [];

    constructor(
        private readonly parent: pulumi.Resource,
        private readonly settings: { environment: string; topicArn: pulumi.Input<string>; tags: Record<string, string>; logicalName: (id: string) => string; aliases?: pulumi.Input<pulumi.Alias>[] },
    ) {}

    readonly add: AlarmMaker = (id, description, settings) => {
        const alarmName = alarmNameOf(pulumi.getProject(), this.settings.environment, id);
        const resource = new aws.cloudwatch.MetricAlarm(
            this.settings.logicalName(id),
            {
                name: alarmName,
                alarmDescription: pulumi.output(description).apply((text) => text.slice(0, 1024)),
                actionsEnabled: true,
                alarmActions: [this.settings.topicArn],
                okActions: [this.settings.topicArn],
                treatMissingData: "notBreaching",
                ...settings,
                tags: this.settings.tags,
            },
            { parent: this.parent, aliases: this.settings.aliases },
        );
        this.names.push(alarmName);
        this.arns.push(resource.arn);
    };
}

/**
 * The environment's part of the monitoring, which no service owns: the SNS topic every alarm of
 * the environment notifies, the alarms of the API, the database and the platform's own functions
 * (the migration runner), and the environment's dashboard `<project>-<environment>` with those.
 *
 * - the API (`AWS/ApiGateway`, `ApiId` + `Stage`): 5xx rate and p99 latency;
 * - the database writer (`AWS/RDS`, `DBClusterIdentifier` + `Role: WRITER`): capacity at its maximum,
 *   connections near `max_connections`, CPU;
 * - per platform function: error rate, throttles, and p99 duration approaching its timeout.
 *
 * Every alarm notifies the topic (alarm and back to OK) and treats missing data as not breaching:
 * no invocations, no requests or a paused database is not a problem. The topic is encrypted with a
 * customer-managed KMS key, not the AWS-managed `alias/aws/sns`: that key's policy cannot be changed
 * and does not let CloudWatch use it, so an alarm could never publish to the topic.
 *
 * The dashboard has a header, the states of these alarms, an API row, the platform functions' row
 * and a database row; each service's own dashboard has the rest (`ServiceMonitoring`). It exists
 * when `dashboard` is true, whatever `alarms` says: dev turns both off (dev is watched in its logs),
 * prod has both.
 */
export class PlatformMonitoring extends pulumi.ComponentResource {
    /** The SNS topic every alarm of the environment notifies; undefined without alarms. */
    readonly alarmTopicArn?: pulumi.Output<string>;
    /** Names of its alarms, in creation order. */
    readonly alarmNames: string[];
    /** The dashboard's console address; undefined without a dashboard. */
    readonly dashboardUrl?: pulumi.Output<string>;

    constructor(name: string, args: PlatformMonitoringArgs, opts?: pulumi.ComponentResourceOptions) {
        const strangers = (args.functions ?? []).filter((fn) => fn.service !== PLATFORM_PART);
        if (strangers.length > 0) {
            throw new Error(`PlatformMonitoring watches the platform's own functions only (service "${PLATFORM_PART}"), not ${strangers.map((fn) => `${fn.service}/${fn.id}`).join(", ")}: a service's functions go to its ServiceMonitoring.`);
        }
        // The children keep their names, so this alias moves them along with the component.
        super(ComponentTypes.platformMonitoring, name, {}, { ...opts, aliases: [...(opts?.aliases ?? []), { type: FORMER_MONITORING.type }] });
        const thresholds: MonitoringThresholds = { ...MONITORING_DEFAULTS.thresholds, ...args.thresholds };
        const tags = args.tags ?? {};
        const functions = args.functions ?? [];

        let alarms: AlarmSet | undefined;
        if (args.alarms) {
            const topic = this.createTopic(name, args, tags);
            this.alarmTopicArn = topic.arn;
            alarms = new AlarmSet(this, { environment: args.environment, topicArn: topic.arn, tags, logicalName: (id) => `${name}-${id}` });
            for (const fn of functions) functionAlarms(fn, thresholds, alarms.add);
            apiAlarms(args.api, thresholds, alarms.add);
            if (args.database) databaseAlarms(args.database, thresholds, alarms.add);
        }
        this.alarmNames = alarms?.names ?? [];

        if (args.dashboard) {
            const title = dashboardNameOf(pulumi.getProject(), args.environment);
            const body = pulumi
                .all([resolvedFunctions(functions), args.api.apiId, args.api.stage, args.database?.clusterIdentifier, pulumi.all(alarms?.arns ?? [])])
                .apply(([resolved, apiId, stage, clusterId, alarmArns]) =>
                    dashboardBody({
                        title,
                        summary: `API \`${apiId}\` (stage \`${stage}\`)${clusterId ? `, database \`${clusterId}\`` : ""}; each service has its own dashboard \`${title}-<service>\`.`,
                        region: args.region,
                        functions: resolved,
                        api: { apiId, stage },
                        database: args.database && clusterId ? { ...args.database, clusterIdentifier: clusterId } : undefined,
                        alarmArns,
                        thresholds,
                    }),
                );
            this.dashboardUrl = createDashboard(this, `${name}-dashboard`, title, args.region, body);
        }

        this.registerOutputs({ alarmTopicArn: this.alarmTopicArn, dashboardUrl: this.dashboardUrl });
    }

    /** The topic, its key (CloudWatch may use it), and the optional email subscription. */
    private createTopic(name: string, args: PlatformMonitoringArgs, tags: Record<string, string>): aws.sns.Topic {
        const caller = aws.getCallerIdentityOutput({}, { parent: this });
        const key = new aws.kms.Key(
            `${name}-alarms-key`,
            {
                description: `Encrypts the alarm topic of ${pulumi.getProject()} (${args.environment})`,
                enableKeyRotation: true,
                deletionWindowInDays: 30,
                policy: caller.apply(({ accountId, arn }) => alarmTopicKeyPolicy(accountId, args.region, arn.split(":")[1] ?? "aws")),
                tags,
            },
            { parent: this },
        );
        const topic = new aws.sns.Topic(
            `${name}-alarms`,
            {
                name: alarmTopicName(pulumi.getProject(), args.environment),
                displayName: `${pulumi.getProject()} ${args.environment} alarms`,
                kmsMasterKeyId: key.arn,
                tags,
            },
            { parent: this },
        );
        if (args.email) {
            new aws.sns.TopicSubscription(`${name}-alarms-email`, { topic: topic.arn, protocol: "email", endpoint: args.email }, { parent: this });
        }
        return topic;
    }
}

/**
 * One service's part of the monitoring, which its own stack can deploy: the alarms of its
 * functions, queues, outbox and container service, each notifying the environment's topic (given
 * by ARN, so it may come from the platform stack's outputs), and, with `dashboard`, the service's
 * dashboard `<project>-<environment>-<service>` with the states of its alarms and a row each for its
 * functions, its queues and its container service.
 *
 * - per function: error rate, throttles, and p99 duration approaching that function's timeout;
 * - per queue consumer: messages in its dead-letter queue, its oldest message's age;
 * - per outbox: its oldest unsent event, and any parked event;
 * - a container service: CPU and memory near their limits, and fewer running tasks than its minimum.
 *
 * Its children are named `<name>-<what>`: with `name` `monitoring-<service>` (as the program does)
 * an alarm keeps the name `monitoring-<alarm id>` it had when one component held every alarm.
 */
export class ServiceMonitoring extends pulumi.ComponentResource {
    /** Names of its alarms, in creation order. */
    readonly alarmNames: string[];
    /** The service dashboard's console address; undefined without a dashboard. */
    readonly dashboardUrl?: pulumi.Output<string>;

    constructor(name: string, args: ServiceMonitoringArgs, opts?: pulumi.ComponentResourceOptions) {
        const problems = serviceMonitoringProblems(args);
        if (problems.length > 0) throw new Error(`ServiceMonitoring of service "${args.service}" cannot be made:\n${problems.map((problem) => `  - ${problem}`).join("\n")}`);
        super(ComponentTypes.serviceMonitoring, name, {}, opts);
        const thresholds: MonitoringThresholds = { ...MONITORING_DEFAULTS.thresholds, ...args.thresholds };
        const tags = args.tags ?? {};
        const functions = args.functions ?? [];
        const queues = args.queues ?? [];
        const containers = args.container ? [args.container] : [];
        const ownPart = (id: string) => id.slice(args.service.length + 1);
        const aliases = [{ parent: pulumi.createUrn(FORMER_MONITORING.name, FORMER_MONITORING.type) }];

        let alarms: AlarmSet | undefined;
        if (args.alarms) {
            alarms = new AlarmSet(this, { environment: args.environment, topicArn: args.alarmTopicArn!, tags, logicalName: (id) => `${name}-${ownPart(id)}`, aliases });
            for (const fn of functions) functionAlarms(fn, thresholds, alarms.add);
            for (const queue of queues) queueAlarms(queue, thresholds, alarms.add);
            for (const outbox of args.outboxes ?? []) outboxAlarms(outbox, thresholds, alarms.add);
            for (const container of containers) containerAlarms(container, thresholds, alarms.add);
        }
        this.alarmNames = alarms?.names ?? [];

        if (args.dashboard) {
            const title = serviceDashboardName(pulumi.getProject(), args.environment, args.service);
            const body = pulumi
                .all([resolvedFunctions(functions), resolvedQueues(queues), resolvedContainers(containers), pulumi.all(alarms?.arns ?? [])])
                .apply(([resolvedFns, resolvedQs, resolvedContainersList, alarmArns]) =>
                    dashboardBody({
                        title,
                        summary: `Service \`${args.service}\` of \`${args.environment}\`; the API, the database and the alarm topic are on \`${dashboardNameOf(pulumi.getProject(), args.environment)}\`.`,
                        region: args.region,
                        functions: resolvedFns,
                        queues: resolvedQs,
                        containers: resolvedContainersList,
                        alarmArns,
                        thresholds,
                    }),
                );
            this.dashboardUrl = createDashboard(this, `${name}-dashboard`, title, args.region, body);
        }

        this.registerOutputs({ dashboardUrl: this.dashboardUrl });
    }
}

/** What is wrong with a service's monitoring arguments: a topic missing for its alarms, or something of another service. */
export function serviceMonitoringProblems(args: ServiceMonitoringArgs): string[] {
    const problems: string[] = [];
    if (args.alarms && args.alarmTopicArn === undefined) problems.push("alarms: needs alarmTopicArn, the ARN of the environment's alarm topic (PlatformMonitoring.alarmTopicArn or the platform stack's output)");
    const watched = [
        ...(args.functions ?? []).map((fn) => ({ what: `function ${fn.id}`, service: fn.service })),
        ...(args.queues ?? []).map((queue) => ({ what: `queue ${queue.id}`, service: queue.service })),
        ...(args.outboxes ?? []).map((outbox) => ({ what: "outbox", service: outbox.service })),
        ...(args.container ? [{ what: "container service", service: args.container.service }] : []),
    ];
    for (const { what, service } of watched) {
        if (service !== args.service) problems.push(`${what}: belongs to service "${service}"; a service's monitoring watches its own resources only`);
    }
    return problems;
}

/** A dashboard, and its console address. */
function createDashboard(parent: pulumi.Resource, logicalName: string, dashboardName: string, region: string, body: pulumi.Output<{ widgets: object[] }>): pulumi.Output<string> {
    const dashboard = new aws.cloudwatch.Dashboard(logicalName, { dashboardName, dashboardBody: body.apply((value) => JSON.stringify(value)) }, { parent });
    return pulumi.interpolate`https://${region}.console.aws.amazon.com/cloudwatch/home?region=${region}#dashboards/dashboard/${dashboard.dashboardName}`;
}

const resolvedFunctions = (functions: readonly MonitoredFunction[]) =>
    pulumi.all(functions.map((fn) => fn.functionName)).apply((names) => functions.map((fn, index) => ({ ...fn, functionName: names[index] })));
const resolvedQueues = (queues: readonly MonitoredQueue[]) =>
    pulumi
        .all(queues.map((queue) => pulumi.all([queue.queueName, queue.deadLetterQueueName])))
        .apply((names) => queues.map((queue, index) => ({ ...queue, queueName: names[index][0], deadLetterQueueName: names[index][1] })));
const resolvedContainers = (containers: readonly MonitoredContainer[]) =>
    pulumi
        .all(containers.map((container) => pulumi.all([container.clusterName, container.serviceName])))
        .apply((names) => containers.map((container, index) => ({ service: container.service, clusterName: names[index][0], serviceName: names[index][1], minTasks: container.minTasks })));

function functionAlarms(fn: MonitoredFunction, t: MonitoringThresholds, alarm: AlarmMaker) {
    const where = `${fn.label} (${fn.service})` + (fn.logGroupName ? `. Logs: ${fn.logGroupName}` : "");
    const dimensions = pulumi.output(fn.functionName).apply((name): Record<string, string> => ({ FunctionName: name }));
    const lambda = (metricName: string): Metric => ({ namespace: "AWS/Lambda", metricName, dimensions });

    alarm(alarmIds.functionErrors(fn.service, fn.id), `More than ${t.functionErrorRatePercent}% of invocations failed (crash, timeout or out of memory) in 5 minutes: ${where}`, {
        ...rateAlarm(lambda("Errors"), lambda("Invocations"), MONITORING_DEFAULTS.windows.errorRate, "errors", "invocations"),
        threshold: t.functionErrorRatePercent,
    });
    alarm(alarmIds.functionThrottles(fn.service, fn.id), `At least ${t.functionThrottles} invocation(s) throttled in 5 minutes (reserved or account concurrency reached): ${where}`, {
        ...metricAlarm(lambda("Throttles"), MONITORING_DEFAULTS.windows.throttles, { statistic: "Sum" }),
        threshold: t.functionThrottles,
    });
    const thresholdMs = Math.round((fn.timeoutSeconds * 1000 * t.functionDurationPercentOfTimeout) / 100);
    alarm(alarmIds.functionDuration(fn.service, fn.id), `p99 duration reached ${t.functionDurationPercentOfTimeout}% of the ${fn.timeoutSeconds} s timeout (${thresholdMs} ms): ${where}`, {
        ...metricAlarm(lambda("Duration"), MONITORING_DEFAULTS.windows.latency, { extendedStatistic: "p99" }),
        threshold: thresholdMs,
    });
}

/**
 * A queue consumer (`AWS/SQS`): any message in its dead-letter queue (work that failed every
 * attempt, waiting to be redriven), and its queue's oldest message waiting longer than the
 * threshold (the consumer fails, or cannot keep up). The consumer function's own alarms (errors,
 * throttles, duration) come with the other functions'; a message that fails inside a batch is
 * not a Lambda error, which is why the queues are watched.
 */
function queueAlarms(queue: MonitoredQueue, t: MonitoringThresholds, alarm: AlarmMaker) {
    const id = `${queue.service}-${queue.id}`;
    const sqs = (name: pulumi.Input<string>, metricName: string): Metric => ({
        namespace: "AWS/SQS",
        metricName,
        dimensions: pulumi.output(name).apply((queueName): Record<string, string> => ({ QueueName: queueName })),
    });
    alarm(`${id}-dead-letters`, `Messages in the dead-letter queue of ${queue.label} (${queue.service}): they failed every attempt. Read them, fix the cause, then redrive them (aws sqs start-message-move-task).`, {
        ...metricAlarm(sqs(queue.deadLetterQueueName, "ApproximateNumberOfMessagesVisible"), MONITORING_DEFAULTS.windows.deadLetters, { statistic: "Maximum" }),
        comparisonOperator: "GreaterThanThreshold",
        threshold: 0,
    });
    alarm(`${id}-oldest-message`, `The oldest message of ${queue.label} (${queue.service}) has waited ${t.queueOldestMessageAgeSeconds} s: its consumer fails or cannot keep up.`, {
        ...metricAlarm(sqs(queue.queueName, "ApproximateAgeOfOldestMessage"), MONITORING_DEFAULTS.windows.queueAge, { statistic: "Maximum" }),
        threshold: t.queueOldestMessageAgeSeconds,
    });
}

/** An outbox: its oldest unsent event (the relay cannot send), and any event EventBridge refuses for good (parked). */
function outboxAlarms(outbox: MonitoredOutbox, t: MonitoringThresholds, alarm: AlarmMaker) {
    const metric = outboxMetric(outbox.service, "oldestUnsentSeconds");
    const description = pulumi.interpolate`An event of ${outbox.service} has waited ${t.outboxOldestUnsentSeconds} s in its outbox unsent: the relay cannot send it. Its reports are in ${outbox.relayLogGroupName}; the rows in ${outbox.service}.platform_outbox (sent_at IS NULL).`;
    alarm(`${outbox.service}-outbox-oldest-unsent`, description, {
        ...metricAlarm({ ...metric, dimensions: pulumi.output<Record<string, string>>(metric.dimensions) }, MONITORING_DEFAULTS.windows.outboxAge, { statistic: "Maximum" }),
        threshold: t.outboxOldestUnsentSeconds,
    });
    const parked = outboxMetric(outbox.service, "parked");
    alarm(
        `${outbox.service}-outbox-parked`,
        pulumi.interpolate`An event of ${outbox.service} is parked in its outbox: EventBridge refuses it for good (too large, invalid or not authorized), so no consumer gets it until it is redriven. List the parked events with the relay's payload {"parked": "list"}, then {"parked": "redrive"} once the cause is fixed, or {"parked": "discard", "eventIds": [...]}. Reports: ${outbox.relayLogGroupName}.`,
        {
            ...metricAlarm({ ...parked, dimensions: pulumi.output<Record<string, string>>(parked.dimensions) }, MONITORING_DEFAULTS.windows.outboxParked, { statistic: "Maximum" }),
            threshold: 1,
            // The relay reports only when it runs (an idle service's does not): the alarm keeps its state between reports.
            treatMissingData: "ignore",
        },
    );
}

/**
 * A container service: CPU and memory (`AWS/ECS`, averaged over its tasks) near their limits,
 * and, when it must keep tasks running, fewer running than its minimum. ECS publishes one
 * CPUUtilization datapoint per running task each minute, so the metric's SampleCount is the
 * number of tasks that run and report: a task that keeps failing its health check is stopped
 * and replaced, and the count stays below the minimum, with no Container Insights to pay for.
 */
function containerAlarms(container: MonitoredContainer, t: MonitoringThresholds, alarm: AlarmMaker) {
    const where = `container service ${container.service}` + (container.logGroupName ? `. Logs: ${container.logGroupName}` : "");
    const dimensions = pulumi.all([container.clusterName, container.serviceName]).apply(([cluster, service]): Record<string, string> => ({ ClusterName: cluster, ServiceName: service }));
    const ecs = (metricName: string): Metric => ({ namespace: "AWS/ECS", metricName, dimensions });
    alarm(alarmIds.containerCpu(container.service), `Average CPU of the ${where} above ${t.containerCpuPercent}% for 15 minutes: scaling has reached maxTasks, or a task is stuck.`, {
        ...metricAlarm(ecs("CPUUtilization"), MONITORING_DEFAULTS.windows.containerUtilization, { statistic: "Average" }),
        threshold: t.containerCpuPercent,
    });
    alarm(alarmIds.containerMemory(container.service), `Average memory of the ${where} above ${t.containerMemoryPercent}% for 15 minutes: tasks near their limit are killed for it. Raise memoryMb.`, {
        ...metricAlarm(ecs("MemoryUtilization"), MONITORING_DEFAULTS.windows.containerUtilization, { statistic: "Average" }),
        threshold: t.containerMemoryPercent,
    });
    if (container.minTasks > 0) {
        alarm(alarmIds.containerTasks(container.service), `Fewer than ${container.minTasks} healthy task(s) of the ${where} for 3 of 5 minutes: tasks fail their health check or cannot start (see the service's events).`, {
            ...metricAlarm(ecs("CPUUtilization"), MONITORING_DEFAULTS.windows.containerTasks, { statistic: "SampleCount" }),
            comparisonOperator: "LessThanThreshold",
            threshold: container.minTasks,
            // No datapoint at all means no task runs: that is the alarm's case, not missing data.
            treatMissingData: "breaching",
        });
    }
}

function apiAlarms(api: PlatformMonitoringArgs["api"], t: MonitoringThresholds, alarm: AlarmMaker) {
    const dimensions = pulumi.all([api.apiId, api.stage]).apply(([apiId, stage]): Record<string, string> => ({ ApiId: apiId, Stage: stage }));
    const apiMetric = (metricName: string): Metric => ({ namespace: "AWS/ApiGateway", metricName, dimensions });
    alarm(alarmIds.apiServerErrorRate, `More than ${t.apiServerErrorRatePercent}% of API requests answered 5xx in 5 minutes. Find them in the API access log by status, then the function log by requestId.`, {
        ...rateAlarm(apiMetric("5xx"), apiMetric("Count"), MONITORING_DEFAULTS.windows.errorRate, "serverErrors", "requests"),
        threshold: t.apiServerErrorRatePercent,
    });
    alarm(alarmIds.apiLatencyP99, `API p99 latency above ${t.apiLatencyP99Ms} ms in 2 of 3 five-minute windows.`, {
        ...metricAlarm(apiMetric("Latency"), MONITORING_DEFAULTS.windows.latency, { extendedStatistic: "p99" }),
        threshold: t.apiLatencyP99Ms,
    });
}

function databaseAlarms(database: NonNullable<PlatformMonitoringArgs["database"]>, t: MonitoringThresholds, alarm: AlarmMaker) {
    const dimensions = pulumi.output(database.clusterIdentifier).apply(writerDimensions);
    const rds = (metricName: string): Metric => ({ namespace: "AWS/RDS", metricName, dimensions });
    const capacity = (database.maxCapacity * t.databaseCapacityPercentOfMax) / 100;
    alarm("database-capacity-at-max", `The database writer ran at ${capacity} ACU (${t.databaseCapacityPercentOfMax}% of its maximum of ${database.maxCapacity}) for 15 minutes: it cannot scale further. Raise database.maxCapacity or find the expensive queries.`, {
        ...metricAlarm(rds("ServerlessDatabaseCapacity"), MONITORING_DEFAULTS.windows.databaseCapacity, { statistic: "Average" }),
        threshold: capacity,
    });
    const limit = estimatedMaxConnections(database.minCapacity, database.maxCapacity);
    const connections = Math.floor((limit * t.databaseConnectionsPercent) / 100);
    alarm("database-connections", `Database connections reached ${connections} (${t.databaseConnectionsPercent}% of about ${limit} max_connections at ${database.maxCapacity} ACU). Check the database functions' reserved concurrency.`, {
        ...metricAlarm(rds("DatabaseConnections"), MONITORING_DEFAULTS.windows.databaseConnections, { statistic: "Maximum" }),
        threshold: connections,
    });
    alarm("database-cpu", `Database writer CPU above ${t.databaseCpuPercent}% for 15 minutes.`, {
        ...metricAlarm(rds("CPUUtilization"), MONITORING_DEFAULTS.windows.databaseCpu, { statistic: "Average" }),
        threshold: t.databaseCpuPercent,
    });
}

/** Aurora publishes each instance metric per cluster and role too; the writer is what the functions use. */
function writerDimensions(clusterIdentifier: string): Record<string, string> {
    return { DBClusterIdentifier: clusterIdentifier, Role: "WRITER" };
}

/** An alarm on one metric's statistic. */
function metricAlarm(metric: Metric, window: Window, stat: { statistic: string } | { extendedStatistic: string }): AlarmSettings {
    return {
        namespace: metric.namespace,
        metricName: metric.metricName,
        dimensions: metric.dimensions,
        ...stat,
        period: window.periodSeconds,
        evaluationPeriods: window.evaluationPeriods,
        datapointsToAlarm: window.datapointsToAlarm,
        comparisonOperator: "GreaterThanOrEqualToThreshold",
    };
}

/** An alarm on `100 * part / whole` (sums over the period), in percent. */
function rateAlarm(part: Metric, whole: Metric, window: Window, partId: string, wholeId: string): AlarmSettings {
    const query = (id: string, metric: Metric) => ({ id, returnData: false, metric: { ...metric, period: window.periodSeconds, stat: "Sum" } });
    return {
        metricQueries: [
            query(partId, part),
            query(wholeId, whole),
            // No invocations: 0 / 0 gives no datapoint, which treatMissingData counts as fine.
            { id: "rate", expression: `100 * ${partId} / ${wholeId}`, label: `${partId} / ${wholeId} (%)`, returnData: true },
        ],
        evaluationPeriods: window.evaluationPeriods,
        datapointsToAlarm: window.datapointsToAlarm,
        comparisonOperator: "GreaterThanOrEqualToThreshold",
    };
}

/**
 * The key policy of the alarm topic's key: the account administers it through IAM, and CloudWatch
 * may encrypt what an alarm publishes (the AWS-managed `alias/aws/sns` key cannot grant this), for
 * this account's alarms in this region only (`aws:SourceAccount`, `aws:SourceArn`), so no other
 * account's alarm can use the key. A wrong condition fails silently: the alarm changes state, its
 * notification is dropped, and only the alarm's history says why ("CloudWatch Alarms does not have
 * authorization to access the SNS topic encryption key").
 */
export function alarmTopicKeyPolicy(accountId: string, region: string, partition = "aws"): string {
    return JSON.stringify({
        Version: "2012-10-17",
        Statement: [
            { Sid: "AccountAdministersTheKey", Effect: "Allow", Principal: { AWS: `arn:${partition}:iam::${accountId}:root` }, Action: "kms:*", Resource: "*" },
            {
                Sid: "CloudWatchAlarmsPublish",
                Effect: "Allow",
                Principal: { Service: "cloudwatch.amazonaws.com" },
                Action: ["kms:Decrypt", "kms:GenerateDataKey*"],
                Resource: "*",
                Condition: {
                    StringEquals: { "aws:SourceAccount": accountId },
                    ArnLike: { "aws:SourceArn": `arn:${partition}:cloudwatch:${region}:${accountId}:alarm:*` },
                },
            },
        ],
    });
}

interface DashboardInput {
    title: string;
    /** The line under the title: what the dashboard covers. */
    summary: string;
    region: string;
    functions: (Omit<MonitoredFunction, "functionName"> & { functionName: string })[];
    /** The API's row, on the environment's dashboard. */
    api?: { apiId: string; stage: string };
    database?: { clusterIdentifier: string; minCapacity: number; maxCapacity: number };
    alarmArns: string[];
    thresholds: MonitoringThresholds;
    containers?: { service: string; clusterName: string; serviceName: string; minTasks: number }[];
    queues?: (Omit<MonitoredQueue, "queueName" | "deadLetterQueueName"> & { queueName: string; deadLetterQueueName: string })[];
}

type MetricLine = (string | Record<string, unknown>)[];

/**
 * A dashboard body (CloudWatch dashboard body structure): a header, the alarms' states, an API row
 * when there is an API, a row per service (one line per function in each graph, and its queues), a
 * row per container service and a database row when there is one. Pure, for tests.
 */
export function dashboardBody(input: DashboardInput): { widgets: object[] } {
    const widgets: object[] = [];
    let y = 0;
    const text = (markdown: string, height = 1) => {
        widgets.push({ type: "text", x: 0, y, width: 24, height, properties: { markdown } });
        y += height;
    };
    const row = (graphs: { title: string; metrics: MetricLine[]; stat: string; annotations?: { label: string; value: number }[] }[]) => {
        const width = Math.floor(24 / graphs.length);
        graphs.forEach((graph, index) =>
            widgets.push({
                type: "metric",
                x: index * width,
                y,
                width,
                height: 6,
                properties: {
                    title: graph.title,
                    region: input.region,
                    view: "timeSeries",
                    stacked: false,
                    period: 60,
                    stat: graph.stat,
                    metrics: graph.metrics,
                    ...(graph.annotations ? { annotations: { horizontal: graph.annotations } } : {}),
                },
            }),
        );
        y += 6;
    };

    text(`# ${input.title}\n${input.summary} Alarm thresholds: \`monitoring.thresholds\` in the stack file.`, 2);
    if (input.alarmArns.length > 0) {
        const height = 2 + Math.ceil(input.alarmArns.length / 4);
        widgets.push({ type: "alarm", x: 0, y, width: 24, height, properties: { title: "Alarms", alarms: input.alarmArns, sortBy: "stateUpdatedTimestamp" } });
        y += height;
    }

    if (input.api) {
        const { apiId, stage } = input.api;
        const api = (metricName: string, options: Record<string, unknown>): MetricLine => ["AWS/ApiGateway", metricName, "ApiId", apiId, "Stage", stage, options];
        text("## API");
        row([
            { title: "Requests", stat: "Sum", metrics: [api("Count", { label: "requests" })] },
            {
                title: "Latency (ms)",
                stat: "p99",
                metrics: [api("Latency", { stat: "p50", label: "p50" }), api("Latency", { stat: "p99", label: "p99" }), api("IntegrationLatency", { stat: "p99", label: "integration p99" })],
                annotations: [{ label: "alarm", value: input.thresholds.apiLatencyP99Ms }],
            },
            { title: "Errors", stat: "Sum", metrics: [api("4xx", { label: "4xx" }), api("5xx", { label: "5xx" })] },
        ]);
    }

    const services = [...new Set(input.functions.map((fn) => fn.service))];
    for (const service of services) {
        const functions = input.functions.filter((fn) => fn.service === service);
        const lines = (metricName: string, stat: string) => functions.map((fn): MetricLine => ["AWS/Lambda", metricName, "FunctionName", fn.functionName, { label: fn.label, stat }]);
        text(`## Service \`${service}\``);
        row([
            { title: "Invocations", stat: "Sum", metrics: lines("Invocations", "Sum") },
            { title: "Errors", stat: "Sum", metrics: lines("Errors", "Sum") },
            { title: "Duration p99 (ms)", stat: "p99", metrics: lines("Duration", "p99") },
            { title: "Throttles", stat: "Sum", metrics: lines("Throttles", "Sum") },
        ]);
        const queues = (input.queues ?? []).filter((queue) => queue.service === service);
        if (queues.length > 0) {
            const sqs = (metricName: string, stat: string, pick: "queueName" | "deadLetterQueueName") =>
                queues.map((queue): MetricLine => ["AWS/SQS", metricName, "QueueName", queue[pick], { label: queue.label, stat }]);
            row([
                { title: "Messages waiting", stat: "Maximum", metrics: sqs("ApproximateNumberOfMessagesVisible", "Maximum", "queueName") },
                { title: "Oldest message (s)", stat: "Maximum", metrics: sqs("ApproximateAgeOfOldestMessage", "Maximum", "queueName"), annotations: [{ label: "alarm", value: input.thresholds.queueOldestMessageAgeSeconds }] },
                { title: "Dead letters", stat: "Maximum", metrics: sqs("ApproximateNumberOfMessagesVisible", "Maximum", "deadLetterQueueName") },
            ]);
        }
    }

    for (const container of input.containers ?? []) {
        const ecs = (metricName: string, stat: string, label: string): MetricLine => ["AWS/ECS", metricName, "ClusterName", container.clusterName, "ServiceName", container.serviceName, { label, stat }];
        text(`## Container service \`${container.service}\``);
        row([
            { title: "CPU (%)", stat: "Average", metrics: [ecs("CPUUtilization", "Average", "average"), ecs("CPUUtilization", "Maximum", "busiest task")], annotations: [{ label: "alarm", value: input.thresholds.containerCpuPercent }] },
            { title: "Memory (%)", stat: "Average", metrics: [ecs("MemoryUtilization", "Average", "average"), ecs("MemoryUtilization", "Maximum", "busiest task")], annotations: [{ label: "alarm", value: input.thresholds.containerMemoryPercent }] },
            { title: "Running tasks", stat: "SampleCount", metrics: [ecs("CPUUtilization", "SampleCount", "tasks reporting")], annotations: [{ label: "minimum", value: container.minTasks }] },
        ]);
    }

    if (input.database) {
        const { clusterIdentifier, minCapacity, maxCapacity } = input.database;
        const rds = (metricName: string, stat: string): MetricLine => ["AWS/RDS", metricName, "DBClusterIdentifier", clusterIdentifier, "Role", "WRITER", { label: "writer", stat }];
        text(`## Database \`${clusterIdentifier}\``);
        row([
            { title: "Capacity (ACU)", stat: "Average", metrics: [rds("ServerlessDatabaseCapacity", "Average")], annotations: [{ label: "maximum", value: maxCapacity }] },
            { title: "Connections", stat: "Maximum", metrics: [rds("DatabaseConnections", "Maximum")], annotations: [{ label: "max_connections (estimate)", value: estimatedMaxConnections(minCapacity, maxCapacity) }] },
            { title: "CPU (%)", stat: "Average", metrics: [rds("CPUUtilization", "Average")], annotations: [{ label: "alarm", value: input.thresholds.databaseCpuPercent }] },
        ]);
    }
    return { widgets };
}
