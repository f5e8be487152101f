/**
 * The directions the tree imports in (`IMPORT_RULES` in testing/import-graph.ts): the deployed
 * runtime imports nothing of the platform core, infra, local, tools or the policy pack; the core
 * imports no Pulumi; nothing imports a test suite; no import cycle. Checked on the repository, and
 * shown to fail on a wrong import planted in a scratch tree and on synthetic graphs.
 */
import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { REPOSITORY_ROOT } from "../../platform/config/stack-files";
import { importCycles, importGraph, ruleViolations, type ImportGraph } from "../../testing/import-graph";

const graphOf = (edges: Record<string, string[]>): ImportGraph => new Map(Object.entries(edges));

describe("import directions", () => {
    const repository = importGraph(REPOSITORY_ROOT);

    it("reads the repository's imports, type-only ones included", () => {
        // Prepare: files known to import each other by value and by type alone.
        const resolution = repository.get("platform/registry/resolution.ts");
        // Assess
        assert.ok(resolution?.includes("platform/registry/validation.ts"), "a value import");
        assert.ok(resolution?.includes("platform/model.ts"), "a type-only import");
        assert.ok(repository.get("infra/program.ts")?.includes("@pulumi/pulumi"), "a package import");
    });

    it("finds no import that breaks a direction in the repository", () => {
        assert.deepEqual(ruleViolations(repository), []);
    });

    it("finds no import cycle in the repository", () => {
        assert.deepEqual(importCycles(repository), []);
    });

    it("fails on a wrong import planted in a tree: the runtime reaching into infra, the core into Pulumi", () => {
        // Prepare: a scratch tree with one wrong import of each kind and one right one.
        const root = fs.mkdtempSync(path.join(os.tmpdir(), "import-direction-"));
        try {
            const write = (file: string, text: string) => {
                fs.mkdirSync(path.dirname(path.join(root, file)), { recursive: true });
                fs.writeFileSync(path.join(root, file), text);
            };
            write("infra/program.ts", 'import * as pulumi from "@pulumi/pulumi";\nimport { name } from "../platform/naming";\n');
            write("platform/naming.ts", 'import type { Output } from "@pulumi/pulumi";\nexport const name = "a";\n');
            write("functions/runtime/http/handler.ts", 'import type { x } from "../../../infra/program";\n');
            // Act
            const violations = ruleViolations(importGraph(root));
            // Assess
            assert.equal(violations.length, 2, violations.join("\n"));
            assert.match(violations[0], /^functions\/runtime\/http\/handler\.ts -> infra\/program\.ts: the services and the runtime/);
            assert.match(violations[1], /^platform\/naming\.ts -> @pulumi\/pulumi: the platform core is Pulumi-free/);
        } finally {
            fs.rmSync(root, { recursive: true, force: true });
        }
    });

    it("names each direction broken in a synthetic graph, and passes the imports that are allowed", () => {
        const violations = ruleViolations(
            graphOf({
                "functions/runtime/outbox/outbox.ts": ["policy/lib/limits.ts", "functions/runtime/limits.ts", "pg"],
                "functions/users/service.ts": ["platform/naming.ts", "local/server.ts", "tools/offline.ts"],
                "platform/model.ts": ["@pulumi/aws", "functions/runtime/contract/service.ts", "policy/lib/limits.ts"],
                "local/server.ts": ["infra/program.ts", "platform/model.ts", "functions/runtime/handler.ts"],
                "policy/rules/memory.ts": ["policy/lib/limits.ts", "platform/naming.ts", "@pulumi/policy"],
                "bench/bench.ts": ["tests/support/lambda/archive.ts", "testing/lambda/archive.ts"],
                "tests/runtime/x.test.ts": ["tests/e2e/probe-service.ts", "testing/postgres.ts"],
            }),
        );
        assert.deepEqual(
            violations.map((violation) => violation.split(":")[0]),
            [
                "functions/runtime/outbox/outbox.ts -> policy/lib/limits.ts",
                "functions/users/service.ts -> platform/naming.ts",
                "functions/users/service.ts -> local/server.ts",
                "functions/users/service.ts -> tools/offline.ts",
                "platform/model.ts -> @pulumi/aws",
                "local/server.ts -> infra/program.ts",
                "policy/rules/memory.ts -> platform/naming.ts",
                "bench/bench.ts -> tests/support/lambda/archive.ts",
            ],
        );
    });

    it("finds a cycle, a longer one and a file importing itself, and nothing in a chain", () => {
        const cycles = importCycles(
            graphOf({
                "a.ts": ["b.ts"],
                "b.ts": ["a.ts", "node:fs"],
                "c.ts": ["d.ts"],
                "d.ts": ["e.ts"],
                "e.ts": ["c.ts"],
                "f.ts": ["f.ts"],
                "g.ts": ["h.ts"],
                "h.ts": [],
            }),
        );
        assert.deepEqual(cycles.sort(), [["a.ts", "b.ts"], ["c.ts", "d.ts", "e.ts"], ["f.ts"]]);
    });
});
