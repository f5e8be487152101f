import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { createDatabase } from "../../functions/runtime/database";
import {
    applyMigrations,
    migrationSetHash,
    parseMigrationRunRequest,
    readMigrations,
    sha256,
    type Migration,
    type MigrationRunRequest,
} from "../../functions/runtime/migrations";
import { serviceRoles, serviceSchema, type ServiceData } from "../../functions/runtime/service-data";
import users from "../../functions/users/service";
import { usePostgres } from "../support/postgres";

function migration(service: string, version: number, name: string, sql: string): Migration {
    return { service, version, name, file: `${String(version).padStart(4, "0")}_${name}.sql`, sql, checksum: sha256(sql) };
}

function data(service: string, connectionLimit = 5): ServiceData {
    const { owner, login } = serviceRoles(service);
    return { service, schema: serviceSchema(service), ownerRole: owner, loginRole: login, connectionLimit, statementTimeoutMs: 9000 };
}

function request(...services: string[]): MigrationRunRequest {
    return { migrationSetHash: "test", services: services.map((service) => data(service)), login: "password" };
}

describe("the migration runner", () => {
    const postgres = usePostgres({ migrate: false });
    const passwordOf = (role: string) => postgres().login.passwordOf(role);
    const run = (req: MigrationRunRequest, set: Migration[]) => applyMigrations(postgres().db, req, set, { passwordOf });
    /** The service's own tables, without the platform's event tables every database service's schema holds. */
    const tables = async (schema: string) =>
        (await postgres().sql<{ name: string }>("SELECT tablename AS name FROM pg_tables WHERE schemaname = $1 AND tablename NOT LIKE 'platform\\_%' ORDER BY 1", [schema])).map((t) => t.name);

    beforeEach(async () => {
        await postgres().sql("DROP SCHEMA IF EXISTS platform, a, b, order_history CASCADE; DROP SCHEMA public CASCADE; CREATE SCHEMA public");
    });

    it("reads the users service's migration folder in version order, with each file's name", () => {
        // Prepare
        const directory = users.migrationsDir!;
        // Act
        const migrations = readMigrations("users", directory);
        // Assess
        assert.deepEqual(migrations.map((m) => [m.service, m.version, m.name, m.file]), [["users", 1, "create_users", "0001_create_users.sql"]]);
        assert.match(migrations[0].checksum, /^[0-9a-f]{64}$/);
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
        assert.deepEqual(await tables("platform"), ["compatibility_views", "schema_migrations"]);
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

    it("refuses a migration edited after it was applied", async () => {
        // Prepare
        await run(request("a"), [migration("a", 1, "one", "CREATE TABLE one (id int)")]);
        // Act
        const edited = run(request("a"), [migration("a", 1, "one", "CREATE TABLE one (id bigint)")]);
        // Assess
        await assert.rejects(edited, /Migration a\/1 \(one\) was edited after it was applied/);
    });

    it("applies nothing when one pending migration fails, and names its file, service, line and column", async () => {
        // Prepare
        const set = [migration("a", 1, "one", "CREATE TABLE one (id int)"), migration("a", 2, "broken", "-- a comment\nCREATE TABLE two (id int);\nCREATE TABLE nope (")];
        // Act
        const failed = run(request("a"), set);
        // Assess
        await assert.rejects(failed, /^Error: Migration 0002_broken\.sql of service "a" failed at line 3, column 20: syntax error at end of input$/);
        // The whole run was one transaction: not even the schemas and roles it started with remain.
        assert.deepEqual(await postgres().sql("SELECT nspname FROM pg_namespace WHERE nspname IN ('platform', 'a')"), []);
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
        await assert.rejects(escaped, /Migration 0001_escape\.sql of service "a" failed: it changed the role it runs as to "postgres"; migrations run as the service's owner role "a_owner"/);
        assert.deepEqual(await tables("a"), []);
    });

    it("refuses a migration of a service the run has no schema for, before changing anything", async () => {
        // Prepare
        const set = [migration("ghost", 1, "one", "CREATE TABLE one (id int)")];
        // Act
        const refused = run(request("a"), set);
        // Assess
        await assert.rejects(refused, /Migration 0001_one\.sql belongs to service "ghost", which the run has no schema for/);
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

    it("accepts the invocation input the program sends and refuses one that is incomplete", () => {
        // Prepare
        const complete = { migrationSetHash: "abc", services: [data("a")], login: "iam" };
        // Act
        const parsed = parseMigrationRunRequest(JSON.parse(JSON.stringify(complete)));
        // Assess
        assert.deepEqual(parsed, complete);
        for (const broken of [{ migrationSetHash: "abc" }, { ...complete, login: "trust" }, { ...complete, services: [{ ...data("a"), connectionLimit: "5" }] }, undefined]) {
            assert.throws(() => parseMigrationRunRequest(broken), /A migration run needs \{"migrationSetHash", "login": "iam" \| "password", "services"/, JSON.stringify(broken));
        }
    });

    it("needs the login roles' passwords for a password run", async () => {
        // Prepare
        const set = [migration("a", 1, "one", "CREATE TABLE one (id int)")];
        // Act
        const withoutPasswords = applyMigrations(postgres().db, request("a"), set);
        // Assess
        await assert.rejects(withoutPasswords, /needs each login role's password/);
    });
});
