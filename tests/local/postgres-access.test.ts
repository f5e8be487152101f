/**
 * Who can reach the embedded PostgreSQL: a client on this machine over TCP on 127.0.0.1 with the
 * superuser's password, which is random per data folder and kept beside it (mode 0600); no Unix
 * socket, no other interface, not the former well-known password, which a folder initialised with
 * it loses on its next start.
 */
import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import * as pg from "pg";
import { localAdminUrl, readSuperuserPassword, runningAdminUrl, startLocalPostgres, superuserPasswordFile } from "../../local/postgres";
import { listeningAddresses } from "../../testing/listening";
import { seedPostgresDataFolder } from "../../testing/postgres-template";

/** Whether the superuser signs in to the server on `port` with `password`. */
async function signsIn(port: number, password: string): Promise<boolean> {
    const client = new pg.Client({ connectionString: localAdminUrl(port, password, "postgres") });
    client.on("error", () => undefined);
    try {
        await client.connect();
        return true;
    } catch (error) {
        if ((error as { code?: string }).code === "28P01") return false;
        throw error;
    } finally {
        await client.end().catch(() => undefined);
    }
}

async function query<Row>(url: string, sql: string): Promise<Row[]> {
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    try {
        return (await client.query(sql)).rows as Row[];
    } finally {
        await client.end();
    }
}

describe("the embedded PostgreSQL's access", function () {
    this.timeout(120_000);
    let root: string;
    let dataDir: string;

    beforeEach(() => {
        root = fs.mkdtempSync(path.join(os.tmpdir(), "pg-access-"));
        fs.chmodSync(root, 0o755); // PostgreSQL runs as its own user when we are root
        dataDir = path.join(root, "postgres");
    });
    afterEach(() => fs.rmSync(root, { recursive: true, force: true }));

    it("gives a new folder's superuser a random password kept beside it, and takes only that one", async () => {
        // Act
        const server = await startLocalPostgres({ dataDir, onNotice: () => undefined });
        try {
            // Assess
            const password = readSuperuserPassword(dataDir)!;
            assert.equal(path.dirname(superuserPasswordFile(dataDir)), root);
            assert.equal(fs.statSync(superuserPasswordFile(dataDir)).mode & 0o777, 0o600);
            assert.ok(password.length >= 40, password);
            assert.equal(new URL(server.url).password, encodeURIComponent(password));
            assert.equal(runningAdminUrl(dataDir), server.url);
            assert.deepEqual([await signsIn(server.port, password), await signsIn(server.port, "postgres")], [true, false]);
            // Stored as a SCRAM verifier, never as the password itself.
            const [{ stored }] = await query<{ stored: string }>(server.url, "SELECT rolpassword AS stored FROM pg_authid WHERE rolname = 'postgres'");
            assert.match(stored, /^SCRAM-SHA-256\$4096:/);
        } finally {
            await server.stop();
        }
    });

    it("listens on 127.0.0.1 over TCP only: no other interface, no Unix socket", async () => {
        // Prepare: an initialised folder (what a start listens on does not depend on who ran initdb).
        await seedPostgresDataFolder(dataDir);
        // Act
        const server = await startLocalPostgres({ dataDir, onNotice: () => undefined });
        try {
            // Assess
            assert.deepEqual(listeningAddresses(server.port), ["127.0.0.1"]);
            const [{ directories }] = await query<{ directories: string }>(server.url, "SELECT current_setting('unix_socket_directories') AS directories");
            assert.equal(directories, "");
            for (const folder of ["/tmp", "/var/run/postgresql", dataDir]) assert.equal(fs.existsSync(path.join(folder, `.s.PGSQL.${server.port}`)), false, folder);
        } finally {
            await server.stop();
        }
    });

    it("replaces the former well-known password of a folder initialised with it, on its next start, and says so", async () => {
        // Prepare: a folder as the earlier runtime left it: superuser password "postgres", no file beside it.
        await seedPostgresDataFolder(dataDir);
        const first = await startLocalPostgres({ dataDir, onNotice: () => undefined });
        await query(first.url, "ALTER ROLE postgres PASSWORD 'postgres'");
        await first.stop();
        fs.rmSync(superuserPasswordFile(dataDir));
        const notices: string[] = [];
        // Act
        const again = await startLocalPostgres({ dataDir, onNotice: (message) => notices.push(message) });
        try {
            // Assess
            const password = readSuperuserPassword(dataDir)!;
            assert.notEqual(password, "postgres");
            assert.deepEqual([await signsIn(again.port, password), await signsIn(again.port, "postgres")], [true, false]);
            assert.ok(notices.some((notice) => /had the former default password; it now has the random one in .*-superuser-password/.test(notice)), notices.join("\n"));
            assert.ok(!notices.join("\n").includes(password));
        } finally {
            await again.stop();
        }
    });

    it("keeps the password across restarts, and removes it with the folder when not persistent", async () => {
        // Act
        const first = await startLocalPostgres({ dataDir, onNotice: () => undefined });
        const password = readSuperuserPassword(dataDir);
        await first.stop();
        const second = await startLocalPostgres({ dataDir, persistent: false, onNotice: () => undefined });
        const kept = readSuperuserPassword(dataDir);
        await second.stop();
        // Assess
        assert.equal(kept, password);
        assert.deepEqual([fs.existsSync(dataDir), fs.existsSync(superuserPasswordFile(dataDir))], [false, false]);
    });
});
