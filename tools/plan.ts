/**
 * `npm run plan -- --stack <name> [--json] [--compare <other stack>] [--policy-config <file>]`
 *
 * What a stack will contain, whether it passes policy and what it will cost, offline: no Pulumi CLI,
 * no credentials, no network. The program runs in-process under mocks with `Pulumi.<stack>.yaml`
 * (`tools/offline.ts`), the policy pack runs over what it registered (`tools/policy-engine.ts`,
 * with `policy/config.<stack>.json`), and the cost model (`tools/cost.ts`) prices it from the one
 * table of list prices (`tools/pricing.ts`). It prints:
 *
 *   (a) the resources as a tree by component, with the settings a reviewer checks, and the routes,
 *       database, network, API, logging and monitoring settings in short tables;
 *   (b) the policy results;
 *   (c) the estimated monthly cost: idle (no traffic) and per million requests.
 *
 * `--json` prints the same as one JSON document. `--compare prod` plans a second stack and shows
 * the two side by side. Exit code: 0 when every planned stack passes policy, 1 on a mandatory
 * violation, 2 when the program or the arguments are wrong.
 */
import * as path from "path";
import { estimateCost, routesWithFunctions, clustersWithInstances, natGatewaysOf, cents, type CostEstimate, type CostLine } from "./cost";
import { readStackConfig, runProgramOffline, type OfflineResource } from "./offline";
import { formatReport, loadPackConfig, PACK_DIR, packLabel, runPolicies, type PolicyRunResult } from "./policy-engine";

const USAGE =
    "usage: npm run plan -- --stack <name> [--json] [--compare <other stack>] [--policy-config <pack config file>]\n" +
    "  --stack           the stack to plan (Pulumi.<name>.yaml)\n" +
    "  --json            print the plan as JSON\n" +
    "  --compare         also plan another stack and show both side by side\n" +
    "  --policy-config   pack config for --stack (default policy/config.<stack>.json)";

export interface PlanOptions {
    stack: string;
    json: boolean;
    compare?: string;
    policyConfig?: string;
}

export class UsageError extends Error {}

export function parseArgs(argv: readonly string[]): PlanOptions | "help" {
    const options: Partial<PlanOptions> = { json: false };
    for (let i = 0; i < argv.length; i++) {
        const arg = argv[i];
        const [flag, inline] = arg.startsWith("--") && arg.includes("=") ? [arg.slice(0, arg.indexOf("=")), arg.slice(arg.indexOf("=") + 1)] : [arg, undefined];
        const value = () => {
            const v = inline ?? argv[++i];
            if (v === undefined || v === "" || v.startsWith("--")) throw new UsageError(`${flag} needs a value\n${USAGE}`);
            return v;
        };
        switch (flag) {
            case "--stack":
                options.stack = value();
                break;
            case "--compare":
                options.compare = value();
                break;
            case "--policy-config":
                options.policyConfig = value();
                break;
            case "--json":
                options.json = true;
                break;
            case "--help":
            case "-h":
                return "help";
            default:
                throw new UsageError(`unknown argument ${arg}\n${USAGE}`);
        }
    }
    if (!options.stack) throw new UsageError(`--stack is required\n${USAGE}`);
    if (options.compare === options.stack) throw new UsageError(`--compare names the same stack as --stack\n${USAGE}`);
    return options as PlanOptions;
}

// ---------------------------------------------------------------------------------------------
// The plan as data
// ---------------------------------------------------------------------------------------------

export interface TreeNode {
    name: string;
    type: string;
    /** The settings worth a reviewer's glance, in one line; empty for plumbing. */
    detail: string;
    protect?: boolean;
    children: TreeNode[];
}

export interface PlannedRoute {
    routeKey: string;
    method: string;
    path: string;
    service?: string;
    functionName?: string;
    memoryMb?: number;
    timeoutSeconds?: number;
    architecture?: string;
    runtime?: string;
    /** `NONE`, `JWT`, `AWS_IAM` or `CUSTOM`. */
    authorizationType: string;
    /** Scopes a token must carry one of (JWT routes). */
    scopes?: string[];
    reservedConcurrency?: number;
    inVpc: boolean;
    logRetentionDays?: number;
}

export interface PlannedDatabase {
    name: string;
    engine?: string;
    engineVersion?: string;
    minCapacity?: number;
    maxCapacity?: number;
    /** Seconds idle before pausing; absent when the cluster keeps a floor. */
    autoPauseSeconds?: number;
    instances: number;
    readers: number;
    backupRetentionDays?: number;
    deletionProtection: boolean;
    finalSnapshot: boolean;
    protect: boolean;
    storageEncrypted: boolean;
}

export interface PlannedNetwork {
    name: string;
    cidrBlock?: string;
    availabilityZones?: number;
    natStrategy: string;
    natGateways: number;
    endpoints: Array<{ name: string; service: string; type: string; zones: number }>;
}

export interface PlannedApi {
    name: string;
    throttlingRateLimit?: number;
    throttlingBurstLimit?: number;
    accessLogs: boolean;
}

export interface StackPlan {
    stack: string;
    region?: string;
    resourceCount: number;
    tree: TreeNode[];
    routes: PlannedRoute[];
    databases: PlannedDatabase[];
    networks: PlannedNetwork[];
    apis: PlannedApi[];
    logs: { groups: number; retentionDays: number[] };
    monitoring: { alarms: number; dashboards: number; topics: number };
    policy: { pack: string; config: string; passed: boolean } & PolicyRunResult;
    cost: CostEstimate;
}

const short = (type: string) => type.split(":").pop() ?? type;
const yesNo = (value: boolean) => (value ? "yes" : "no");

function get(r: OfflineResource, key: string): any {
    return r.inputs[key] !== undefined ? r.inputs[key] : r.outputs?.[key];
}

function endpointService(serviceName: unknown): string {
    return typeof serviceName === "string" ? serviceName.split(".").pop() ?? serviceName : "?";
}

/** The one-line summary of a resource's reviewer-relevant settings. */
export function describe(r: OfflineResource, resources: readonly OfflineResource[]): string {
    const i = r.inputs;
    switch (r.type) {
        case "aws:lambda/function:Function": {
            const parts = [
                i.environment?.variables?.ROUTE_KEY ? `${i.environment.variables.ROUTE_KEY} ->` : undefined,
                `${i.memorySize ?? 128} MB`,
                `${i.timeout ?? 3} s`,
                (i.architectures ?? ["x86_64"]).join(","),
                i.runtime,
                i.vpcConfig?.subnetIds?.length ? "in VPC" : undefined,
                i.reservedConcurrentExecutions !== undefined && i.reservedConcurrentExecutions >= 0 ? `reserved ${i.reservedConcurrentExecutions}` : undefined,
                i.loggingConfig?.logFormat ? `logs ${i.loggingConfig.logFormat}${i.loggingConfig.applicationLogLevel ? `/${i.loggingConfig.applicationLogLevel}` : ""}` : undefined,
            ];
            return parts.filter(Boolean).join(", ");
        }
        case "aws:apigatewayv2/route:Route":
            return `${i.routeKey}, auth ${i.authorizationType ?? "NONE"}`;
        case "aws:apigatewayv2/integration:Integration":
            return [i.integrationType, i.payloadFormatVersion ? `payload ${i.payloadFormatVersion}` : undefined, i.timeoutMilliseconds ? `timeout ${i.timeoutMilliseconds} ms` : undefined].filter(Boolean).join(", ");
        case "aws:apigatewayv2/api:Api":
            return `${i.protocolType ?? ""}${i.corsConfiguration ? `, CORS ${(i.corsConfiguration.allowOrigins ?? []).join(" ")}` : ""}`;
        case "aws:apigatewayv2/stage:Stage": {
            const s = i.defaultRouteSettings ?? {};
            return `${i.name}, throttling ${s.throttlingRateLimit ?? "?"} rps / burst ${s.throttlingBurstLimit ?? "?"}${i.accessLogSettings ? ", access logs" : ""}`;
        }
        case "aws:cloudwatch/logGroup:LogGroup":
            return `${i.name ?? ""} retention ${i.retentionInDays ?? "never expires"}${i.retentionInDays ? " d" : ""}`;
        case "aws:rds/cluster:Cluster": {
            const s = i.serverlessv2ScalingConfiguration ?? {};
            return [
                `${i.engine} ${i.engineVersion}`,
                `${s.minCapacity}-${s.maxCapacity} ACU`,
                s.secondsUntilAutoPause ? `auto-pause ${s.secondsUntilAutoPause} s` : "no pause",
                `backups ${i.backupRetentionPeriod ?? 1} d`,
                `deletion protection ${i.deletionProtection ? "on" : "off"}`,
                i.skipFinalSnapshot === false ? "final snapshot" : "no final snapshot",
            ].join(", ");
        }
        case "aws:rds/clusterInstance:ClusterInstance":
            return `${i.instanceClass}${i.promotionTier !== undefined ? `, promotion tier ${i.promotionTier}` : ""}`;
        case "awsx:ec2:Vpc":
            return `${i.cidrBlock ?? ""}, ${i.numberOfAvailabilityZones ?? 3} AZs, NAT ${i.natGateways?.strategy ?? "OnePerAz"} (${natGatewaysOf(r)})`;
        case "aws:ec2/vpcEndpoint:VpcEndpoint":
            return `${i.vpcEndpointType ?? "Gateway"} ${endpointService(get(r, "serviceName"))} in ${(get(r, "subnetIds") ?? []).length || 1} AZ(s)`;
        case "aws:cloudwatch/metricAlarm:MetricAlarm":
            return [i.namespace && i.metricName ? `${i.namespace} ${i.metricName}` : i.metricName, i.comparisonOperator && i.threshold !== undefined ? `${i.comparisonOperator} ${i.threshold}` : undefined]
                .filter(Boolean)
                .join(", ");
        case "aws:lambda/invocation:Invocation":
            return "invoked during the update";
        default:
            return "";
    }
}

/** Ordering inside a component: what a reviewer reads first. */
const TYPE_ORDER = [
    "awsx:ec2:Vpc",
    "aws:ec2/vpcEndpoint:VpcEndpoint",
    "aws:rds/cluster:Cluster",
    "aws:rds/clusterInstance:ClusterInstance",
    "aws:apigatewayv2/api:Api",
    "aws:apigatewayv2/stage:Stage",
    "aws:apigatewayv2/route:Route",
    "aws:lambda/function:Function",
    "aws:apigatewayv2/integration:Integration",
    "aws:lambda/invocation:Invocation",
    "aws:cloudwatch/logGroup:LogGroup",
];

function order(r: OfflineResource): number {
    if (!r.custom) return -1; // components first
    const index = TYPE_ORDER.indexOf(r.type);
    return index === -1 ? TYPE_ORDER.length : index;
}

export function buildTree(resources: readonly OfflineResource[]): TreeNode[] {
    const urns = new Set(resources.map((r) => r.urn));
    const children = new Map<string | undefined, OfflineResource[]>();
    for (const r of resources) {
        const parent = r.parent && urns.has(r.parent) ? r.parent : undefined;
        children.set(parent, [...(children.get(parent) ?? []), r]);
    }
    const node = (r: OfflineResource): TreeNode => ({
        name: r.name,
        type: r.type,
        detail: describe(r, resources),
        ...(r.protect ? { protect: true } : {}),
        children: (children.get(r.urn) ?? [])
            .slice()
            .sort((a, b) => order(a) - order(b) || a.type.localeCompare(b.type) || a.name.localeCompare(b.name))
            .map(node),
    });
    return (children.get(undefined) ?? []).map(node);
}

export function summarize(stack: string, resources: readonly OfflineResource[], config: Record<string, unknown>): Omit<StackPlan, "policy" | "cost"> {
    const ofType = (type: string) => resources.filter((r) => r.type === type);
    const logGroups = ofType("aws:cloudwatch/logGroup:LogGroup");
    const retentionOf = (name: unknown) => logGroups.find((g) => g.inputs.name === name)?.inputs.retentionInDays;

    const routes: PlannedRoute[] = routesWithFunctions(resources).map(({ route, fn }) => {
        const routeKey: string = route.inputs.routeKey ?? "?";
        const [method, ...rest] = routeKey.split(" ");
        const f = fn?.inputs;
        return {
            routeKey,
            method: rest.length > 0 ? method : "",
            path: rest.length > 0 ? rest.join(" ") : routeKey,
            service: f?.environment?.variables?.SERVICE_NAME,
            functionName: fn?.name,
            memoryMb: f ? Number(f.memorySize ?? 128) : undefined,
            timeoutSeconds: f ? Number(f.timeout ?? 3) : undefined,
            architecture: f ? (f.architectures ?? ["x86_64"]).join(",") : undefined,
            runtime: f?.runtime,
            authorizationType: route.inputs.authorizationType ?? "NONE",
            ...(Array.isArray(route.inputs.authorizationScopes) ? { scopes: route.inputs.authorizationScopes.map(String) } : {}),
            ...(f && f.reservedConcurrentExecutions !== undefined && f.reservedConcurrentExecutions >= 0 ? { reservedConcurrency: Number(f.reservedConcurrentExecutions) } : {}),
            inVpc: Boolean(f?.vpcConfig?.subnetIds?.length),
            logRetentionDays: retentionOf(f?.loggingConfig?.logGroup),
        };
    });
    routes.sort((a, b) => a.path.localeCompare(b.path) || a.method.localeCompare(b.method));

    const databases: PlannedDatabase[] = clustersWithInstances(resources).map(({ cluster, instances }) => {
        const i = cluster.inputs;
        const s = i.serverlessv2ScalingConfiguration ?? {};
        return {
            name: cluster.name,
            engine: i.engine,
            engineVersion: i.engineVersion,
            minCapacity: s.minCapacity,
            maxCapacity: s.maxCapacity,
            ...(s.secondsUntilAutoPause !== undefined ? { autoPauseSeconds: s.secondsUntilAutoPause } : {}),
            instances: instances.length,
            readers: Math.max(0, instances.length - 1),
            backupRetentionDays: i.backupRetentionPeriod,
            deletionProtection: Boolean(i.deletionProtection),
            finalSnapshot: i.skipFinalSnapshot === false,
            protect: Boolean((cluster as OfflineResource).protect),
            storageEncrypted: Boolean(i.storageEncrypted),
        };
    });

    const endpoints = ofType("aws:ec2/vpcEndpoint:VpcEndpoint");
    const networks: PlannedNetwork[] = ofType("awsx:ec2:Vpc").map((vpc) => ({
        name: vpc.name,
        cidrBlock: vpc.inputs.cidrBlock,
        availabilityZones: vpc.inputs.numberOfAvailabilityZones,
        natStrategy: vpc.inputs.natGateways?.strategy ?? "OnePerAz",
        natGateways: natGatewaysOf(vpc),
        endpoints: endpoints
            .filter((e) => e.parent === vpc.parent)
            .map((e) => ({ name: e.name, service: endpointService(get(e, "serviceName")), type: get(e, "vpcEndpointType") ?? "Gateway", zones: (get(e, "subnetIds") ?? []).length || 1 })),
    }));

    const apis: PlannedApi[] = ofType("aws:apigatewayv2/stage:Stage").map((stage) => ({
        name: stage.name,
        throttlingRateLimit: stage.inputs.defaultRouteSettings?.throttlingRateLimit,
        throttlingBurstLimit: stage.inputs.defaultRouteSettings?.throttlingBurstLimit,
        accessLogs: Boolean(stage.inputs.accessLogSettings),
    }));

    return {
        stack,
        region: typeof config["aws:region"] === "string" ? (config["aws:region"] as string) : undefined,
        resourceCount: resources.filter((r) => r.custom).length,
        tree: buildTree(resources),
        routes,
        databases,
        networks,
        apis,
        logs: {
            groups: logGroups.length,
            retentionDays: [...new Set(logGroups.map((g) => Number(g.inputs.retentionInDays ?? 0)))].sort((a, b) => a - b),
        },
        monitoring: {
            alarms: ofType("aws:cloudwatch/metricAlarm:MetricAlarm").length,
            dashboards: ofType("aws:cloudwatch/dashboard:Dashboard").length,
            topics: ofType("aws:sns/topic:Topic").length,
        },
    };
}

export interface PlanInputs {
    stack: string;
    /** Pack config file; default `policy/config.<stack>.json`. */
    policyConfig?: string;
    /** Raw `namespace:key` stack config instead of `Pulumi.<stack>.yaml` (tests plant values here). */
    stackConfig?: Record<string, unknown>;
}

/** Runs the program offline for one stack, then the policy pack and the cost model over it. */
export async function planStack(inputs: PlanInputs): Promise<StackPlan> {
    const configFile = inputs.policyConfig ?? path.join(PACK_DIR, `config.${inputs.stack}.json`);
    const packConfig = loadPackConfig(configFile);
    const stackConfig = inputs.stackConfig ?? readStackConfig(inputs.stack);
    const { resources } = await runProgramOffline({ stack: inputs.stack, config: stackConfig });
    const policy = await runPolicies(resources, packConfig);
    return {
        ...summarize(inputs.stack, resources, stackConfig),
        policy: { pack: packLabel(), config: path.relative(process.cwd(), configFile) || configFile, passed: policy.mandatory === 0, ...policy },
        cost: estimateCost(resources),
    };
}

// ---------------------------------------------------------------------------------------------
// Text
// ---------------------------------------------------------------------------------------------

const usd = (amount: number) => `$${cents(amount).toFixed(2)}`;

/** A number for a quantity column: thousands separated, at most two decimals. */
function qty(n: number): string {
    return n.toLocaleString("en-US", { maximumFractionDigits: 2 });
}

function unitPrice(n: number): string {
    if (n === 0) return "$0";
    if (n >= 1) return `$${n.toFixed(2)}`;
    // Keep every significant digit of a list price: $0.045, $0.0000133334, $0.0000002.
    const digits = n.toFixed(10).replace(/0+$/, "");
    return `$${digits.length - digits.indexOf(".") - 1 < 2 ? n.toFixed(2) : digits}`;
}

function table(rows: string[][], indent = "  "): string[] {
    const widths = rows[0].map((_, column) => Math.max(...rows.map((row) => (row[column] ?? "").length)));
    return rows.map((row) => (indent + row.map((cell, column) => (column === row.length - 1 ? cell : cell.padEnd(widths[column]))).join("  ")).trimEnd());
}

function renderTree(nodes: readonly TreeNode[], prefix = ""): string[] {
    const lines: string[] = [];
    nodes.forEach((n, index) => {
        const last = index === nodes.length - 1;
        const label = `${n.name} (${short(n.type)})${n.protect ? " [protected]" : ""}${n.detail ? `  ${n.detail}` : ""}`;
        lines.push(`${prefix}${prefix === "" && nodes.length === 1 ? "" : last ? "└─ " : "├─ "}${label}`);
        const childPrefix = prefix === "" && nodes.length === 1 ? "" : prefix + (last ? "   " : "│  ");
        lines.push(...renderTree(n.children, childPrefix));
    });
    return lines;
}

function costLines(lines: readonly CostLine[]): string[][] {
    return lines.map((l) => [l.item, `${qty(l.quantity)} ${l.unit}`, `x ${unitPrice(l.unitPrice)}`, usd(l.amount), l.note]);
}

export function formatCost(cost: CostEstimate): string[] {
    const t = cost.perMillionRequests;
    const out = [
        `ESTIMATED MONTHLY COST (USD, ${cost.region} list prices as of ${cost.pricesAsOf}, tools/pricing.ts)`,
        "",
        "Idle: the stack with no traffic, per month",
        ...table([...costLines(cost.idle.lines), ["Idle total", "", "", usd(cost.idle.total), ""]]),
        "",
        `Per million requests, spread evenly over ${t.routes.length} route(s), at each route's memory and timeout`,
        ...table([
            ...costLines(t.lines),
            [`Typical total (${cost.assumptions.averageDurationMs} ms average)`, "", "", usd(t.typical), ""],
            ["Worst case (every request runs to its timeout)", "", "", usd(t.worstCase), ""],
        ]),
    ];
    if (t.routes.length > 0) {
        out.push("", "Lambda compute per million requests, by route");
        out.push(
            ...table([
                ["ROUTE", "MEMORY", "TIMEOUT", "ARCH", `@${cost.assumptions.averageDurationMs} MS`, "@TIMEOUT"],
                ...[...t.routes].sort((x, y) => x.routeKey.localeCompare(y.routeKey)).map((r) => [r.routeKey, `${r.memoryMb} MB`, `${r.timeoutSeconds} s`, r.architecture, usd(r.computeTypical), usd(r.computeWorst)]),
            ]),
        );
    }
    out.push("", ...cost.notes.map((n) => `Note: ${n}`));
    return out;
}

export function formatPlan(plan: StackPlan): string {
    const out: string[] = [
        `PLAN: stack ${plan.stack}${plan.region ? ` (${plan.region})` : ""}: ${plan.resourceCount} cloud resources in ${plan.policy.resources - plan.resourceCount} components, ${plan.routes.length} routes`,
        `Offline: the program ran under mocks with Pulumi.${plan.stack}.yaml; no credentials, no cloud. Ids and ARNs are placeholders.`,
        "",
        "RESOURCES (by component)",
        ...renderTree(plan.tree).map((l) => `  ${l}`),
        "",
        `ROUTES (${plan.routes.length})`,
        ...(plan.routes.length === 0
            ? ["  none"]
            : table([
                  ["METHOD", "PATH", "SERVICE", "MEMORY", "TIMEOUT", "AUTH", "VPC", "RESERVED", "LOG RETENTION"],
                  ...plan.routes.map((r) => [
                      r.method,
                      r.path,
                      r.service ?? "-",
                      r.memoryMb !== undefined ? `${r.memoryMb} MB` : "-",
                      r.timeoutSeconds !== undefined ? `${r.timeoutSeconds} s` : "-",
                      r.authorizationType + (r.scopes?.length ? ` (${r.scopes.join(" or ")})` : ""),
                      yesNo(r.inVpc),
                      r.reservedConcurrency !== undefined ? String(r.reservedConcurrency) : "-",
                      r.logRetentionDays !== undefined ? `${r.logRetentionDays} d` : "-",
                  ]),
              ])),
        "",
        "DATABASE",
        ...(plan.databases.length === 0
            ? ["  none (no service uses the database)"]
            : plan.databases.flatMap((d) => [
                  `  ${d.name}: ${d.engine} ${d.engineVersion}`,
                  `    capacity ${d.minCapacity}-${d.maxCapacity} ACU per instance; ${d.autoPauseSeconds !== undefined ? `auto-pause after ${d.autoPauseSeconds} s idle` : "never pauses"}`,
                  `    instances ${d.instances} (writer + ${d.readers} reader${d.readers === 1 ? "" : "s"}); backups ${d.backupRetentionDays} d; deletion protection ${yesNo(d.deletionProtection)}; ` +
                      `final snapshot ${yesNo(d.finalSnapshot)}; pulumi protect ${yesNo(d.protect)}; storage encrypted ${yesNo(d.storageEncrypted)}`,
              ])),
        "",
        "NETWORK",
        ...(plan.networks.length === 0
            ? ["  none"]
            : plan.networks.flatMap((n) => [
                  `  ${n.name}: ${n.cidrBlock ?? "?"}, ${n.availabilityZones ?? "?"} AZs, NAT ${n.natStrategy} (${n.natGateways} gateway${n.natGateways === 1 ? "" : "s"})`,
                  `    endpoints: ${n.endpoints.length === 0 ? "none" : n.endpoints.map((e) => `${e.service} (${e.type}, ${e.zones} AZ${e.zones === 1 ? "" : "s"})`).join(", ")}`,
              ])),
        "",
        "API",
        ...plan.apis.map((a) => `  ${a.name}: throttling ${a.throttlingRateLimit ?? "?"} rps, burst ${a.throttlingBurstLimit ?? "?"}; access logs ${yesNo(a.accessLogs)}`),
        "",
        "LOGS AND MONITORING",
        `  ${plan.logs.groups} log groups, retention ${plan.logs.retentionDays.map((d) => (d === 0 ? "never expires" : `${d} d`)).join(", ") || "-"}`,
        `  ${plan.monitoring.alarms} alarms, ${plan.monitoring.dashboards} dashboards, ${plan.monitoring.topics} SNS topics`,
        "",
        "POLICY",
        ...formatReport(plan.policy, `Policy pack ${plan.policy.pack} (config ${plan.policy.config})`)
            .split("\n")
            .map((l) => (l ? `  ${l}` : l)),
        "",
        ...formatCost(plan.cost),
    ];
    return out.join("\n");
}

// ---------------------------------------------------------------------------------------------
// Comparison
// ---------------------------------------------------------------------------------------------

export interface ComparisonRow {
    section: "settings" | "routes" | "idle cost" | "per million requests" | "policy";
    item: string;
    values: [string, string];
}

function keySettings(plan: StackPlan): Map<string, string> {
    const settings = new Map<string, string>();
    settings.set("resources", String(plan.resourceCount));
    settings.set("routes", String(plan.routes.length));
    for (const a of plan.apis) settings.set(`API throttling (${a.name})`, `${a.throttlingRateLimit} rps / ${a.throttlingBurstLimit} burst`);
    for (const n of plan.networks) {
        settings.set(`AZs (${n.name})`, String(n.availabilityZones));
        settings.set(`NAT (${n.name})`, `${n.natStrategy} (${n.natGateways})`);
        settings.set(`endpoints (${n.name})`, n.endpoints.map((e) => `${e.service} x${e.zones} AZ`).join(", ") || "none");
    }
    for (const d of plan.databases) {
        settings.set(`engine (${d.name})`, `${d.engine} ${d.engineVersion}`);
        settings.set(`ACU min-max (${d.name})`, `${d.minCapacity}-${d.maxCapacity}`);
        settings.set(`auto-pause (${d.name})`, d.autoPauseSeconds !== undefined ? `${d.autoPauseSeconds} s` : "never");
        settings.set(`instances (${d.name})`, `${d.instances} (${d.readers} reader${d.readers === 1 ? "" : "s"})`);
        settings.set(`backups (${d.name})`, `${d.backupRetentionDays} d`);
        settings.set(`deletion protection (${d.name})`, yesNo(d.deletionProtection));
        settings.set(`pulumi protect (${d.name})`, yesNo(d.protect));
    }
    settings.set("log retention", plan.logs.retentionDays.map((d) => `${d} d`).join(", "));
    settings.set("alarms / dashboards", `${plan.monitoring.alarms} / ${plan.monitoring.dashboards}`);
    return settings;
}

function pair<K>(a: Map<K, string>, b: Map<K, string>): Array<[K, [string, string]]> {
    const keys = [...a.keys(), ...[...b.keys()].filter((k) => !a.has(k))];
    return keys.map((k) => [k, [a.get(k) ?? "-", b.get(k) ?? "-"]]);
}

export function compare(a: StackPlan, b: StackPlan): ComparisonRow[] {
    const rows: ComparisonRow[] = [];
    for (const [item, values] of pair(keySettings(a), keySettings(b))) rows.push({ section: "settings", item, values });
    const routeSettings = (p: StackPlan) =>
        new Map(p.routes.map((r) => [r.routeKey, `${r.memoryMb ?? "-"} MB, ${r.timeoutSeconds ?? "-"} s, auth ${r.authorizationType}${r.reservedConcurrency !== undefined ? `, reserved ${r.reservedConcurrency}` : ""}`]));
    for (const [item, values] of pair(routeSettings(a), routeSettings(b))) rows.push({ section: "routes", item, values });
    const idle = (p: StackPlan) => new Map(p.cost.idle.lines.map((l) => [l.item, usd(l.amount)]));
    for (const [item, values] of pair(idle(a), idle(b))) rows.push({ section: "idle cost", item, values });
    rows.push({ section: "idle cost", item: "Idle total per month", values: [usd(a.cost.idle.total), usd(b.cost.idle.total)] });
    const traffic = (p: StackPlan) => new Map(p.cost.perMillionRequests.lines.map((l) => [l.item, usd(l.amount)]));
    for (const [item, values] of pair(traffic(a), traffic(b))) rows.push({ section: "per million requests", item, values });
    rows.push({ section: "per million requests", item: "Typical total", values: [usd(a.cost.perMillionRequests.typical), usd(b.cost.perMillionRequests.typical)] });
    rows.push({ section: "per million requests", item: "Worst case (full timeout)", values: [usd(a.cost.perMillionRequests.worstCase), usd(b.cost.perMillionRequests.worstCase)] });
    const verdict = (p: StackPlan) => `${p.policy.passed ? "passed" : "FAILED"} (${p.policy.mandatory} mandatory, ${p.policy.advisory} advisory)`;
    rows.push({ section: "policy", item: "policy pack", values: [verdict(a), verdict(b)] });
    return rows;
}

export function formatComparison(a: StackPlan, b: StackPlan, rows: readonly ComparisonRow[] = compare(a, b)): string {
    const out = [`COMPARE: ${a.stack} vs ${b.stack}`];
    for (const section of ["settings", "routes", "idle cost", "per million requests", "policy"] as const) {
        const inSection = rows.filter((r) => r.section === section);
        if (inSection.length === 0) continue;
        out.push("", ...table([[section.toUpperCase(), a.stack, b.stack], ...inSection.map((r) => [r.item, r.values[0], r.values[1]])]));
    }
    return out.join("\n");
}

// ---------------------------------------------------------------------------------------------
// The command
// ---------------------------------------------------------------------------------------------

export interface MainIo {
    out: (text: string) => void;
    err: (text: string) => void;
    /** Stack config overrides by stack name (tests plant values here). */
    stackConfig?: Record<string, Record<string, unknown>>;
}

const defaultIo: MainIo = {
    out: (text) => process.stdout.write(text.endsWith("\n") ? text : `${text}\n`),
    err: (text) => process.stderr.write(text.endsWith("\n") ? text : `${text}\n`),
};

/** The CLI without `process`: returns the exit code (0 pass, 1 mandatory violation, 2 error). */
export async function main(argv: readonly string[], io: MainIo = defaultIo): Promise<number> {
    let options: PlanOptions | "help";
    try {
        options = parseArgs(argv);
    } catch (error) {
        io.err((error as Error).message);
        return 2;
    }
    if (options === "help") {
        io.out(USAGE);
        return 0;
    }
    try {
        const plan = await planStack({ stack: options.stack, policyConfig: options.policyConfig, stackConfig: io.stackConfig?.[options.stack] });
        const other = options.compare ? await planStack({ stack: options.compare, stackConfig: io.stackConfig?.[options.compare] }) : undefined;
        if (options.json) {
            io.out(JSON.stringify(other ? { stacks: [plan, other], comparison: compare(plan, other) } : plan, null, 2));
        } else {
            io.out(formatPlan(plan));
            if (other) {
                // The other stack in full is one `--stack` away; here its policy findings, if any, and the side-by-side.
                const findings = other.policy.violations.length > 0 ? ["", `POLICY (${other.stack})`, formatReport(other.policy, `Policy pack ${other.policy.pack} (config ${other.policy.config})`)] : [];
                io.out([...findings, "", formatComparison(plan, other)].join("\n"));
            }
        }
        return [plan, other].some((p) => p && !p.policy.passed) ? 1 : 0;
    } catch (error) {
        io.err(`plan failed: ${error instanceof Error ? error.message : String(error)}`);
        return 2;
    }
}

if (require.main === module) {
    main(process.argv.slice(2)).then(
        (code) => process.exit(code),
        (error) => {
            console.error(error);
            process.exit(2);
        },
    );
}
