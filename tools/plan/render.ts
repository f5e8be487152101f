/**
 * The plan's views: the text report `npm run plan` prints for one stack (resource tree, settings
 * tables, policy, cost) and the side-by-side of two, and the JSON document `--json` prints (the
 * model of `model.ts` as it is). A new plan column shows up here once the model has it.
 */
import * as path from "node:path";
import { REPOSITORY_ROOT } from "../offline";
import { formatReport } from "../policy-engine";
import { usd, type CostEstimate, type CostLine } from "./cost";
import type { BatchingCost, EventCostEstimate } from "./event-cost";
import { eventLabelOf } from "./event-cost";
import type { PlannedDeliveryRetry, PlannedEvents, PlannedQueueConsumer } from "./events";
import { LAMBDA } from "../../policy/lib/limits";
import { PROJECT } from "../../platform/config/stack-config";
import { compare, yesNo, type ComparisonRow, type PlannedConcurrency, type PlannedDatabase, type StackPlan, type TreeNode } from "./model";

/** Where the prices come from, as the heading of the cost section names it. */
const PRICES_FILE = path.relative(REPOSITORY_ROOT, path.join(__dirname, "pricing.ts")).split(path.sep).join("/");

const short = (type: string) => type.split(":").pop() ?? type;

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
        `ESTIMATED MONTHLY COST (USD, ${cost.region} list prices as of ${cost.pricesAsOf}, ${PRICES_FILE})`,
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
        out.push("", "Lambda compute per million requests, by route (a container route's compute is its tasks' hours, in the idle cost)");
        out.push(
            ...table([
                ["ROUTE", "TARGET", "MEMORY", "TIMEOUT", "ARCH", `@${cost.assumptions.averageDurationMs} MS`, "@TIMEOUT"],
                ...[...t.routes]
                    .sort((x, y) => x.routeKey.localeCompare(y.routeKey))
                    .map((r) => [r.routeKey, r.target, `${r.memoryMb} MB`, `${r.timeoutSeconds} s`, r.architecture, usd(r.computeTypical), usd(r.computeWorst)]),
            ]),
        );
    }
    out.push(...formatEventCost(cost.perMillionEvents));
    out.push("", ...cost.notes.map((n) => `Note: ${n}`));
    return out;
}

/** Seconds as the plan shows a retention or a window: `14 d`, `6 h`, `90 s`. */
function duration(seconds: number | undefined): string {
    if (seconds === undefined) return "-";
    if (seconds >= 2 * 86_400 && seconds % 86_400 === 0) return `${seconds / 86_400} d`;
    if (seconds > 0 && seconds % 3_600 === 0) return `${seconds / 3_600} h`;
    return `${seconds} s`;
}

function deliveryRetry(d: PlannedDeliveryRetry): string {
    return `${d.maximumRetryAttempts} retries over ${duration(d.maximumEventAgeSeconds)}, then ${d.deadLetterQueue ?? "dropped"}`;
}

/** The columns a queue's consumer shows, subscriber or schedule alike. */
function consumerColumns(c: Partial<PlannedQueueConsumer>): string[] {
    return [
        c.queue ?? "-",
        c.batchSize !== undefined ? `${c.batchSize}${c.batchWindowSeconds ? ` in ${c.batchWindowSeconds} s` : ""}` : "-",
        c.maxReceiveCount !== undefined ? String(c.maxReceiveCount) : "-",
        c.maxConcurrency !== undefined ? String(c.maxConcurrency) : "-",
        c.functionName ? `${c.functionName} (${c.memoryMb} MB, ${c.timeoutSeconds} s)` : "-",
        duration(c.visibilityTimeoutSeconds),
        c.deadLetterQueue ? `${c.deadLetterQueue} (${duration(c.deadLetterRetentionSeconds)})` : "none",
    ];
}

const CONSUMER_HEADINGS = ["QUEUE", "BATCH", "ATTEMPTS", "CONCURRENCY", "CONSUMER (MEMORY, TIMEOUT)", "VISIBILITY", "DEAD-LETTER QUEUE (KEPT)"];

/** Each event from its producer to its subscribers, and each schedule, with the settings that decide delivery. */
export function formatEvents(events: PlannedEvents): string[] {
    const flows = events.flows.flatMap((flow) => [
        `  ${eventLabelOf(flow)}${flow.bus && events.buses.length > 1 ? ` on ${flow.bus}` : ""}: ${flow.subscribers.length} subscriber${flow.subscribers.length === 1 ? "" : "s"}`,
        ...table(
            [
                ["SUBSCRIBER", ...CONSUMER_HEADINGS, "DELIVERY (EVENTBRIDGE TO QUEUE)"],
                ...flow.subscribers.map((s) => [
                    `${s.service ?? "?"}/${s.subscription ?? s.rule}`,
                    ...(s.queue !== undefined ? consumerColumns(s) : [`target ${s.target ?? "?"}`, "", "", "", "", "", ""]),
                    deliveryRetry(s.delivery),
                ]),
            ],
            "    ",
        ),
    ]);
    const schedules = events.schedules.length === 0
        ? ["  none"]
        : table([
              ["SCHEDULE", "EXPRESSION", "TIME ZONE", ...CONSUMER_HEADINGS, "DELIVERY (SCHEDULER TO QUEUE)"],
              ...events.schedules.map((s) => [
                  `${s.service ?? "?"}/${s.schedule ?? s.name}${s.state && s.state !== "ENABLED" ? ` (${s.state})` : ""}`,
                  s.expression,
                  s.timeZone,
                  ...(s.queue !== undefined ? consumerColumns(s) : [`target ${s.target ?? "?"}`, "", "", "", "", "", ""]),
                  deliveryRetry(s.delivery),
              ]),
          ]);
    return [
        `EVENTS (${events.buses.length === 0 ? "no bus" : `bus ${events.buses.join(", ")}`})`,
        ...(flows.length === 0 ? ["  none (no rule on a bus)"] : flows),
        "",
        `SCHEDULES (${events.schedules.length})`,
        ...schedules,
    ];
}

function batchingRow(label: string, batch: string, c: BatchingCost, alone?: number): string[] {
    const requests = c.sqsRequests.send + c.sqsRequests.receive + c.sqsRequests.delete;
    return [label, batch, qty(requests), usd(c.sqs), qty(c.lambdaInvocations), usd(c.lambdaRequests), usd(c.lambdaCompute), usd(c.delivery), alone !== undefined ? usd(alone) : ""];
}

/** What a million of each event costs, per subscriber at full batches and at one message per batch, and per million runs of each schedule. */
export function formatEventCost(e: EventCostEstimate): string[] {
    if (e.flows.length === 0 && e.schedules.length === 0) return [];
    const out = [
        "",
        `Per million events, per subscriber, at full batches and at one message per batch (${e.assumptions.eventBytes} bytes an event: ${e.chunksPerEvent} billed 64 KB chunk${e.chunksPerEvent === 1 ? "" : "s"}; ` +
            `${e.assumptions.averageDurationMs} ms an invocation at the consumer's memory)`,
    ];
    const rows: string[][] = [["EVENT / SUBSCRIBER", "BATCH", "SQS REQUESTS", "SQS", "INVOCATIONS", "LAMBDA REQUESTS", "LAMBDA COMPUTE", "DELIVERY", "ALONE (WITH THE PUBLISH)"]];
    for (const flow of e.flows) {
        rows.push([`${flow.event}: publish (${flow.handover !== undefined ? `bucket handover ${usd(flow.handover)}, then EventBridge` : "EventBridge"})`, "", "", "", "", "", "", usd(flow.publish), ""]);
        for (const s of flow.subscribers) {
            rows.push(batchingRow(`  ${s.consumer}`, `${s.batchSize} (full)`, s.fullBatches, s.aloneFullBatches));
            rows.push(batchingRow(`  ${s.consumer}`, "1", s.oneMessagePerBatch, s.aloneOneMessagePerBatch));
        }
        rows.push([`${flow.event}: publish + every subscriber`, "full / 1", "", "", "", "", "", `${usd(flow.totalFullBatches)} / ${usd(flow.totalOneMessagePerBatch)}`, ""]);
    }
    if (e.flows.length > 0) rows.push(["A million of every event", "full / 1", "", "", "", "", "", `${usd(e.totalFullBatches)} / ${usd(e.totalOneMessagePerBatch)}`, ""]);
    out.push(...table(rows));
    if (e.schedules.length > 0) {
        out.push("", "Per million runs of each schedule (a Scheduler invocation, then one message per batch)");
        out.push(
            ...table([
                ["SCHEDULE", "SCHEDULER", "SQS", "LAMBDA REQUESTS", "LAMBDA COMPUTE", "TOTAL"],
                ...e.schedules.map((s) => [s.consumer, usd(s.invocations), usd(s.oneMessagePerBatch.sqs), usd(s.oneMessagePerBatch.lambdaRequests), usd(s.oneMessagePerBatch.lambdaCompute), usd(s.total)]),
            ]),
        );
    }
    out.push("", ...e.notes.map((n) => `Note: ${n}`));
    return out;
}

/** What the plan assumes about a cluster's pausing, which its idle cost rests on. */
function pausingAssumption(d: PlannedDatabase): string {
    if (d.pauses) {
        return `idle sessions closed after ${d.idleSessionTimeoutSeconds} s (idle_session_timeout), so it pauses ${d.autoPauseSeconds ?? "?"} s after the last one: priced as paused when idle`;
    }
    if (d.autoPauseSeconds !== undefined) {
        return "nothing closes idle sessions: a frozen function's open connection keeps it running, and it is priced as running";
    }
    const closed = d.idleSessionTimeoutSeconds !== undefined ? `idle sessions closed after ${d.idleSessionTimeoutSeconds} s; ` : "";
    return `${closed}a capacity floor: priced at the floor around the clock`;
}

function formatConcurrency(c: PlannedConcurrency): string[] {
    const limit = `${c.accountLimit}${c.accountLimitAssumed ? " (AWS's default quota, assumed: concurrency.accountLimit states the account's)" : " (concurrency.accountLimit)"}`;
    const reserving = c.functions.length === 0 ? "no function reserves any" : c.functions.map((fn) => `${fn.name} ${fn.reserved}`).join(", ");
    return [
        `  reservations ${c.reservations}: ${c.reserved} reserved (${reserving})`,
        `  account quota ${limit}; ${c.unreserved} unreserved (AWS keeps at least ${LAMBDA.minimumUnreservedConcurrency})`,
    ];
}

/** Each service's role and its connection limit, against the cluster's `max_connections`. */
function formatServiceRoles(d: PlannedDatabase): string[] {
    if (d.serviceRoles.length === 0) return ["    service roles: none"];
    const total = d.serviceRoles.reduce((sum, role) => sum + role.connectionLimit, 0);
    return [
        `    service roles: ${total} connections of ~${d.maxConnections ?? "?"} max_connections (estimated at ${d.maxCapacity} ACU, the maximum capacity)`,
        ...table([
            ["SERVICE", "LOGIN ROLE", "CONNECTION LIMIT", "STATEMENT TIMEOUT"],
            ...d.serviceRoles.map((role) => [role.service, role.loginRole, String(role.connectionLimit), `${role.statementTimeoutMs / 1000} s`]),
        ], "      "),
    ];
}

/** What a stack of a stack-per-service environment holds, and where the rest is. */
function partLines(plan: StackPlan): string[] {
    switch (plan.part.kind) {
        case "environment":
            return [];
        case "platform":
            return [`Part: the shared platform of ${plan.environment} (API, stage, bus, network, database, migration functions, container platform); each service deploys from ${plan.environment}-<service>.`];
        case "service":
            return [
                `Part: service ${plan.part.service} of ${plan.environment}, built on ${plan.part.platformStack}'s outputs: the API, bus, network and database below are ${plan.part.platformStack}'s, not this stack's; the cost is this service's share.`,
            ];
    }
}

export function formatPlan(plan: StackPlan): string {
    const out: string[] = [
        `PLAN: stack ${plan.stack}${plan.region ? ` (${plan.region})` : ""}: ${plan.resourceCount} cloud resources in ${plan.policy.resources - plan.resourceCount} components, ${plan.routes.length} routes`,
        `Offline: the program ran under mocks with Pulumi.${plan.environment}.yaml; no credentials, no cloud. Ids and ARNs are placeholders.`,
        ...partLines(plan),
        "",
        "RESOURCES (by component)",
        ...renderTree(plan.tree).map((l) => `  ${l}`),
        "",
        `ROUTES (${plan.routes.length})`,
        ...(plan.routes.length === 0
            ? ["  none"]
            : table([
                  ["METHOD", "PATH", "TARGET", "SERVICE", "MEMORY", "TIMEOUT", "AUTH", "VPC", "RESERVED", "LOG RETENTION"],
                  ...plan.routes.map((r) => [
                      r.method,
                      r.path,
                      r.target,
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
                  `    ${pausingAssumption(d)}`,
                  `    instances ${d.instances} (writer + ${d.readers} reader${d.readers === 1 ? "" : "s"}); backups ${d.backupRetentionDays} d; deletion protection ${yesNo(d.deletionProtection)}; ` +
                      `final snapshot ${yesNo(d.finalSnapshot)}; pulumi protect ${yesNo(d.protect)}; storage encrypted ${yesNo(d.storageEncrypted)}`,
                  ...formatServiceRoles(d),
              ])),
        "",
        "NETWORK",
        ...(plan.networks.length === 0
            ? ["  none"]
            : plan.networks.flatMap((n) => [
                  `  ${n.name}: ${n.cidrBlock ?? "?"}, ${n.availabilityZones ?? "?"} AZs, NAT ${n.natStrategy} (${n.natGateways} gateway${n.natGateways === 1 ? "" : "s"})`,
                  `    endpoints: ${n.endpoints.length === 0 ? "none" : n.endpoints.map((e) => (e.type === "Gateway" ? `${e.service} (Gateway)` : `${e.service} (${e.type}, ${e.zones} AZ${e.zones === 1 ? "" : "s"}${e.usedBy.length > 0 ? `; for ${e.usedBy.join(", ")}` : ""})`)).join(", ")}`,
              ])),
        "",
        "CONCURRENCY",
        ...formatConcurrency(plan.concurrency),
        "",
        "CONTAINERS",
        ...(plan.containers.length === 0
            ? ["  none (no container service)"]
            : plan.containers.map(
                  (c) =>
                      `  ${c.name}: ${c.vcpu} vCPU / ${c.memoryGb} GB ${c.architecture}, tasks ${c.minTasks}-${c.maxTasks ?? "?"}${c.minTasks === 0 ? " (scaled to 0: its routes answer 503)" : ""}; ` +
                      `public IP ${yesNo(c.publicIp)}; image ${c.image}; routes ${c.routes.join(", ") || "none"}`,
              )),
        "",
        "SECRETS",
        ...(plan.secrets.length === 0
            ? ["  none (no service declares secrets)"]
            : [
                  "  values are set out of band, never by the program (docs/secrets.md); a secret without its values answers 503",
                  ...plan.secrets.flatMap((secret) => [`  ${secret.service}: ${secret.name} holds ${secret.declared.join(", ")}`, `    set: ${secret.setCommand}`]),
              ]),
        "",
        ...formatEvents(plan.events),
        "",
        "API",
        ...plan.apis.map((a) => `  ${a.name}: throttling ${a.throttlingRateLimit ?? "?"} rps, burst ${a.throttlingBurstLimit ?? "?"}; access logs ${yesNo(a.accessLogs)}`),
        "",
        "LOGS AND MONITORING",
        `  ${plan.logs.groups} log groups, retention ${plan.logs.retentionDays.map((d) => (d === 0 ? "never expires" : `${d} d`)).join(", ") || "-"}`,
        `  ${plan.monitoring.alarms} alarms, ${plan.monitoring.dashboards} dashboards, ${plan.monitoring.topics} SNS topics`,
        "",
        ...formatReleases(plan),
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

/** The release strategy, and the alarms that stop and roll back each function's and container's release. */
export function formatReleases(plan: StackPlan): string[] {
    const r = plan.releases;
    // Every alarm name starts with the project and the stack: shown once in the heading.
    const prefix = `${PROJECT}-${plan.stack}-`;
    const short = (alarms: string[]) => alarms.map((alarm) => (alarm.startsWith(prefix) ? alarm.slice(prefix.length) : alarm)).join(", ") || "none";
    const gradual = r.groups.length > 0;
    return [
        "RELEASES",
        `  ${r.strategy} (${r.deploymentConfigName}); ${r.aliasedFunctions} functions behind their live alias; the release step keeps ${r.keepVersions} versions of each`,
        gradual
            ? `  after pulumi up, npm run release shifts each alias through CodeDeploy; rolled back when an alarm fires (alarms ${prefix}<...>):`
            : "  pulumi up moves each live alias to the version it publishes; npm run release only prunes old versions",
        ...r.groups.map((group) => `    ${group.name}: alarms ${short(group.alarms)}; rollback on ${group.rollbackOn.join(", ") || "nothing"}`),
        ...r.containers.map((container) => `  container ${container.name}: deployment rolled back on ${short(container.alarms)} (and its circuit breaker)`),
    ];
}

export function formatComparison(a: StackPlan, b: StackPlan, rows: readonly ComparisonRow[] = compare(a, b)): string {
    const out = [`COMPARE: ${a.stack} vs ${b.stack}`];
    for (const section of ["settings", "routes", "events", "idle cost", "per million requests", "per million events", "policy"] as const) {
        const inSection = rows.filter((r) => r.section === section);
        if (inSection.length === 0) continue;
        out.push("", ...table([[section.toUpperCase(), a.stack, b.stack], ...inSection.map((r) => [r.item, r.values[0], r.values[1]])]));
    }
    return out.join("\n");
}


/** What `npm run plan` prints as text: the plan, and with a second stack its findings and the side-by-side. */
export function renderText(plan: StackPlan, other?: StackPlan): string {
    const out = [formatPlan(plan)];
    if (other) {
        // The other stack in full is one `--stack` away; here its policy findings, if any, and the side-by-side.
        const findings = other.policy.violations.length > 0 ? ["", `POLICY (${other.stack})`, formatReport(other.policy, `Policy pack ${other.policy.pack} (config ${other.policy.config})`)] : [];
        out.push([...findings, "", formatComparison(plan, other)].join("\n"));
    }
    return out.join("\n");
}

/** What `npm run plan -- --json` prints: the plan, or both plans and their comparison. */
export function renderJson(plan: StackPlan, other?: StackPlan): string {
    return JSON.stringify(other ? { stacks: [plan, other], comparison: compare(plan, other) } : plan, null, 2);
}
