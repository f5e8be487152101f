/**
 * The README's "Adding a service" is a template that works when copied literally: its code blocks
 * are the files `npm run check:template` writes into a copy of the repository (then runs every suite,
 * the plan and the policy pack there; see tools/check-template.ts). Here, quickly, on every `npm
 * test`: the blocks are there, adding them touches one registry line, and the service they declare
 * resolves beside the real registry under each stack's bounds and migrates a fresh database alone.
 */
import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { applyMigrations } from "../../functions/runtime/migrations";
import type { AnyService } from "../../functions/runtime/service";
import { parseStackConfig } from "../../infra/config";
import { functionBoundsFor } from "../../infra/function-bounds";
import { resolveRegistry } from "../../infra/registry-resolution";
import { services } from "../../infra/services";
import { listStacks, readStackConfig, REPOSITORY_ROOT } from "../../infra/stack-files";
import { applyTemplate, removeRegistryLine, templateBlocks, type TemplateBlock } from "../../tools/check-template";
import { usePostgres } from "../support/postgres";

const README = fs.readFileSync(path.join(REPOSITORY_ROOT, "README.md"), "utf8");

/** A registry of two services, one line each, as `infra/registry.ts` is written. */
const SCRATCH_REGISTRY = ["/** A registry. */", 'export { default as alpha } from "../functions/alpha/service";', 'export { default as beta } from "../functions/beta/service";', ""];

/** A folder with a registry and the repository's runtime (linked), for the template to be written into. */
function scratchRoot(): string {
    const root = fs.mkdtempSync(path.join(os.tmpdir(), "template-"));
    fs.mkdirSync(path.join(root, "infra"));
    fs.writeFileSync(path.join(root, "infra", "registry.ts"), SCRATCH_REGISTRY.join("\n"));
    fs.mkdirSync(path.join(root, "functions"));
    fs.symlinkSync(path.join(REPOSITORY_ROOT, "functions", "runtime"), path.join(root, "functions", "runtime"), "dir");
    return root;
}

describe("the README's service template (Adding a service)", () => {
    const blocks = templateBlocks(README);
    const roots: string[] = [];
    after(() => roots.forEach((root) => fs.rmSync(root, { recursive: true, force: true })));

    it("holds a service file, its migration, its test file and one registry line", () => {
        assert.deepEqual(blocks.map((block) => `${block.kind} ${block.path}`), [
            "file functions/orders/service.ts",
            "file functions/orders/migrations/0001_create_orders.sql",
            "append infra/registry.ts",
            "file tests/services/orders.test.ts",
        ]);
        assert.deepEqual(blocks[2].content, 'export { default as orders } from "../functions/orders/service";\n');
    });

    it("touches nothing but its folder, its test file and one line of infra/registry.ts", () => {
        // Prepare
        const root = scratchRoot();
        roots.push(root);
        // Act
        const touched = applyTemplate(root, blocks);
        // Assess
        assert.deepEqual(touched, ["functions/orders/service.ts", "functions/orders/migrations/0001_create_orders.sql", "infra/registry.ts", "tests/services/orders.test.ts"]);
        const after = fs.readFileSync(path.join(root, "infra", "registry.ts"), "utf8");
        assert.equal(after, [...SCRATCH_REGISTRY.slice(0, -1), 'export { default as orders } from "../functions/orders/service";', ""].join("\n"));
        assert.throws(() => applyTemplate(root, blocks), /the template writes functions\/orders\/service\.ts, which exists already/);
    });

    describe("the service it declares", () => {
        const postgres = usePostgres();
        let orders: AnyService;
        before(() => {
            const root = scratchRoot();
            roots.push(root);
            applyTemplate(root, blocks);
            orders = (require(path.join(root, "functions", "orders", "service.ts")) as { default: AnyService }).default;
        });

        for (const stack of listStacks()) {
            it(`resolves beside the real registry under the ${stack} stack's defaults and policy pack bounds`, () => {
                const defaults = parseStackConfig(stack, readStackConfig(stack)).functionDefaults;
                const registry = resolveRegistry([...services.filter((service) => service.name !== orders.name), orders], defaults, functionBoundsFor(stack));
                assert.deepEqual(registry.services.find((service) => service.name === "orders")!.routes.map((route) => [route.routeKey, route.auth]), [
                    ["POST /orders", "jwt"],
                    ["GET /orders/{id}", "none"],
                    ["DELETE /orders/{id}", "jwt"],
                ]);
            });
        }

        it("migrates a fresh database by itself", async () => {
            const { migrations } = resolveRegistry([orders], { memoryMb: 256, timeoutSeconds: 10 });
            assert.deepEqual((await applyMigrations(postgres().db, migrations)).applied, ["orders/1_create_orders"]);
        });
    });

    describe("the check's edits", () => {
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

        it("reads only the marked blocks of the template's section", () => {
            const readme = "# x\n```ts file=a.ts\nbefore\n```\n## Adding a service\n```ts\nplain\n```\n```ts file=b.ts\nB\n```\n```sql append=c.sql\nC\n```\n## Next\n```ts file=d.ts\nD\n```\n";
            assert.deepEqual(templateBlocks(readme), [
                { kind: "file", path: "b.ts", content: "B\n" },
                { kind: "append", path: "c.sql", content: "C\n" },
            ] satisfies TemplateBlock[]);
            assert.throws(() => templateBlocks("# no template here\n"), /the README has no "## Adding a service" section/);
        });
    });
});
