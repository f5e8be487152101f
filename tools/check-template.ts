/**
 * `npm run check:template [-- --keep] [--only add|remove]`: proves that adding or removing a service
 * never breaks the platform, the way a team that copies this template does it.
 *
 * In a copy of the repository (its files as git sees them, tracked and untracked but not ignored,
 * and the installed packages) it makes both changes below at once, or with `--only` one of them
 * (`copiesToCheck`):
 *
 * - **add**: adds the `orders` service from the template's real files, `examples/orders/`, laid out
 *   as in the repository: every file is written to the same path in the copy, except
 *   `infra/registry.ts`, whose line is appended to the registry. Nothing else is touched, so the
 *   template cannot drift from what works;
 * - **remove**: deletes the `auth` line from `infra/registry.ts`;
 *
 * then runs in the copy `npm test` over what the change can affect and, beside it, `npm run plan`
 * for each environment and `npm run policy` over every stack of it, in both layouts
 * (`layoutCommands`). What the change can affect: the type check of the whole tree,
 * and the test files that reach a file the change wrote or edited (`tools/test-selection.ts`: the
 * registry module, the new service's files, its own test file). The other suites never load the
 * registry; they ran in the original's `npm test` and a registry change cannot change their result.
 * The copy starts with the original's `.cache/` (the type check's build info, the test
 * PostgreSQL cluster), so it redoes only what the change touched. Exit 0 when all pass, 1 when
 * one fails (its output's end is printed; `--keep` keeps the copies). It takes minutes, so
 * `.ci/run` runs it after the suite rather than `npm test`.
 */
import { spawn, spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { PROJECT } from "../platform/config/stack-config";
import { listStacks, readStackConfig, REPOSITORY_ROOT } from "../platform/config/stack-files";
import { layoutOf, platformStackName, type StackLayout } from "../platform/config/stack-layout";
import { CACHE_ROOT } from "./cache";
import { runAsCommand } from "./command";
import { testFilesUnder } from "./test";
import { testsAffectedBy } from "./test-selection";

/** A file the template writes, or text it appends to one. */
export interface TemplateBlock {
    kind: "file" | "append";
    /** Relative to the repository. */
    path: string;
    content: string;
}

/** The service template's folder, relative to the repository: its files laid out as in the repository. */
export const TEMPLATE_DIR = path.join("examples", "orders");

/** The template's files that are appended to the repository's file of the same path rather than written: the registry line. */
export const APPENDED_FILES: readonly string[] = [path.join("infra", "registry.ts")];

/** Every file under `templateDir` as what the template does with it, in path order. */
export function templateBlocks(templateDir: string): TemplateBlock[] {
    if (!fs.existsSync(templateDir)) throw new Error(`the service template ${templateDir} does not exist`);
    const files = (fs.readdirSync(templateDir, { recursive: true, withFileTypes: true }) as fs.Dirent[])
        .filter((entry) => entry.isFile())
        .map((entry) => path.relative(templateDir, path.join(entry.parentPath, entry.name)))
        .sort();
    if (files.length === 0) throw new Error(`the service template ${templateDir} holds no files`);
    return files.map((file) => ({ kind: APPENDED_FILES.includes(file) ? "append" : "file", path: file, content: fs.readFileSync(path.join(templateDir, file), "utf8") }));
}

/** Writes the template into `root`: its files, and its lines appended. Returns the paths it touched. */
export function applyTemplate(root: string, blocks: readonly TemplateBlock[]): string[] {
    for (const block of blocks) {
        const target = path.join(root, block.path);
        if (block.kind === "file") {
            if (fs.existsSync(target)) throw new Error(`the template writes ${block.path}, which exists already`);
            fs.mkdirSync(path.dirname(target), { recursive: true });
            fs.writeFileSync(target, block.content);
        } else {
            const before = fs.readFileSync(target, "utf8");
            fs.writeFileSync(target, (before.endsWith("\n") ? before : `${before}\n`) + block.content);
        }
    }
    return [...new Set(blocks.map((block) => block.path))];
}

/** Deletes the registry line of service `name` (`export { default as <name> } from ...`); exactly one must exist. */
export function removeRegistryLine(root: string, name: string): void {
    const file = path.join(root, "infra", "registry.ts");
    const lines = fs.readFileSync(file, "utf8").split("\n");
    const line = new RegExp(`^export \\{ default as ${name} \\} from "\\.\\./functions/${name}/service";$`);
    const kept = lines.filter((text) => !line.test(text));
    if (kept.length !== lines.length - 1) throw new Error(`infra/registry.ts has ${lines.length - kept.length} lines for service "${name}", not one`);
    fs.writeFileSync(file, kept.join("\n"));
}

/**
 * `node_modules` as `npm ci` would leave it, without fetching anything: hard links to the
 * repository's files where the file system allows them, a copy where it does not. (A symbolic link
 * would not do: tools resolve it to the repository's folder and lay out what they copy from there.)
 */
function installedPackages(from: string, to: string): void {
    if (spawnSync("cp", ["-al", from, to]).status !== 0) {
        fs.rmSync(to, { recursive: true, force: true });
        fs.cpSync(from, to, { recursive: true, verbatimSymlinks: true });
    }
}

/** A copy of the repository as a fresh clone with its dependencies installed would be: git's files, and `node_modules`. */
export function copyRepository(target: string, root = REPOSITORY_ROOT): void {
    const listed = spawnSync("git", ["ls-files", "--cached", "--others", "--exclude-standard", "-z"], { cwd: root, encoding: "utf8" });
    if (listed.status !== 0) throw new Error(`git ls-files failed: ${listed.stderr}`);
    for (const file of listed.stdout.split("\0").filter(Boolean)) {
        const from = path.join(root, file);
        if (!fs.existsSync(from)) continue; // deleted in the work tree, not yet in the index
        fs.mkdirSync(path.dirname(path.join(target, file)), { recursive: true });
        fs.copyFileSync(from, path.join(target, file));
    }
    for (const modules of ["node_modules", path.join("policy", "node_modules")]) installedPackages(path.join(root, modules), path.join(target, modules));
    // Copied, not linked (the type check rewrites its build info in place), with owners and modes:
    // the test PostgreSQL cluster's files belong to the server's own user when we are root.
    const cache = path.join(root, path.relative(REPOSITORY_ROOT, CACHE_ROOT));
    if (fs.existsSync(cache)) {
        const copied = spawnSync("cp", ["-a", cache, path.join(target, path.basename(cache))], { encoding: "utf8" });
        if (copied.status !== 0) throw new Error(`copying ${cache} failed: ${copied.stderr || copied.error}`);
    }
}

interface StepResult {
    command: string;
    ok: boolean;
    seconds: number;
    log: string;
}

function runStep(cwd: string, command: string, logFile: string): Promise<StepResult> {
    const started = Date.now();
    return new Promise((resolve) => {
        const out = fs.openSync(logFile, "w");
        const child = spawn("bash", ["-c", command], { cwd, stdio: ["ignore", out, out], env: { ...process.env, FORCE_COLOR: "0" } });
        child.on("exit", (code) => {
            fs.closeSync(out);
            resolve({ command, ok: code === 0, seconds: Math.round((Date.now() - started) / 1000), log: logFile });
        });
    });
}

/** What regenerates the committed descriptions of the API and the events after a registry change (`docs/adding-a-service.md`). */
export const REGENERATE_DESCRIPTIONS = "npm run -s docs:api";

/** Files git sees changed or added in `root` (a copy is not a repository: compared with the original's). */
function changedFiles(root: string): string[] {
    const listed = spawnSync("git", ["ls-files", "--cached", "--others", "--exclude-standard", "-z"], { cwd: REPOSITORY_ROOT, encoding: "utf8" });
    return listed.stdout
        .split("\0")
        .filter(Boolean)
        .filter((file) => fs.existsSync(path.join(root, file)) && fs.existsSync(path.join(REPOSITORY_ROOT, file)) && !fs.readFileSync(path.join(root, file)).equals(fs.readFileSync(path.join(REPOSITORY_ROOT, file))));
}

const SCENARIOS = {
    add: {
        description: `the orders service added from ${TEMPLATE_DIR}`,
        /** Writes the template into `root`; returns the files it wrote or edited. */
        prepare(root: string): string[] {
            return applyTemplate(root, templateBlocks(path.join(root, TEMPLATE_DIR)));
        },
    },
    remove: {
        description: "the auth service removed from infra/registry.ts",
        prepare(root: string): string[] {
            removeRegistryLine(root, "auth");
            return [path.join("infra", "registry.ts")];
        },
    },
} as const;

/**
 * What proves an environment in both layouts: the plan of the layout its file sets, which runs the
 * policy pack over the stack it plans, and the policy pack over every stack of the environment
 * where the plan does not cover them all: the other stacks of a stack-per-service environment, and
 * every stack of the other layout (one process for all of them). A one-stack environment's plan
 * already runs the pack over its one stack, with the same program run and pack config as
 * `npm run policy -- --environment <env>` would.
 */
export function layoutCommands(environment: string, layout: StackLayout = layoutOf(readStackConfig(environment), PROJECT)): string[] {
    const other = layout === "one-stack" ? "stack-per-service" : "one-stack";
    const planned = layout === "one-stack" ? environment : platformStackName(environment);
    const rest = layout === "one-stack" ? [] : [`npm run policy -- --environment ${environment}`];
    return [`npm run plan -- --stack ${planned}`, ...rest, `npm run policy -- --environment ${environment} --layout ${other}`];
}

/** Runs `commands` one after another in `root`, each logged to `check-<label>-<index>.log` there. */
async function runInOrder(root: string, label: string, commands: readonly string[]): Promise<StepResult[]> {
    const results: StepResult[] = [];
    for (const [index, command] of commands.entries()) results.push(await runStep(root, command, path.join(root, `check-${label}-${index}.log`)));
    return results;
}

type ScenarioName = keyof typeof SCENARIOS;

/**
 * The copies to check: by default one copy with every scenario's change at once (the template
 * added and `auth` removed: what a registry that gains one service and loses another must survive),
 * since each copy re-runs most of the suite's heaviest files; `--only <scenario>` checks that one
 * change alone, in a copy of its own.
 */
export function copiesToCheck(only: ScenarioName | undefined): ScenarioName[][] {
    return only === undefined ? [Object.keys(SCENARIOS) as ScenarioName[]] : [[only]];
}

async function main(argv: readonly string[]): Promise<number> {
    const keep = argv.includes("--keep");
    const onlyAt = argv.indexOf("--only");
    const only = onlyAt >= 0 ? argv[onlyAt + 1] : undefined;
    if (only !== undefined && !(only in SCENARIOS)) {
        console.error(`--only takes ${Object.keys(SCENARIOS).join(" or ")}`);
        return 2;
    }
    const stackCommands = listStacks().flatMap((environment) => layoutCommands(environment));
    let failed = false;
    for (const names of copiesToCheck(only as ScenarioName | undefined)) {
        const label = names.join("-");
        const root = fs.mkdtempSync(path.join(os.tmpdir(), `check-template-${label}-`));
        // PostgreSQL runs as its own user when we are root; it must be able to reach the data folders.
        fs.chmodSync(root, 0o755);
        console.log(`\n${names.join(" and ")}: ${names.map((name) => SCENARIOS[name].description).join(", and ")} (in ${root})`);
        copyRepository(root);
        const changed = [...new Set(names.flatMap((name) => SCENARIOS[name].prepare(root)))];
        // As the docs have a team do after a registry change: the committed API documents and client types follow it.
        const regenerated = await runStep(root, REGENERATE_DESCRIPTIONS, path.join(root, "check-describe.log"));
        if (!regenerated.ok) {
            console.log(`  FAIL ${REGENERATE_DESCRIPTIONS}\n${fs.readFileSync(regenerated.log, "utf8").split("\n").slice(-30).map((line) => `       | ${line}`).join("\n")}`);
            failed = true;
            continue;
        }
        changed.push(...changedFiles(root).filter((file) => !changed.includes(file)));
        const tests = testsAffectedBy(changed, testFilesUnder("tests", root), root);
        const all = testFilesUnder("tests", root).length;
        console.log(`  changed ${changed.join(", ")}; ${tests.length} of ${all} test files reach a changed file`);
        // The plans and policy runs beside the tests: the suites spend much of their time waiting
        // (for child processes, servers, timers), which the program runs fill.
        const [testResults, stackResults] = await Promise.all([runInOrder(root, "tests", [`npm test -- ${tests.join(" ")}`]), runInOrder(root, "stacks", stackCommands)]);
        for (const [index, result] of [...testResults, ...stackResults].entries()) {
            const shown = index === 0 ? `npm test -- <those ${tests.length} files>` : result.command;
            console.log(`  ${result.ok ? "ok  " : "FAIL"} ${shown} (${result.seconds} s)`);
            if (!result.ok) {
                failed = true;
                const lines = fs.readFileSync(result.log, "utf8").split("\n");
                console.log(lines.slice(-60).map((line) => `       | ${line}`).join("\n"));
            }
        }
        if (keep || failed) console.log(`  kept ${root}`);
        else fs.rmSync(root, { recursive: true, force: true });
    }
    console.log(failed ? "\ncheck:template FAILED" : "\ncheck:template passed: adding a service and removing one leave the tests, the plan and the policy pack green");
    return failed ? 1 : 0;
}

if (require.main === module) runAsCommand(main);
