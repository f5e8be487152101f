/**
 * A registry module of its own in a temporary folder, with service files a test writes and edits
 * there: for what reads a registry by file (`npm start --registry`, the type check of `npm run
 * plan`), without touching the repository. The services import the repository's runtime by its
 * absolute path (`RUNTIME_SERVICE`).
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { REPOSITORY_ROOT } from "../platform/config/stack-files";

export interface ScratchRegistry {
    dir: string;
    /** `<dir>/registry.ts`: one export per service, like `infra/registry.ts`. */
    registryModule: string;
    /** Writes `services/<name>/service.ts`. */
    writeService(name: string, source: string): string;
    remove(): void;
}

/** A folder holding `registry.ts` and `services/<name>/service.ts` for each of `services` (name -> source). */
export function scratchRegistry(services: Record<string, string>): ScratchRegistry {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "scratch-registry-"));
    const registryModule = path.join(dir, "registry.ts");
    fs.writeFileSync(registryModule, Object.keys(services).map((name) => `export { default as ${name.replace(/-/g, "_")} } from "./services/${name}/service";`).join("\n") + "\n");
    const writeService = (name: string, source: string) => {
        const file = path.join(dir, "services", name, "service.ts");
        fs.mkdirSync(path.dirname(file), { recursive: true });
        fs.writeFileSync(file, source);
        return file;
    };
    for (const [name, source] of Object.entries(services)) writeService(name, source);
    return { dir, registryModule, writeService, remove: () => fs.rmSync(dir, { recursive: true, force: true }) };
}

/** What a scratch service imports `defineService` from. */
export const RUNTIME_SERVICE = JSON.stringify(path.join(REPOSITORY_ROOT, "functions", "runtime", "service"));

/** A service whose route key is written twice: the type checker reports it (TS1117), the run keeps the second. */
export function serviceWithDuplicateRoute(name: string, answers: [string, string]): string {
    return `import { defineService } from ${RUNTIME_SERVICE};

export default defineService({
    name: "${name}",
    description: "Declares one route twice",
    database: false,
    routes: {
        "GET /${name}": { handler: async () => ({ answer: "${answers[0]}" }) },
        "GET /${name}": { handler: async () => ({ answer: "${answers[1]}" }) },
    },
});
`;
}

/** The same service with the route declared once. */
export function serviceWithOneRoute(name: string, answer: string): string {
    return `import { defineService } from ${RUNTIME_SERVICE};

export default defineService({
    name: "${name}",
    description: "Declares one route",
    database: false,
    routes: {
        "GET /${name}": { handler: async () => ({ answer: "${answer}" }) },
    },
});
`;
}
