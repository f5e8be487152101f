/**
 * The stack settings the local runtime borrows from `Pulumi.<stack>.yaml` (the dev stack by
 * default): function defaults, CORS and the log level, so that a route behaves locally as it does
 * in that stack. The file is read here rather than through `tools/offline.ts` because that module
 * loads `@pulumi/pulumi` (about a second of start-up) and the local runtime needs nothing of Pulumi.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import * as YAML from "yaml";
import { parseStackConfig, type StackConfig } from "../infra/config";

export const REPOSITORY_ROOT = path.resolve(__dirname, "..");

/** Reads and validates `Pulumi.<stack>.yaml`; a bad value stops the runtime with the same message `pulumi up` gives. */
export function readLocalStackConfig(stack = "dev", root = REPOSITORY_ROOT): StackConfig {
    const file = path.join(root, `Pulumi.${stack}.yaml`);
    if (!fs.existsSync(file)) throw new Error(`No stack file ${file}: the local runtime takes its defaults from it.`);
    const document = YAML.parse(fs.readFileSync(file, "utf8")) as { config?: Record<string, unknown> } | null;
    return parseStackConfig(stack, document?.config ?? {});
}
