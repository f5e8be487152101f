/**
 * The affected-stacks script (`tools/affected-stacks.ts`) over a fixture repository written to a
 * temporary folder: environment `shop` deploys a stack per service, environment `solo` as one stack;
 * `orders` publishes events (`events.ts`, which imports `event-types.ts`, and its schema record) that
 * `mail` (folder `mailer/`) imports; `payments` imports a helper folder no service is registered for;
 * `orphan/` is imported by nobody.
 */
import { strict as assert } from "assert";
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { affectedStacks, ciMatrices, classifyPath, githubOutputLines, parseArgs, registeredServices, registryChanges, run, type ServiceFolder } from "../../tools/affected-stacks";
import { importGraph } from "../../testing/import-graph";

const PROJECT = "serverless-microservices";

const REGISTRY = [
    `export { default as orders } from "../functions/orders/service";`,
    `export { default as payments } from "../functions/payments/service";`,
    `export { default as mail } from "../functions/mailer/service";`,
    "",
].join("\n");

const FILES: Record<string, string> = {
    "Pulumi.yaml": `name: ${PROJECT}\nruntime: nodejs\n`,
    "Pulumi.shop.yaml": `config:\n  aws:region: us-east-1\n  ${PROJECT}:layout: stack-per-service\n`,
    "Pulumi.solo.yaml": `config:\n  aws:region: us-east-1\n`,
    "infra/registry.ts": REGISTRY,
    "functions/orders/service.ts": `import { orderEvents } from "./events";\nexport default { name: "orders", events: orderEvents };\n`,
    "functions/orders/handlers.ts": `export const list = () => [];\n`,
    "functions/orders/events.ts": `import { ORDER_PLACED } from "./event-types";\nexport const orderEvents = { [ORDER_PLACED]: {} };\n`,
    "functions/orders/event-types.ts": `export const ORDER_PLACED = "order.placed";\n`,
    "functions/orders/events.schema.json": `{}\n`,
    "functions/payments/service.ts": `import { money } from "../shared-lib/format";\nexport default { name: "payments", money };\n`,
    "functions/shared-lib/format.ts": `export const money = (cents: number) => (cents / 100).toFixed(2);\n`,
    "functions/mailer/service.ts": `import { orderEvents } from "../orders/events";\nexport default { name: "mail", orderEvents };\n`,
    "functions/orphan/unused.ts": `export const unused = 1;\n`,
    "functions/runtime/handler.ts": `export const wrap = <T>(f: T) => f;\n`,
};

function writeFixture(root: string, files: Record<string, string>): void {
    for (const [file, text] of Object.entries(files)) {
        fs.mkdirSync(path.dirname(path.join(root, file)), { recursive: true });
        fs.writeFileSync(path.join(root, file), text);
    }
}

describe("affected stacks", () => {
    let root: string;
    let services: ServiceFolder[];

    before(() => {
        root = fs.mkdtempSync(path.join(os.tmpdir(), "affected-stacks-"));
        writeFixture(root, FILES);
        services = registeredServices(root);
    });

    after(() => fs.rmSync(root, { recursive: true, force: true }));

    function affected(environment: "shop" | "solo", changedPaths: string[] | "all") {
        const warnings: string[] = [];
        const layout = environment === "shop" ? "stack-per-service" : "one-stack";
        const result = affectedStacks({ environment, layout, services, graph: importGraph(root), changedPaths, warn: (message) => warnings.push(message) });
        return { ...result, warnings };
    }

    it("reads the registered services' names from the registry module and their folders from its lines", () => {
        assert.deepEqual(services, [
            { name: "orders", folder: "orders" },
            { name: "payments", folder: "payments" },
            { name: "mail", folder: "mailer" },
        ]);
    });

    describe("in the stack-per-service layout, picks", () => {
        const ALL = ["shop-platform", "shop-orders", "shop-payments", "shop-mail"];
        const table: Array<[string, string[], string[]]> = [
            ["a service's own file: that service", ["functions/orders/handlers.ts"], ["shop-orders"]],
            ["a service's migration (not code): that service", ["functions/payments/migrations/0002_refunds.sql"], ["shop-payments"]],
            ["a producer's event contract: the producer and its consumer", ["functions/orders/events.ts"], ["shop-orders", "shop-mail"]],
            ["a file the contract imports: the producer and its consumer", ["functions/orders/event-types.ts"], ["shop-orders", "shop-mail"]],
            ["the contract's schema record: the producer and its consumer", ["functions/orders/events.schema.json"], ["shop-orders", "shop-mail"]],
            ["a consumer's file: the consumer alone", ["functions/mailer/service.ts"], ["shop-mail"]],
            ["an unregistered folder a service imports: that service", ["functions/shared-lib/format.ts"], ["shop-payments"]],
            ["the runtime: the platform and every service", ["functions/runtime/handler.ts"], ALL],
            ["the platform core: everything", ["platform/config/stack-config.ts"], ALL],
            ["infra: everything", ["infra/components/api.ts"], ALL],
            ["the policy pack: everything", ["policy/rules/lambda-timeout.ts"], ALL],
            ["package.json: everything", ["package.json"], ALL],
            ["package-lock.json: everything", ["package-lock.json"], ALL],
            ["tsconfig.json: everything", ["tsconfig.json"], ALL],
            ["Pulumi.yaml: everything", ["Pulumi.yaml"], ALL],
            ["the environment's own settings: everything", ["Pulumi.shop.yaml"], ALL],
            ["the TypeScript loader: everything", ["tools/typescript-loader.js"], ALL],
            ["another environment's settings: nothing", ["Pulumi.solo.yaml"], []],
            ["docs: nothing", ["docs/deploying.md"], []],
            ["the README: nothing", ["README.md"], []],
            ["a service's README: nothing", ["functions/orders/README.md"], []],
            ["tests: nothing", ["tests/tools/affected-stacks.test.ts"], []],
            ["benchmarks: nothing", ["bench/bench.ts"], []],
            ["the template: nothing", ["examples/service-template/service.ts"], []],
            ["CI scripts: nothing", [".ci/run"], []],
            ["a tool other than the loader: nothing", ["tools/plan.ts"], []],
            ["no change: nothing", [], []],
            ["docs and a service together: the service", ["docs/a.md", "functions/payments/service.ts"], ["shop-payments"]],
            ["the registry without its previous version: every service, not the platform", ["infra/registry.ts"], ALL.slice(1)],
        ];
        for (const [what, changed, expected] of table) {
            it(what, () => {
                // Act
                const result = affected("shop", changed);
                // Assess
                assert.deepEqual(result.stacks, expected);
                assert.equal(result.platform, expected.includes("shop-platform"));
                assert.deepEqual(result.warnings, []);
            });
        }

        it("every stack for --all, the platform first", () => {
            assert.deepEqual(affected("shop", "all").stacks, ALL);
        });

        it("nothing for a folder no service is registered for and none imports, with a warning naming it", () => {
            // Act
            const result = affected("shop", ["functions/orphan/unused.ts"]);
            // Assess
            assert.deepEqual(result.stacks, []);
            assert.equal(result.warnings.length, 1);
            assert.match(result.warnings[0], /functions\/orphan\/unused\.ts belongs to no registered service/);
        });

        it("everything for a path in no known part of the repository, with a warning naming it", () => {
            // Act
            const result = affected("shop", ["scripts/deploy.sh"]);
            // Assess
            assert.deepEqual(result.stacks, ALL);
            assert.match(result.warnings.join("\n"), /scripts\/deploy\.sh is in no known part/);
        });
    });

    describe("in the one-stack layout", () => {
        it("picks the environment's stack when a service changes", () => {
            assert.deepEqual(affected("solo", ["functions/orders/handlers.ts"]).stacks, ["solo"]);
        });

        it("picks the environment's stack when shared code changes", () => {
            const result = affected("solo", ["platform/model.ts"]);
            assert.deepEqual(result.stacks, ["solo"]);
            assert.equal(result.platform, true);
        });

        it("picks nothing when nothing deployable changes", () => {
            assert.deepEqual(affected("solo", ["docs/a.md", "Pulumi.shop.yaml", "tests/x.test.ts"]).stacks, []);
        });

        it("names the affected services all the same", () => {
            assert.deepEqual(affected("solo", ["functions/orders/events.ts"]).services, ["orders", "mail"]);
        });
    });

    describe("the registry's changes", () => {
        it("count only the services whose line was added or changed, and name the folders whose line went away", () => {
            // Prepare
            const before = REGISTRY.replace(`export { default as payments } from "../functions/payments/service";\n`, "") + `export { default as legacy } from "../functions/legacy/service";\n`;
            // Act
            const changes = registryChanges(before, REGISTRY, services);
            // Assess
            assert.deepEqual(changes, { changed: ["payments"], removed: ["legacy"] });
        });

        it("count nothing when only the order of the lines changed", () => {
            const reordered = REGISTRY.split("\n").reverse().join("\n");
            assert.deepEqual(registryChanges(reordered, REGISTRY, services), { changed: [], removed: [] });
        });
    });

    describe("the command", () => {
        it("reads paths from stdin for --paths-from - and the layout from Pulumi.<env>.yaml", async () => {
            // Act
            const [result] = await run(["--environment", "shop", "--paths-from", "-"], root, () => "functions/orders/events.ts\n\n./functions/payments/service.ts\n");
            // Assess
            assert.deepEqual(result, {
                environment: "shop",
                layout: "stack-per-service",
                platform: false,
                services: ["orders", "payments", "mail"],
                stacks: ["shop-orders", "shop-payments", "shop-mail"],
            });
        });

        it("diffs against --base with git, counting only the registry lines that changed", async function () {
            this.timeout(30_000);
            // Prepare: a repository whose last commit adds payments to the registry and edits a doc
            const repo = fs.mkdtempSync(path.join(os.tmpdir(), "affected-stacks-git-"));
            try {
                const git = (...args: string[]) => execFileSync("git", ["-c", "user.name=test", "-c", "user.email=test@example.com", "-c", "commit.gpgsign=false", ...args], { cwd: repo, stdio: "pipe" });
                writeFixture(repo, { ...FILES, "infra/registry.ts": REGISTRY.replace(`export { default as payments } from "../functions/payments/service";\n`, ""), "docs/a.md": "a\n" });
                git("init", "--quiet", "--initial-branch=main");
                git("add", "-A");
                git("commit", "--quiet", "-m", "before");
                writeFixture(repo, { "infra/registry.ts": REGISTRY, "docs/a.md": "b\n" });
                git("commit", "--quiet", "-am", "after");
                // Act
                const [result] = await run(["--environment", "shop", "--base", "HEAD~1"], repo);
                // Assess
                assert.deepEqual(result.stacks, ["shop-payments"]);
            } finally {
                fs.rmSync(repo, { recursive: true, force: true });
            }
        });

        it("answers for each environment given, each in its own layout", async () => {
            // Act
            const results = await run(["--environment", "shop", "--environment", "solo", "--paths-from", "-"], root, () => "functions/mailer/service.ts\n");
            // Assess
            assert.deepEqual(
                results.map((result) => [result.environment, result.layout, result.stacks]),
                [
                    ["shop", "stack-per-service", ["shop-mail"]],
                    ["solo", "one-stack", ["solo"]],
                ],
            );
        });

        it("prints CI's two matrices for --github-output: platform stacks, and service stacks with one-stack environments' stacks", async () => {
            // Prepare
            const results = await run(["--environment", "shop", "--environment", "solo", "--paths-from", "-"], root, () => "platform/model.ts\n");
            // Act
            const lines = githubOutputLines(results);
            // Assess
            assert.equal(
                lines,
                'platform=[{"stack":"shop-platform","environment":"shop"}]\n' +
                    'services=[{"stack":"shop-orders","environment":"shop"},{"stack":"shop-payments","environment":"shop"},{"stack":"shop-mail","environment":"shop"},{"stack":"solo","environment":"solo"}]\n',
            );
        });

        it("prints empty matrices when nothing is affected", () => {
            assert.deepEqual(ciMatrices([affected("shop", ["docs/a.md"]), affected("solo", ["docs/a.md"])]), { platform: [], services: [] });
        });

        it("refuses an environment without a stack file, naming the files there are", async () => {
            await assert.rejects(run(["--environment", "nowhere", "--all"], root), /No stack file .*Pulumi\.nowhere\.yaml; stacks here: .*shop/);
        });

        const badArguments: Array<[string, string[], RegExp]> = [
            ["no environment", ["--all"], /--environment is required/],
            ["two sources", ["--environment", "shop", "--all", "--paths-from", "-"], /exactly one of --base, --paths-from - and --all/],
            ["no source", ["--environment", "shop"], /exactly one of/],
            ["a file for --paths-from", ["--environment", "shop", "--paths-from", "paths.txt"], /stdin only/],
            ["an unknown argument", ["--environment", "shop", "--all", "--verbose"], /unknown argument --verbose/],
            ["--base without a ref", ["--environment", "shop", "--base"], /--base needs a value/],
        ];
        for (const [what, argv, message] of badArguments) {
            it(`refuses ${what}`, () => {
                assert.throws(() => parseArgs(argv), message);
            });
        }
    });

    /**
     * The repository's files: what git tracks, or, in a copy without git (the template check's), every
     * file but the installed packages and the caches, which git ignores.
     */
    function repositoryFiles(root: string): string[] {
        try {
            return execFileSync("git", ["ls-files"], { cwd: root, encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] }).split("\n").filter((file) => file.length > 0);
        } catch {
            // What .gitignore leaves out.
            const ignored = new Set(["node_modules", ".cache", ".data", ".git", ".pulumi", ".scratch", path.join("bench", "results")]);
            const walk = (dir: string): string[] =>
                fs.readdirSync(path.join(root, dir), { withFileTypes: true }).flatMap((entry) => {
                    const relative = path.join(dir, entry.name);
                    if (ignored.has(entry.name) || ignored.has(relative) || entry.name.endsWith(".log")) return [];
                    return entry.isDirectory() ? walk(relative) : [relative];
                });
            return walk("");
        }
    }

    describe("on this repository", () => {
        it("knows where every file the repository tracks belongs: none falls to the everything-with-a-warning rule", () => {
            // Prepare
            const repositoryRoot = path.resolve(__dirname, "..", "..");
            const tracked = repositoryFiles(repositoryRoot);
            const context = { environment: "dev", services: registeredServices(), graph: importGraph(repositoryRoot) };
            // Act
            const unknown = tracked.filter((file) => classifyPath(file, context).kind === "unknown");
            // Assess
            assert.ok(tracked.length > 100, "the repository's files");
            assert.deepEqual(unknown, [], "add these to SHARED_PATHS or UNDEPLOYED_PATHS in tools/affected-stacks.ts");
        });

        it("takes the users service's event contract to users and notifications, which imports it", () => {
            // Prepare
            const repositoryServices = registeredServices();
            const repositoryRoot = path.resolve(__dirname, "..", "..");
            // Act
            const effect = classifyPath("functions/users/events.ts", { environment: "dev", services: repositoryServices, graph: importGraph(repositoryRoot) });
            // Assess
            assert.deepEqual(effect, { kind: "services", services: ["users", "notifications"] });
        });
    });
});
