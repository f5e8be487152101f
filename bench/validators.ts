/**
 * `npm run bench:validators`: the schema libraries side by side, each checking the same
 * database-route-like request (a body of an email and a text, a UUID path parameter, an integer
 * query parameter with a default): what each adds to a function's archive, built as
 * `infra/function-packaging.ts` builds one (Pulumi's closure serialization, then esbuild) and
 * zipped as the engine zips it, and how many requests each checks per second, valid and invalid.
 * The invalid request timed is one whose last field alone is bad, so no library stops early.
 * Prints a table and writes `bench/results/validators.json`.
 *
 * Two packagings are measured: "captured", the checks built when the service's module loads and
 * captured by the handler's closure, which is how a route holds its checks here; and "bundled from
 * ES modules", esbuild tree-shaking the candidate's module as the entry, the least any packaging
 * could add.
 *
 *   npm run bench:validators
 *   BENCH_VALIDATION_MS=2000 npm run bench:validators   # time per speed figure (default 1000)
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { performance } from "node:perf_hooks";
import { bundle, functionSource, HANDLER_FILE } from "../infra/function-packaging";
import { zipFiles } from "../testing/lambda/archive";
import { table } from "./lib/table";
import { INVALID, VALID, type Request } from "./validators/requests";
import * as project from "./validators/project";
import * as typebox from "./validators/typebox";
import * as valibot from "./validators/valibot";
import * as zod from "./validators/zod";

const TIME_MS = Number(process.env.BENCH_VALIDATION_MS ?? 1000);

const CANDIDATES = [
    { name: "functions/runtime/validate.ts (valibot 1.5.0)", module: "project", validate: project.validate },
    { name: "valibot 1.5.0", module: "valibot", validate: valibot.validate },
    { name: "zod 4.6.7 (zod/mini)", module: "zod", validate: zod.validate },
    { name: "typebox 1.4.3", module: "typebox", validate: typebox.validate },
];

const zippedBytes = (source: string) => zipFiles([{ path: HANDLER_FILE, data: Buffer.from(source) }]).length;

/** Validations per second of `validate` on `request`, over about TIME_MS. */
function perSecond(validate: (request: Request) => boolean, request: Request): number {
    for (let i = 0; i < 2000; i++) validate(request); // warm-up
    let runs = 0;
    const started = performance.now();
    let elapsed = 0;
    while (elapsed < TIME_MS) {
        for (let i = 0; i < 1000; i++) validate(request);
        runs += 1000;
        elapsed = performance.now() - started;
    }
    return Math.round((runs / elapsed) * 1000);
}

/** The archive's growth when the handler captures the candidate's checks (how a route holds them), or why it cannot be built. */
async function capturedGrowth(validate: (request: Request) => boolean, base: number): Promise<number | string> {
    try {
        return zippedBytes(await functionSource("candidate", () => (request: Request) => validate(request))) - base;
    } catch (error) {
        const lines = (error as Error).message.split("\n").map((line) => line.trim());
        return `cannot be serialized (${lines.find((line) => /could not be serialized|export path|Cannot/.test(line) && !line.startsWith("Function")) ?? lines[0]})`;
    }
}

async function main() {
    const capturedBase = zippedBytes(await functionSource("base", () => async (request: unknown) => request));
    const bundledBase = zippedBytes((await bundle({ contents: "exports.handler = (request) => request;", sourcefile: HANDLER_FILE })).text);
    const rows = [];
    for (const candidate of CANDIDATES) {
        for (const request of VALID) assert(candidate.validate(request), `${candidate.name} refused a valid request ${JSON.stringify(request)}`);
        for (const request of INVALID) assert(!candidate.validate(request), `${candidate.name} took an invalid request ${JSON.stringify(request)}`);
        const captured = await capturedGrowth(candidate.validate, capturedBase);
        const bundled = zippedBytes((await bundle({ file: path.join(__dirname, "validators", `${candidate.module}.ts`) })).text) - bundledBase;
        const row = { name: candidate.name, capturedZippedBytes: captured, bundledZippedBytes: bundled, validPerSecond: perSecond(candidate.validate, VALID[0]), invalidPerSecond: perSecond(candidate.validate, INVALID[1]) };
        rows.push(row);
        process.stderr.write(`  ${candidate.name}: captured ${captured}, bundled ${bundled}\n`);
    }
    console.log(
        table(
            ["candidate", "zipped bytes added, captured by the handler", "zipped bytes added, bundled from ES modules", "valid requests/s", "invalid requests/s"],
            rows.map((row) => [row.name, String(row.capturedZippedBytes), row.bundledZippedBytes, row.validPerSecond.toLocaleString("en"), row.invalidPerSecond.toLocaleString("en")]),
        ),
    );
    const out = path.join(__dirname, "results", "validators.json");
    fs.mkdirSync(path.dirname(out), { recursive: true });
    fs.writeFileSync(out, JSON.stringify({ node: process.version, timeMs: TIME_MS, rows }, null, 2) + "\n");
}

function assert(condition: boolean, message: string): asserts condition {
    if (!condition) throw new Error(message);
}

main().catch((error) => {
    console.error(error);
    process.exit(1);
});
