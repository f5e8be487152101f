/**
 * `npm run openapi -- --stack <name> [--local <url>] [--out <file>]`
 * `npm run openapi -- --write [--check]`
 *
 * The API's OpenAPI 3.1 document from the registry (`platform/api/openapi.ts`): printed for a stack
 * (its custom domain or execute-api URL as the server, or `--local` a local runtime's URL), or
 * written to a file. `--write` regenerates the committed files, the document and the typed
 * client's types (`openapi-typescript`) of each stack in `GENERATED_STACKS`, under
 * `platform/api/generated/`; `--check` only says whether they are what the registry gives (exit 1
 * when not). Exit code: 0 done, 1 stale files (`--check`), 2 wrong arguments or a registry or stack
 * file the program refuses.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import type { RegisteredService } from "../functions/runtime/container";
import { openApiDocument, type ApiServer, type OpenApiDocument } from "../platform/api/openapi";
import { LOCAL_AUDIENCE, LOCAL_ISSUER } from "../local/issuer";
import { REPOSITORY_ROOT } from "../platform/config/stack-files";
import { runAsCommand, STANDARD_IO } from "./command";

const USAGE =
    "usage: npm run openapi -- --stack <name> [--local <url>] [--out <file>]\n" +
    "       npm run openapi -- --write [--check]\n" +
    "  --stack   the stack whose API to describe (Pulumi.<name>.yaml)\n" +
    "  --local   describe a local runtime at this http URL (npm start) instead of the stack's own URL\n" +
    "  --out     write the document to this file instead of printing it\n" +
    "  --write   regenerate the committed documents and client types (platform/api/generated/)\n" +
    "  --check   with --write: change nothing, exit 1 when a committed file is not what the registry gives";

/** The stacks whose document and client types are committed: the client's types come from the first. */
export const GENERATED_STACKS = ["dev"] as const;
/** Where the committed documents and types live. */
export const GENERATED_DIR = path.join(REPOSITORY_ROOT, "platform", "api", "generated");
/** The command that regenerates them, for messages that ask for it. */
export const REGENERATE_COMMAND = "npm run openapi -- --write";

export type OpenApiOptions =
    | { mode: "print"; stack: string; local?: string; out?: string }
    | { mode: "write"; check: boolean };

export class UsageError extends Error {}

export function parseArgs(argv: readonly string[]): OpenApiOptions | "help" {
    let stack: string | undefined;
    let local: string | undefined;
    let out: string | undefined;
    let write = false;
    let check = false;
    for (let i = 0; i < argv.length; i++) {
        const arg = argv[i];
        const [flag, inline] = arg.startsWith("--") && arg.includes("=") ? [arg.slice(0, arg.indexOf("=")), arg.slice(arg.indexOf("=") + 1)] : [arg, undefined];
        const value = () => {
            const v = inline ?? argv[++i];
            if (v === undefined || v === "" || v.startsWith("--")) throw new UsageError(`${flag} needs a value\n${USAGE}`);
            return v;
        };
        switch (flag) {
            case "--stack":
                stack = value();
                break;
            case "--local":
                local = localUrl(value());
                break;
            case "--out":
                out = value();
                break;
            case "--write":
                write = true;
                break;
            case "--check":
                check = true;
                break;
            case "--help":
            case "-h":
                return "help";
            default:
                throw new UsageError(`unknown argument ${arg}\n${USAGE}`);
        }
    }
    if (write) {
        if (stack !== undefined || local !== undefined || out !== undefined) throw new UsageError(`--write takes no --stack, --local or --out: it writes every stack of GENERATED_STACKS\n${USAGE}`);
        return { mode: "write", check };
    }
    if (check) throw new UsageError(`--check goes with --write\n${USAGE}`);
    if (!stack) throw new UsageError(`--stack is required\n${USAGE}`);
    return { mode: "print", stack, local, out };
}

/** A local runtime's base URL: http(s), no path, query or fragment. */
function localUrl(value: string): string {
    let url: URL;
    try {
        url = new URL(value);
    } catch {
        throw new UsageError(`--local ${JSON.stringify(value)} is not a URL; give the local runtime's, e.g. http://127.0.0.1:3000\n${USAGE}`);
    }
    if ((url.protocol !== "http:" && url.protocol !== "https:") || url.pathname !== "/" || url.search !== "" || url.hash !== "") {
        throw new UsageError(`--local ${JSON.stringify(value)} must be an http(s) base URL without a path, e.g. http://127.0.0.1:3000\n${USAGE}`);
    }
    return url.origin;
}

/** The document of `stack`'s API, its registry and settings checked the way the program checks them. */
export async function stackDocument(stack: string, options: { local?: string; services?: readonly RegisteredService[] } = {}): Promise<OpenApiDocument> {
    // Loaded here, as the plan loads them: a mistake in a service file is reported by the command.
    const { inputsForStack } = await import("../infra/program-inputs");
    const services = options.services ?? (await import("../infra/services")).services;
    const { config, registry } = inputsForStack(stack, services);
    const server: ApiServer | undefined = options.local ? { kind: "local", url: options.local, jwt: { issuer: LOCAL_ISSUER, audience: [LOCAL_AUDIENCE] } } : undefined;
    return openApiDocument({ registry, config, server });
}

/** The document as the committed file holds it. */
export function documentText(document: OpenApiDocument): string {
    return `${JSON.stringify(document, null, 2)}\n`;
}

/** The client's types (`paths`, `components`, `operations`) for `document`, by openapi-typescript. */
export async function clientTypes(document: OpenApiDocument): Promise<string> {
    const { default: openapiTS, astToString } = await import("openapi-typescript");
    const ast = await openapiTS(document as never, { alphabetize: false, exportType: false });
    return astToString(ast);
}

/** The types of every service module in the repository, registered or not (`serviceModules`), as dev would serve them. */
export const SERVICE_MODULES_TYPES = path.join(GENERATED_DIR, "service-modules.d.ts");

/**
 * Every service module under `functions/` (`functions/<name>/service.ts` whose default export is a
 * service), registered or not: what the samples' own tests serve, whatever the registry holds, so
 * their typed client must not depend on it.
 */
export function serviceModules(root = REPOSITORY_ROOT): RegisteredService[] {
    const functions = path.join(root, "functions");
    return fs
        .readdirSync(functions, { withFileTypes: true })
        .filter((entry) => entry.isDirectory() && fs.existsSync(path.join(functions, entry.name, "service.ts")))
        .map((entry) => (require(path.join(functions, entry.name, "service.ts")) as { default?: RegisteredService }).default)
        .filter((service): service is RegisteredService => typeof service?.name === "string" && typeof service.routes === "object")
        .sort((a, b) => a.name.localeCompare(b.name));
}

/** Every committed generated file, by path, as the registry (and the service modules) give it now. */
export async function generatedFiles(services?: readonly RegisteredService[]): Promise<Map<string, string>> {
    const files = new Map<string, string>();
    for (const stack of GENERATED_STACKS) {
        const document = await stackDocument(stack, { services });
        files.set(path.join(GENERATED_DIR, `${stack}.openapi.json`), documentText(document));
        files.set(path.join(GENERATED_DIR, `${stack}.d.ts`), await clientTypes(document));
    }
    files.set(SERVICE_MODULES_TYPES, await clientTypes(await stackDocument(GENERATED_STACKS[0], { services: serviceModules() })));
    return files;
}

export interface MainIo {
    out: (text: string) => void;
    err: (text: string) => void;
    /** Another registry than `infra/registry.ts` (tests describe a fixture). */
    services?: readonly RegisteredService[];
}

const defaultIo: MainIo = STANDARD_IO;

/** The CLI without `process`: returns the exit code. */
export async function main(argv: readonly string[], io: MainIo = defaultIo): Promise<number> {
    let options: OpenApiOptions | "help";
    try {
        options = parseArgs(argv);
    } catch (error) {
        io.err((error as Error).message);
        return 2;
    }
    if (options === "help") {
        io.out(USAGE);
        return 0;
    }
    try {
        if (options.mode === "print") {
            const text = documentText(await stackDocument(options.stack, { local: options.local, services: io.services }));
            if (options.out) fs.writeFileSync(options.out, text);
            else io.out(text);
            return 0;
        }
        const files = await generatedFiles(io.services);
        const stale = [...files].filter(([file, text]) => !fs.existsSync(file) || fs.readFileSync(file, "utf8") !== text).map(([file]) => path.relative(REPOSITORY_ROOT, file));
        if (options.check) {
            if (stale.length === 0) return 0;
            io.err(`not what the registry gives: ${stale.join(", ")}; run ${REGENERATE_COMMAND}`);
            return 1;
        }
        fs.mkdirSync(GENERATED_DIR, { recursive: true });
        for (const [file, text] of files) fs.writeFileSync(file, text);
        io.out(stale.length > 0 ? `wrote ${stale.join(", ")}` : "already up to date");
        return 0;
    } catch (error) {
        io.err(`openapi failed: ${error instanceof Error ? error.message : String(error)}`);
        return 2;
    }
}

if (require.main === module) runAsCommand((argv) => main(argv));
