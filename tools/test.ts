/**
 * `npm test [-- [--jobs <n>] [--serial] [<file or folder>...]]`: the type check and the mocha suites
 * at once, exit 1 when either fails.
 *
 * - The type check is `tsc --noEmit -p tsconfig.json`, incremental (its build info in `.cache/tsc/`,
 *   see tsconfig.json): after the first run it checks only what changed and what depends on it.
 * - The suites run in parallel worker processes (mocha's `--parallel`), `--jobs` at a time (default:
 *   one per CPU; measured on 2 CPUs, a third worker spent 15% more CPU on loading the same modules
 *   again and finished no sooner). A worker runs one file at a time, so the suites of a file never
 *   share their process with another file's. Files start longest first, by the time each took in the
 *   last runs (`tests/support/file-timings.ts`); files not timed yet start first, larger ones
 *   first. `--serial` runs them in this process's order in one mocha process, as `npx mocha` does.
 * - Without file arguments every `tests/**\/*.test.ts` runs; a folder stands for the test files in it.
 */
import { spawn } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { REPOSITORY_ROOT } from "../platform/config/stack-files";
import { CACHE_ROOT } from "./cache";
import { runAsCommand } from "./command";

const TESTS = "tests";

/**
 * What each test file took in the last parallel runs (written by tests/support/file-timings.ts):
 * one `{"file": <relative path>, "ms": <wall time>, "cpuMs": <CPU time>}` per line, the last line
 * of a file wins.
 */
export const TEST_TIMINGS_FILE = path.join(CACHE_ROOT, "test-timings.jsonl");
const TEST_FILE = /\.test\.ts$/;

export interface TestRunOptions {
    jobs: number;
    serial: boolean;
    /** Test files, relative to the repository. */
    files: string[];
}

export class UsageError extends Error {}

/** The test files under `folder` (relative to `root`), sorted. */
export function testFilesUnder(folder: string, root = REPOSITORY_ROOT): string[] {
    const absolute = path.join(root, folder);
    if (fs.statSync(absolute).isFile()) return [folder];
    return fs
        .readdirSync(absolute, { recursive: true, encoding: "utf8" })
        .filter((entry) => TEST_FILE.test(entry))
        .map((entry) => path.join(folder, entry))
        .sort();
}

export function parseArgs(argv: readonly string[], root = REPOSITORY_ROOT): TestRunOptions {
    let jobs = os.availableParallelism();
    let serial = false;
    const targets: string[] = [];
    for (let i = 0; i < argv.length; i++) {
        const arg = argv[i];
        if (arg === "--serial") serial = true;
        else if (arg === "--jobs" || arg.startsWith("--jobs=")) {
            const value = arg.includes("=") ? arg.slice("--jobs=".length) : argv[++i];
            jobs = Number(value);
            if (!Number.isInteger(jobs) || jobs < 1) throw new UsageError(`--jobs takes a whole number of at least 1, not "${value ?? ""}"`);
        } else if (arg.startsWith("-")) throw new UsageError(`unknown option ${arg} (npm test [-- [--jobs <n>] [--serial] [<file or folder>...]])`);
        else {
            const relative = path.relative(root, path.resolve(root, arg));
            if (!fs.existsSync(path.join(root, relative))) throw new UsageError(`no such test file or folder: ${arg}`);
            targets.push(relative);
        }
    }
    const files = [...new Set((targets.length > 0 ? targets : [TESTS]).flatMap((target) => testFilesUnder(target, root)))];
    if (files.length === 0) throw new UsageError(`no test files (*.test.ts) in ${targets.join(", ") || TESTS}`);
    return { jobs, serial, files };
}

/** What a run took of a test file: wall time and CPU time (its own and its children's), in ms. */
export interface FileTiming {
    ms: number;
    cpuMs?: number;
}

/** The last recorded timing of each test file. */
export function readTimings(file = TEST_TIMINGS_FILE): Map<string, FileTiming> {
    const timings = new Map<string, FileTiming>();
    if (!fs.existsSync(file)) return timings;
    for (const line of fs.readFileSync(file, "utf8").split("\n")) {
        try {
            const { file: test, ms, cpuMs } = JSON.parse(line) as { file: string } & FileTiming;
            if (typeof test === "string" && typeof ms === "number") timings.set(test, { ms, ...(typeof cpuMs === "number" ? { cpuMs } : {}) });
        } catch {
            // a line cut short by a worker that was killed: skip it
        }
    }
    return timings;
}

/** Files not timed yet first (larger first), then the timed ones, longest first. */
export function longestFirst(files: readonly string[], timings: ReadonlyMap<string, FileTiming>, root = REPOSITORY_ROOT): string[] {
    const size = (file: string) => fs.statSync(path.join(root, file)).size;
    const untimed = files.filter((file) => !timings.has(file)).sort((a, b) => size(b) - size(a));
    const timed = files.filter((file) => timings.has(file)).sort((a, b) => timings.get(b)!.ms - timings.get(a)!.ms);
    return [...untimed, ...timed];
}

/** Keeps one line per file in the timings file (it grows by a line per file and run). */
function compactTimings(timings: ReadonlyMap<string, FileTiming>): void {
    if (timings.size === 0) return;
    const temporary = `${TEST_TIMINGS_FILE}.tmp-${process.pid}`;
    fs.writeFileSync(temporary, [...timings].map(([file, timing]) => `${JSON.stringify({ file, ...timing })}\n`).join(""));
    fs.renameSync(temporary, TEST_TIMINGS_FILE);
}

interface Finished {
    code: number;
    output: string;
    seconds: number;
}

/**
 * Node options for the suites' processes and every Node process they start. A larger young
 * generation than V8's default (16 MB) suits these short, allocation-heavy processes, which load
 * the same large modules (TypeScript, Pulumi, the SDKs) again and again: fewer scavenges, and less
 * of what is loaded copied from one half to the other before it is promoted. Measured on 2 CPUs:
 * 15 s less CPU over the suite; 64 MB did no better.
 */
export const SUITE_NODE_OPTIONS = "--max-semi-space-size=32";

function run(args: string[], options: { capture: boolean; env?: NodeJS.ProcessEnv }): Promise<Finished> {
    const started = Date.now();
    return new Promise((resolve) => {
        const child = spawn(process.execPath, args, { cwd: REPOSITORY_ROOT, env: options.env ?? process.env, stdio: options.capture ? ["ignore", "pipe", "pipe"] : "inherit" });
        let output = "";
        child.stdout?.on("data", (chunk) => (output += chunk));
        child.stderr?.on("data", (chunk) => (output += chunk));
        child.on("error", (error) => (output += String(error)));
        child.on("close", (code, signal) => resolve({ code: code ?? (signal ? 1 : 0), output, seconds: (Date.now() - started) / 1000 }));
    });
}

async function main(argv: readonly string[]): Promise<number> {
    let options: TestRunOptions;
    try {
        options = parseArgs(argv);
    } catch (error) {
        if (!(error instanceof UsageError)) throw error;
        console.error(error.message);
        return 2;
    }
    const timings = readTimings();
    compactTimings(timings);
    const files = longestFirst(options.files, timings);

    const typeCheck = run([require.resolve("typescript/bin/tsc"), "--noEmit", "-p", "tsconfig.json"], { capture: true });
    const mochaArgs = options.serial ? files : ["--parallel", "--jobs", String(options.jobs), ...files];
    const nodeOptions = [process.env.NODE_OPTIONS, SUITE_NODE_OPTIONS].filter(Boolean).join(" ");
    const suites = await run([require.resolve("mocha/bin/mocha.js"), ...mochaArgs], { capture: false, env: { ...process.env, NODE_OPTIONS: nodeOptions } });
    const checked = await typeCheck;

    console.log(checked.code === 0 ? `Type check (tsc --noEmit): no errors (${checked.seconds.toFixed(1)} s)` : `Type check (tsc --noEmit) FAILED:\n${checked.output}`);
    if (suites.code !== 0) console.log(`Test suites FAILED (mocha exit code ${suites.code})`);
    return checked.code === 0 && suites.code === 0 ? 0 : 1;
}

if (require.main === module) runAsCommand(main);
