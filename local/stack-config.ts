/**
 * The stack settings the local runtime borrows from `Pulumi.<stack>.yaml` (the dev stack by
 * default): function defaults, CORS and the log level, so that a route behaves locally as it does
 * in that stack. Read through `platform/config/stack-files.ts`, which needs nothing of Pulumi.
 */
import { parseStackConfig, type StackConfig } from "../platform/config/stack-config";
import { readStackConfig, REPOSITORY_ROOT } from "../platform/config/stack-files";

export { REPOSITORY_ROOT };

/** Reads and validates `Pulumi.<stack>.yaml`; a bad value stops the runtime with the same message `pulumi up` gives. */
export function readLocalStackConfig(stack = "dev", root = REPOSITORY_ROOT): StackConfig {
    return parseStackConfig(stack, readStackConfig(stack, root));
}
