/**
 * `npm run affected-stacks -- --environment <env> (--base <git ref> | --paths-from - | --all)`: which
 * stacks of an environment a change needs previewed or deployed, as JSON on stdout (a line per
 * environment when `--environment` is given more than once):
 *
 *     {"environment": "dev", "layout": "stack-per-service", "platform": true,
 *      "services": ["users", "notifications"], "stacks": ["dev-platform", "dev-users", "dev-notifications"]}
 *
 * `stacks` is in deploy order (the platform first). In the one-stack layout it is `[<env>]` when
 * anything deployable changed, else `[]`. The changed paths come from `git diff --name-only
 * <base>...HEAD` (`--base`), from stdin one a line (`--paths-from -`), or `--all` takes every stack
 * (a first deploy, a manual run, a push whose base is unknown). `--github-output` prints instead the
 * two matrices CI's workflows run (`ciMatrices`) as `$GITHUB_OUTPUT` lines.
 *
 * What a changed path affects (`classifyPath`):
 * - a file of a service's folder (`functions/<folder>/`): that service, and every service whose files
 *   import it, directly or through other files: a producer's event contract (`events.ts`, and its
 *   `events.schema.json` record) reaches its consumers this way;
 * - the code and settings every stack deploys with (`SHARED_PATHS`: the runtime, the platform core,
 *   infra, the policy pack, the package and TypeScript settings, `Pulumi.yaml`, the environment's
 *   own `Pulumi.<env>.yaml`, the TypeScript loader): the platform and every service;
 * - the registry (`infra/registry.ts`): the services whose line changed when the base is known,
 *   else every service;
 * - what no stack deploys (`UNDEPLOYED_PATHS`: docs, tests, benchmarks, the template, CI, the local
 *   runtime, other environments' files): nothing;
 * - anything else: the platform and every service, with a warning, since a path nobody classified
 *   may well be deployed.
 */
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import * as ts from "typescript";
import * as YAML from "yaml";
import { environmentStacks, layoutOf, platformStackName, serviceStackName, type StackLayout } from "../platform/config/stack-layout";
import { readStackConfig, REPOSITORY_ROOT } from "../platform/config/stack-files";
import { SCHEMA_RECORD_FILE } from "../platform/events/schemas";
import { importGraph, type ImportGraph } from "../testing/import-graph";
import { runAsCommand } from "./command";

/** A registered service and the folder under `functions/` its definition lives in. */
export interface ServiceFolder {
    name: string;
    folder: string;
}

export interface AffectedStacks {
    environment: string;
    layout: StackLayout;
    platform: boolean;
    /** The affected services, in registry order. */
    services: string[];
    /** The stacks to preview or deploy, in deploy order. */
    stacks: string[];
}

/** The registry file, whose lines name the services. */
export const REGISTRY_FILE = "infra/registry.ts";
/** The runtime every service deploys with: under `functions/` but no service's folder. */
const RUNTIME_FOLDER = "runtime";

/** Paths whose change reaches the platform and every service (`<env>` stands for the environment's name). */
export const SHARED_PATHS: readonly string[] = [
    "functions/runtime/**",
    "platform/**",
    "infra/**",
    "policy/**",
    "package.json",
    "package-lock.json",
    "tsconfig.json",
    "Pulumi.yaml",
    "Pulumi.<env>.yaml",
    "tools/typescript-loader.js",
];

/** Paths no stack deploys. Another environment's `Pulumi.<other>.yaml` is one too. */
export const UNDEPLOYED_PATHS: readonly string[] = [
    "**/*.md",
    "docs/**",
    "tests/**",
    "testing/**",
    "bench/**",
    "examples/**",
    "local/**",
    "tools/**",
    ".ci/**",
    ".github/**",
    ".gitignore",
    ".mocharc.json",
    "LICENSE",
];

/** `**` any path, `*` any name within a segment. */
function globToRegExp(glob: string): RegExp {
    const source = glob
        .split(/(\*\*\/|\/\*\*|\*)/)
        .map((part) => (part === "**/" ? "(?:.*/)?" : part === "/**" ? "/.*" : part === "*" ? "[^/]*" : part.replace(/[.+?^${}()|[\]\\]/g, "\\$&")))
        .join("");
    return new RegExp(`^${source}$`);
}

function matchesAny(file: string, globs: readonly string[], environment: string): boolean {
    return globs.some((glob) => globToRegExp(glob.replace("<env>", environment)).test(file));
}

/** What one changed path reaches. */
export type PathEffect =
    | { kind: "shared" }
    | { kind: "nothing" }
    | { kind: "registry" }
    | { kind: "services"; services: string[] }
    | { kind: "unknown" };

export interface ClassifyContext {
    environment: string;
    services: readonly ServiceFolder[];
    /** The repository's import graph (`testing/import-graph.ts`): which files import a changed one. */
    graph: ImportGraph;
}

/** Every file that imports `file`, directly or through others. */
function importersOf(file: string, graph: ImportGraph): Set<string> {
    const reverse = new Map<string, string[]>();
    for (const [from, imports] of graph) for (const imported of imports) reverse.set(imported, [...(reverse.get(imported) ?? []), from]);
    const seen = new Set<string>();
    const pending = [file];
    while (pending.length > 0) {
        for (const importer of reverse.get(pending.pop()!) ?? []) {
            if (!seen.has(importer)) {
                seen.add(importer);
                pending.push(importer);
            }
        }
    }
    return seen;
}

/** The services a file of `functions/` (outside the runtime) reaches: its folder's, and its importers'. */
function servicesReaching(file: string, context: ClassifyContext): string[] {
    const folderOf = (candidate: string) => /^functions\/([^/]+)\//.exec(candidate)?.[1];
    // A producer's schema record is the contract its events.ts declares: it reaches whoever imports that.
    const contract = path.posix.basename(file) === SCHEMA_RECORD_FILE ? path.posix.join(path.posix.dirname(file), "events.ts") : file;
    const folders = new Set([folderOf(file), ...[...importersOf(contract, context.graph)].map(folderOf)]);
    return context.services.filter((service) => folders.has(service.folder)).map((service) => service.name);
}

/** What a changed path (relative to the repository, `/`-separated) reaches. */
export function classifyPath(file: string, context: ClassifyContext): PathEffect {
    const { environment } = context;
    if (file === REGISTRY_FILE) return { kind: "registry" };
    if (/^Pulumi\.[^/]+\.yaml$/.test(file) && file !== `Pulumi.${environment}.yaml`) return { kind: "nothing" };
    // Shared before undeployed: the loader is the one file of tools/ every stack runs with.
    if (!file.endsWith(".md") && matchesAny(file, SHARED_PATHS, environment)) return { kind: "shared" };
    if (matchesAny(file, UNDEPLOYED_PATHS, environment)) return { kind: "nothing" };
    const folder = /^functions\/([^/]+)\//.exec(file)?.[1];
    if (folder !== undefined && folder !== RUNTIME_FOLDER) return { kind: "services", services: servicesReaching(file, context) };
    return { kind: "unknown" };
}

/** The export names of `infra/registry.ts` with the folder each service comes from (`../functions/<folder>/...`). */
export function registryFolders(registrySource: string): Map<string, string> {
    const source = ts.createSourceFile(REGISTRY_FILE, registrySource, ts.ScriptTarget.Latest, false);
    const folders = new Map<string, string>();
    for (const statement of source.statements) {
        if (!ts.isExportDeclaration(statement) || !statement.moduleSpecifier || !ts.isStringLiteral(statement.moduleSpecifier)) continue;
        const folder = /^\.\.\/functions\/([^/]+)\//.exec(statement.moduleSpecifier.text)?.[1];
        if (folder === undefined || !statement.exportClause || !ts.isNamedExports(statement.exportClause)) continue;
        for (const element of statement.exportClause.elements) folders.set(element.name.text, folder);
    }
    return folders;
}

/**
 * The registered services with their folders: the names from the registry module itself (a
 * service's `name`, which its stack is named after), the folders from the registry's lines.
 */
export function registeredServices(root = REPOSITORY_ROOT): ServiceFolder[] {
    const file = path.join(root, REGISTRY_FILE);
    const folders = registryFolders(fs.readFileSync(file, "utf8"));
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const registry = require(file) as Record<string, { name?: unknown }>;
    return Object.entries(registry).map(([exported, service]) => {
        const folder = folders.get(exported);
        if (folder === undefined || typeof service?.name !== "string") {
            throw new Error(`${REGISTRY_FILE}: the export "${exported}" is not a line "export { default as ${exported} } from "../functions/<folder>/service"" naming a service`);
        }
        return { name: service.name, folder };
    });
}

/**
 * The services whose registry line was added or changed between two versions of
 * `infra/registry.ts`, and those whose line went away (their stacks are destroyed, not deployed).
 */
export function registryChanges(before: string, after: string, services: readonly ServiceFolder[]): { changed: string[]; removed: string[] } {
    const lines = (text: string) => new Set(text.split("\n").map((line) => line.trim()).filter((line) => line.startsWith("export")));
    const old = lines(before);
    const changedFolders = new Set([...lines(after)].filter((line) => !old.has(line)).flatMap((line) => [...registryFolders(line).values()]));
    const remaining = new Set(registryFolders(after).values());
    return {
        changed: services.filter((service) => changedFolders.has(service.folder)).map((service) => service.name),
        removed: [...new Set(registryFolders(before).values())].filter((folder) => !remaining.has(folder)),
    };
}

export interface AffectedInput {
    environment: string;
    layout: StackLayout;
    services: readonly ServiceFolder[];
    graph: ImportGraph;
    /** Changed paths, relative to the repository; `"all"` takes every stack. */
    changedPaths: readonly string[] | "all";
    /** The registry before the change, when known: then only the services whose line changed count. */
    registryBefore?: string;
    /** The registry after the change (needed with `registryBefore`). */
    registryAfter?: string;
    /** Where warnings go. @default stderr */
    warn?: (message: string) => void;
}

/** The stacks a change affects (see the file's comment for the rules). */
export function affectedStacks(input: AffectedInput): AffectedStacks {
    const { environment, layout, services } = input;
    const warn = input.warn ?? ((message: string) => console.error(`warning: ${message}`));
    const context: ClassifyContext = { environment, services, graph: input.graph };
    let platform = input.changedPaths === "all";
    const affected = new Set<string>(input.changedPaths === "all" ? services.map((service) => service.name) : []);

    for (const file of input.changedPaths === "all" ? [] : input.changedPaths) {
        const effect = classifyPath(file, context);
        if (effect.kind === "shared") {
            platform = true;
            services.forEach((service) => affected.add(service.name));
        } else if (effect.kind === "unknown") {
            warn(`${file} is in no known part of the repository: previewing the platform and every service`);
            platform = true;
            services.forEach((service) => affected.add(service.name));
        } else if (effect.kind === "registry") {
            if (input.registryBefore !== undefined && input.registryAfter !== undefined) {
                const { changed, removed } = registryChanges(input.registryBefore, input.registryAfter, services);
                changed.forEach((service) => affected.add(service));
                for (const folder of removed) warn(`the service of functions/${folder}/ left the registry: destroy its stack rather than deploy it`);
            } else {
                services.forEach((service) => affected.add(service.name));
            }
        } else if (effect.kind === "services") {
            if (effect.services.length === 0) warn(`${file} belongs to no registered service and no service imports it: it affects no stack`);
            effect.services.forEach((service) => affected.add(service));
        }
    }

    const affectedServices = services.map((service) => service.name).filter((service) => affected.has(service));
    const anything = platform || affectedServices.length > 0;
    const stacks =
        layout === "one-stack"
            ? anything
                ? environmentStacks(environment, layout, [])
                : []
            : [...(platform ? [platformStackName(environment)] : []), ...affectedServices.map((service) => serviceStackName(environment, service))];
    return { environment, layout, platform, services: affectedServices, stacks };
}

/** The project's name (`Pulumi.yaml`), the prefix of its settings. */
function projectName(root: string): string {
    const project = YAML.parse(fs.readFileSync(path.join(root, "Pulumi.yaml"), "utf8")) as { name?: unknown } | null;
    if (typeof project?.name !== "string") throw new Error(`${path.join(root, "Pulumi.yaml")} names no project`);
    return project.name;
}

/** The layout `Pulumi.<environment>.yaml` under `root` asks for. */
export function environmentLayout(environment: string, root = REPOSITORY_ROOT): StackLayout {
    return layoutOf(readStackConfig(environment, root), projectName(root));
}

export interface CommandOptions {
    /** One or more environments (`--environment` given again for each). */
    environments: string[];
    source: { kind: "base"; ref: string } | { kind: "stdin" } | { kind: "all" };
    /** Print the matrices of CI's jobs (`githubOutput`) rather than JSON. */
    githubOutput: boolean;
}

const USAGE = "npm run affected-stacks -- --environment <env> [--environment <env>...] (--base <git ref> | --paths-from - | --all) [--github-output]";

export function parseArgs(argv: readonly string[]): CommandOptions {
    const environments: string[] = [];
    const sources: CommandOptions["source"][] = [];
    let githubOutput = false;
    for (let i = 0; i < argv.length; i++) {
        const arg = argv[i];
        const value = () => {
            const next = argv[++i];
            if (next === undefined || next.startsWith("--")) throw new Error(`${arg} needs a value (${USAGE})`);
            return next;
        };
        if (arg === "--environment") environments.push(value());
        else if (arg === "--base") sources.push({ kind: "base", ref: value() });
        else if (arg === "--paths-from") {
            const from = value();
            if (from !== "-") throw new Error(`--paths-from reads stdin only ("-"), not ${from}`);
            sources.push({ kind: "stdin" });
        } else if (arg === "--all") sources.push({ kind: "all" });
        else if (arg === "--github-output") githubOutput = true;
        else throw new Error(`unknown argument ${arg} (${USAGE})`);
    }
    if (environments.length === 0) throw new Error(`--environment is required (${USAGE})`);
    if (sources.length !== 1) throw new Error(`give exactly one of --base, --paths-from - and --all (${USAGE})`);
    return { environments: [...new Set(environments)], source: sources[0], githubOutput };
}

/** One job of CI's matrices: a stack and the environment whose settings and policy config it takes. */
export interface StackJob {
    stack: string;
    environment: string;
}

/**
 * What CI runs, as two matrices: `platform`, the platform stacks (run first), and `services`, the
 * service stacks, each on its own. A one-stack environment's stack is in `services`: a matrix of one
 * that needs no platform job.
 */
export function ciMatrices(results: readonly AffectedStacks[]): { platform: StackJob[]; services: StackJob[] } {
    const platform: StackJob[] = [];
    const services: StackJob[] = [];
    for (const { environment, layout, stacks } of results) {
        for (const stack of stacks) {
            const target = { stack, environment };
            if (layout === "stack-per-service" && stack === platformStackName(environment)) platform.push(target);
            else services.push(target);
        }
    }
    return { platform, services };
}

/** The matrices as `$GITHUB_OUTPUT` lines: `platform=<json>` and `services=<json>`. */
export function githubOutputLines(results: readonly AffectedStacks[]): string {
    const { platform, services } = ciMatrices(results);
    return `platform=${JSON.stringify(platform)}\nservices=${JSON.stringify(services)}\n`;
}

/** The paths that differ between `base` and HEAD, both sides of a rename. */
function gitChangedPaths(base: string, root: string): string[] {
    const output = execFileSync("git", ["diff", "--name-only", "--no-renames", `${base}...HEAD`], { cwd: root, encoding: "utf8" });
    return output.split("\n").filter((line) => line.length > 0);
}

function gitFileAt(ref: string, file: string, root: string): string | undefined {
    try {
        return execFileSync("git", ["show", `${ref}:${file}`], { cwd: root, encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] });
    } catch {
        return undefined;
    }
}

/** Runs the command against the repository at `root`, reading stdin through `readStdin`: one result per environment. */
export async function run(argv: readonly string[], root = REPOSITORY_ROOT, readStdin: () => string = () => fs.readFileSync(0, "utf8")): Promise<AffectedStacks[]> {
    const options = parseArgs(argv);
    const layouts = options.environments.map((environment) => environmentLayout(environment, root));
    const services = registeredServices(root);
    const graph = importGraph(root);
    const source = options.source;
    const changedPaths =
        source.kind === "all"
            ? "all"
            : (source.kind === "base" ? gitChangedPaths(source.ref, root) : readStdin().split("\n"))
                  .map((line) => line.trim().replace(/^\.\//, ""))
                  .filter((line) => line.length > 0);
    const registryBefore = source.kind === "base" ? gitFileAt(source.ref, REGISTRY_FILE, root) : undefined;
    const registryAfter = registryBefore !== undefined ? fs.readFileSync(path.join(root, REGISTRY_FILE), "utf8") : undefined;
    return options.environments.map((environment, index) =>
        affectedStacks({ environment, layout: layouts[index], services, graph, changedPaths, registryBefore, registryAfter }),
    );
}

async function main(argv: readonly string[]): Promise<number> {
    const results = await run(argv);
    if (parseArgs(argv).githubOutput) process.stdout.write(githubOutputLines(results));
    else for (const result of results) console.log(JSON.stringify(result));
    return 0;
}

if (require.main === module) runAsCommand(main);
