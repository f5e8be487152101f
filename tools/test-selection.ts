/**
 * Which test files a change can affect, read from the code: a test file depends on the modules it
 * imports (relative imports, followed transitively, as TypeScript resolves them) and on the scripts
 * test code names (a string such as `"local/start.ts"`: a test that runs `npm start` in a process
 * of its own depends on what that process loads). A test that reaches
 * none of the changed files cannot see the change.
 *
 * Used by `npm run check:template`: a service added to or removed from `infra/registry.ts` can
 * change only the suites that reach the registry module, plus the type check and the test files the
 * change itself wrote.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import * as ts from "typescript";
import { REPOSITORY_ROOT } from "../platform/config/stack-files";

/**
 * Dependencies no import shows: modules that load or read another by a path built at run time.
 * `npm start` (local/start.ts) serves the registry module (`DEFAULT_REGISTRY_MODULE`) unless told
 * another; the background type check checks the registry module and the service files it names.
 * (In-process, the test support always hands the local runtime its services: `startTestRuntime`.)
 */
const RUN_TIME_LOADS: Readonly<Record<string, readonly string[]>> = {
    "local/start.ts": ["infra/registry.ts"],
    "local/type-check.ts": ["infra/registry.ts"],
};

/** A script named in a string of test code: one a test runs in a process of its own (`"local/start.ts"`, `"tools/token.ts"`). */
const SCRIPT_PATH = /["'`]((?:local|tools)\/[\w-]+\.ts)["'`]/g;

const COMPILER_OPTIONS: ts.CompilerOptions = { module: ts.ModuleKind.CommonJS, moduleResolution: ts.ModuleResolutionKind.Node10, resolveJsonModule: true };

/** The repository's files (relative paths) that `file` depends on directly. */
function directDependencies(file: string, root: string): string[] {
    const absolute = path.join(root, file);
    const source = fs.readFileSync(absolute, "utf8");
    const found = new Set<string>(RUN_TIME_LOADS[file] ?? []);
    for (const reference of ts.preProcessFile(source, true, true).importedFiles) {
        if (!reference.fileName.startsWith(".")) continue; // a package: not the repository's code
        const resolved = ts.resolveModuleName(reference.fileName, absolute, COMPILER_OPTIONS, ts.sys).resolvedModule;
        if (resolved && !resolved.isExternalLibraryImport) found.add(path.relative(root, resolved.resolvedFileName));
    }
    if (file.startsWith(`tests${path.sep}`)) {
        for (const [, script] of source.matchAll(SCRIPT_PATH)) {
            if (fs.existsSync(path.join(root, script))) found.add(script);
        }
    }
    return [...found];
}

/** The test files among `testFiles` whose dependencies, followed transitively, include one of `changed` (all relative to `root`). */
export function testsAffectedBy(changed: readonly string[], testFiles: readonly string[], root = REPOSITORY_ROOT): string[] {
    const targets = new Set(changed.map((file) => path.normalize(file)));
    const dependencies = new Map<string, string[]>();
    const dependenciesOf = (file: string) => {
        let known = dependencies.get(file);
        if (!known) dependencies.set(file, (known = file.endsWith(".ts") ? directDependencies(file, root) : []));
        return known;
    };
    const reaches = (test: string) => {
        const seen = new Set<string>();
        const pending = [path.normalize(test)];
        while (pending.length > 0) {
            const file = pending.pop()!;
            if (targets.has(file)) return true;
            if (seen.has(file)) continue;
            seen.add(file);
            pending.push(...dependenciesOf(file));
        }
        return false;
    };
    return testFiles.filter(reaches);
}
