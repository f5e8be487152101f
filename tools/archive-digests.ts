/**
 * The SHA-256 of every file of every Lambda archive an offline run of the program makes, as one JSON
 * object `{ "<function resource name>": { "<file>": "<digest>" } }` on standard output:
 *
 *   node -r <loader> tools/archive-digests.ts [stack]      # default dev
 *
 * Closure serialization reads the functions' JavaScript as the loader that ran the program emitted
 * it, so a change of TypeScript loader can change every archive (and redeploy every function). The
 * suite runs this under the old and the new loader and compares.
 */
import { createHash } from "node:crypto";
import { archiveFiles, lambdaFunctions } from "../testing/lambda/archive";
import { runProgramOffline } from "./offline";

async function main(): Promise<void> {
    const stack = process.argv[2] ?? "dev";
    const run = await runProgramOffline({ stack });
    const digests: Record<string, Record<string, string>> = {};
    for (const resource of lambdaFunctions(run.resources)) {
        const files = await archiveFiles(resource.inputs.code);
        digests[resource.name] = Object.fromEntries(files.map((file) => [file.path, createHash("sha256").update(file.data).digest("hex")]));
    }
    process.stdout.write(JSON.stringify(digests) + "\n");
}

main().then(
    () => process.exit(0),
    (error) => {
        console.error(error);
        process.exit(1);
    },
);
