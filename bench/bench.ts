/**
 * `npm run bench`: what each function's archive weighs and how fast it starts on the Lambda
 * runtime's Node, next to the archives of the previous layout (`baseline/archives-before.json`)
 * and the size floor (the same code fully minified); how the offline program run scales with the
 * number of routes; and the local server's throughput next to a bare `node:http` server. Prints
 * tables and writes `bench/results/latest.json`. Medians over `BENCH_RUNS` runs (default 5); every
 * timed run of the program and every cold load is a fresh process. The archives are those of the
 * dev stack with whatever `infra/registry.ts` holds: each route is invoked with a request derived
 * from its key and its answers' statuses are shown (a 5xx stops the benchmark), so a new service is
 * measured, never skipped.
 *
 *   npm run bench                       # everything
 *   BENCH_ONLY=archives npm run bench   # archives | offline | server (comma-separated)
 */
import { spawn, spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as http from "node:http";
import * as os from "node:os";
import * as path from "node:path";
import { performance } from "node:perf_hooks";
import { lambdaFunctions, materializeFunction } from "../testing/lambda/archive";
import { lambdaNodePath } from "../testing/lambda/runtime";
import { placeholderSecretValues } from "../testing/lambda/secrets-manager";
import { services } from "../infra/services";
import { REPOSITORY_ROOT, runProgramOffline } from "../tools/offline";
import { TYPESCRIPT_LOADER_ARGS } from "../tools/typescript-loader";
import { table } from "./lib/table";
import { median, MIGRATION_FUNCTIONS, round, startArchiveBench, type ArchiveMeasurement } from "./lib/archives";

const RUNS = Number(process.env.BENCH_RUNS ?? 5);
const WARM_INVOCATIONS = Number(process.env.BENCH_WARM ?? 50);
const ONLY = new Set((process.env.BENCH_ONLY ?? "archives,offline,server").split(","));
const SYNTHETIC_SIZES = (process.env.BENCH_ROUTES ?? "10,50,200").split(",").map(Number);


/** The archives of the previous layout (closure plus node_modules files), measured with this harness. */
interface Baseline {
    description: string;
    node: string;
    runs: number;
    functions: ArchiveMeasurement[];
}

interface ArchiveComparison {
    name: string;
    before?: ArchiveMeasurement;
    after: ArchiveMeasurement;
    floor: ArchiveMeasurement;
    /** Zipped size of the archive over the floor's. */
    afterOverFloor: number;
}

async function benchArchives(): Promise<ArchiveComparison[]> {
    const run = await runProgramOffline({ stack: "dev" });
    const migrationInputs = run.resources.filter((resource) => resource.type === "aws:lambda/invocation:Invocation").map((invocation) => JSON.parse(invocation.inputs.input));
    const declaredOf = (service: string) => services.find((candidate) => candidate.name === service)?.secrets ?? [];
    const environments = lambdaFunctions(run.resources).map((resource) => ({ environment: (resource.inputs.environment?.variables ?? {}) as Record<string, string> }));
    const bench = await startArchiveBench({ runs: RUNS, warm: WARM_INVOCATIONS, migrationInputs, serviceSecrets: placeholderSecretValues(environments, declaredOf) });
    const baselineFile = path.join(__dirname, "baseline", "archives-before.json");
    const baseline = fs.existsSync(baselineFile) ? (JSON.parse(fs.readFileSync(baselineFile, "utf8")) as Baseline) : undefined;
    const results: ArchiveComparison[] = [];
    try {
        const functions = [];
        for (const resource of lambdaFunctions(run.resources)) functions.push(await materializeFunction(resource, path.join(bench.workDir, "functions")));
        // The migration launcher first, so the route functions find their tables; it runs the worker's archive.
        const first = (name: string) => (name === MIGRATION_FUNCTIONS.launcher ? 0 : name === MIGRATION_FUNCTIONS.worker ? 1 : 2);
        functions.sort((a, b) => first(a.name) - first(b.name) || a.name.localeCompare(b.name));
        const worker = functions.find((fn) => fn.name === MIGRATION_FUNCTIONS.worker);
        for (const fn of functions) {
            const after = await bench.measure(fn, worker);
            const floor = await bench.measure(await bench.floorOf(fn), worker);
            results.push({ name: fn.name, before: baseline?.functions.find((f) => f.name === fn.name), after, floor, afterOverFloor: round(after.zippedKB / floor.zippedKB, 2) });
            process.stderr.write(`  archive ${fn.name}: ${after.zippedKB} KB (floor ${floor.zippedKB} KB)\n`);
        }
    } finally {
        await bench.close();
    }
    return results;
}

interface OfflineResult {
    registry: string;
    functions: number;
    resources: number;
    /** Inside the process, from before the program is imported to its last registration. */
    medianMs: number;
    /** The whole process, from the spawn to its exit (what a preview pays for the program, engine aside). */
    medianProcessMs: number;
    runsMs: number[];
    msPerFunction: number;
}

/** The least-squares line `fixedMs + msPerFunction * functions` through the synthetic registries' medians. */
interface OfflineFit {
    fixedMs: number;
    msPerFunction: number;
    processFixedMs: number;
    processMsPerFunction: number;
}

function fitLine(points: Array<[number, number]>): { intercept: number; slope: number } {
    const n = points.length;
    const meanX = points.reduce((sum, [x]) => sum + x, 0) / n;
    const meanY = points.reduce((sum, [, y]) => sum + y, 0) / n;
    const slope = points.reduce((sum, [x, y]) => sum + (x - meanX) * (y - meanY), 0) / points.reduce((sum, [x]) => sum + (x - meanX) ** 2, 0);
    return { intercept: meanY - slope * meanX, slope };
}

/** Each registry `RUNS` times, a fresh process each, the registries taken in turn so that a busy spell does not land on one alone. */
function benchOffline(): { results: OfflineResult[]; fit: OfflineFit } {
    const registries = ["registry", ...SYNTHETIC_SIZES.map(String)];
    const runs = new Map<string, Array<{ functions: number; resources: number; ms: number; processMs: number }>>(registries.map((registry) => [registry, []]));
    for (let i = 0; i < RUNS; i++) {
        for (const registry of registries) {
            const started = performance.now();
            const child = spawnSync(process.execPath, [...TYPESCRIPT_LOADER_ARGS, path.join(__dirname, "lib", "offline-run.ts"), registry], { cwd: REPOSITORY_ROOT, encoding: "utf8", maxBuffer: 64 * 1024 * 1024 });
            const processMs = performance.now() - started;
            const line = child.stdout.split("\n").find((text) => text.startsWith('{"registry"'));
            if (!line) throw new Error(`offline run of ${registry} failed:\n${child.stderr.slice(-4000)}`);
            runs.get(registry)!.push({ ...JSON.parse(line), processMs });
            process.stderr.write(`  offline ${registry}: ${Math.round(JSON.parse(line).ms)} ms in the program, ${Math.round(processMs)} ms for the process\n`);
        }
    }
    const results = registries.map((registry) => {
        const measured = runs.get(registry)!;
        const medianMs = median(measured.map((run) => run.ms));
        return {
            registry,
            functions: measured[0].functions,
            resources: measured[0].resources,
            medianMs: Math.round(medianMs),
            medianProcessMs: Math.round(median(measured.map((run) => run.processMs))),
            runsMs: measured.map((run) => Math.round(run.ms)),
            msPerFunction: round(medianMs / measured[0].functions),
        };
    });
    const synthetic = results.filter((result) => result.registry !== "registry");
    const inProgram = fitLine(synthetic.map((result) => [result.functions, result.medianMs]));
    const inProcess = fitLine(synthetic.map((result) => [result.functions, result.medianProcessMs]));
    return {
        results,
        fit: { fixedMs: Math.round(inProgram.intercept), msPerFunction: round(inProgram.slope), processFixedMs: Math.round(inProcess.intercept), processMsPerFunction: round(inProcess.slope) },
    };
}

/** Requests per second against `url` with `concurrency` keep-alive connections for `durationMs`. */
async function load(url: string, concurrency = 16, durationMs = 3000): Promise<number> {
    const agent = new http.Agent({ keepAlive: true, maxSockets: concurrency });
    const end = performance.now() + durationMs;
    let done = 0;
    const worker = async () => {
        while (performance.now() < end) {
            await new Promise<void>((resolve, reject) => {
                http.get(url, { agent }, (response) => {
                    response.resume();
                    response.on("end", () => (response.statusCode === 200 ? resolve() : reject(new Error(`status ${response.statusCode}`))));
                }).on("error", reject);
            });
            done++;
        }
    };
    const started = performance.now();
    await Promise.all(Array.from({ length: concurrency }, worker));
    agent.destroy();
    return done / ((performance.now() - started) / 1000);
}

async function serve(mode: "local" | "bare"): Promise<{ url: string; stop(): void }> {
    const child = spawn(process.execPath, [...TYPESCRIPT_LOADER_ARGS, path.join(__dirname, "lib", "serve.ts"), mode], { cwd: REPOSITORY_ROOT, stdio: ["ignore", "pipe", "inherit"] });
    const url = await new Promise<string>((resolve, reject) => {
        let output = "";
        child.stdout!.on("data", (chunk) => {
            output += chunk;
            const line = output.split("\n").find((text) => text.startsWith('{"url"'));
            if (line) resolve(JSON.parse(line).url);
        });
        child.on("exit", (code) => reject(new Error(`serve ${mode} exited with ${code}`)));
    });
    return { url, stop: () => child.kill() };
}

async function benchServer(): Promise<{ localRps: number; bareRps: number; ratio: number }> {
    const local: number[] = [];
    const bare: number[] = [];
    for (let i = 0; i < Math.max(3, Math.min(RUNS, 5)); i++) {
        for (const [mode, into] of [["local", local], ["bare", bare]] as const) {
            const server = await serve(mode);
            try {
                await load(`${server.url}/ping`, 16, 500); // warm-up
                into.push(await load(`${server.url}/ping`));
            } finally {
                server.stop();
            }
        }
    }
    const localRps = Math.round(median(local));
    const bareRps = Math.round(median(bare));
    return { localRps, bareRps, ratio: round(localRps / bareRps, 2) };
}

async function main(): Promise<void> {
    const lambdaNode = lambdaNodePath();
    const result: Record<string, unknown> = {
        date: new Date().toISOString(),
        machine: { cpus: os.cpus().length, cpu: os.cpus()[0]?.model, memoryGB: Math.round(os.totalmem() / 2 ** 30), node: process.version, lambdaNode: spawnSync(lambdaNode, ["--version"], { encoding: "utf8" }).stdout.trim() },
        runs: RUNS,
    };
    if (ONLY.has("archives")) {
        const archives = await benchArchives();
        result.archives = archives;
        const zipped = archives.map((a) => a.after.zippedKB);
        result.archiveSummary = {
            medianZippedKB: median(zipped),
            maxZippedKB: Math.max(...zipped),
            maxAfterOverFloor: Math.max(...archives.map((a) => a.afterOverFloor)),
            maxColdLoadMs: Math.max(...archives.map((a) => a.after.coldLoadMs)),
        };
        const trio = (pick: (m: ArchiveMeasurement) => number, a: ArchiveComparison) => `${a.before ? pick(a.before) : "-"} / ${pick(a.after)} / ${pick(a.floor)}`;
        console.log(`\nFunction archives: before / after / floor (Node ${String((result.machine as { lambdaNode: string }).lambdaNode)}, medians of ${RUNS} cold starts; warm p50 over ${WARM_INVOCATIONS} invocations)\n`);
        console.log(
            table(
                ["function", "status", "zipped KB", "after/floor", "files", "cold load ms", "first invoke ms", "warm p50 ms"],
                archives.map((a) => [
                    a.name,
                    a.after.statuses.join(",") || "-",
                    trio((m) => m.zippedKB, a),
                    a.afterOverFloor,
                    trio((m) => m.files, a),
                    trio((m) => m.coldLoadMs, a),
                    trio((m) => m.firstInvokeMs, a),
                    trio((m) => m.warmP50Ms, a),
                ]),
            ),
        );
        console.log(`median zipped ${median(zipped)} KB, largest ${Math.max(...zipped)} KB; at most ${(result.archiveSummary as { maxAfterOverFloor: number }).maxAfterOverFloor}x the floor`);
        console.log("before: the previous layout (serialized closure plus node_modules files), from bench/baseline/archives-before.json; floor: the same bundle fully minified");
        console.log("status: what each route answered the request derived from its key (ids as UUIDs, {} as a JSON body): a 4xx is the route refusing that request");
    }
    if (ONLY.has("offline")) {
        const { results: offline, fit } = benchOffline();
        result.offline = offline;
        result.offlineFit = fit;
        console.log(`\nOffline program run (dev stack, fresh process each, median of ${RUNS})\n`);
        console.log(table(["registry", "functions", "resources", "median ms", "ms per function", "process ms"], offline.map((o) => [o.registry, o.functions, o.resources, o.medianMs, o.msPerFunction, o.medianProcessMs])));
        console.log(`fit over the synthetic registries: ${fit.fixedMs} ms fixed + ${fit.msPerFunction} ms per function in the program; ${fit.processFixedMs} ms + ${fit.processMsPerFunction} ms per function for the whole process`);
    }
    if (ONLY.has("server")) {
        const server = await benchServer();
        result.server = server;
        console.log(`\nLocal server on a trivial route vs bare node:http (16 keep-alive connections, 3 s, median)\n`);
        console.log(table(["local req/s", "bare req/s", "ratio"], [[server.localRps, server.bareRps, server.ratio]]));
    }
    const out = path.join(__dirname, "results", "latest.json");
    fs.mkdirSync(path.dirname(out), { recursive: true });
    fs.writeFileSync(out, JSON.stringify(result, null, 2) + "\n");
    console.log(`\nwrote ${path.relative(REPOSITORY_ROOT, out)}`);
}

main().then(
    () => process.exit(0),
    (error) => {
        console.error(error);
        process.exit(1);
    },
);
