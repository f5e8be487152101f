/**
 * `npm run bench:start`: what the background type check costs `npm start`. Starts `local/start.ts`
 * (whatever `infra/registry.ts` holds, on a data folder initialized once, so every start is a
 * restart as a developer's usually is) `BENCH_RUNS` times (default 5) each with the type check
 * off (`LOCAL_TYPECHECK=off`, the start as it was before the check) and on, alternating, in fresh
 * processes. Prints the median time to "Ready on" of each and, with the check, to its result;
 * writes `bench/results/start.json`.
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { performance } from "node:perf_hooks";
import { freePort } from "../local/postgres";
import { REPOSITORY_ROOT } from "../local/stack-config";
import { startRuntimeProcess, waitFor } from "../tests/support/runtime-process";
import { median, round } from "./lib/archives";

const RUNS = Number(process.env.BENCH_RUNS ?? 5);

interface StartMeasurement {
    readyMs: number;
    /** From the spawn to the type check's result (with the check on). */
    typeCheckedMs?: number;
    typeCheckLine?: string;
}

async function startOnce(dataDir: string, typeCheck: boolean): Promise<StartMeasurement> {
    const started = performance.now();
    const run = startRuntimeProcess({ port: await freePort(), dataDir, typeCheck });
    try {
        await run.ready;
        const readyMs = performance.now() - started;
        let typeCheckedMs: number | undefined;
        if (typeCheck) {
            await waitFor(() => /Type check: /.test(run.output()), 60_000, "no type check result");
            typeCheckedMs = performance.now() - started;
        }
        return { readyMs, typeCheckedMs, typeCheckLine: /Type check: .*/.exec(run.output())?.[0] };
    } finally {
        process.kill(run.child.pid!, "SIGTERM");
        await run.exited();
    }
}

async function main(): Promise<void> {
    const root = fs.mkdtempSync(path.join(os.tmpdir(), "bench-start-"));
    fs.chmodSync(root, 0o755); // PostgreSQL runs as its own user when we are root
    const dataDir = path.join(root, "postgres");
    try {
        await startOnce(dataDir, false); // initializes the data folder and applies the migrations
        const off: StartMeasurement[] = [];
        const on: StartMeasurement[] = [];
        for (let i = 0; i < RUNS; i++) {
            off.push(await startOnce(dataDir, false));
            on.push(await startOnce(dataDir, true));
            process.stderr.write(`  run ${i + 1}: ready ${Math.round(off[i].readyMs)} ms without the check, ${Math.round(on[i].readyMs)} ms with it (checked at ${Math.round(on[i].typeCheckedMs!)} ms)\n`);
        }
        const result = {
            date: new Date().toISOString(),
            machine: { cpus: os.cpus().length, cpu: os.cpus()[0]?.model, node: process.version },
            runs: RUNS,
            readyMsWithoutTypeCheck: round(median(off.map((m) => m.readyMs))),
            readyMsWithTypeCheck: round(median(on.map((m) => m.readyMs))),
            typeCheckResultMs: round(median(on.map((m) => m.typeCheckedMs!))),
            typeCheckLine: on[0].typeCheckLine,
            runsMs: { without: off.map((m) => Math.round(m.readyMs)), with: on.map((m) => Math.round(m.readyMs)), checked: on.map((m) => Math.round(m.typeCheckedMs!)) },
        };
        console.log(`\nnpm start, ready (median of ${RUNS} restarts): ${result.readyMsWithoutTypeCheck} ms without the type check, ${result.readyMsWithTypeCheck} ms with it (+${round(result.readyMsWithTypeCheck - result.readyMsWithoutTypeCheck)} ms)`);
        console.log(`the type check's result printed ${result.typeCheckResultMs} ms after the start: ${result.typeCheckLine}`);
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
