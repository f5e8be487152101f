/**
 * Loads the service registry for the local runtime, afresh in watch mode. It is resolved like the
 * Pulumi program's (`resolveRegistry` in platform/registry/resolution.ts), so a registry mistake fails
 * here too, with the same message.
 */
import * as path from "node:path";
import type { RegisteredService } from "../functions/runtime/container";
import { servicesOf } from "../platform/registry/resolution";
import { REPOSITORY_ROOT } from "./stack-config";

const FUNCTIONS_DIR = path.join(REPOSITORY_ROOT, "functions") + path.sep;
const INFRA_DIR = path.join(REPOSITORY_ROOT, "infra") + path.sep;

/** The registry the runtime serves unless told otherwise. */
export const DEFAULT_REGISTRY_MODULE = path.join(REPOSITORY_ROOT, "infra", "registry.ts");

/**
 * Requires a registry module (one export per service, like `infra/registry.ts`) afresh: the
 * modules under `functions/`, the registry and the folder the registry is in are dropped from the
 * require cache first, so edited handlers are read again. The runtime helpers under `functions/`
 * are reloaded with them, so a handler and the wrapper never come from two versions of a file.
 */
export function loadRegistry(registryModule = DEFAULT_REGISTRY_MODULE): readonly RegisteredService[] {
    const resolved = require.resolve(path.resolve(registryModule));
    const registryDir = path.dirname(resolved) + path.sep;
    // A registry of its own (a test fixture) keeps its services beside it; infra/ holds the program.
    const reloaded = registryDir === INFRA_DIR ? [FUNCTIONS_DIR] : [FUNCTIONS_DIR, registryDir];
    for (const file of Object.keys(require.cache)) {
        if (file === resolved || reloaded.some((dir) => file.startsWith(dir))) delete require.cache[file];
    }
    return servicesOf(require(resolved) as Record<string, RegisteredService>);
}
