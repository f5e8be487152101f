/**
 * What goes into each Lambda function's code archive besides its serialized closure: only the
 * run-time files of the packages that kind of function loads. Measured in `bench/bench.ts` and
 * proven loadable on Node 22 by `tests/artifacts`.
 */
import * as fs from "node:fs";
import * as path from "node:path";

/**
 * The packages a function's archive holds, by kind of function. Everything else is left out:
 * `@pulumi/*` and dev tools, the other kind's packages, and the AWS SDK v3, which the Node.js 22
 * runtime provides (a smaller archive and a faster cold start, at the price of running on the
 * runtime's SDK version; `tests/artifacts` loads every archive with only that SDK beside it).
 * A handler that starts using another package must add it here, or its archive fails those tests.
 */
export const DATABASE_PACKAGES = ["pg"];

/** Files of a package Node never loads through `require`: types, maps, sources, docs, tests, ESM builds. */
const NOT_LOADED = /(\.d\.ts|\.d\.mts|\.d\.cts|\.map|\.ts|\.mts|\.mjs|\.md|\.markdown|\.test\.js)$|^(test|bench|example)s?\.js$|^Makefile$/i;
const NOT_LOADED_DIRECTORIES = new Set(["node_modules", "test", "tests", "__tests__", "bench", "benchmark", "example", "examples", "docs", "src", "esm", ".github"]);

const packageFilesCache = new Map<string, string[]>();

/**
 * What goes into a function's code archive: its serialized closure (always) plus the run-time files
 * of `packages` and of their dependencies, transitively. Pulumi's default walks every dependency
 * of package.json into every function and packs whole package folders; here every root dependency
 * is excluded from that walk and the files are listed one by one instead.
 *
 * Archive paths are relative to the working directory (Pulumi's rule), so the program must run
 * from the folder holding package.json: from any other folder the packages would land at
 * `../node_modules/...` in the zip, where Lambda never looks. That is checked here.
 */
export function codePathOptions(packages: readonly string[]): { extraExcludePackages: string[]; extraIncludePaths: string[] } {
    const root = process.cwd();
    const manifest = path.join(root, "package.json");
    if (!fs.existsSync(manifest)) {
        throw new Error(
            `Function archives are laid out relative to the working directory, ${root}, which has no package.json: ` +
                `run the program from the project root (Pulumi.yaml without "main", the entry point in package.json "main").`,
        );
    }
    const dependencies = Object.keys((JSON.parse(fs.readFileSync(manifest, "utf8")) as { dependencies?: object }).dependencies ?? {});
    const key = `${root}\0${[...packages].sort().join(",")}`;
    let files = packageFilesCache.get(key);
    if (!files) {
        files = runtimeFilesOf(packages, root);
        packageFilesCache.set(key, files);
    }
    // Fresh arrays: CallbackFunction appends to the exclude list it is given.
    return { extraExcludePackages: [...dependencies], extraIncludePaths: [...files] };
}

/** The run-time files of `packages` and their `dependencies`, resolved the way Node resolves them. */
function runtimeFilesOf(packages: readonly string[], root: string): string[] {
    const files: string[] = [];
    const seen = new Set<string>();
    const visit = (name: string, from: string) => {
        const folder = packageFolder(name, from, root);
        if (seen.has(folder)) return;
        seen.add(folder);
        const manifest = JSON.parse(fs.readFileSync(path.join(folder, "package.json"), "utf8")) as { dependencies?: object };
        collectFiles(folder, folder, root, files);
        for (const dependency of Object.keys(manifest.dependencies ?? {})) visit(dependency, folder);
    };
    for (const name of packages) visit(name, root);
    return files.sort();
}

/** `node_modules/<name>` nearest to `from`, as `require` would find it. */
function packageFolder(name: string, from: string, root: string): string {
    for (let directory = from; ; directory = path.dirname(directory)) {
        const candidate = path.join(directory, "node_modules", name);
        if (fs.existsSync(path.join(candidate, "package.json"))) return candidate;
        if (directory === root || directory === path.dirname(directory)) break;
    }
    throw new Error(`Package "${name}" (needed in a function archive) is not installed under ${root}; run npm install.`);
}

function collectFiles(folder: string, packageRoot: string, root: string, files: string[]): void {
    for (const entry of fs.readdirSync(folder, { withFileTypes: true })) {
        const full = path.join(folder, entry.name);
        if (entry.isDirectory()) {
            // Nested node_modules are visited as dependencies. Tests, docs and examples are skipped
            // anywhere; `src` and `esm` only at a package's top, where they hold what `require` never loads.
            const topOnly = entry.name === "src" || entry.name === "esm";
            if (NOT_LOADED_DIRECTORIES.has(entry.name) && (!topOnly || folder === packageRoot)) continue;
            collectFiles(full, packageRoot, root, files);
        } else if (entry.name === "package.json" || !NOT_LOADED.test(entry.name)) {
            files.push(path.relative(root, full).split(path.sep).join("/"));
        }
    }
}
