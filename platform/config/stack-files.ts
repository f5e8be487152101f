/**
 * The stack files (`Pulumi.<stack>.yaml`) read without Pulumi: the offline tools, the plan and the
 * local runtime all take their settings from here, and the local runtime must not pay for loading
 * `@pulumi/pulumi` (about a second of start-up) just to read a YAML file.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import * as YAML from "yaml";
import { PROJECT } from "./stack-config";
import { resolveStackTarget, withLayout, type StackLayout, type StackTarget } from "./stack-layout";

export const REPOSITORY_ROOT = path.resolve(__dirname, "..", "..");

/** Reads `Pulumi.<stack>.yaml` into the `namespace:key` -> value map Pulumi hands a program. */
export function readStackConfig(stack: string, root = REPOSITORY_ROOT): Record<string, unknown> {
    const file = path.join(root, `Pulumi.${stack}.yaml`);
    if (!fs.existsSync(file)) throw new Error(`No stack file ${file}; stacks here: ${listStacks(root).join(", ")}`);
    const document = YAML.parse(fs.readFileSync(file, "utf8")) as { config?: Record<string, unknown> } | null;
    return { ...(document?.config ?? {}) };
}

/** Whether `Pulumi.<stack>.yaml` exists. */
export function stackFileExists(stack: string, root = REPOSITORY_ROOT): boolean {
    return fs.existsSync(path.join(root, `Pulumi.${stack}.yaml`));
}

/**
 * Which environment and part `stack` is, from the stack files: `layout` (a what-if for the offline
 * tools) reads the environment as if its file set that layout.
 */
export function readStackTarget(stack: string, layout?: StackLayout, root = REPOSITORY_ROOT): StackTarget {
    const read = (name: string) => {
        const config = readStackFile(name, root);
        return config && layout ? withLayout(config, layout, PROJECT) : config;
    };
    return resolveStackTarget(stack, read(stack) ?? {}, read, PROJECT);
}

/** `Pulumi.<stack>.yaml`'s settings, or undefined without the file (a stack of a stack-per-service environment has none). */
export function readStackFile(stack: string, root = REPOSITORY_ROOT): Record<string, unknown> | undefined {
    return stackFileExists(stack, root) ? readStackConfig(stack, root) : undefined;
}

/** The stacks that have a `Pulumi.<stack>.yaml`. */
export function listStacks(root = REPOSITORY_ROOT): string[] {
    return fs
        .readdirSync(root)
        .map((file) => /^Pulumi\.(.+)\.yaml$/.exec(file)?.[1])
        .filter((stack): stack is string => stack !== undefined);
}
