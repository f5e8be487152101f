import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { createDatabase } from "../../functions/runtime/database";
import { applyMigrations, migrationSetHash, readMigrations, sha256, type Migration } from "../../functions/runtime/migrations";
import users from "../../functions/users/service";
import { usePostgres } from "../support/postgres";

function migration(service: string, version: number, name: string, sql: string): Migration {
    return { service, version, name, sql, checksum: sha256(sql) };
}

describe("the migration runner", () => {
    const postgres = usePostgres({ migrate: false });
    const tables = async () => (await postgres().sql<{ name: string }>("SELECT tablename AS name FROM pg_tables WHERE schemaname = 'public' ORDER BY 1")).map((t) => t.name);

    beforeEach(async () => {
        await postgres().sql("DROP SCHEMA public CASCADE; CREATE SCHEMA public");
    });

    it("reads the users service's migration folder in version order", () => {
        const migrations = readMigrations("users", users.migrationsDir!);
        assert.deepEqual(migrations.map((m) => [m.service, m.version, m.name]), [["users", 1, "create_users"]]);
        assert.match(migrations[0].checksum, /^[0-9a-f]{64}$/);
    });

    it("applies pending migrations, records them, and skips them on the next run", async () => {
        // Prepare
        const set = [migration("a", 1, "one", "CREATE TABLE one (id int)"), migration("a", 2, "two", "CREATE TABLE two (id int)")];
        // Act
        const first = await applyMigrations(postgres().db, set);
        const second = await applyMigrations(postgres().db, set);
        // Assess
        assert.deepEqual(first, { applied: ["a/1_one", "a/2_two"], alreadyApplied: 0 });
        assert.deepEqual(second, { applied: [], alreadyApplied: 2 });
        assert.deepEqual(await tables(), ["one", "schema_migrations", "two"]);
    });

    it("applies a new migration added to an applied set", async () => {
        await applyMigrations(postgres().db, [migration("a", 1, "one", "CREATE TABLE one (id int)")]);
        const result = await applyMigrations(postgres().db, [migration("a", 1, "one", "CREATE TABLE one (id int)"), migration("a", 2, "two", "CREATE TABLE two (id int)")]);
        assert.deepEqual(result, { applied: ["a/2_two"], alreadyApplied: 1 });
    });

    it("refuses a migration edited after it was applied", async () => {
        await applyMigrations(postgres().db, [migration("a", 1, "one", "CREATE TABLE one (id int)")]);
        await assert.rejects(applyMigrations(postgres().db, [migration("a", 1, "one", "CREATE TABLE one (id bigint)")]), /Migration a\/1 \(one\) was edited after it was applied/);
    });

    it("applies nothing when one pending migration fails, and names it", async () => {
        const set = [migration("a", 1, "one", "CREATE TABLE one (id int)"), migration("a", 2, "broken", "CREATE TABLE nope (")];
        await assert.rejects(applyMigrations(postgres().db, set), /Migration a\/2_broken failed: syntax error/);
        assert.deepEqual(await tables(), []);
    });

    it("serializes two runners started at once: each migration applies exactly once", async () => {
        const set = [migration("a", 1, "one", "CREATE TABLE one (id int)")];
        const other = createDatabase({ connectionString: postgres().server.url });
        try {
            const results = await Promise.all([applyMigrations(postgres().db, set), applyMigrations(other, set)]);
            assert.deepEqual(results.map((r) => r.applied.length).sort(), [0, 1]);
        } finally {
            await other.end();
        }
    });

    it("rejects a migration file that is not named NNNN_name.sql, naming the service and the file", () => {
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "migrations-"));
        fs.writeFileSync(path.join(dir, "1_init.sql"), "SELECT 1");
        assert.throws(() => readMigrations("orders", dir), /Service "orders": migration file "1_init\.sql" must be named NNNN_name\.sql/);
    });

    it("changes the set hash when any migration's content changes", () => {
        const base = [migration("a", 1, "one", "CREATE TABLE one (id int)")];
        assert.equal(migrationSetHash(base), migrationSetHash([...base]));
        assert.notEqual(migrationSetHash(base), migrationSetHash([migration("a", 1, "one", "CREATE TABLE one (id bigint)")]));
    });
});
