/**
 * `local/start.ts` in a process of its own, as `npm start` runs it, for tests that must prove what
 * happens to the process (it stays up; it is killed) and to the PostgreSQL it started.
 */
import { spawn, type ChildProcess } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { processInfo, runningAdminUrl } from "../local/postgres";
import { REPOSITORY_ROOT } from "../local/stack-config";
import { services } from "../infra/services";
import { placeholderSecretsFile } from "./local-secrets";
import { TYPESCRIPT_LOADER_ARGS } from "../tools/typescript-loader";

export interface RuntimeProcess {
    child: ChildProcess;
    /** Resolves once it printed "Ready on", with its base URL and its PostgreSQL's superuser URL (from its data folder: the runtime never prints it). */
    ready: Promise<{ url: string; databaseUrl: string }>;
    /** Everything it printed so far, standard output and error. */
    output(): string;
    /** Resolves with the exit code once it exited; rejects after `timeoutMs`. */
    exited(timeoutMs?: number): Promise<number | null>;
}

export interface RuntimeProcessOptions {
    port: number;
    /** Its embedded PostgreSQL's data folder; the local issuer's key goes beside it (`jwtDirOf`). */
    dataDir: string;
    /** @default 40000 */
    readyTimeoutMs?: number;
    /** More arguments for `local/start.ts`: `--watch`, `--registry <file>`. */
    args?: string[];
    /** Run the background type check (off by default: the fault tests measure the runtime alone). @default false */
    typeCheck?: boolean;
}

/** Where a runtime started with `dataDir` keeps its local issuer's key, so that tests can mint tokens it accepts. */
export const jwtDirOf = (dataDir: string) => path.join(path.dirname(dataDir), "jwt");

/** Starts the runtime with throttling off and one line of output per event, not per request. */
// (`--registry <file>` in `args` serves a fixture registry instead of infra/registry.ts.)
export function startRuntimeProcess(options: RuntimeProcessOptions): RuntimeProcess {
    const child = spawn(process.execPath, [...TYPESCRIPT_LOADER_ARGS, "local/start.ts", "--quiet", ...(options.args ?? [])], {
        cwd: REPOSITORY_ROOT,
        env: {
            ...process.env,
            PORT: String(options.port),
            LOCAL_DATA_DIR: options.dataDir,
            LOCAL_JWT_DIR: jwtDirOf(options.dataDir),
            // The real registry's declared secrets, set (npm start refuses unset ones); fixture registries declare none.
            LOCAL_SECRETS_FILE: placeholderSecretsFile(path.dirname(options.dataDir), services),
            LOCAL_THROTTLING: "off",
            LOG_LEVEL: "ERROR",
            DATABASE_URL: "",
            // The registry's container services as processes, whether or not Docker is there.
            LOCAL_CONTAINERS: "process",
            LOCAL_TYPECHECK: options.typeCheck ? "on" : "off",
        },
        // A process group of its own, as a terminal gives it.
        detached: true,
        stdio: ["ignore", "pipe", "pipe"],
    });
    let output = "";
    const exit = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
    const ready = new Promise<{ url: string; databaseUrl: string }>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`local/start.ts was not ready after ${options.readyTimeoutMs ?? 40_000} ms:\n${output}`)), options.readyTimeoutMs ?? 40_000);
        const onOutput = (chunk: Buffer) => {
            output += chunk;
            const url = /Ready on (http:\/\/\S+?) in/.exec(output)?.[1];
            const databaseUrl = url ? runningAdminUrl(options.dataDir) : undefined;
            if (url && databaseUrl) {
                clearTimeout(timer);
                resolve({ url, databaseUrl });
            }
        };
        child.stdout!.on("data", onOutput);
        child.stderr!.on("data", onOutput);
        void exit.then((code) => {
            clearTimeout(timer);
            reject(new Error(`local/start.ts exited with ${code} before it was ready:\n${output}`));
        });
    });
    ready.catch(() => undefined); // a caller that never awaits it must not see an unhandled rejection
    return {
        child,
        ready,
        output: () => output,
        exited(timeoutMs = 20_000) {
            let timer: NodeJS.Timeout | undefined;
            return Promise.race([
                exit,
                new Promise<never>((_, reject) => {
                    timer = setTimeout(() => reject(new Error(`local/start.ts did not exit within ${timeoutMs} ms:\n${output}`)), timeoutMs);
                }),
            ]).finally(() => clearTimeout(timer));
        },
    };
}

/** Ends the runtime and everything in its process group (its PostgreSQL too) if it still runs. */
export function killRuntimeProcess(run: RuntimeProcess): void {
    if (run.child.exitCode === null && run.child.signalCode === null) {
        try {
            process.kill(-run.child.pid!, "SIGKILL");
        } catch {
            // already gone
        }
    }
}

/** The pid in the data folder's `postmaster.pid`. */
export function postmasterPid(dataDir: string): number {
    return Number(fs.readFileSync(path.join(dataDir, "postmaster.pid"), "utf8").split("\n")[0]);
}

/** Running processes (zombies excluded) whose command line mentions `text`. */
export function processesMentioning(text: string): Array<{ pid: number; argv: string[] }> {
    return fs
        .readdirSync("/proc")
        .filter((entry) => /^\d+$/.test(entry))
        .map(Number)
        .filter((pid) => pid !== process.pid)
        .map((pid) => ({ pid, info: processInfo(pid) }))
        .filter(({ info }) => info.running && (info.argv ?? []).some((arg) => arg.includes(text)))
        .map(({ pid, info }) => ({ pid, argv: info.argv! }));
}

/** Resolves once `check()` is true; rejects with `what` after `timeoutMs`. */
export async function waitFor(check: () => boolean | Promise<boolean>, timeoutMs: number, what: string): Promise<number> {
    const started = Date.now();
    while (!(await check())) {
        if (Date.now() - started > timeoutMs) throw new Error(`${what} after ${timeoutMs} ms`);
        await new Promise((resolve) => setTimeout(resolve, 50));
    }
    return Date.now() - started;
}
