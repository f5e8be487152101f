/**
 * The repository's import graph and the directions its folders may import in: what the
 * import-direction test (`tests/meta/import-direction.test.ts`) checks. Each file's imports are
 * read with the TypeScript compiler's own pre-processor (static and type-only imports, `export ...
 * from`, `require` and dynamic `import()`), so a type import counts as much as a value import.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import * as ts from "typescript";

/** Each source file (relative, `/`-separated) with what it imports: files of the tree, or package names. */
export type ImportGraph = ReadonlyMap<string, readonly string[]>;

const SOURCE = /\.(ts|js|mjs|cjs)$/;
const SKIPPED = new Set(["node_modules", ".git", ".cache", ".data", ".scratch", ".pulumi"]);
const RESOLVED_SUFFIXES = ["", ".ts", ".js", "/index.ts", "/index.js"];

function sourceFiles(root: string, dir = ""): string[] {
    return fs.readdirSync(path.join(root, dir), { withFileTypes: true }).flatMap((entry) => {
        const relative = dir ? `${dir}/${entry.name}` : entry.name;
        if (entry.isDirectory()) return SKIPPED.has(entry.name) ? [] : sourceFiles(root, relative);
        return SOURCE.test(entry.name) && !entry.name.endsWith(".d.ts") ? [relative] : [];
    });
}

/** The package a bare specifier names: `@pulumi/aws/sqs` -> `@pulumi/aws`, `node:fs` stays. */
function packageOf(specifier: string): string {
    const parts = specifier.split("/");
    return specifier.startsWith("@") ? parts.slice(0, 2).join("/") : parts[0];
}

/** Every source file under `root` with its imports. */
export function importGraph(root: string): ImportGraph {
    const files = sourceFiles(root);
    const known = new Set(files);
    const graph = new Map<string, string[]>();
    for (const file of files) {
        const { importedFiles } = ts.preProcessFile(fs.readFileSync(path.join(root, file), "utf8"), true, true);
        graph.set(
            file,
            importedFiles.map(({ fileName }) => {
                if (!fileName.startsWith(".")) return packageOf(fileName);
                const base = path.posix.normalize(path.posix.join(path.posix.dirname(file), fileName));
                return RESOLVED_SUFFIXES.map((suffix) => base + suffix).find((candidate) => known.has(candidate)) ?? base;
            }),
        );
    }
    return graph;
}

/** A direction the tree must keep: files matching `from` import nothing matching any of `mayNotImport`. */
export interface ImportRule {
    /** Why, as the failure message says it. */
    reason: string;
    from: RegExp;
    /** Matched against the imported file or package name; `except` lifts the rule for some of those. */
    mayNotImport: RegExp;
    except?: RegExp;
}

/** Pulumi's SDKs and providers. */
const PULUMI = /^@pulumi\//;

export const IMPORT_RULES: readonly ImportRule[] = [
    {
        reason: "the services and the runtime they deploy with import nothing of the platform core, infra, local, tools, the policy pack, tests or benchmarks, and no Pulumi",
        from: /^functions\//,
        mayNotImport: /^(platform|infra|local|tools|policy|tests|testing|bench)\/|^@pulumi\//,
    },
    {
        reason: "the platform core is Pulumi-free and imports nothing of infra, local, tools, tests or benchmarks",
        from: /^platform\//,
        mayNotImport: new RegExp(`^(infra|local|tools|tests|testing|bench)/|${PULUMI.source}`),
    },
    {
        reason: "local/ emulates AWS without Pulumi and imports nothing of infra/",
        from: /^local\//,
        mayNotImport: new RegExp(`^infra/|${PULUMI.source}`),
    },
    {
        reason: "the policy pack is its own package: it imports nothing outside policy/",
        from: /^policy\//,
        mayNotImport: /^(?!policy\/)[^@]*\//,
    },
    {
        reason: "nothing outside tests/ imports a test suite: shared test support lives in testing/",
        from: /^(?!tests\/)/,
        mayNotImport: /^tests\//,
    },
];

/** Every import that breaks a rule, as `from -> imported: reason`. */
export function ruleViolations(graph: ImportGraph, rules: readonly ImportRule[] = IMPORT_RULES): string[] {
    const violations: string[] = [];
    for (const [file, imports] of graph) {
        for (const rule of rules) {
            if (!rule.from.test(file)) continue;
            for (const imported of imports) {
                if (rule.mayNotImport.test(imported) && !rule.except?.test(imported)) violations.push(`${file} -> ${imported}: ${rule.reason}`);
            }
        }
    }
    return violations;
}

/** The import cycles among the graph's own files (Tarjan's strongly connected components), each sorted. */
export function importCycles(graph: ImportGraph): string[][] {
    const index = new Map<string, number>();
    const low = new Map<string, number>();
    const stack: string[] = [];
    const onStack = new Set<string>();
    const cycles: string[][] = [];
    const visit = (file: string) => {
        index.set(file, index.size);
        low.set(file, index.get(file)!);
        stack.push(file);
        onStack.add(file);
        for (const next of graph.get(file) ?? []) {
            if (!graph.has(next)) continue;
            if (!index.has(next)) {
                visit(next);
                low.set(file, Math.min(low.get(file)!, low.get(next)!));
            } else if (onStack.has(next)) {
                low.set(file, Math.min(low.get(file)!, index.get(next)!));
            }
        }
        if (low.get(file) !== index.get(file)) return;
        const component: string[] = [];
        let member: string;
        do {
            member = stack.pop()!;
            onStack.delete(member);
            component.push(member);
        } while (member !== file);
        if (component.length > 1 || graph.get(file)!.includes(file)) cycles.push(component.sort());
    };
    for (const file of graph.keys()) if (!index.has(file)) visit(file);
    return cycles;
}
