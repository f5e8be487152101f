/**
 * `npm run bench:start`: what `npm start` costs, run as a person runs it (`lib/npm-start.ts`: npm,
 * its shell and the runtime, with whatever `infra/registry.ts` holds) on a data folder initialized
 * once, so every start is a restart as a developer's usually is. `BENCH_RUNS` times (default 5),
 * alternating with the background type check off (`LOCAL_TYPECHECK=off`) and on (the default), in
 * fresh processes, it measures:
 *
 * - the time from the spawn of `npm start` to "Ready on", and with the check on, to its result;
 * - with the check on, once its result is printed and the runtime has idled `IDLE_MS`, the memory
 *   of the whole process tree (npm, the shell, the runtime, PostgreSQL and its backends, container
 *   services run as processes, a type check still running): PSS from `/proc/<pid>/smaps_rollup`,
 *   which counts a page shared by several processes once, divided among them, and RSS beside it.
 *
 * Prints the medians and the last run's tree; writes `bench/results/start.json`.
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { performance } from "node:perf_hooks";
import { freePort } from "../local/postgres";
import { REPOSITORY_ROOT } from "../local/stack-config";
import { median, round } from "./lib/archives";
import { startNpmStart } from "./lib/npm-start";

const RUNS = Number(process.env.BENCH_RUNS ?? 5);
/** How long the runtime idles, after the type check reported, before its memory is read. */
const IDLE_MS = 3000;

interface TreeProcess {
    pid: number;
    command: string;
    pssKB: number;
    rssKB: number;
}

interface StartMeasurement {
    readyMs: number;
    /** From the spawn to the type check's result (with the check on). */
    typeCheckedMs?: number;
    typeCheckLine?: string;
    /** The process tree once idle (with the check on). */
    tree?: TreeProcess[];
}

function readProc(pid: number, file: string): string | undefined {
    try {
        return fs.readFileSync(`/proc/${pid}/${file}`, "utf8");
    } catch {
        return undefined; // gone meanwhile
    }
}

/** `root` and every process below it, with its memory. */
function processTree(root: number): TreeProcess[] {
    const children = new Map<number, number[]>();
    for (const entry of fs.readdirSync("/proc")) {
        if (!/^\d+$/.test(entry)) continue;
        const parent = Number(/^PPid:\s+(\d+)/m.exec(readProc(Number(entry), "status") ?? "")?.[1]);
        if (parent) children.set(parent, [...(children.get(parent) ?? []), Number(entry)]);
    }
    const tree: TreeProcess[] = [];
    const visit = (pid: number) => {
        const rollup = readProc(pid, "smaps_rollup");
        const command = (readProc(pid, "cmdline") ?? "").split("\0").filter(Boolean).join(" ");
        if (rollup !== undefined) {
            const field = (name: string) => Number(new RegExp(`^${name}:\\s+(\\d+) kB`, "m").exec(rollup)?.[1] ?? 0);
            tree.push({ pid, command, pssKB: field("Pss"), rssKB: field("Rss") });
        }
        for (const child of children.get(pid) ?? []) visit(child);
    };
    visit(root);
    return tree;
}

const total = (tree: TreeProcess[], field: "pssKB" | "rssKB") => Math.round(tree.reduce((sum, process) => sum + process[field], 0) / 1024);

/** What a process is, for the table: the runtime, PostgreSQL, a container service... */
function describe(command: string): string {
    if (command.includes("type-check-worker")) return "type check";
    if (command.includes("local/start.ts")) return command.startsWith("sh ") || command.startsWith("/bin/sh ") ? "shell" : "runtime";
    if (command.includes("postgres")) return "PostgreSQL";
    if (/\bnpm\b/.test(command)) return "npm";
    return command.slice(0, 60);
}

async function startOnce(dataDir: string, typeCheck: boolean): Promise<StartMeasurement> {
    const run = startNpmStart({ port: await freePort(), dataDir, logFile: path.join(path.dirname(dataDir), "npm-start.log"), env: { LOCAL_TYPECHECK: typeCheck ? "on" : "off" } });
    try {
        const { readyMs } = await run.ready;
        if (!typeCheck) return { readyMs };
        const started = performance.now() - readyMs;
        while (!/Type check: /.test(run.output())) {
            if (performance.now() - started > 120_000) throw new Error(`no type check result:\n${run.output()}`);
            await new Promise((resolve) => setTimeout(resolve, 20));
        }
        const typeCheckedMs = performance.now() - started;
        await new Promise((resolve) => setTimeout(resolve, IDLE_MS));
        return { readyMs, typeCheckedMs, typeCheckLine: /Type check: .*/.exec(run.output())?.[0], tree: processTree(run.child.pid!) };
    } finally {
        await run.stop();
    }
}

async function main(): Promise<void> {
    const root = fs.mkdtempSync(path.join(os.tmpdir(), "bench-start-"));
    fs.chmodSync(root, 0o755); // PostgreSQL runs as its own user when we are root
    const dataDir = path.join(root, "postgres");
    const loadBefore = os.loadavg();
    try {
        await startOnce(dataDir, false); // initializes the data folder and applies the migrations
        const off: StartMeasurement[] = [];
        const on: StartMeasurement[] = [];
        for (let i = 0; i < RUNS; i++) {
            off.push(await startOnce(dataDir, false));
            on.push(await startOnce(dataDir, true));
            process.stderr.write(
                `  run ${i + 1}: ready ${Math.round(off[i].readyMs)} ms without the check, ${Math.round(on[i].readyMs)} ms with it (checked at ${Math.round(on[i].typeCheckedMs!)} ms); ` +
                    `idle tree ${total(on[i].tree!, "pssKB")} MB PSS, ${total(on[i].tree!, "rssKB")} MB RSS\n`,
            );
        }
        const last = on[on.length - 1].tree!;
        const byKind = new Map<string, { processes: number; pssMB: number; rssMB: number }>();
        for (const process of last) {
            const kind = describe(process.command);
            const entry = byKind.get(kind) ?? { processes: 0, pssMB: 0, rssMB: 0 };
            byKind.set(kind, { processes: entry.processes + 1, pssMB: round(entry.pssMB + process.pssKB / 1024), rssMB: round(entry.rssMB + process.rssKB / 1024) });
        }
        const result = {
            date: new Date().toISOString(),
            machine: { cpus: os.cpus().length, cpu: os.cpus()[0]?.model, node: process.version, loadAverageBefore: loadBefore.map((value) => round(value, 2)) },
            runs: RUNS,
            readyMsWithoutTypeCheck: round(median(off.map((m) => m.readyMs))),
            readyMsWithTypeCheck: round(median(on.map((m) => m.readyMs))),
            typeCheckResultMs: round(median(on.map((m) => m.typeCheckedMs!))),
            typeCheckLine: on[0].typeCheckLine,
            idlePssMB: round(median(on.map((m) => total(m.tree!, "pssKB")))),
            idleRssMB: round(median(on.map((m) => total(m.tree!, "rssKB")))),
            idleTree: Object.fromEntries(byKind),
            runsMs: { without: off.map((m) => Math.round(m.readyMs)), with: on.map((m) => Math.round(m.readyMs)), checked: on.map((m) => Math.round(m.typeCheckedMs!)) },
        };
        console.log(`\nnpm start, spawn to "Ready on" (median of ${RUNS} restarts): ${result.readyMsWithoutTypeCheck} ms without the type check, ${result.readyMsWithTypeCheck} ms with it`);
        console.log(`the type check's result printed ${result.typeCheckResultMs} ms after the spawn: ${result.typeCheckLine}`);
        console.log(`idle memory of the process tree ${IDLE_MS / 1000} s after the check (median): ${result.idlePssMB} MB PSS, ${result.idleRssMB} MB RSS`);
        for (const [kind, entry] of byKind) console.log(`  ${kind}: ${entry.processes} process(es), ${entry.pssMB} MB PSS, ${entry.rssMB} MB RSS`);
        console.log(`load average before the run: ${loadBefore.map((value) => value.toFixed(2)).join(", ")} (${os.cpus().length} CPUs)`);
        const out = path.join(__dirname, "results", "start.json");
        fs.mkdirSync(path.dirname(out), { recursive: true });
        fs.writeFileSync(out, JSON.stringify(result, null, 2) + "\n");
        console.log(`wrote ${path.relative(REPOSITORY_ROOT, out)}`);
    } finally {
        fs.rmSync(root, { recursive: true, force: true });
    }
}

main().then(
    () => process.exit(0),
    (error) => {
        console.error(error);
        process.exit(1);
    },
);
