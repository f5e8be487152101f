/**
 * The migration runner against a real PostgreSQL: pending files applied in one transaction and
 * recorded; an edited or a deleted applied file refused, naming the service, version and file; a
 * failing file named with the line and column PostgreSQL points at. And the real registry's
 * migrations: each service's apply on a fresh database by themselves, in whatever order the
 * services come, as services must not depend on each other's tables.
 */
import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { createDatabase } from "../../functions/runtime/database";
import { applyMigrations, lineAndColumn, migrationSetHash, readMigrations, sha256, type Migration } from "../../functions/runtime/migrations";
import { resolveRegistry } from "../../infra/registry-resolution";
import { services } from "../../infra/services";
import notes from "../fixtures/services/notes/service";
import { usePostgres } from "../support/postgres";

function migration(service: string, version: number, name: string, sql: string): Migration {
    return { service, version, name, file: `functions/${service}/migrations/${String(version).padStart(4, "0")}_${name}.sql`, sql, checksum: sha256(sql) };
}

describe("the migration runner", () => {
    const postgres = usePostgres();
    const tables = async () => (await postgres().sql<{ name: string }>("SELECT tablename AS name FROM pg_tables WHERE schemaname = 'public' ORDER BY 1")).map((t) => t.name);

    beforeEach(async () => {
        await postgres().sql("DROP SCHEMA public CASCADE; CREATE SCHEMA public");
    });

    it("reads a service's migration folder in version order, naming each file from the repository root", () => {
        // Act
        const migrations = readMigrations("notes", notes.migrationsDir!);
        // Assess
        assert.deepEqual(migrations.map((m) => [m.service, m.version, m.name, m.file]), [["notes", 1, "create_notes", "tests/fixtures/services/notes/migrations/0001_create_notes.sql"]]);
        assert.equal(migrations[0].checksum, sha256(fs.readFileSync(path.join(notes.migrationsDir!, "0001_create_notes.sql"), "utf8")));
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

    it("applies each service's files in version order, whatever order the set lists them in", async () => {
        // Prepare: b's second file needs its first; the set lists it first.
        const set = [migration("b", 2, "add_column", "ALTER TABLE b ADD COLUMN x int"), migration("a", 1, "one", "CREATE TABLE a (id int)"), migration("b", 1, "create", "CREATE TABLE b (id int)")];
        // Act
        const result = await applyMigrations(postgres().db, set);
        // Assess: by service, then version (the order is the runner's; services must not rely on it).
        assert.deepEqual(result.applied, ["a/1_one", "b/1_create", "b/2_add_column"]);
    });

    it("refuses a migration edited after it was applied, naming its file", async () => {
        await applyMigrations(postgres().db, [migration("a", 1, "one", "CREATE TABLE one (id int)")]);
        await assert.rejects(
            applyMigrations(postgres().db, [migration("a", 1, "one", "CREATE TABLE one (id bigint)")]),
            /^Error: Migration a\/1 \(one, functions\/a\/migrations\/0001_one\.sql\) was edited after it was applied\. Add a new migration instead\.$/,
        );
    });

    it("applies nothing when one pending migration fails, naming the file with the line and column, and the service", async () => {
        // Prepare: the mistake is on the file's third line, at its tenth character (PostgreSQL counts
        // characters, not bytes: é and the emoji before it are one each).
        const broken = migration("a", 2, "broken", '-- adds a table\nCREATE TABLE two (\n    "é😀" intt\n);\n');
        const set = [migration("a", 1, "one", "CREATE TABLE one (id int)"), broken];
        // Act
        const failure = await applyMigrations(postgres().db, set).then(
            () => assert.fail("the set applied"),
            (error: Error) => error,
        );
        // Assess
        assert.equal(
            failure.message,
            'Migration functions/a/migrations/0002_broken.sql:3:10 of service "a" (version 2) failed: type "intt" does not exist (SQLSTATE 42704). Nothing of this run was applied.',
        );
        assert.deepEqual(await tables(), []);
    });

    it("names the file and service of a failing statement PostgreSQL gives no position for", async () => {
        // Prepare: a statement that parses and then fails as it runs.
        const set = [migration("orders", 1, "create", "CREATE TABLE orders (id int);\nINSERT INTO orders VALUES (1), (1);\nALTER TABLE orders ADD PRIMARY KEY (id);")];
        // Act and assess
        await assert.rejects(
            applyMigrations(postgres().db, set),
            /^Error: Migration functions\/orders\/migrations\/0001_create\.sql of service "orders" \(version 1\) failed: could not create unique index "orders_pkey" \(detail: Key \(id\)=\(1\) is duplicated\.; SQLSTATE 23505\)\. Nothing of this run was applied\.$/,
        );
        assert.deepEqual(await tables(), []);
    });

    it("refuses a run when an applied file of a service is gone, naming the service, the version and the file", async () => {
        // Prepare
        const one = migration("a", 1, "one", "CREATE TABLE one (id int)");
        await applyMigrations(postgres().db, [one, migration("a", 2, "two", "CREATE TABLE two (id int)")]);
        // Act: 0002_two.sql deleted, a third one added.
        const run = applyMigrations(postgres().db, [one, migration("a", 3, "three", "CREATE TABLE three (id int)")]);
        // Assess
        await assert.rejects(run, /^Error: Migration functions\/a\/migrations\/0002_two\.sql of service "a" \(version 2\) was applied on \d{4}-\d\d-\d\dT[\d:.]+Z but its file is gone\. Restore it/);
        assert.deepEqual(await tables(), ["one", "schema_migrations", "two"]);
    });

    it("keeps the records of a service no longer in the set, and applies the others", async () => {
        // Prepare: service b was removed from the registry after its migrations ran.
        await applyMigrations(postgres().db, [migration("a", 1, "one", "CREATE TABLE one (id int)"), migration("b", 1, "bee", "CREATE TABLE bee (id int)")]);
        // Act
        const result = await applyMigrations(postgres().db, [migration("a", 1, "one", "CREATE TABLE one (id int)"), migration("a", 2, "two", "CREATE TABLE two (id int)")]);
        // Assess
        assert.deepEqual(result, { applied: ["a/2_two"], alreadyApplied: 1 });
        assert.deepEqual(await postgres().sql("SELECT service, version FROM schema_migrations ORDER BY 1, 2"), [
            { service: "a", version: 1 },
            { service: "a", version: 2 },
            { service: "b", version: 1 },
        ]);
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

    it("turns PostgreSQL's 1-based character position into the line and column of the file", () => {
        assert.deepEqual(lineAndColumn("SELECT 1", 1), { line: 1, column: 1 });
        assert.deepEqual(lineAndColumn("a\nbc\ndef", 6), { line: 3, column: 1 });
        assert.deepEqual(lineAndColumn("a\nbc\ndef", 8), { line: 3, column: 3 });
        // Counted in characters, as PostgreSQL counts them: an emoji is one.
        assert.deepEqual(lineAndColumn("-- 😀\nx", 6), { line: 2, column: 1 });
    });

    describe("the registry's migrations (infra/registry.ts, whatever it holds)", () => {
        const registered = resolveRegistry(services, { memoryMb: 256, timeoutSeconds: 10 }).services.filter((service) => service.migrations.length > 0);

        it("apply, service by service, each on a fresh database by itself", async () => {
            for (const service of registered) {
                // Prepare
                await postgres().sql("DROP SCHEMA public CASCADE; CREATE SCHEMA public");
                // Act
                const result = await applyMigrations(postgres().db, service.migrations);
                // Assess
                assert.equal(result.applied.length, service.migrations.length, service.name);
            }
        });

        it("apply together with the services in reverse order, so none relies on another's tables", async () => {
            // Prepare: service names that sort the other way round, same files.
            const renamed = [...registered].reverse().flatMap((service, index) => service.migrations.map((m) => ({ ...m, service: `${String.fromCharCode(97 + index)}-${m.service}` })));
            // Act
            const result = await applyMigrations(postgres().db, renamed);
            // Assess
            assert.equal(result.applied.length, renamed.length);
        });
    });
});
