/**
 * The plan's cost model: an estimated monthly bill for a stack, from the resources the program
 * registers (as `tools/offline.ts` records them) and the list prices in `pricing.ts`.
 *
 * Two numbers a reviewer can compare between stacks and between commits:
 *
 * - **Idle cost**: what the stack costs per month with no traffic at all. Interface endpoints and
 *   NAT gateways bill by the hour, Aurora bills its minimum capacity on every instance (nothing
 *   when it pauses at 0 ACU, which it does only when the server closes idle sessions: a frozen
 *   function's open connection keeps it running at its lowest capacity) plus storage even while paused, Secrets Manager bills per secret,
 *   CloudWatch per alarm and dashboard. Lambda, the HTTP API, log groups, IAM and security groups
 *   cost nothing idle.
 * - **Cost per million requests**, spread evenly over the routes: HTTP API requests, Lambda
 *   requests and compute (each route's memory x an assumed average duration; the worst case runs
 *   every request to the route's timeout), and log ingestion at an assumed size per request.
 *   Database capacity above the floor, database I/O and data transfer depend on what the handlers
 *   do and are not included: the notes say so.
 *
 * Pure functions over plain data, so tests can price synthetic resource lists.
 */
import { ENVIRONMENT } from "../../functions/runtime/environment";
import { Types } from "../../policy/lib/types";
import { AURORA_SERVERLESS_V2 } from "../../policy/lib/limits";
import { OUTBOX_RELAY_DEFAULTS } from "../../platform/triggers/outbox-relay";
import { functionQualifier } from "../../policy/lib/links";
import { readsSqs } from "../../policy/lib/queues";
import { eventCost, idlePollRequestsPerMonth, type EventCostAssumptions, type EventCostEstimate } from "./event-cost";
import { plannedEvents } from "./events";
import { HOURS_PER_MONTH, PRICES, PRICES_AS_OF, PRICING_REGION, PRICING_SOURCE } from "./pricing";
import { clustersWithInstances, endpointServiceOf, endpointTypeOf, endpointUsers, endpointZones, functionSettingsOf, idleSessionTimeoutOf, linkable, natGatewaysOf, natStrategyOf, minimumTasksOf, ofType, routesWithContainers, routesWithFunctions, serviceOf, taskSizeOf, valueOf } from "./resources";
import { type ResourceRecord } from "../registered-resource";

export interface CostAssumptions extends EventCostAssumptions {
    /** Average billed duration of an invocation (a request, or a consumer's batch), in milliseconds. */
    averageDurationMs: number;
    /** Cluster storage assumed for the idle estimate, in GB, per cluster. */
    databaseStorageGb: number;
    /** Log bytes ingested per request (the API's access log line plus the function's lines). */
    logBytesPerRequest: number;
    /** Image storage per ECR repository, in GB: the images its lifecycle policy keeps. */
    imageStorageGbPerRepository: number;
}

export const DEFAULT_ASSUMPTIONS: CostAssumptions = {
    averageDurationMs: 100,
    databaseStorageGb: 1,
    logBytesPerRequest: 1000,
    imageStorageGbPerRepository: 0.5,
    eventBytes: 1024,
};

export interface CostLine {
    /** What is billed, e.g. "Interface VPC endpoints". */
    item: string;
    /** How many of `unit`. */
    quantity: number;
    unit: string;
    /** USD per unit. */
    unitPrice: number;
    /** USD per month (idle) or per million requests (traffic). */
    amount: number;
    /** How the amount was reached, or what it leaves out. */
    note: string;
}

export interface RouteCost {
    routeKey: string;
    /** A container route's requests cost no compute of their own: its tasks are billed by the hour (idle cost). */
    target: "function" | "container";
    service?: string;
    functionName?: string;
    memoryMb: number;
    timeoutSeconds: number;
    architecture: "arm64" | "x86_64";
    /** USD of Lambda compute per million requests at the average duration. */
    computeTypical: number;
    /** USD of Lambda compute per million requests when every request runs to the timeout. */
    computeWorst: number;
}

export interface CostEstimate {
    region: string;
    pricesAsOf: string;
    pricesSource: string;
    assumptions: CostAssumptions;
    idle: { lines: CostLine[]; total: number };
    perMillionRequests: {
        routes: RouteCost[];
        /** Line items at the average duration; `amount` is USD per million requests. */
        lines: CostLine[];
        typical: number;
        /** Same, with every request running to its route's timeout. */
        worstCase: number;
    };
    /** Events: per million of each event, per subscriber and in total; per million runs of each schedule (`event-cost.ts`). */
    perMillionEvents: EventCostEstimate;
    notes: string[];
}

/** Rounds to cents for display and totals (amounts are kept unrounded in lines). */
export function cents(amount: number): number {
    return Math.round(amount * 100) / 100;
}

/** An amount as the plan shows it: `$7.80`. */
export function usd(amount: number): string {
    return `$${cents(amount).toFixed(2)}`;
}

/** ` (for f1, f2)`: the functions an endpoint serves, when any do (container tasks' endpoints serve none). */
function usersNote(users: readonly string[]): string {
    return users.length > 0 ? ` (for ${users.join(", ")})` : "";
}

/** Runs a month of a Scheduler `rate(...)` expression; undefined for a cron or an unknown one. */
function ratesPerMonth(expression: unknown): number | undefined {
    const match = /^rate\((\d+) (minute|minutes|hour|hours|day|days)\)$/.exec(String(expression));
    if (!match) return undefined;
    const minutes = Number(match[1]) * (match[2].startsWith("minute") ? 1 : match[2].startsWith("hour") ? 60 : 1440);
    return (HOURS_PER_MONTH * 60) / minutes;
}

/**
 * What the outbox relays' checks bill with no traffic: a check runs on its schedule whether or not
 * anything was published, and each run asks CloudWatch for one metric per publishing function
 * plus the relay's backlog, then ends without invoking the relay (so the relay costs nothing idle).
 */
function outboxCheckIdleCost(resources: readonly ResourceRecord[], assumptions: CostAssumptions): CostLine[] {
    const checks = ofType(resources, Types.lambdaFunction).flatMap((fn) => {
        const settings = valueOf(fn, "environment")?.variables?.[ENVIRONMENT.outboxRelayCheck];
        // Scheduler invokes the function's alias: the function's ARN with the alias after it.
        const schedule = ofType(resources, Types.schedulerSchedule).find((candidate) => unqualifiedArn(valueOf(candidate, "target")?.arn) === fn.outputs?.arn);
        const runs = ratesPerMonth(schedule && valueOf(schedule, "scheduleExpression"));
        if (typeof settings !== "string" || runs === undefined) return [];
        const { producerFunctionNames } = JSON.parse(settings) as { producerFunctionNames: string[] };
        const { memoryMb, architecture } = functionSettingsOf(fn);
        return [{ runs, metrics: producerFunctionNames.length + 1, gbSeconds: (runs * (memoryMb / 1024) * assumptions.averageDurationMs) / 1000, arm: architecture.split(",")[0] === "arm64" }];
    });
    if (checks.length === 0) return [];
    const runs = checks.reduce((total, check) => total + check.runs, 0);
    const metrics = checks.reduce((total, check) => total + check.runs * check.metrics, 0);
    const gbSecondsCost = checks.reduce((total, check) => total + check.gbSeconds * PRICES.lambda.perGbSecond[check.arm ? "arm64" : "x86_64"], 0);
    const each = `${plural(checks.length, "outbox relay check")}, ${Math.round(runs / checks.length).toLocaleString("en-US")} runs a month each`;
    return [
        line("Outbox checks: Scheduler invocations", runs, "invocations", PRICES.scheduler.perInvocation, `${each} (before Scheduler's 14 million free a month)`),
        line("Outbox checks: Lambda requests and compute", runs, "invocations", PRICES.lambda.perRequest, `the check's invocations at ${assumptions.averageDurationMs} ms each; the relay runs only after a request`, runs * PRICES.lambda.perRequest + gbSecondsCost),
        line(
            "Outbox checks: CloudWatch GetMetricData",
            metrics,
            "metrics requested",
            PRICES.cloudWatch.perMetricRequested,
            `each run reads ${checks.map((check) => check.metrics).join(" + ")} metric(s): the invocations of each publishing function and the relay's backlog (no free tier)`,
        ),
    ];
}

/** The metrics an alarm reads: its own, or each metric query of a metric math alarm. */
function alarmMetrics(alarm: ResourceRecord): Array<{ namespace?: string; metricName?: string }> {
    const queries = valueOf(alarm, "metricQueries");
    if (Array.isArray(queries)) return queries.flatMap((query: { metric?: { namespace?: string; metricName?: string } }) => (query?.metric ? [query.metric] : []));
    return valueOf(alarm, "metricName") ? [{ namespace: valueOf(alarm, "namespace"), metricName: valueOf(alarm, "metricName") }] : [];
}

/** An outbox relay's wake alarm (`relayWake: on-alarm`): the one alarm that reads a service's outbox writes. */
function isOutboxWakeAlarm(alarm: ResourceRecord): boolean {
    return alarmMetrics(alarm).some((metric) => metric.namespace === OUTBOX_RELAY_DEFAULTS.metricNamespace && metric.metricName === OUTBOX_RELAY_DEFAULTS.metrics.writes);
}

/** The wake alarms' evaluation periods (minutes a quiet service's alarm takes to return to OK), lowest and highest. */
function wakeAlarmPeriods(resources: readonly ResourceRecord[]): number[] {
    return ofType(resources, Types.metricAlarm).filter(isOutboxWakeAlarm).map((alarm) => Number(valueOf(alarm, "evaluationPeriods")));
}

/**
 * What the outbox relays' wake alarms bill with no traffic: each alarm bills every metric its
 * expression reads, by the month. Nothing runs per minute, and the OutboxWrites metric the
 * publishing functions' metric filters make bills only in the hours it receives data.
 */
function outboxWakeIdleCost(resources: readonly ResourceRecord[]): CostLine[] {
    const alarms = ofType(resources, Types.metricAlarm).filter(isOutboxWakeAlarm);
    if (alarms.length === 0) return [];
    const metrics = alarms.reduce((total, alarm) => total + alarmMetrics(alarm).length, 0);
    return [
        line(
            "Outbox wake alarms: alarm metrics",
            metrics,
            "alarm-metric-months",
            PRICES.cloudWatch.perAlarmMonth,
            `${plural(alarms.length, "wake alarm")} (one per publishing database service), each reading its outbox writes and its relay's backlog; ` +
                "no check and no GetMetricData; the writes metric bills only in hours it receives data (none idle)",
        ),
    ];
}

/** How long an event the request path left unsent waits for its relay, per what wakes the relays: a note of the plan. */
function relayWaitNote(resources: readonly ResourceRecord[]): string[] {
    const periods = wakeAlarmPeriods(resources);
    const checked = ofType(resources, Types.lambdaFunction).some((fn) => typeof valueOf(fn, "environment")?.variables?.[ENVIRONMENT.outboxRelayCheck] === "string");
    const notes: string[] = [];
    if (periods.length > 0) {
        const [least, most] = [Math.min(...periods), Math.max(...periods)];
        const minutes = least === most ? `${least}` : `${least}-${most}`;
        notes.push(
            `Outbox relays woken by an alarm (events.relayWake on-alarm): an event a request left unsent (a crash or a failed send after its commit) waits for the alarm's return to OK, ` +
                `${minutes} period(s) of ${OUTBOX_RELAY_DEFAULTS.wakePeriodSeconds} s after the service's last write, plus CloudWatch's evaluation delay: minutes, not seconds; under sustained writes it waits until they stop.`,
        );
    }
    if (checked) notes.push("Outbox relays checked every minute (events.relayWake every-minute): an event a request left unsent waits about a minute.");
    return notes;
}

function plural(count: number, word: string): string {
    return `${count} ${word}${count === 1 ? "" : "s"}`;
}

function routeCost(route: ResourceRecord, fn: ResourceRecord | undefined, assumptions: CostAssumptions): RouteCost | undefined {
    if (!fn) return undefined;
    const { memoryMb, timeoutSeconds, architecture: architectures } = functionSettingsOf(fn);
    const architecture = architectures.split(",")[0] === "arm64" ? "arm64" : "x86_64";
    const gbSecond = PRICES.lambda.perGbSecond[architecture];
    const gb = memoryMb / 1024;
    return {
        routeKey: route.inputs.routeKey,
        target: "function",
        service: serviceOf(fn),
        functionName: fn.name,
        memoryMb,
        timeoutSeconds,
        architecture,
        computeTypical: gb * (assumptions.averageDurationMs / 1000) * 1_000_000 * gbSecond,
        computeWorst: gb * timeoutSeconds * 1_000_000 * gbSecond,
    };
}

/** A function ARN without its alias or version, if it has one. */
function unqualifiedArn(arn: unknown): unknown {
    return typeof arn === "string" && functionQualifier(arn) !== undefined ? arn.slice(0, arn.lastIndexOf(":")) : arn;
}

function line(item: string, quantity: number, unit: string, unitPrice: number, note: string, amount = quantity * unitPrice): CostLine {
    return { item, quantity, unit, unitPrice, amount, note };
}

function sum(lines: readonly CostLine[]): number {
    return lines.reduce((total, l) => total + l.amount, 0);
}

/** The idle monthly cost: what the stack's resources bill with no traffic. */
export function idleCost(resources: readonly ResourceRecord[], assumptions: CostAssumptions = DEFAULT_ASSUMPTIONS): CostLine[] {
    const lines: CostLine[] = [];

    // Gateway endpoints (S3, DynamoDB) bill nothing by the hour.
    const endpoints = ofType(resources, Types.vpcEndpoint).filter((endpoint) => endpointTypeOf(endpoint) === "Interface");
    const endpointAzs = endpoints.reduce((total, e) => total + endpointZones(e), 0);
    lines.push(
        line(
            "Interface VPC endpoints",
            endpointAzs * HOURS_PER_MONTH,
            "AZ-hours",
            PRICES.interfaceEndpoint.perAzHour,
            endpoints.length === 0
                ? "none"
                : `${endpoints.map((e) => `${endpointServiceOf(e)} in ${plural(endpointZones(e), "AZ")}${usersNote(endpointUsers(e, resources))}`).join(", ")} x ${HOURS_PER_MONTH} h`,
        ),
    );

    const vpcs = ofType(resources, Types.awsxVpc);
    const explicitNat = ofType(resources, Types.natGateway).length;
    const nat = vpcs.reduce((total, vpc) => total + natGatewaysOf(vpc), 0) + explicitNat;
    const natNote = [
        ...vpcs.map((vpc) => `${vpc.name}: strategy ${valueOf(vpc, "natGateways")?.strategy ?? `${natStrategyOf(vpc)} (awsx default)`} -> ${natGatewaysOf(vpc)}`),
        ...(explicitNat > 0 ? [`${explicitNat} NatGateway resource(s)`] : []),
    ];
    lines.push(line("NAT gateways", nat * HOURS_PER_MONTH, "gateway-hours", PRICES.natGateway.perHour, `${natNote.join("; ") || "no VPC"}; data processed extra`));

    const clusters = clustersWithInstances(resources);
    for (const { cluster, instances } of clusters) {
        const scaling = valueOf(cluster, "serverlessv2ScalingConfiguration") ?? {};
        const minAcu = Number(scaling.minCapacity ?? 0);
        const serverless = instances.filter((i) => valueOf(i, "instanceClass") === "db.serverless");
        const provisioned = instances.length - serverless.length;
        const pause = scaling.secondsUntilAutoPause;
        const idleSessions = idleSessionTimeoutOf(cluster, resources);
        // A 0-ACU cluster pauses only once no session is open; frozen function containers keep
        // theirs unless the server closes idle ones, and then it runs at its lowest capacity.
        const pauses = minAcu === 0 && idleSessions !== undefined;
        const billedAcu = minAcu === 0 && !pauses ? AURORA_SERVERLESS_V2.lowestRunningCapacityAcu : minAcu;
        const how = pauses
            ? `0 ACU floor: assumed paused, as it is ${pause ?? "?"} s after its last session closes; the server closes sessions idle ${idleSessions} s ` +
              `(idle_session_timeout), so frozen functions cannot keep it awake (capacity billed only while it runs)`
            : minAcu === 0
              ? `0 ACU floor, but nothing closes idle sessions: a frozen function's connection keeps it running at ${billedAcu} ACU x ${plural(serverless.length, "instance")} x ${HOURS_PER_MONTH} h`
              : `${minAcu} ACU x ${plural(serverless.length, "instance")} x ${HOURS_PER_MONTH} h (every Serverless v2 instance bills its own ACUs)`;
        lines.push(
            line(
                `Aurora capacity floor (${cluster.name})`,
                billedAcu * serverless.length * HOURS_PER_MONTH,
                "ACU-hours",
                PRICES.aurora.perAcuHour,
                provisioned > 0 ? `${how}; ${provisioned} provisioned instance(s) not priced` : how,
            ),
        );
        lines.push(
            line(
                `Aurora storage (${cluster.name})`,
                assumptions.databaseStorageGb,
                "GB-months",
                PRICES.aurora.storagePerGbMonth,
                `${assumptions.databaseStorageGb} GB assumed; billed while paused too; backups within the cluster size are free`,
            ),
        );
    }

    const proxies = ofType(resources, Types.rdsProxy);
    if (proxies.length > 0) {
        const floorAcus = clusters.reduce((total, { cluster, instances }) => total + Number(valueOf(cluster, "serverlessv2ScalingConfiguration")?.minCapacity ?? 0) * instances.length, 0);
        const billed = Math.max(PRICES.rdsProxy.minimumAcus, floorAcus);
        lines.push(
            line("RDS Proxy", proxies.length * billed * HOURS_PER_MONTH, "ACU-hours", PRICES.rdsProxy.perAcuHour, `${plural(proxies.length, "proxy")} at ${billed} ACUs (8-ACU minimum); also keeps the cluster from pausing`),
        );
    }

    const managedSecrets = clusters.filter(({ cluster }) => valueOf(cluster, "manageMasterUserPassword") !== false).length;
    const ownSecrets = ofType(resources, Types.secretsManagerSecret).length;
    lines.push(
        line(
            "Secrets Manager secrets",
            managedSecrets + ownSecrets,
            "secret-months",
            PRICES.secretsManager.perSecretMonth,
            `${plural(managedSecrets, "RDS-managed master secret")}${ownSecrets ? ` + ${ownSecrets} Secret resource(s)` : ""}; API calls extra`,
        ),
    );

    const keys = ofType(resources, Types.kmsKey).length;
    if (keys > 0) lines.push(line("KMS customer-managed keys", keys, "key-months", PRICES.kms.perCustomerKeyMonth, "requests extra"));

    const alarms = ofType(resources, Types.metricAlarm).filter((alarm) => !isOutboxWakeAlarm(alarm)).length;
    lines.push(line("CloudWatch alarms", alarms, "alarm-months", PRICES.cloudWatch.perAlarmMonth, "standard resolution, before free tier"));
    const dashboards = ofType(resources, Types.dashboard).length;
    lines.push(line("CloudWatch dashboards", dashboards, "dashboard-months", PRICES.cloudWatch.perDashboardMonth, "before free tier"));
    const deploymentGroups = ofType(resources, Types.codedeployDeploymentGroup).length;
    if (deploymentGroups > 0) {
        lines.push(line("CodeDeploy deployment groups (Lambda)", deploymentGroups, "groups", PRICES.codedeploy.perLambdaDeployment, "CodeDeploy charges nothing for Lambda; the alarms it watches are priced above"));
    }

    for (const service of ofType(resources, Types.ecsService)) {
        const task = ofType(resources, Types.ecsTaskDefinition).find((t) => t.parent === service.parent);
        const scaling = ofType(resources, Types.scalingTarget).find((t) => t.parent === service.parent);
        if (!task) continue;
        const { vcpu, memoryGb, architecture } = taskSizeOf(task);
        const price = PRICES.fargate[architecture];
        const tasks = minimumTasksOf(service, scaling);
        const perTaskHour = vcpu * price.perVcpuHour + memoryGb * price.perGbHour;
        const name = valueOf(service, "name") ?? service.name;
        lines.push(
            line(
                `Fargate tasks (${name})`,
                tasks * HOURS_PER_MONTH,
                "task-hours",
                perTaskHour,
                tasks === 0
                    ? "0 tasks at the minimum: scaled to zero, its routes answer 503 until it is scaled up"
                    : `${plural(tasks, "task")} at the minimum x ${vcpu} vCPU / ${memoryGb} GB ${architecture} x ${HOURS_PER_MONTH} h; more while scaled out`,
            ),
        );
        lines.push(line(`Cloud Map instances (${name})`, tasks, "instance-months", PRICES.cloudMap.perInstanceMonth, "one registered instance per running task"));
    }
    const namespaces = ofType(resources, Types.serviceDiscoveryNamespace).length;
    if (namespaces > 0) lines.push(line("Cloud Map namespaces", namespaces, "hosted-zone-months", PRICES.cloudMap.perHostedZoneMonth, "a private DNS namespace is a Route 53 private hosted zone; queries extra"));
    const repositories = ofType(resources, Types.ecrRepository).length;
    if (repositories > 0) {
        lines.push(
            line(
                "ECR image storage",
                repositories * assumptions.imageStorageGbPerRepository,
                "GB-months",
                PRICES.ecr.storagePerGbMonth,
                `${assumptions.imageStorageGbPerRepository} GB assumed per repository (the images its lifecycle policy keeps); pulls through the endpoints are billed as endpoint data`,
            ),
        );
    }

    const mappings = sqsMappings(resources);
    if (mappings > 0) {
        lines.push(
            line(
                "SQS polling of idle queues",
                mappings * idlePollRequestsPerMonth(),
                "requests",
                PRICES.sqs.perRequest,
                `Lambda long-polls each of ${plural(mappings, "mapped queue")} while it is empty; the receives are SQS requests (before the free first million)`,
            ),
        );
    }

    lines.push(...outboxCheckIdleCost(resources, assumptions));
    lines.push(...outboxWakeIdleCost(resources));

    const topics = ofType(resources, Types.snsTopic).length;
    if (topics > 0) lines.push(line("SNS topics", topics, "topics", 0, "no charge idle; billed per publish and delivery"));

    const logGroups = ofType(resources, Types.logGroup).length;
    lines.push(
        line("CloudWatch log storage", logGroups, "log groups", PRICES.cloudWatch.logsStoredPerGbMonth, `negligible idle: $${PRICES.cloudWatch.logsStoredPerGbMonth}/GB-month of what traffic left within retention`, 0),
    );
    return lines;
}

/** The cost of a million requests spread evenly over the routes. */
export function trafficCost(
    resources: readonly ResourceRecord[],
    assumptions: CostAssumptions = DEFAULT_ASSUMPTIONS,
): CostEstimate["perMillionRequests"] {
    const containerRoutes = routesWithContainers(resources);
    const containerUrns = new Set(containerRoutes.map(({ route }) => route.urn));
    const routes = [
        ...routesWithFunctions(resources)
            .filter(({ route }) => !containerUrns.has(route.urn))
            .map(({ route, fn }) => routeCost(route, fn, assumptions))
            .filter((r): r is RouteCost => r !== undefined),
        ...containerRoutes.map(({ route, service, taskDefinition, integration }): RouteCost => ({
            routeKey: route.inputs.routeKey,
            target: "container",
            service: service ? valueOf(service, "name") : undefined,
            memoryMb: taskDefinition ? Number(valueOf(taskDefinition, "memory")) : 0,
            timeoutSeconds: Number(integration.inputs.timeoutMilliseconds ?? 0) / 1000,
            architecture: taskDefinition ? taskSizeOf(taskDefinition).architecture : "arm64",
            computeTypical: 0,
            computeWorst: 0,
        })),
    ];
    const functionShare = routes.length === 0 ? 1 : routes.filter((r) => r.target === "function").length / routes.length;
    const mean = (pick: (r: RouteCost) => number) => (routes.length === 0 ? 0 : routes.reduce((total, r) => total + pick(r), 0) / routes.length);
    const million = 1_000_000;
    const logGb = (assumptions.logBytesPerRequest * million) / 1e9;
    const common = [
        line("HTTP API requests", million, "requests", PRICES.httpApi.perRequest, "first 300 million a month"),
        line(
            "Lambda requests",
            million * functionShare,
            "requests",
            PRICES.lambda.perRequest,
            functionShare === 1 ? "one invocation per request" : "one invocation per request to a function route; container routes invoke none",
        ),
    ];
    const logs = line("CloudWatch Logs ingestion", logGb, "GB", PRICES.cloudWatch.logsIngestedPerGb, `${assumptions.logBytesPerRequest} bytes per request assumed (access log + function lines)`);
    const computeTypical = mean((r) => r.computeTypical);
    const computeWorst = mean((r) => r.computeWorst);
    // Lambda GB-seconds only where a function runs: container routes add none.
    const meanGb = mean((r) => (r.target === "function" ? r.memoryMb / 1024 : 0));
    const lines = [
        ...common,
        line(
            "Lambda compute",
            meanGb * (assumptions.averageDurationMs / 1000) * million,
            "GB-seconds",
            meanGb > 0 ? computeTypical / (meanGb * (assumptions.averageDurationMs / 1000) * million) : PRICES.lambda.perGbSecond.arm64,
            routes.length === 0
                ? "no routes"
                : `${assumptions.averageDurationMs} ms average at each route's memory, spread evenly over ${plural(routes.length, "route")}`,
            computeTypical,
        ),
        logs,
    ];
    const typical = sum(lines);
    return { routes, lines, typical, worstCase: typical - computeTypical + computeWorst };
}

/** The event source mappings that read SQS: each is polled around the clock. */
function sqsMappings(resources: readonly ResourceRecord[]): number {
    const graph = resources.map(linkable);
    return ofType(graph, Types.lambdaEventSourceMapping).filter((mapping) => readsSqs(mapping, graph)).length;
}

/** The whole estimate: idle lines and total, traffic lines and totals, assumptions and what is left out. */
export function estimateCost(resources: readonly ResourceRecord[], assumptions: CostAssumptions = DEFAULT_ASSUMPTIONS): CostEstimate {
    const idleLines = idleCost(resources, assumptions);
    const perMillionRequests = trafficCost(resources, assumptions);
    return {
        region: PRICING_REGION,
        pricesAsOf: PRICES_AS_OF,
        pricesSource: PRICING_SOURCE,
        assumptions,
        idle: { lines: idleLines, total: sum(idleLines) },
        perMillionRequests,
        perMillionEvents: eventCost(plannedEvents(resources), sqsMappings(resources), assumptions),
        notes: [
            `List prices, ${PRICING_REGION}, as of ${PRICES_AS_OF}; no free tier, no tax, no discount.`,
            `Idle: ${HOURS_PER_MONTH} hours a month; Lambda, the HTTP API, log groups, IAM and security groups cost nothing without traffic.`,
            `Per million requests: worst case runs every request to its route's timeout; not included: database capacity above the floor, ` +
                `database I/O ($${PRICES.aurora.perIoRequest * 1_000_000}/million), NAT and endpoint data processing, Secrets Manager API calls, data transfer out.`,
            ...relayWaitNote(resources),
        ],
    };
}
