/**
 * `npm run test:busy [-- [--runs <n>] [--hogs <n>] [npm test's arguments]]`: the suite on a machine
 * whose CPUs are saturated by other work, to prove it does not depend on having them. It starts
 * `--hogs` busy-loop processes (default: one per CPU, at normal priority, each spinning forever),
 * then runs `npm test` (`tools/test.ts`, with the arguments given) `--runs` times in a row
 * (default 1), stopping at the first failure, and ends the busy loops. The suite never retries a
 * failed test (no `retries` in `.mocharc.json` or in any test), so a pass is a pass on the first try.
 * Exit 0 when every run passed.
 */
import { spawn, type ChildProcess } from "node:child_process";
import * as os from "node:os";
import * as path from "node:path";
import { REPOSITORY_ROOT } from "../platform/config/stack-files";
import { runAsCommand } from "./command";
import { TYPESCRIPT_LOADER_ARGS } from "./typescript-loader";

/** One CPU's worth of other work: a process that never sleeps. */
const BUSY_LOOP = "for (;;) {}";

function positive(name: string, value: string | undefined): number {
    const parsed = Number(value);
    if (!Number.isInteger(parsed) || parsed < 1) throw new Error(`${name} takes a whole number of at least 1, not "${value ?? ""}"`);
    return parsed;
}

export function parseArgs(argv: readonly string[]): { runs: number; hogs: number; testArgs: string[] } {
    let runs = 1;
    let hogs = os.availableParallelism();
    const testArgs: string[] = [];
    for (let i = 0; i < argv.length; i++) {
        if (argv[i] === "--runs") runs = positive("--runs", argv[++i]);
        else if (argv[i] === "--hogs") hogs = positive("--hogs", argv[++i]);
        else testArgs.push(argv[i]);
    }
    return { runs, hogs, testArgs };
}

function runSuite(testArgs: readonly string[]): Promise<number> {
    return new Promise((resolve) => {
        const child = spawn(process.execPath, [...TYPESCRIPT_LOADER_ARGS, path.join(__dirname, "test.ts"), ...testArgs], { cwd: REPOSITORY_ROOT, stdio: "inherit" });
        child.on("close", (code) => resolve(code ?? 1));
    });
}

async function main(argv: readonly string[]): Promise<number> {
    const { runs, hogs, testArgs } = parseArgs(argv);
    const loops: ChildProcess[] = Array.from({ length: hogs }, () => spawn(process.execPath, ["-e", BUSY_LOOP], { stdio: "ignore" }));
    const stopLoops = () => loops.forEach((loop) => loop.kill("SIGKILL"));
    process.once("exit", stopLoops);
    for (const signal of ["SIGINT", "SIGTERM"] as const) process.once(signal, () => process.exit(130));
    const results: string[] = [];
    try {
        for (let run = 1; run <= runs; run++) {
            console.log(`\ntest:busy: run ${run} of ${runs}, beside ${hogs} busy-loop process(es) on ${os.availableParallelism()} CPU(s)\n`);
            const started = Date.now();
            const code = await runSuite(testArgs);
            results.push(`run ${run}: ${code === 0 ? "passed" : "FAILED"} in ${((Date.now() - started) / 1000).toFixed(0)} s`);
            if (code !== 0) break;
        }
    } finally {
        stopLoops();
    }
    console.log(`\ntest:busy (${hogs} busy loop(s)):\n  ${results.join("\n  ")}`);
    return results.length === runs && results.every((line) => line.includes("passed")) ? 0 : 1;
}

if (require.main === module) runAsCommand(main);
