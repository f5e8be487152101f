/**
 * The service template, `examples/orders/` (walked through in docs/adding-a-service.md), works when
 * copied literally: its files are what `npm run check:template` writes into a copy of the repository
 * (then runs every suite, the plan and the policy pack there; see tools/check-template.ts). Here,
 * quickly, on every `npm test`, with the files written into a scratch folder: they are there, adding them touches one
 * registry line, the service they declare resolves beside the real registry under each stack's
 * bounds, passes its own test file over schemas per service, gets its own database user and
 * connection limit under mocks with the policy pack passing, and in the local runtime answers its
 * routes with a schema and roles of its own, seeing no other service's data and showing an order
 * to the subject that placed it alone.
 */
import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import * as pg from "pg";
import type { AnyService } from "../../functions/runtime/service";
import { signBody } from "../../functions/runtime/http/signature";
import { serviceRoles, serviceSchema } from "../../functions/runtime/data/service-data";
import { parseStackConfig } from "../../platform/config/stack-config";
import { functionBoundsFor } from "../../platform/function-bounds";
import { resolveRegistry } from "../../platform/registry/resolution";
import { services } from "../../infra/services";
import { listStacks, readStackConfig, REPOSITORY_ROOT } from "../../platform/config/stack-files";
import { applyTemplate, copiesToCheck, layoutCommands, removeRegistryLine, TEMPLATE_DIR, templateBlocks, type TemplateBlock } from "../../tools/check-template";
import { loadPackConfig, PACK_DIR, runPolicies } from "../../tools/policy-engine";
import { runProgramOffline } from "../../tools/offline";
import { api, startTestRuntime, type TestRuntime } from "../../testing/local-runtime";
import { one } from "../../testing/graph";

/** A registry of two services, one line each, as `infra/registry.ts` is written. */
const SCRATCH_REGISTRY = ["/** A registry. */", 'export { default as alpha } from "../functions/alpha/service";', 'export { default as beta } from "../functions/beta/service";', ""];

/** A folder with a registry and the repository's runtime and test support (linked), for the template to be written into. */
function scratchRoot(): string {
    const root = fs.mkdtempSync(path.join(os.tmpdir(), "template-"));
    fs.mkdirSync(path.join(root, "infra"));
    fs.writeFileSync(path.join(root, "infra", "registry.ts"), SCRATCH_REGISTRY.join("\n"));
    fs.mkdirSync(path.join(root, "functions"));
    fs.symlinkSync(path.join(REPOSITORY_ROOT, "functions", "runtime"), path.join(root, "functions", "runtime"), "dir");
    fs.mkdirSync(path.join(root, "tests"));
    fs.symlinkSync(path.join(REPOSITORY_ROOT, "tests", "support"), path.join(root, "tests", "support"), "dir");
    return root;
}

describe("the service template (examples/orders, docs/adding-a-service.md)", () => {
    const blocks = templateBlocks(path.join(REPOSITORY_ROOT, TEMPLATE_DIR));
    const roots: string[] = [];
    after(() => roots.forEach((root) => fs.rmSync(root, { recursive: true, force: true })));

    it("holds a service file, its migrations (the second one expanding the first), its test file and one registry line", () => {
        assert.deepEqual(blocks.map((block) => `${block.kind} ${block.path}`), [
            "file functions/orders/migrations/0001_create_orders.sql",
            "file functions/orders/migrations/0002_add_order_note.sql",
            "file functions/orders/migrations/0003_order_paid.sql",
            "file functions/orders/service.ts",
            "append infra/registry.ts",
            "file tests/services/orders.test.ts",
        ]);
        assert.deepEqual(blocks[4].content, 'export { default as orders } from "../functions/orders/service";\n');
    });

    it("touches nothing but its folder, its test file and one line of infra/registry.ts", () => {
        // Prepare
        const root = scratchRoot();
        roots.push(root);
        // Act
        const touched = applyTemplate(root, blocks);
        // Assess
        assert.deepEqual(touched, [
            "functions/orders/migrations/0001_create_orders.sql",
            "functions/orders/migrations/0002_add_order_note.sql",
            "functions/orders/migrations/0003_order_paid.sql",
            "functions/orders/service.ts",
            "infra/registry.ts",
            "tests/services/orders.test.ts",
        ]);
        const after = fs.readFileSync(path.join(root, "infra", "registry.ts"), "utf8");
        assert.equal(after, [...SCRATCH_REGISTRY.slice(0, -1), 'export { default as orders } from "../functions/orders/service";', ""].join("\n"));
        assert.throws(() => applyTemplate(root, blocks), /the template writes functions\/orders\/migrations\/0001_create_orders\.sql, which exists already/);
    });

    describe("the service it declares", function () {
        this.timeout(120_000);
        // Written at load time: its own test file registers its suites below, as mocha loads this one.
        const root = scratchRoot();
        roots.push(root);
        applyTemplate(root, blocks);
        const orders = (require(path.join(root, "functions", "orders", "service.ts")) as { default: AnyService }).default;
        const registry = [...services.filter((service) => service.name !== orders.name), orders];

        for (const stack of listStacks()) {
            it(`resolves beside the real registry under the ${stack} stack's defaults and policy pack bounds`, () => {
                const defaults = parseStackConfig(stack, readStackConfig(stack)).functionDefaults;
                const resolved = resolveRegistry(registry, defaults, { stack, bounds: functionBoundsFor(stack) });
                assert.deepEqual(resolved.services.find((service) => service.name === "orders")!.routes.map((route) => [route.routeKey, route.auth]), [
                    ["POST /orders", "jwt"],
                    ["GET /orders/{id}", "jwt"],
                    ["DELETE /orders/{id}", "jwt"],
                    ["POST /orders/{id}/paid", "none"],
                ]);
                assert.deepEqual(resolved.services.find((service) => service.name === "orders")!.secrets, ["PAYMENT_WEBHOOK_KEY"]);
            });
        }

        describe("its own test file, tests/services/orders.test.ts, over schemas per service", () => {
            require(path.join(root, "tests", "services", "orders.test.ts"));
        });

        for (const stack of listStacks()) {
            it(`${stack}: gets its own database user and connection limit, no master secret but its own secret under mocks, and the policy pack passes`, async () => {
                // Prepare: each function holds its reservation's connections where the stack applies reservations, else the stack's per-function ones.
                const config = parseStackConfig(stack, readStackConfig(stack));
                const perFunction = config.concurrency.reservations === "registry" ? (orders.reservedConcurrency ?? config.database.connectionsPerFunction) : config.database.connectionsPerFunction;
                // Act
                const run = await runProgramOffline({ stack, services: registry });
                const policy = await runPolicies(run.resources, loadPackConfig(path.join(PACK_DIR, `config.${stack}.json`)));
                // Assess
                const request = JSON.parse(one(run, "aws:lambda/invocation:Invocation", "orders-migrations").inputs.input);
                const mine = request.service;
                assert.deepEqual(request.migrations.map((migration: { service: string; name: string }) => `${migration.service}/${migration.name}`), ["orders/create_orders", "orders/add_order_note", "orders/order_paid"]);
                assert.deepEqual([mine.schema, mine.ownerRole, mine.loginRole, mine.connectionLimit], [serviceSchema("orders"), serviceRoles("orders").owner, serviceRoles("orders").login, Object.keys(orders.routes).length * perFunction]);
                const statements = JSON.parse(one(run, "aws:iam/rolePolicy:RolePolicy", "orders-permissions").inputs.policy).Statement as { Action: string[]; Resource: unknown }[];
                assert.deepEqual(statements.filter((statement) => statement.Action.includes("rds-db:connect")).map((statement) => String(statement.Resource).replace(/cluster-[A-Z0-9]+/, "cluster-*")), ["arn:aws:rds-db:us-east-1:123456789012:dbuser:cluster-*/orders_app"]);
                const ownSecret = one(run, "aws:secretsmanager/secret:Secret", "orders-secrets").outputs.arn;
                assert.deepEqual(statements.filter((statement) => statement.Action.includes("secretsmanager:GetSecretValue")).map((statement) => statement.Resource), [ownSecret]);
                assert.deepEqual(policy.violations.filter((violation) => violation.level === "mandatory"), []);
            });
        }

        describe("in the local runtime beside the real registry", () => {
            let t: TestRuntime;
            before(async () => {
                t = await startTestRuntime(registry, { secrets: { orders: { PAYMENT_WEBHOOK_KEY: "whsec_local" } } });
            });
            after(async () => {
                await t?.stop();
            });

            it("has its schema and roles made for it, answers its routes (its webhook with its local secret), and sees no other service's data", async () => {
                // Prepare
                const asOrders = new pg.Client({ connectionString: t.runtime.serviceDatabaseUrl("orders") });
                await asOrders.connect();
                const other = registry.find((service) => service.database && service.name !== "orders");
                try {
                    // Act
                    const ada = api(t.url, await t.authHeader({ sub: "ada" }));
                    const placed = await ada.post("/orders", { reference: "T-1", item: "Engine", quantity: 2 });
                    const read = await ada.get(`/orders/${placed.json?.id}`);
                    const bobs = await api(t.url, await t.authHeader({ sub: "bob" })).get(`/orders/${placed.json?.id}`);
                    const webhookBody = JSON.stringify({ event: "payment.succeeded" });
                    const paid = await fetch(`${t.url}/orders/${placed.json?.id}/paid`, {
                        method: "POST",
                        headers: { "content-type": "application/json", "x-signature-256": signBody(webhookBody, "whsec_local") },
                        body: webhookBody,
                    });
                    const own = await asOrders.query("SELECT reference, placed_by FROM orders");
                    const foreign = other ? await asOrders.query(`SELECT 1 FROM ${serviceSchema(other.name)}.nothing`).then(() => "read", (error: Error) => error.message) : undefined;
                    // Assess
                    assert.equal(placed.status, 201, placed.text);
                    assert.deepEqual([read.status, read.json.item, read.json.placedBy], [200, "Engine", "ada"]);
                    assert.equal(bobs.status, 404, "another subject's read of Ada's order");
                    assert.equal(paid.status, 204, "the webhook signed with the key set in the runtime's secrets file");
                    assert.deepEqual(own.rows, [{ reference: "T-1", placed_by: "ada" }]);
                    if (other) assert.equal(foreign, `permission denied for schema ${serviceSchema(other.name)}`);
                    assert.deepEqual((await t.sql.query("SELECT tableowner FROM pg_tables WHERE schemaname = 'orders' AND tablename NOT LIKE 'platform\\_%'")).rows, [{ tableowner: "orders_owner" }]);
                } finally {
                    await asOrders.end();
                }
            });
        });
    });

    describe("the check's edits", () => {
        it("checks both changes in one copy by default, and one change alone in its own copy with --only", () => {
            assert.deepEqual(copiesToCheck(undefined), [["add", "remove"]]);
            assert.deepEqual(copiesToCheck("add"), [["add"]]);
            assert.deepEqual(copiesToCheck("remove"), [["remove"]]);
        });

        it("removes exactly the line of a registered service, and refuses a service with no line", () => {
            // Prepare
            const root = scratchRoot();
            roots.push(root);
            const lines = SCRATCH_REGISTRY;
            // Act
            removeRegistryLine(root, "alpha");
            // Assess
            assert.equal(fs.readFileSync(path.join(root, "infra", "registry.ts"), "utf8"), [lines[0], lines[2], ""].join("\n"));
            assert.throws(() => removeRegistryLine(root, "alpha"), /has 0 lines for service "alpha", not one/);
        });

        it("reads every file of a template folder in path order, appending only the registry, and refuses a missing or empty folder", () => {
            // Prepare
            const template = fs.mkdtempSync(path.join(os.tmpdir(), "template-files-"));
            roots.push(template);
            fs.mkdirSync(path.join(template, "functions", "b", "migrations"), { recursive: true });
            fs.writeFileSync(path.join(template, "functions", "b", "service.ts"), "B\n");
            fs.writeFileSync(path.join(template, "functions", "b", "migrations", "0001.sql"), "M\n");
            fs.mkdirSync(path.join(template, "infra"));
            fs.writeFileSync(path.join(template, "infra", "registry.ts"), "R\n");
            fs.mkdirSync(path.join(template, "empty"));
            // Act
            const read = templateBlocks(template);
            // Assess
            assert.deepEqual(read, [
                { kind: "file", path: "functions/b/migrations/0001.sql", content: "M\n" },
                { kind: "file", path: "functions/b/service.ts", content: "B\n" },
                { kind: "append", path: "infra/registry.ts", content: "R\n" },
            ] satisfies TemplateBlock[]);
            assert.throws(() => templateBlocks(path.join(template, "missing")), /the service template .*missing does not exist/);
            assert.throws(() => templateBlocks(path.join(template, "empty")), /the service template .*empty holds no files/);
        });

        it("proves an environment in both layouts: the plan (with its policy run) of its own, and the pack over every stack the plan does not cover", () => {
            // Act
            const oneStack = layoutCommands("dev", "one-stack");
            const perService = layoutCommands("prod", "stack-per-service");
            // Assess: a one-stack plan runs the pack over the environment's only stack; a platform stack's plan does not cover the services' stacks.
            assert.deepEqual(oneStack, ["npm run plan -- --stack dev", "npm run policy -- --environment dev --layout stack-per-service"]);
            assert.deepEqual(perService, ["npm run plan -- --stack prod-platform", "npm run policy -- --environment prod", "npm run policy -- --environment prod --layout one-stack"]);
        });
    });
});
