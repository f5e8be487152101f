/**
 * Loads the service registry for the local runtime, afresh in watch mode. It is resolved like the
 * Pulumi program's (`resolveRegistry` in infra/registry-resolution.ts), so a registry mistake fails
 * here too, with the same message.
 */
import * as path from "node:path";
import type { RegisteredService } from "../functions/runtime/container";
import { REPOSITORY_ROOT } from "./stack-config";

const FUNCTIONS_DIR = path.join(REPOSITORY_ROOT, "functions") + path.sep;
const REGISTRY_MODULE = path.join(REPOSITORY_ROOT, "infra", "registry");

/**
 * Requires `infra/registry.ts` afresh: the service modules and the registry are dropped from the
 * require cache first, so edited handlers are read again. The runtime helpers under `functions/`
 * are reloaded with them, so a handler and the wrapper never come from two versions of a file.
 */
export function loadRegistry(): readonly RegisteredService[] {
    for (const file of Object.keys(require.cache)) {
        if (file.startsWith(FUNCTIONS_DIR) || file.startsWith(REGISTRY_MODULE)) delete require.cache[file];
    }
    return (require(REGISTRY_MODULE) as typeof import("../infra/registry")).services;
}
