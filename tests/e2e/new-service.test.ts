/**
 * A new database service added as the README's "Adding a service" says (its service file, its
 * migration, a registry line) works with no other file touched: under mocks it gets its own IAM
 * sign-in and connection limit and the policy pack passes; in the local runtime its schema and
 * roles are made for it, its route answers, and it sees only its own data. The fixture is the
 * README's code (tests/support/readme-service), checked here to stay the same.
 */
import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import * as pg from "pg";
import { services } from "../../infra/registry";
import { loadPackConfig, PACK_DIR, runPolicies } from "../../tools/policy-engine";
import { REPOSITORY_ROOT, runProgramOffline } from "../../tools/offline";
import { ofType, one } from "../support/graph";
import orders from "../support/readme-service/orders/service";
import { api, startTestRuntime, type TestRuntime } from "./support";

/** The README's code blocks of "Adding a service", as a team would paste them (the list indentation removed). */
function readmeBlocks(): { ts: string; sql: string } {
    const readme = fs.readFileSync(path.join(REPOSITORY_ROOT, "README.md"), "utf8");
    const section = readme.slice(readme.indexOf("## Adding a service"), readme.indexOf("\n## ", readme.indexOf("## Adding a service") + 1));
    const block = (language: string) => {
        const found = new RegExp("```" + language + "\\n([\\s\\S]*?)```").exec(section)?.[1];
        assert.ok(found, `no ${language} block in the README's "Adding a service"`);
        return found.split("\n").map((line) => line.replace(/^ {3}/, "")).join("\n");
    };
    return { ts: block("ts"), sql: block("sql") };
}

describe("e2e: a new database service added as the README says", function () {
    this.timeout(120_000);
    const registry = [...services, orders];

    it("is the README's code: the service file (but for its import paths) and the migration", () => {
        // Prepare
        const { ts, sql } = readmeBlocks();
        const fixture = path.join(REPOSITORY_ROOT, "tests", "support", "readme-service", "orders");
        // Act
        const service = fs.readFileSync(path.join(fixture, "service.ts"), "utf8").split("\n").slice(1).join("\n").replaceAll("../../../../functions/runtime/", "../runtime/");
        const migration = fs.readFileSync(path.join(fixture, "migrations", "0001_create_orders.sql"), "utf8");
        // Assess
        assert.equal(service, ts);
        assert.equal(migration, sql);
    });

    for (const stack of ["dev", "prod"] as const) {
        it(`${stack}: gets its own database user, connection limit and no secret, and passes the policy pack`, async () => {
            // Act
            const run = await runProgramOffline({ stack, services: registry });
            const policy = await runPolicies(run.resources, loadPackConfig(path.join(PACK_DIR, `config.${stack}.json`)));
            // Assess
            const request = JSON.parse(one(run, "aws:lambda/invocation:Invocation").inputs.input);
            const mine = request.services.find((service: { service: string }) => service.service === "orders");
            assert.deepEqual(mine, { service: "orders", schema: "orders", ownerRole: "orders_owner", loginRole: "orders_app", connectionLimit: 10, statementTimeoutMs: 9000 });
            const permissions = JSON.parse(one(run, "aws:iam/rolePolicy:RolePolicy", "orders-permissions").inputs.policy).Statement;
            const connect = permissions.find((statement: { Sid: string }) => statement.Sid === "DatabaseConnect");
            assert.match(connect.Resource, /:dbuser:cluster-[A-Z0-9]+\/orders_app$/);
            assert.ok(!permissions.some((statement: { Action: string[] }) => statement.Action.includes("secretsmanager:GetSecretValue")));
            const fn = ofType(run, "aws:lambda/function:Function").find((f) => f.inputs.environment?.variables?.SERVICE_NAME === "orders")!;
            assert.equal(fn.inputs.environment.variables.DB_USER, "orders_app");
            assert.deepEqual(policy.violations.filter((v) => v.level === "mandatory"), []);
        });
    }

    describe("in the local runtime", () => {
        let t: TestRuntime;
        before(async () => {
            t = await startTestRuntime(registry);
        });
        after(async () => {
            await t?.stop();
        });

        it("has its schema and roles made for it, answers its route, and sees only its own data", async () => {
            // Prepare: an order, written as the service's own role.
            const asOrders = new pg.Client({ connectionString: t.runtime.serviceDatabaseUrl("orders") });
            await asOrders.connect();
            try {
                const { rows } = await asOrders.query<{ id: string }>("INSERT INTO orders (user_id, total) VALUES ($1, 12.5) RETURNING id", ["a5b7713e-54b3-4396-b79c-9244759bb2ac"]);
                // Act
                const response = await api(t.url).get(`/orders/${rows[0].id}`);
                const foreign = await asOrders.query("SELECT * FROM users.users").then(() => "read", (error: Error) => error.message);
                // Assess
                assert.equal(response.status, 200, response.text);
                assert.deepEqual([response.json.id, response.json.total], [rows[0].id, "12.50"]);
                assert.equal(foreign, "permission denied for schema users");
                assert.deepEqual((await t.sql.query("SELECT tableowner FROM pg_tables WHERE schemaname = 'orders' AND tablename NOT LIKE 'platform\\_%'")).rows, [{ tableowner: "orders_owner" }]);
            } finally {
                await asOrders.end();
            }
        });
    });
});
