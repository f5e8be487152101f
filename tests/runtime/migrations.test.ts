import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { createDatabase } from "../../functions/runtime/data/database";
import {
    applyMigrations,
    lineAndColumn,
    migrationSetHash,
    parseServiceMigrationRequest,
    readMigrations,
    sha256,
    type Migration,
    type MigrationRunRequest,
} from "../../functions/runtime/data/migrations";
import { serviceRoles, serviceSchema, type ServiceData } from "../../functions/runtime/data/service-data";
import { STACK_DEFAULTS } from "../../platform/config/stack-config";
import { migrationRunRequest } from "../../platform/data-plan";
import { resolveRegistry } from "../../platform/registry/resolution";
import { services } from "../../infra/services";
import notes from "../../testing/fixtures/services/notes/service";
import { usePostgres } from "../support/postgres";

/** A migration as `readMigrations` gives it: its file named from the repository root. */
function migration(service: string, version: number, name: string, sql: string): Migration {
    return { service, version, name, file: `functions/${service}/migrations/${String(version).padStart(4, "0")}_${name}.sql`, sql, checksum: sha256(sql) };
}

function data(service: string, connectionLimit = 5): ServiceData {
    const { owner, login } = serviceRoles(service);
    return { service, schema: serviceSchema(service), ownerRole: owner, loginRole: login, connectionLimit, statementTimeoutMs: 9000 };
}

function request(...services: string[]): MigrationRunRequest {
    return { migrationSetHash: "test", services: services.map((service) => data(service)), login: "password" };
}

describe("the migration runner", () => {
    const postgres = usePostgres();
    const passwordOf = (role: string) => postgres().login.passwordOf(role);
    const run = (req: MigrationRunRequest, set: Migration[]) => applyMigrations(postgres().db, req, set, { passwordOf });
    /** The service's own tables, without the platform's event tables every database service's schema holds. */
    const tables = async (schema: string) =>
        (await postgres().sql<{ name: string }>("SELECT tablename AS name FROM pg_tables WHERE schemaname = $1 AND tablename NOT LIKE 'platform\\_%' ORDER BY 1", [schema])).map((t) => t.name);

    beforeEach(async () => {
        await postgres().sql("DROP SCHEMA IF EXISTS platform, a, b, order_history CASCADE; DROP SCHEMA public CASCADE; CREATE SCHEMA public");
    });

    it("reads a service's migration folder in version order, naming each file from the repository root", () => {
        // Act
        const migrations = readMigrations("notes", notes.migrationsDir!);
        // Assess
        assert.deepEqual(migrations.map((m) => [m.service, m.version, m.name, m.file]), [["notes", 1, "create_notes", "testing/fixtures/services/notes/migrations/0001_create_notes.sql"]]);
        assert.equal(migrations[0].checksum, sha256(fs.readFileSync(path.join(notes.migrationsDir!, "0001_create_notes.sql"), "utf8")));
    });

    it("applies pending migrations inside the service's schema, records them in the platform schema, and skips them on the next run", async () => {
        // Prepare
        const set = [migration("a", 1, "one", "CREATE TABLE one (id int)"), migration("a", 2, "two", "CREATE TABLE two (id int)")];
        // Act
        const first = await run(request("a"), set);
        const second = await run(request("a"), set);
        // Assess
        assert.deepEqual(first, { applied: ["a/1_one", "a/2_two"], alreadyApplied: 0 });
        assert.deepEqual(second, { applied: [], alreadyApplied: 2 });
        assert.deepEqual(await tables("a"), ["one", "two"]);
        assert.deepEqual(await tables("public"), []);
        assert.deepEqual(await tables("platform"), ["schema_migrations"]);
        const records = await postgres().sql("SELECT service, version, name FROM platform.schema_migrations ORDER BY version");
        assert.deepEqual(records, [{ service: "a", version: 1, name: "one" }, { service: "a", version: 2, name: "two" }]);
    });

    it("runs each migration as the service's owner role, which then owns what it created", async () => {
        // Prepare
        const set = [migration("a", 1, "one", "CREATE TABLE one (id serial PRIMARY KEY, who text DEFAULT current_user)")];
        // Act
        await run(request("a"), set);
        // Assess
        const [table] = await postgres().sql<{ tableowner: string }>("SELECT tableowner FROM pg_tables WHERE schemaname = 'a' AND tablename = 'one'");
        assert.equal(table.tableowner, "a_owner");
        const [sequence] = await postgres().sql<{ owner: string }>("SELECT pg_get_userbyid(relowner) AS owner FROM pg_class WHERE relname = 'one_id_seq'");
        assert.equal(sequence.owner, "a_owner");
    });

    it("applies a new migration added to an applied set", async () => {
        // Prepare
        await run(request("a"), [migration("a", 1, "one", "CREATE TABLE one (id int)")]);
        // Act
        const result = await run(request("a"), [migration("a", 1, "one", "CREATE TABLE one (id int)"), migration("a", 2, "two", "CREATE TABLE two (id int)")]);
        // Assess
        assert.deepEqual(result, { applied: ["a/2_two"], alreadyApplied: 1 });
    });

    it("applies each service's files in version order, whatever order the set lists them in", async () => {
        // Prepare: b's second file needs its first; the set lists it first.
        const set = [migration("b", 2, "add_column", "ALTER TABLE b ADD COLUMN x int"), migration("a", 1, "one", "CREATE TABLE a (id int)"), migration("b", 1, "create", "CREATE TABLE b (id int)")];
        // Act
        const result = await run(request("a", "b"), set);
        // Assess
        assert.deepEqual(result.applied, ["a/1_one", "b/1_create", "b/2_add_column"]);
    });

    it("refuses a migration edited after it was applied, naming its file", async () => {
        // Prepare
        await run(request("a"), [migration("a", 1, "one", "CREATE TABLE one (id int)")]);
        // Act
        const edited = run(request("a"), [migration("a", 1, "one", "CREATE TABLE one (id bigint)")]);
        // Assess
        await assert.rejects(edited, /^Error: Migration a\/1 \(one, functions\/a\/migrations\/0001_one\.sql\) was edited after it was applied\. Add a new migration instead\.$/);
    });

    it("applies nothing when one pending migration fails, naming the file with the line and column, the service and the version", async () => {
        // Prepare: the mistake is on the file's third line, at its tenth character (PostgreSQL counts
        // characters, not bytes: é and the emoji before it are one each).
        const broken = migration("a", 2, "broken", '-- adds a table\nCREATE TABLE two (\n    "é😀" intt\n);\n');
        const set = [migration("a", 1, "one", "CREATE TABLE one (id int)"), broken];
        // Act
        const failure = await run(request("a"), set).then(
            () => assert.fail("the set applied"),
            (error: Error) => error,
        );
        // Assess
        assert.equal(
            failure.message,
            'Migration functions/a/migrations/0002_broken.sql:3:10 of service "a" (version 2) failed: type "intt" does not exist (SQLSTATE 42704). Nothing of this run was applied.',
        );
        // The whole run was one transaction: not even the schemas and roles it started with remain.
        assert.deepEqual(await postgres().sql("SELECT nspname FROM pg_namespace WHERE nspname IN ('platform', 'a')"), []);
    });

    it("names the file, service and version of a failing statement PostgreSQL gives no position for, with its detail", async () => {
        // Prepare: a statement that parses and then fails as it runs.
        const set = [migration("orders", 1, "create", "CREATE TABLE orders (id int);\nINSERT INTO orders VALUES (1), (1);\nALTER TABLE orders ADD PRIMARY KEY (id);")];
        // Act
        const failed = run(request("orders"), set);
        // Assess
        await assert.rejects(
            failed,
            /^Error: Migration functions\/orders\/migrations\/0001_create\.sql of service "orders" \(version 1\) failed: could not create unique index "orders_pkey" \(detail: Key \(id\)=\(1\) is duplicated\.; SQLSTATE 23505\)\. Nothing of this run was applied\.$/,
        );
        assert.deepEqual(await tables("orders"), []);
    });

    it("refuses a run when an applied file of a service is gone, naming the service, the version and the file, before applying anything", async () => {
        // Prepare
        const one = migration("a", 1, "one", "CREATE TABLE one (id int)");
        await run(request("a"), [one, migration("a", 2, "two", "CREATE TABLE two (id int)")]);
        // Act: 0002_two.sql deleted, a third one added.
        const refused = run(request("a"), [one, migration("a", 3, "three", "CREATE TABLE three (id int)")]);
        // Assess
        await assert.rejects(refused, /^Error: Migration functions\/a\/migrations\/0002_two\.sql of service "a" \(version 2\) was applied on \d{4}-\d\d-\d\dT[\d:.]+Z but its file is gone\. Restore it/);
        assert.deepEqual(await tables("a"), ["one", "two"]);
    });

    it("keeps the records and the schema of a service no longer in the run, and applies the others", async () => {
        // Prepare: service b was removed from the registry after its migrations ran.
        await run(request("a", "b"), [migration("a", 1, "one", "CREATE TABLE one (id int)"), migration("b", 1, "bee", "CREATE TABLE bee (id int)")]);
        // Act
        const result = await run(request("a"), [migration("a", 1, "one", "CREATE TABLE one (id int)"), migration("a", 2, "two", "CREATE TABLE two (id int)")]);
        // Assess
        assert.deepEqual(result, { applied: ["a/2_two"], alreadyApplied: 1 });
        assert.deepEqual(await postgres().sql("SELECT service, version FROM platform.schema_migrations ORDER BY 1, 2"), [
            { service: "a", version: 1 },
            { service: "a", version: 2 },
            { service: "b", version: 1 },
        ]);
        assert.deepEqual(await tables("b"), ["bee"]);
    });

    it("gives two services tables of the same name, each in its own schema, whatever order the services come in", async () => {
        // Prepare
        const set = [migration("a", 1, "items", "CREATE TABLE items (id int)"), migration("b", 1, "items", "CREATE TABLE items (id text)")];
        // Act
        await run(request("b", "a"), [...set].reverse());
        // Assess
        assert.deepEqual(await tables("a"), ["items"]);
        assert.deepEqual(await tables("b"), ["items"]);
        const types = await postgres().sql("SELECT table_schema, data_type FROM information_schema.columns WHERE table_name = 'items' ORDER BY 1");
        assert.deepEqual(types, [{ table_schema: "a", data_type: "integer" }, { table_schema: "b", data_type: "text" }]);
    });

    it("maps a service name with dashes to its schema and roles", async () => {
        // Prepare
        const set = [migration("order-history", 1, "entries", "CREATE TABLE entries (id int)")];
        // Act
        await run(request("order-history"), set);
        // Assess
        assert.deepEqual(await tables("order_history"), ["entries"]);
        const roles = await postgres().sql<{ rolname: string }>("SELECT rolname FROM pg_roles WHERE rolname LIKE 'order_history%' ORDER BY 1");
        assert.deepEqual(roles.map((r) => r.rolname), ["order_history_app", "order_history_owner"]);
    });

    it("refuses a migration that leaves the owner role it runs as", async () => {
        // Prepare
        const set = [migration("a", 1, "escape", "CREATE TABLE one (id int);\nRESET ROLE;")];
        // Act
        const escaped = run(request("a"), set);
        // Assess
        await assert.rejects(escaped, /Migration functions\/a\/migrations\/0001_escape\.sql of service "a" \(version 1\) failed: it changed the role it runs as to "postgres"; migrations run as the service's owner role "a_owner"/);
        assert.deepEqual(await tables("a"), []);
    });

    it("refuses a migration of a service the run has no schema for, before changing anything", async () => {
        // Prepare
        const set = [migration("ghost", 1, "one", "CREATE TABLE one (id int)")];
        // Act
        const refused = run(request("a"), set);
        // Assess
        await assert.rejects(refused, /Migration functions\/ghost\/migrations\/0001_one\.sql belongs to service "ghost", which the run has no schema for/);
        assert.deepEqual(await postgres().sql("SELECT nspname FROM pg_namespace WHERE nspname IN ('platform', 'a')"), []);
    });

    it("serializes two runners started at once: each migration applies exactly once", async () => {
        // Prepare
        const set = [migration("a", 1, "one", "CREATE TABLE one (id int)")];
        const other = createDatabase({ connectionString: postgres().server.url });
        try {
            // Act
            const results = await Promise.all([run(request("a"), set), applyMigrations(other, request("a"), set, { passwordOf })]);
            // Assess
            assert.deepEqual(results.map((r) => r.applied.length).sort(), [0, 1]);
        } finally {
            await other.end();
        }
    });

    it("rejects a migration file that is not named NNNN_name.sql, naming the service and the file", () => {
        // Prepare
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "migrations-"));
        fs.writeFileSync(path.join(dir, "1_init.sql"), "SELECT 1");
        // Act
        const read = () => readMigrations("orders", dir);
        // Assess
        assert.throws(read, /Service "orders": migration file "1_init\.sql" must be named NNNN_name\.sql/);
    });

    it("changes the set hash when any migration's content changes", () => {
        // Prepare
        const base = [migration("a", 1, "one", "CREATE TABLE one (id int)")];
        // Act
        const changed = migrationSetHash([migration("a", 1, "one", "CREATE TABLE one (id bigint)")]);
        // Assess
        assert.equal(migrationSetHash(base), migrationSetHash([...base]));
        assert.notEqual(migrationSetHash(base), changed);
    });

    it("accepts one service's invocation input as the program sends it and refuses a malformed one, naming every problem", () => {
        // Prepare
        const own = [migration("a", 1, "one", "CREATE TABLE one (id int)")];
        const complete = { migrationSetHash: migrationSetHash(own), service: data("a"), migrations: own, login: "iam" };
        const cases: Array<[unknown, RegExp]> = [
            [undefined, /the event is not a JSON object/],
            [[complete], /the event is not a JSON object/],
            [{ ...complete, login: "trust" }, /"login" must be "iam" or "password"/],
            [{ ...complete, migrationSetHash: 1 }, /"migrationSetHash" must be a string/],
            [{ ...complete, service: { ...data("a"), connectionLimit: "5" } }, /"service" needs connectionLimit \(integer\)/],
            [{ ...complete, services: [data("a")], service: undefined }, /"service" needs \(not an object\)/],
            [{ ...complete, migrations: undefined }, /"migrations" must be an array/],
            [{ ...complete, migrations: [{ ...own[0], sql: undefined }] }, /"migrations\[0\]" needs sql \(string\)/],
            [{ ...complete, migrations: [migration("b", 1, "one", "SELECT 1")] }, /"migrations\[0\]" \(functions\/b\/migrations\/0001_one.sql\) belongs to service "b", not "a"/],
            [{ ...complete, migrations: [{ ...own[0], sql: "DROP TABLE one" }] }, /"migrations\[0\]" .* has a checksum that is not its SQL's/],
        ];
        // Act
        const parsed = parseServiceMigrationRequest(JSON.parse(JSON.stringify(complete)));
        // Assess
        assert.deepEqual(parsed, complete);
        for (const [broken, problem] of cases) {
            assert.throws(() => parseServiceMigrationRequest(broken), (error: Error) => /^A migration run needs one service's \{"migrationSetHash", "login", "service", "migrations"\}/.test(error.message) && problem.test(error.message), JSON.stringify(broken));
        }
    });

    it("names every problem of a malformed input at once", () => {
        // Act
        const error = (() => {
            try {
                parseServiceMigrationRequest({ login: "trust", migrations: "x" });
            } catch (caught) {
                return (caught as Error).message;
            }
            return "";
        })();
        // Assess
        for (const problem of ['"migrationSetHash" must be a string', '"login" must be "iam" or "password"', '"service" needs (not an object)', '"migrations" must be an array']) assert.ok(error.includes(problem), `${problem} in ${error}`);
    });

    it("needs the login roles' passwords for a password run", async () => {
        // Prepare
        const set = [migration("a", 1, "one", "CREATE TABLE one (id int)")];
        // Act
        const withoutPasswords = applyMigrations(postgres().db, request("a"), set);
        // Assess
        await assert.rejects(withoutPasswords, /needs each login role's password/);
    });
    it("turns PostgreSQL's 1-based character position into the line and column of the file", () => {
        assert.deepEqual(lineAndColumn("SELECT 1", 1), { line: 1, column: 1 });
        assert.deepEqual(lineAndColumn("a\nbc\ndef", 6), { line: 3, column: 1 });
        assert.deepEqual(lineAndColumn("a\nbc\ndef", 8), { line: 3, column: 3 });
        // Counted in characters, as PostgreSQL counts them: an emoji is one.
        assert.deepEqual(lineAndColumn("-- 😀\nx", 6), { line: 2, column: 1 });
    });

    it("applies the registry's migrations (infra/registry.ts, whatever it holds) service by service, each alone on a fresh database", async () => {
        // Prepare
        const registry = resolveRegistry(services, { memoryMb: 256, timeoutSeconds: 10 });
        const dataServices = migrationRunRequest(registry, STACK_DEFAULTS.database.connectionsPerFunction, "password").services;
        for (const data of dataServices) {
            await postgres().sql(`DROP SCHEMA IF EXISTS platform, ${data.schema} CASCADE`);
            const own = registry.migrations.filter((m) => m.service === data.service);
            // Act
            const result = await applyMigrations(postgres().db, { migrationSetHash: migrationSetHash(own), services: [data], login: "password" }, own, { passwordOf });
            // Assess
            assert.equal(result.applied.length, own.length, data.service);
        }
    });
});
