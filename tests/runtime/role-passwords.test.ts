/**
 * Role passwords never reach the server's log: the local migration run sets each login role's
 * password as its SCRAM verifier, which PostgreSQL stores as given and checks sign-ins against,
 * so the DDL the server logs (`log_statement = ddl`, as the cloud's parameter group sets) carries
 * no password. The verifier is PostgreSQL's own: the same bytes for the same salt and iterations.
 */
import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import * as pg from "pg";
import { createDatabase } from "../../functions/runtime/data/database";
import { scramSha256Verifier } from "../../functions/runtime/data/scram";
import { localLogin, loginSecretFile, readOrCreateLoginSecret } from "../../local/service-login";
import { startLocalPostgres, type LocalPostgres } from "../../local/postgres";
import { seedPostgresDataFolder } from "../../testing/postgres-template";
import { accounts } from "../../testing/data-services";
import { migrateAsLocalRuntime } from "../../testing/postgres";

describe("role passwords as SCRAM verifiers", function () {
    this.timeout(60_000);
    let root: string;
    let server: LocalPostgres;
    const serverLog: string[] = [];
    const sql = async <Row>(text: string, values?: unknown[]): Promise<Row[]> => {
        const client = new pg.Client({ connectionString: server.url });
        await client.connect();
        try {
            return (await client.query(text, values)).rows as Row[];
        } finally {
            await client.end();
        }
    };

    before(async () => {
        root = fs.mkdtempSync(path.join(os.tmpdir(), "role-passwords-"));
        fs.chmodSync(root, 0o755); // PostgreSQL runs as its own user when we are root
        await seedPostgresDataFolder(path.join(root, "data"));
        server = await startLocalPostgres({ dataDir: path.join(root, "data"), persistent: false, onLog: (line) => serverLog.push(line), onNotice: () => undefined });
    });
    after(async () => {
        await server?.stop();
        fs.rmSync(root, { recursive: true, force: true });
    });

    it("computes the verifier PostgreSQL computes for the same password, salt and iterations", async () => {
        // Prepare: PostgreSQL hashes a password itself.
        await sql("SET password_encryption = 'scram-sha-256'; CREATE ROLE hashed_by_postgres LOGIN PASSWORD 'correct horse battery staple'");
        const [{ stored }] = await sql<{ stored: string }>("SELECT rolpassword AS stored FROM pg_authid WHERE rolname = 'hashed_by_postgres'");
        const [, iterations, salt] = /^SCRAM-SHA-256\$(\d+):([^$]+)\$/.exec(stored)!;
        // Act
        const ours = scramSha256Verifier("correct horse battery staple", { salt: Buffer.from(salt, "base64"), iterations: Number(iterations) });
        // Assess
        assert.equal(ours, stored);
    });

    it("refuses a password it cannot compute PostgreSQL's verifier for (SASLprep would change it)", () => {
        assert.throws(() => scramSha256Verifier("pässword"), /printable ASCII/);
        assert.throws(() => scramSha256Verifier("tab\there"), /printable ASCII/);
    });

    it("sets each login role's password as its verifier in the migration run: the role signs in, and the logged DDL holds no password", async () => {
        // Prepare: the cloud's setting, on this database.
        await sql("ALTER DATABASE app SET log_statement = 'ddl'");
        const login = localLogin(server.url, readOrCreateLoginSecret(loginSecretFile(path.join(root, "data"), true)));
        const admin = createDatabase({ connectionString: server.url });
        serverLog.length = 0;
        try {
            // Act
            await migrateAsLocalRuntime(admin, [accounts], login);
        } finally {
            await admin.end();
        }
        const asService = new pg.Client({ connectionString: login.serviceDatabaseUrl("accounts") });
        await asService.connect();
        const [{ user }] = (await asService.query("SELECT current_user AS user")).rows;
        await asService.end();
        // Assess
        const log = serverLog.join("");
        assert.equal(user, "accounts_app");
        assert.match(log, /statement: ALTER ROLE "accounts_app" PASSWORD 'SCRAM-SHA-256\$4096:/, "the DDL is logged");
        assert.ok(!log.includes(login.passwordOf("accounts_app")), "the password is in the server's log");
        const [{ stored }] = await sql<{ stored: string }>("SELECT rolpassword AS stored FROM pg_authid WHERE rolname = 'accounts_app'");
        assert.match(stored, /^SCRAM-SHA-256\$4096:/);
    });
});
