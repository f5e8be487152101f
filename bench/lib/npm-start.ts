/**
 * `npm start` as a person runs it, for the benchmarks that measure what they get: npm, the start
 * script's command and the runtime in a process group of their own (a terminal's), the access log
 * going to a file (`npm start > log`), stopped with SIGINT to the whole group (Ctrl-C).
 */
import { spawn, type ChildProcess } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { services } from "../../infra/services";
import { placeholderSecretsFile } from "../../testing/local-secrets";
import { performance } from "node:perf_hooks";
import { REPOSITORY_ROOT } from "../../local/stack-config";

export interface NpmStart {
    child: ChildProcess;
    /** Resolves with the base URL once "Ready on" is printed, and the milliseconds from the spawn. */
    ready: Promise<{ url: string; readyMs: number }>;
    /** What it printed so far (standard output and error, in the log file). */
    output(): string;
    /** Ctrl-C: SIGINT to the group; resolves once npm has exited. */
    stop(): Promise<void>;
}

export interface NpmStartOptions {
    port: number;
    /** Its embedded PostgreSQL's data folder; the local issuer's key goes to `<dataDir>/../jwt`. */
    dataDir: string;
    /** Where its output goes. */
    logFile: string;
    /** More environment (LOCAL_TYPECHECK, LOCAL_THROTTLING, NODE_OPTIONS...). */
    env?: Record<string, string>;
    /** Arguments after `npm start --` (`--quiet`, `--watch`). */
    args?: string[];
    /** @default 60000 */
    readyTimeoutMs?: number;
    /** The checkout to start. @default this repository */
    cwd?: string;
}

export function startNpmStart(options: NpmStartOptions): NpmStart {
    const started = performance.now();
    const log = fs.openSync(options.logFile, "w");
    const child = spawn("npm", ["start", "--silent", ...(options.args?.length ? ["--", ...options.args] : [])], {
        cwd: options.cwd ?? REPOSITORY_ROOT,
        env: {
            ...process.env,
            PORT: String(options.port),
            LOCAL_DATA_DIR: options.dataDir,
            LOCAL_JWT_DIR: path.join(path.dirname(options.dataDir), "jwt"),
            // The registry's declared secrets, set (npm start refuses unset ones).
            LOCAL_SECRETS_FILE: placeholderSecretsFile(path.dirname(options.dataDir), services),
            DATABASE_URL: "",
            JWT_ISSUER: "",
            JWT_AUDIENCE: "",
            JWT_JWKS_URL: "",
            ...options.env,
        },
        detached: true,
        stdio: ["ignore", log, log],
    });
    fs.closeSync(log);
    const output = () => fs.readFileSync(options.logFile, "utf8");
    const exited = new Promise<void>((resolve) => child.on("exit", () => resolve()));
    const ready = new Promise<{ url: string; readyMs: number }>((resolve, reject) => {
        const deadline = started + (options.readyTimeoutMs ?? 60_000);
        let gone = false;
        void exited.then(() => (gone = true));
        const poll = () => {
            const url = /Ready on (http:\/\/\S+?) in/.exec(output())?.[1];
            if (url) return resolve({ url, readyMs: performance.now() - started });
            if (gone) return reject(new Error(`npm start exited before it was ready:\n${output()}`));
            if (performance.now() > deadline) return reject(new Error(`npm start was not ready in time:\n${output()}`));
            setTimeout(poll, 5);
        };
        poll();
    });
    ready.catch(() => undefined);
    return {
        child,
        ready,
        output,
        async stop() {
            if (child.exitCode === null && child.signalCode === null) {
                try {
                    process.kill(-child.pid!, "SIGINT");
                } catch {
                    // already gone
                }
            }
            await exited;
        },
    };
}
