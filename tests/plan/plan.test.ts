/**
 * `npm run plan` in-process through `main(argv)`: what it lists, what it costs, its JSON, and its
 * exit code on a planted mandatory violation and on a type error in a service file. Its contents
 * over the fixture registry, with what it must list derived from it; the real stacks with whatever
 * `infra/registry.ts` holds must plan, pass and type-check.
 */
import { strict as assert } from "assert";
import * as path from "path";
import { isContainerService, type RegisteredService } from "../../functions/runtime/container";
import { statementTimeoutFor } from "../../functions/runtime/data/database";
import type { RouteDefinition } from "../../functions/runtime/service";
import { parseStackConfig } from "../../platform/config/stack-config";
import { MIGRATION_RESERVED_CONCURRENCY } from "../../platform/registry/resolution";
import { services } from "../../infra/services";
import { main, parseArgs, UsageError, type MainIo } from "../../tools/plan";
import { planStack, type StackPlan } from "../../tools/plan/model";
import { formatComparison, formatReleases } from "../../tools/plan/render";
import { readStackConfig } from "../../tools/offline";
import { estimatedMaxConnections } from "../../policy/lib/limits";
import { fixtureServices } from "../../testing/fixtures";
import { echoContainer } from "../../testing/fixtures/registries";
import { ledger } from "../../testing/fixtures/secret-services";
import { defineEvents } from "../../functions/runtime/events";
import { defineService } from "../../functions/runtime/service";
import { uuid } from "../../functions/runtime/validate";
import { scratchRegistry, serviceWithDuplicateRoute } from "../../testing/scratch-registry";
import { TYPE_CHECK_PATIENCE_MS } from "../../testing/eventually";

interface Captured {
    code: number;
    out: string;
    err: string;
}

/** Whether a database service of the registry reads declared secrets: its functions then need the Secrets Manager endpoint. */
const readsSecretsInVpc = services.some((service) => !isContainerService(service) && service.database && (service.secrets?.length ?? 0) > 0);

/** What the plan tests plan: the fixture registry's function services and a container service. */
const planned: readonly RegisteredService[] = [...fixtureServices, echoContainer()];

/** `main(argv)` over the planned registry, without the type check unless `io` asks for one. */
async function run(argv: string[], io: Partial<MainIo> = {}): Promise<Captured> {
    let out = "";
    let err = "";
    const code = await main(argv, { out: (t) => (out += `${t}\n`), err: (t) => (err += `${t}\n`), typeCheck: false, services: planned, ...io });
    return { code, out, err };
}

interface ExpectedRoute {
    target: "function" | "container";
    service: string;
    /** What the ROUTES table says in its AUTH column, as a pattern. */
    auth: string;
}

/** Every route key of a registry, with what the ROUTES table says of it. */
function expectedRoutes(registry: readonly RegisteredService[]): Map<string, ExpectedRoute> {
    return new Map(
        registry.flatMap((s) =>
            Object.entries(s.routes as Record<string, { auth?: string; scopes?: string[] }>).map(([key, route]) => [
                key,
                {
                    target: isContainerService(s) ? "container" : "function",
                    service: s.name,
                    auth: route.auth === "jwt" ? `JWT${route.scopes ? ` \\(${route.scopes.join(" or ")}\\)` : ""}` : "NONE",
                } as const,
            ]),
        ),
    );
}

/** The ROUTES table lists each route with its method, path, target, service, memory and timeout (a function's, or its container's task memory and the API's wait), and auth. */
function assertRoutesListed(text: string, registry: readonly RegisteredService[]): void {
    for (const [key, { target, service, auth }] of expectedRoutes(registry)) {
        const [method, routePath] = key.split(" ");
        const line = text.split("\n").find((l) => new RegExp(`^\\s+${method}\\s+${routePath.replace(/[{}+]/g, "\\$&")}\\s`).test(l));
        assert.ok(line, `route ${key} not in the ROUTES table`);
        assert.match(line, new RegExp(`\\s${target}\\s+${service}\\s+\\d+ MB\\s+\\d+ s\\s+${auth}\\s`), `${key}: ${line}`);
    }
}

/** How the plan's resource tree labels a service's component. */
const componentOf = (service: RegisteredService) => `${service.name} \\(${isContainerService(service) ? "ServiceContainer" : "Service"}\\)`;

describe("plan (npm run plan)", function () {
    // Some plans wait for the type check, which yields the CPU to other work.
    this.timeout(TYPE_CHECK_PATIENCE_MS);

    let devText: Captured;
    let dev: StackPlan;
    let prod: StackPlan;

    before(async () => {
        devText = await run(["--stack", "dev"]);
        dev = await planStack({ stack: "dev", services: planned });
        prod = await planStack({ stack: "prod", services: planned });
    });

    it("parses its arguments and rejects wrong ones", () => {
        assert.deepEqual(parseArgs(["--stack", "dev", "--json", "--compare=prod"]), { stack: "dev", json: true, compare: "prod" });
        assert.throws(() => parseArgs([]), UsageError);
        assert.throws(() => parseArgs(["--stack"]), /--stack needs a value/);
        assert.throws(() => parseArgs(["--stack", "dev", "--bogus"]), /unknown argument --bogus/);
        assert.throws(() => parseArgs(["--stack", "dev", "--compare", "dev"]), /same stack/);
        assert.deepEqual(parseArgs(["--stack", "dev-ping", "--layout", "stack-per-service"]), { stack: "dev-ping", json: false, layout: "stack-per-service" });
        assert.throws(() => parseArgs(["--stack", "dev-ping", "--layout", "micro"]), /--layout must be one of one-stack, stack-per-service/);
    });

    it("plans a service stack of a stack-per-service environment: that service alone, on its platform stack, with its own cost share", async () => {
        const result = await run(["--stack", "dev-notes", "--layout", "stack-per-service"]);
        assert.equal(result.code, 0, result.err);
        assert.match(result.out, /^PLAN: stack dev-notes \(us-east-1\)/);
        assert.match(result.out, /ran under mocks with Pulumi\.dev\.yaml/);
        assert.match(result.out, /Part: service notes of dev, built on dev-platform's outputs/);
        const routes = result.out.slice(result.out.indexOf("ROUTES"), result.out.indexOf("DATABASE"));
        assert.match(routes, /notes/);
        assert.doesNotMatch(routes, /\bping\b/, "another service's routes");
        assert.doesNotMatch(result.out, /\(Api\)|\(Database\)|\(Network\)/, "the platform's components");
        const platform = await run(["--stack", "dev-platform", "--layout", "stack-per-service"]);
        assert.equal(platform.code, 0, platform.err);
        assert.match(platform.out, /Part: the shared platform of dev/);
        assert.match(platform.out, /\(Database\)/);
    });

    it("exits 2 with a message on an unknown stack or a bad argument", async () => {
        const unknown = await run(["--stack", "nope"]);
        assert.equal(unknown.code, 2);
        assert.match(unknown.err, /Stack "nope" has no settings: create Pulumi\.nope\.yaml/);
        assert.equal((await run(["--stak", "dev"])).code, 2);
    });

    // The type check covers the same files whatever the stack: the dev run checks them.
    for (const [stack, typeChecked] of [["dev", true], ["prod", false]] as const) {
        it(`plans the real ${stack} stack with whatever infra/registry.ts holds: every route listed, policy passed,${typeChecked ? " files type-checked," : ""} exit 0`, async () => {
            // Act: the command as `npm run plan` runs it${typeChecked ? ", type check included" : ""}.
            const result = await run(["--stack", stack], { services: undefined, typeCheck: typeChecked ? undefined : false });
            // Assess
            assert.equal(result.code, 0, result.out + result.err);
            assertRoutesListed(result.out, services);
            assert.match(result.out, /Policy check passed/);
            if (typeChecked) assert.match(result.out, /TYPE CHECK\n {2}Type check: no errors \(\d+ files/);
            for (const service of services) assert.match(result.out, new RegExp(`[├└]─ ${componentOf(service)}`), service.name);
        });
    }

    it("prints the dev plan and exits 0: tree, routes, database, network, policy, cost", () => {
        assert.equal(devText.code, 0, devText.err);
        for (const heading of ["RESOURCES (by component)", "ROUTES (", "DATABASE", "NETWORK", "POLICY", "ESTIMATED MONTHLY COST", "Idle total", "Typical total", "Worst case"]) {
            assert.ok(devText.out.includes(heading), `missing ${heading}`);
        }
        assert.match(devText.out, /Policy check passed/);
        for (const service of planned) assert.match(devText.out, new RegExp(`[├└]─ ${componentOf(service)}`), service.name);
        assert.match(devText.out, /capacity 0-2 ACU per instance; auto-pause after 600 s idle/);
        assert.match(devText.out, /NAT None \(0 gateways\)/);
    });

    it("lists every route of the registry with its method, path, memory, timeout and auth", () => {
        assert.deepEqual(dev.routes.map((r) => r.routeKey).sort(), [...expectedRoutes(planned).keys()].sort());
        assertRoutesListed(devText.out, planned);
        for (const route of dev.routes.filter((r) => r.target === "function")) {
            assert.ok(route.memoryMb && route.timeoutSeconds && route.timeoutSeconds <= 29, `${route.routeKey} settings`);
        }
    });

    it("exits 1 and prints the error when a service file does not type-check (a route key written twice)", async () => {
        // Prepare: a registry whose one service declares GET /twice twice.
        const scratch = scratchRegistry({ twice: serviceWithDuplicateRoute("twice", ["first", "second"]) });
        // A build info of its own (the repository's is for its own registry); the second run starts from the first's.
        const typeCheck = { registryModule: scratch.registryModule, buildInfoFile: path.join(scratch.dir, "registry.tsbuildinfo") };
        try {
            // Act: the plan itself passes; only the type check fails.
            const result = await run(["--stack", "dev"], { typeCheck });
            // Assess
            assert.equal(result.code, 1, result.out + result.err);
            assert.match(result.out, /Policy check passed/);
            assert.match(result.out, /TYPE CHECK\n {2}Type check: 1 error:\n {4}\S*services\/twice\/service\.ts\(9,9\): error TS1117: An object literal cannot have multiple properties with the same name\./);
            const json = await run(["--stack", "dev", "--json"], { typeCheck });
            assert.equal(json.code, 1);
            assert.equal(JSON.parse(json.out).policy.passed, true);
            assert.match(json.err, /TS1117/);
        } finally {
            scratch.remove();
        }
    });

    it("shows which routes go to a container, and each container service's tasks", () => {
        const containerRoutes = planned.filter(isContainerService).flatMap((service) => Object.keys(service.routes).map((key) => [key, service.name]));
        assert.deepEqual(dev.routes.filter((r) => r.target === "container").map((r) => [r.routeKey, r.service]).sort(), containerRoutes.sort());
        for (const [key] of containerRoutes) {
            const [method, routePath] = key.split(" ");
            assert.match(devText.out, new RegExp(`^\\s+${method}\\s+${routePath.replace(/[{}+]/g, "\\$&")}\\s+container\\s`, "m"));
        }
        assert.match(devText.out, /^CONTAINERS$/m);
        for (const plan of [dev, prod]) assert.deepEqual(plan.containers.map((c) => c.name), planned.filter(isContainerService).map((service) => service.name));
    });

    it("lists the container platform's endpoints with the network's, where some container service keeps tasks running (prod, not dev)", () => {
        const listed = (plan: StackPlan) => plan.networks.flatMap((n) => n.endpoints.map((e) => `${e.service} ${e.type}`)).sort();
        const running = (plan: StackPlan) => plan.containers.some((c) => c.minTasks > 0);
        assert.deepEqual([running(dev), running(prod)], [false, true], "the planned container keeps tasks in prod only");
        for (const plan of [dev, prod]) {
            // No Secrets Manager endpoint: no database service of the fixture registry reads declared secrets, and the migration launcher reads the master secret outside the VPC.
            const expected = running(plan) ? ["ecr.api Interface", "ecr.dkr Interface", "logs Interface", "s3 Gateway"].sort() : [];
            assert.deepEqual(listed(plan), expected, plan.stack);
        }
    });

    it("keeps dev's idle cost at or under $10 a month", () => {
        assert.ok(dev.cost.idle.total > 0, "an idle dev stack still costs its endpoint and storage");
        assert.ok(dev.cost.idle.total <= 10, `dev idle ${dev.cost.idle.total}`);
        const floor = dev.cost.idle.lines.find((l) => l.item.startsWith("Aurora capacity floor"));
        assert.equal(floor?.amount, 0, "dev pauses at 0 ACU");
    });

    it("idles the sample registry's dev at or under $10 a month with no interface endpoint, and a publishing database service more adds at most $0.50, its wake alarm's metrics alone", async () => {
        // Prepare: the registry (the sample's has events, an outbox and a container service), then one more service that keeps data and publishes,
        // under a name the registry does not have.
        let name = "idle-probe";
        for (let n = 2; services.some((service) => service.name === name); n++) name = `idle-probe-${n}`;
        const probe = defineService({
            name,
            description: "Keeps data and publishes: what one more such service adds idle",
            database: true,
            events: defineEvents(name, { "probe.made": { version: 1, description: "A probe was made", payload: { probeId: uuid() } } }),
            routes: { "POST /idle-probe": { handler: async (_request, { events }) => events.publish("probe.made", { probeId: "00000000-0000-4000-8000-000000000000" }) } },
        });
        const before = await planStack({ stack: "dev" });
        const after = await planStack({ stack: "dev", services: [...services, probe] });
        const lineOf = (plan: StackPlan, item: string) => plan.cost.idle.lines.find((line) => line.item.startsWith(item))?.amount ?? 0;
        // Assess: no endpoint, unless a database service reads declared secrets (one zone in dev).
        assert.ok(services.some((service) => "events" in service && service.events && service.database), "the registry has a publishing database service");
        assert.ok(before.cost.idle.total <= 10, `dev idle ${before.cost.idle.total}`);
        assert.equal(lineOf(before, "Interface VPC endpoints"), readsSecretsInVpc ? 7.3 : 0);
        const added = after.cost.idle.total - before.cost.idle.total;
        assert.ok(added > 0 && added <= 0.5, `a publishing database service adds ${added.toFixed(2)}`);
        assert.equal(Math.round((lineOf(after, "Outbox wake alarms") - lineOf(before, "Outbox wake alarms")) * 100) / 100, Math.round(added * 100) / 100, "all of it is the wake alarm's");
        assert.equal(lineOf(after, "Interface VPC endpoints"), lineOf(before, "Interface VPC endpoints"), "no endpoint for it either");
    });

    it("shows each service's connection limit against the cluster's max_connections at its maximum capacity", () => {
        // Prepare
        const expected = (plan: StackPlan) => estimatedMaxConnections(plan.databases[0].minCapacity!, plan.databases[0].maxCapacity!);
        // Act, Assess
        // Each database function holds its reservation's connections, else the stack's connectionsPerFunction (one per container).
        const roles = (plan: StackPlan) => {
            const { concurrency, database, functionDefaults } = parseStackConfig(plan.stack, readStackConfig(plan.stack));
            return fixtureServices
                .filter((service) => service.database)
                .map((service) => {
                    const routes = Object.values(service.routes as Record<string, RouteDefinition>);
                    const perFunction = concurrency.reservations === "registry" ? (service.reservedConcurrency ?? database.connectionsPerFunction) : database.connectionsPerFunction;
                    const longest = Math.max(...routes.map((route) => route.timeoutSeconds ?? service.timeoutSeconds ?? functionDefaults.timeoutSeconds));
                    return { service: service.name, loginRole: `${service.name}_app`, connectionLimit: routes.length * perFunction, statementTimeoutMs: statementTimeoutFor(longest) };
                });
        };
        for (const plan of [dev, prod]) {
            assert.deepEqual(plan.databases[0].serviceRoles, roles(plan), plan.stack);
            assert.equal(plan.databases[0].maxConnections, expected(plan));
        }
        assert.deepEqual([dev.databases[0].maxConnections, prod.databases[0].maxConnections], [420, 1680]);
        const devTotal = roles(dev).reduce((sum, role) => sum + role.connectionLimit, 0);
        assert.match(devText.out, new RegExp(`service roles: ${devTotal} connections of ~420 max_connections \\(estimated at 2 ACU, the maximum capacity\\)`));
        for (const role of roles(dev)) assert.match(devText.out, new RegExp(`${role.service}\\s+${role.loginRole}\\s+${role.connectionLimit}\\s+${role.statementTimeoutMs / 1000} s`));
    });

    it("says which functions each interface endpoint is for: Secrets Manager serves the functions of a database service that reads declared secrets, never the migration functions, and costs only then", async () => {
        // Prepare: the fixture registry with a database service that declares a secret.
        const withSecrets = [...planned, ledger];
        // Act
        const text = await run(["--stack", "dev"], { services: withSecrets });
        const plans = [await planStack({ stack: "dev", services: withSecrets }), await planStack({ stack: "prod", services: withSecrets })];
        // Assess
        assert.equal(text.code, 0, text.err);
        for (const plan of plans) {
            const secrets = plan.networks[0].endpoints.filter((e) => e.service === "secretsmanager");
            assert.deepEqual(secrets.map((e) => e.usedBy), [["ledger-get-ledger-signature"]], plan.stack);
            const withoutLine = (plan.stack === "dev" ? dev : prod).cost.idle.lines.find((l) => l.item === "Interface VPC endpoints");
            const line = plan.cost.idle.lines.find((l) => l.item === "Interface VPC endpoints")!;
            const zones = secrets[0].zones;
            assert.match(line.note, new RegExp(`secretsmanager in ${zones} AZs? \\(for ledger-get-ledger-signature\\)`), plan.stack);
            // What it adds is the endpoint's hours in its zones, and nothing else of the interface endpoints.
            assert.equal(Math.round((line.amount - (withoutLine?.amount ?? 0)) * 100) / 100, Math.round(zones * 730 * 0.01 * 100) / 100, plan.stack);
        }
        assert.match(text.out, /secretsmanager in 1 AZ \(for ledger-get-ledger-signature\)/);
        for (const plan of [dev, prod]) assert.deepEqual(plan.networks[0].endpoints.filter((e) => e.service === "secretsmanager"), [], plan.stack);
    });

    it("plans the registry's dev and prod with a Secrets Manager endpoint only for a database service that reads declared secrets: the migration launcher reads the master secret outside the VPC", async () => {
        for (const stack of ["dev", "prod"]) {
            const plan = await planStack({ stack });
            const secretsEndpoints = plan.networks.flatMap((n) => n.endpoints).filter((e) => e.service === "secretsmanager");
            assert.equal(secretsEndpoints.length, readsSecretsInVpc ? 1 : 0, stack);
            for (const endpoint of secretsEndpoints) assert.ok(!endpoint.usedBy.some((user) => user.startsWith("migrations-")), `${stack}: ${endpoint.usedBy.join(", ")}`);
            assert.equal(plan.policy.mandatory, 0, stack);
        }
    });

    it("attributes the container tasks' endpoints to no function: Lambda ships function logs outside the VPC", () => {
        const containerEndpoints = prod.networks[0].endpoints.filter((e) => ["ecr.api", "ecr.dkr", "logs"].includes(e.service));
        assert.deepEqual(containerEndpoints.map((e) => e.service).sort(), ["ecr.api", "ecr.dkr", "logs"]);
        for (const endpoint of containerEndpoints) assert.deepEqual(endpoint.usedBy, [], endpoint.service);
    });

    it("costs more idle in prod: a capacity floor on two instances, alarms and the dashboard", () => {
        assert.ok(prod.cost.idle.total > dev.cost.idle.total, `${prod.cost.idle.total} <= ${dev.cost.idle.total}`);
        const floor = prod.cost.idle.lines.find((l) => l.item.startsWith("Aurora capacity floor"));
        assert.equal(Math.round((floor?.amount ?? 0) * 100) / 100, 87.6, "0.5 ACU x 2 instances x 730 h x $0.12");
        assert.equal(prod.databases[0].instances, 2);
        assert.equal(prod.policy.mandatory, 0, JSON.stringify(prod.policy.violations, null, 2));
    });

    it("shows each stack's release strategy: dev all at once with no deployment group, prod a canary whose groups name their function's and the API's alarms, at no cost of their own", () => {
        // Prepare
        const prodText = formatReleases(prod).join("\n");
        const groupCost = prod.cost.idle.lines.find((l) => l.item === "CodeDeploy deployment groups (Lambda)");
        // Assess
        assert.deepEqual([dev.releases.strategy, dev.releases.deploymentConfigName, dev.releases.groups], ["all-at-once", "CodeDeployDefault.LambdaAllAtOnce", []]);
        assert.match(devText.out, /RELEASES\n {2}all-at-once \(CodeDeployDefault\.LambdaAllAtOnce\); \d+ functions behind their live alias; the release step keeps 3 versions of each\n {2}pulumi up moves each live alias/);
        assert.deepEqual([prod.releases.strategy, prod.releases.deploymentConfigName], ["canary", "CodeDeployDefault.LambdaCanary10Percent5Minutes"]);
        assert.equal(prod.releases.groups.length, prod.releases.aliasedFunctions);
        const alarms = new Set(prod.releases.groups.flatMap((group) => group.alarms));
        for (const group of prod.releases.groups) {
            assert.ok(group.alarms.some((alarm) => alarm.endsWith(`${group.name}-errors`)), `${group.name}: ${group.alarms}`);
            assert.deepEqual(group.rollbackOn, ["DEPLOYMENT_FAILURE", "DEPLOYMENT_STOP_ON_ALARM"]);
        }
        assert.ok(alarms.has("serverless-microservices-prod-api-5xx-rate"));
        assert.match(prodText, /^ {4}\S+: alarms \S+-errors, \S+-duration, api-5xx-rate, api-latency-p99; rollback on DEPLOYMENT_FAILURE, DEPLOYMENT_STOP_ON_ALARM$/m);
        assert.deepEqual([groupCost?.quantity, groupCost?.amount], [prod.releases.groups.length, 0]);
    });

    it("states what dev's idle cost assumes about pausing: idle sessions closed, so the cluster pauses", () => {
        assert.equal(dev.databases[0].pauses, true);
        assert.equal(dev.databases[0].idleSessionTimeoutSeconds, 240);
        assert.match(devText.out, /idle sessions closed after 240 s \(idle_session_timeout\), so it pauses 600 s after the last one: priced as paused when idle/);
    });

    it("shows what the functions reserve against the account's quota: nothing in dev, the registry's reservations and the migration function's in prod", async () => {
        // Prepare: what the registry reserves, every function of a reserving service, and the migration function's one.
        const reserved =
            fixtureServices.reduce((sum, service) => sum + Object.keys(service.routes).length * (service.reservedConcurrency ?? 0), 0) + MIGRATION_RESERVED_CONCURRENCY;
        // Assess the stacks' own settings
        assert.deepEqual([dev.concurrency.reservations, dev.concurrency.reserved, dev.concurrency.unreserved], ["none", 0, 1000]);
        assert.deepEqual([prod.concurrency.reservations, prod.concurrency.reserved, prod.concurrency.accountLimitAssumed], ["registry", reserved, true]);
        assert.match(devText.out, /CONCURRENCY\n  reservations none: 0 reserved \(no function reserves any\)\n  account quota 1000 \(AWS's default quota, assumed/);
        // Prepare, Act: prod with the account's quota stated
        const stated = await planStack({ stack: "prod", services: planned, stackConfig: { ...readStackConfig("prod"), "serverless-microservices:concurrency": { reservations: "registry", accountLimit: 400 } } });
        // Assess
        assert.deepEqual([stated.concurrency.accountLimit, stated.concurrency.accountLimitAssumed, stated.concurrency.unreserved], [400, false, 400 - reserved]);
    });

    it("prices a million requests from the routes' own memory", () => {
        for (const plan of [dev, prod]) {
            const t = plan.cost.perMillionRequests;
            assert.equal(t.routes.length, plan.routes.length);
            assert.ok(t.typical > 1.2 && t.typical < 10, `${plan.stack} typical ${t.typical}`);
            assert.ok(t.worstCase > t.typical);
        }
    });

    it("prints the same as JSON with --json", async () => {
        const result = await run(["--stack", "dev", "--json"]);
        assert.equal(result.code, 0, result.err);
        const parsed = JSON.parse(result.out) as StackPlan;
        assert.equal(parsed.stack, "dev");
        assert.equal(parsed.routes.length, dev.routes.length);
        assert.equal(parsed.cost.idle.total, dev.cost.idle.total);
        assert.equal(parsed.policy.passed, true);
        assert.ok(parsed.tree.length === 1 && parsed.tree[0].children.length > 0);
    });

    it("compares two stacks side by side", async () => {
        const text = formatComparison(dev, prod);
        assert.match(text, /COMPARE: dev vs prod/);
        assert.match(text, /Idle total per month\s+\$\d+\.\d\d\s+\$\d+\.\d\d/);
        assert.match(text, /ACU min-max \(database-cluster\)\s+0-2\s+0\.5-8/);
        assert.match(text, /instances \(database-cluster\)\s+1 \(0 readers\)\s+2 \(1 reader\)/);
        const result = await run(["--stack", "dev", "--compare", "prod", "--json"]);
        assert.equal(result.code, 0, result.err);
        const json = JSON.parse(result.out);
        assert.deepEqual(json.stacks.map((s: StackPlan) => s.stack), ["dev", "prod"]);
        const idle = json.comparison.find((row: { item: string }) => row.item === "Idle total per month");
        assert.deepEqual(idle.values, [`$${dev.cost.idle.total.toFixed(2)}`, `$${prod.cost.idle.total.toFixed(2)}`]);
    });

    describe("a planted mandatory violation", () => {
        it("exits 1 when the stack breaks a mandatory rule (log retention below the pack's minimum)", async () => {
            const planted = { ...readStackConfig("dev"), "serverless-microservices:logRetentionDays": 1 };
            const result = await run(["--stack", "dev"], { stackConfig: { dev: planted } });
            assert.equal(result.code, 1, result.out + result.err);
            assert.match(result.out, /MANDATORY \(\d+\)/);
            assert.match(result.out, /\[log-group-retention\]/);
            assert.match(result.out, /Policy check FAILED/);
            const json = await run(["--stack", "dev", "--json"], { stackConfig: { dev: planted } });
            assert.equal(json.code, 1);
            assert.equal(JSON.parse(json.out).policy.passed, false);
        });

        it("exits 1 under a stricter pack config (dev held to prod's rules)", async () => {
            const result = await run(["--stack", "dev", "--policy-config", path.join("policy", "config.prod.json")]);
            assert.equal(result.code, 1);
            assert.match(result.out, /\[rds-deletion-protection\]|\[log-group-retention\]|\[rds-backup-retention\]/);
        });

        it("exits 1 when the compared stack fails", async () => {
            const planted = { ...readStackConfig("prod"), "serverless-microservices:logRetentionDays": 7 };
            const result = await run(["--stack", "dev", "--compare", "prod"], { stackConfig: { prod: planted } });
            assert.equal(result.code, 1);
            assert.match(result.out, /POLICY \(prod\)/);
            assert.match(result.out, /FAILED \(\d+ mandatory/);
        });
    });
});
