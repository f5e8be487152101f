/**
 * The type check of the service files, in a process of its own beside the local runtime and the
 * plan. Both run the code transpile-only (type-checking the program through ts-node would add ~9 s
 * to every start), so without it a mistake the type checker sees, such as a route key written twice
 * in one service (at run time the last one silently wins), would slip through until `npm test`.
 * The check covers the registry and every file under `functions/` with the project's
 * `tsconfig.json`; it runs at a lower CPU priority and reports when it is done, so `npm start` is
 * ready as soon as it was without it.
 */
import { fork, type ChildProcess } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { REPOSITORY_ROOT } from "../platform/config/stack-files";
import { CACHE_ROOT } from "../tools/cache";
import { TYPESCRIPT_LOADER_ARGS } from "../tools/typescript-loader";

export interface TypeCheckRequest {
    id: number;
    /** The folder paths in messages are relative to. */
    root: string;
    tsconfig: string;
    files: string[];
    /** Where the check keeps TypeScript's build info between runs and processes. */
    buildInfoFile: string;
}

export interface TypeCheckResult {
    /** One formatted diagnostic each, `functions/x/service.ts(12,9): error TS1117: ...`; empty when the files check. */
    errors: string[];
    /** Project files checked (declaration files of packages left out). */
    files: number;
    durationMs: number;
    /**
     * Files this check read and parsed (packages' declarations included): every file on a process's
     * first check, only what changed on the next ones, which keep what the earlier ones parsed.
     */
    parsed?: number;
    /** Every file the last clean check read is as it was then, so that result stands; the compiler did not run. */
    unchanged?: boolean;
}

export interface TypeCheckOptions {
    /** The project. @default the repository */
    root?: string;
    /** The registry module whose services are checked, beside every file under `<root>/functions`. @default `infra/registry.ts` */
    registryModule?: string;
    /**
     * Where the check keeps TypeScript's build info, so that the next check, in this process or
     * another, redoes only what changed. @default `<root>/.cache/type-check/registry.tsbuildinfo`
     */
    buildInfoFile?: string;
}

/** The build info of the check of `root`: one per project, whichever registry module is checked (a file that did not change keeps its result). */
export function defaultBuildInfoFile(root: string): string {
    return path.join(root, path.relative(REPOSITORY_ROOT, CACHE_ROOT), "type-check", "registry.tsbuildinfo");
}

export interface TypeChecker {
    /** Checks the files as they are now; checks asked for while one runs share the next run. */
    check(): Promise<TypeCheckResult>;
    /** Ends the checking process; a check still running never reports. */
    close(): void;
}

/** Every `.ts` file under `dir`, recursively. */
function typeScriptFiles(dir: string): string[] {
    if (!fs.existsSync(dir)) return [];
    return fs.readdirSync(dir, { withFileTypes: true, recursive: true })
        .filter((entry) => entry.isFile() && entry.name.endsWith(".ts"))
        .map((entry) => path.join(entry.parentPath, entry.name))
        .sort();
}

/** What the check covers: the registry and the service files, new ones included. */
export function typeCheckFiles(options: TypeCheckOptions = {}): string[] {
    const root = options.root ?? REPOSITORY_ROOT;
    const registry = path.resolve(root, options.registryModule ?? path.join("infra", "registry.ts"));
    return [registry, ...typeScriptFiles(path.join(root, "functions")).filter((file) => file !== registry)];
}

/** Starts the checking process (idle until the first `check`). */
export function startTypeChecker(options: TypeCheckOptions = {}): TypeChecker {
    const root = options.root ?? REPOSITORY_ROOT;
    const child: ChildProcess = fork(path.join(__dirname, "type-check-worker.ts"), [], {
        execArgv: [...TYPESCRIPT_LOADER_ARGS],
        cwd: root,
        stdio: ["ignore", "ignore", "inherit", "ipc"],
    });
    try {
        // Behind the server and PostgreSQL for the CPU: a start must not wait for the check.
        if (child.pid !== undefined) os.setPriority(child.pid, 10);
    } catch {
        // Not allowed here; it then competes as an equal, which is fine.
    }
    let nextId = 0;
    const waiting = new Map<number, (result: TypeCheckResult) => void>();
    let running: Promise<TypeCheckResult> | undefined;
    let queued: Promise<TypeCheckResult> | undefined;
    let closed = false;

    const failAll = (reason: string) => {
        for (const resolve of waiting.values()) resolve({ errors: [`the type check did not finish: ${reason}`], files: 0, durationMs: 0 });
        waiting.clear();
    };
    child.on("message", (message: TypeCheckResult & { id: number }) => {
        const { id, ...result } = message;
        waiting.get(id)?.(result);
        waiting.delete(id);
    });
    child.on("exit", (code, signal) => {
        if (!closed) failAll(`its process ended (${signal ?? `exit code ${code}`})`);
    });

    const runOnce = (): Promise<TypeCheckResult> =>
        new Promise((resolve) => {
            if (closed || !child.connected) {
                resolve({ errors: ["the type check is not running"], files: 0, durationMs: 0 });
                return;
            }
            const id = nextId++;
            waiting.set(id, resolve);
            const request: TypeCheckRequest = {
                id,
                root,
                tsconfig: path.join(root, "tsconfig.json"),
                files: typeCheckFiles(options),
                buildInfoFile: options.buildInfoFile ?? defaultBuildInfoFile(root),
            };
            child.send(request);
        });

    const check = (): Promise<TypeCheckResult> => {
        if (!running) {
            running = runOnce().finally(() => (running = undefined));
            return running;
        }
        // One run is enough for every change made while the current one was going.
        queued ??= running.then(() => {
            queued = undefined;
            return check();
        });
        return queued;
    };

    return {
        check,
        close() {
            // Checks still waiting are dropped, not answered: whoever stops the checker has stopped listening.
            closed = true;
            waiting.clear();
            if (child.connected) child.disconnect();
            child.kill();
        },
    };
}

/** The result as the runtime and the plan print it. */
export function formatTypeCheck(result: TypeCheckResult): string {
    const seconds = `${(result.durationMs / 1000).toFixed(1)} s`;
    if (result.errors.length === 0) return `Type check: no errors (${result.files} files, ${result.unchanged ? `unchanged since the last check, ${seconds}` : seconds}).`;
    const count = `${result.errors.length} error${result.errors.length === 1 ? "" : "s"}`;
    return [`Type check: ${count}:`, ...result.errors.map((error) => `  ${error.split("\n").join("\n  ")}`)].join("\n");
}

/**
 * One check in a process of its own, for one-shot commands (the plan): `result` once it is done,
 * and `close`, which ends the process at once (the command stopped early, nobody waits for it).
 * The process ends after its check either way.
 */
export function typeCheckOnce(options: TypeCheckOptions = {}): { result: Promise<TypeCheckResult>; close(): void } {
    const checker = startTypeChecker(options);
    return { result: checker.check().finally(() => checker.close()), close: () => checker.close() };
}
