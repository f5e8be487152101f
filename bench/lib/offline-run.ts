/**
 * One offline run of the program in this (fresh) process, timed: `offline-run.ts registry|<routes>`
 * (`registry`: whatever infra/registry.ts holds; a number: a synthetic registry of that many routes).
 * Prints one JSON line `{ routes, functions, resources, ms }` on stdout. The bench spawns it once
 * per measurement so that module caches and code-path discovery start cold every time.
 */
import { performance } from "node:perf_hooks";
import { runProgramOffline } from "../../tools/offline";
import { syntheticServices } from "./synthetic";

async function main(): Promise<void> {
    const which = process.argv[2] ?? "registry";
    const services = which === "registry" ? undefined : syntheticServices(Number(which));
    const started = performance.now();
    const run = await runProgramOffline({ stack: "dev", services });
    const ms = performance.now() - started;
    const functions = run.resources.filter((resource) => resource.type === "aws:lambda/function:Function").length;
    process.stdout.write(JSON.stringify({ registry: which, functions, resources: run.resources.length, ms }) + "\n");
}

main().then(
    () => process.exit(0),
    (error) => {
        console.error(error);
        process.exit(1);
    },
);
