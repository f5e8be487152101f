/**
 * The connection budget the program holds a registry to before any resource: the cluster's
 * max_connections (the pack config's, else estimated from the maximum capacity) less the pack
 * config's headroom, against the services' login roles' limits added up.
 */
import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { connectionBudgetProblems } from "../../platform/data-plan";
import { connectionBudgetFor } from "../../platform/function-bounds";

describe("the connection budget of an environment", () => {
    let root: string;
    before(() => {
        root = fs.mkdtempSync(path.join(os.tmpdir(), "connection-budget-"));
        fs.mkdirSync(path.join(root, "policy"));
        fs.writeFileSync(path.join(root, "policy", "config.tight.json"), JSON.stringify({ "db-connection-budget": { maxConnections: 100, headroomConnections: 5 } }));
    });
    after(() => fs.rmSync(root, { recursive: true, force: true }));

    it("estimates max_connections from the maximum capacity, less the default headroom, without a pack config", () => {
        assert.deepEqual(connectionBudgetFor("none", { minCapacity: 0, maxCapacity: 2 }, root), { connections: 410, reason: "max_connections 420 (estimated from database.maxCapacity 2 ACU) less 10 of headroom" });
    });

    it("takes max_connections and the headroom from the environment's pack config when it sets them", () => {
        assert.deepEqual(connectionBudgetFor("tight", { minCapacity: 0, maxCapacity: 2 }, root), { connections: 95, reason: `max_connections 100 (maxConnections in ${path.join("policy", "config.tight.json")}) less 5 of headroom` });
    });

    it("accepts limits that fit and refuses a sum over the budget, naming every role and what to change", () => {
        const budget = { connections: 95, reason: "test" };
        assert.deepEqual(connectionBudgetProblems([{ loginRole: "a_app", connectionLimit: 50 }, { loginRole: "b_app", connectionLimit: 45 }], budget), []);
        assert.deepEqual(connectionBudgetProblems([], budget), []);
        const [problem] = connectionBudgetProblems([{ loginRole: "a_app", connectionLimit: 50 }, { loginRole: "b_app", connectionLimit: 46 }], budget);
        assert.match(problem, /may hold 96 connections together \(a_app 50, b_app 46\), more than the 95 the cluster allows \(test\); lower a service's reservedConcurrency or database\.connectionsPerFunction, or raise database\.maxCapacity/);
    });
});
