/**
 * A stack deployed before each service owned its schema moves with no loss: the earlier layout
 * (tables in `public`, `public.schema_migrations` keyed by service, all owned by the master user)
 * is made by the earlier runner's own SQL (tests/support/legacy-layout.ts) as an RDS-like master
 * user, filled with rows, and then migrated by the new run. Every row is read back through the
 * routes as the services' own roles; the earlier release's code keeps working through the
 * compatibility views until a later run drops them.
 */
import * as assert from "node:assert/strict";
import { createDatabase, type Database } from "../../functions/runtime/database";
import { applyMigrations, sha256, type Migration, type MigrationRunRequest } from "../../functions/runtime/migrations";
import type { AnyService } from "../../functions/runtime/service";
import users from "../../functions/users/service";
import { migrationRunRequest, serviceData } from "../../platform/data-plan";
import { resolveRegistry, type ResolvedRegistry } from "../../platform/registry/resolution";
import { accounts, catalog } from "../support/data-services";
import { routeCaller } from "../support/invoke";
import { applyLegacyMigrations } from "../support/legacy-layout";
import { createRdsLikeDatabase, usePostgres } from "../support/postgres";

const STACK_DEFAULTS = { memoryMb: 256, timeoutSeconds: 10 };
/** Rows of the earlier layout have no owner: an operator's token reads them. */
const OPERATOR = { claims: { sub: "operator", scope: "users:admin" } };

/**
 * A service of the earlier release whose table pointed at another's: the shared database allowed
 * it, as long as its name sorted after the other's (the earlier runner's order).
 */
const walletsSql = "CREATE TABLE wallets (\n    id      serial PRIMARY KEY,\n    user_id uuid NOT NULL REFERENCES users (id),\n    balance numeric(10, 2) NOT NULL\n);\nCREATE TYPE wallet_state AS ENUM ('open', 'closed');\nALTER TABLE wallets ADD COLUMN state wallet_state NOT NULL DEFAULT 'open';";
const wallets: Migration = { service: "wallets", version: 1, name: "create_wallets", file: "0001_create_wallets.sql", sql: walletsSql, checksum: sha256(walletsSql) };

describe("moving a database of the earlier shared layout into per-service schemas", function () {
    this.timeout(60_000);
    const postgres = usePostgres();
    let registry: ResolvedRegistry;
    let request: MigrationRunRequest;
    let migrations: Migration[];
    let admin: Database;
    let adminUrl: string;
    const ada = { email: "ada@example.com", name: "Ada Lovelace" };
    let legacyRecords: unknown[];
    const recordsSql = (table: string) => `SELECT service, version, name, checksum, applied_at FROM ${table} ORDER BY service, version`;

    const passwordOf = (role: string) => postgres().login.passwordOf(role);
    const run = (set = migrations, req = request) => applyMigrations(admin, req, set, { passwordOf });
    const asService = (service: string) => {
        const url = new URL(adminUrl);
        url.username = `${service}_app`;
        url.password = passwordOf(`${service}_app`);
        return createDatabase({ connectionString: url.toString() });
    };
    /** One warm container's connection per service, as its functions keep. */
    const opened = new Map<string, Database>();
    const serviceDb = (service: string) => {
        if (!opened.has(service)) opened.set(service, asService(service));
        return opened.get(service)!;
    };

    before(async () => {
        // Prepare: the earlier layout, made by the earlier runner as an RDS-like master user, with rows.
        adminUrl = await createRdsLikeDatabase(postgres().server.url, "legacy");
        admin = createDatabase({ connectionString: adminUrl });
        registry = resolveRegistry([users, accounts, catalog], STACK_DEFAULTS);
        migrations = [...registry.migrations, wallets];
        request = migrationRunRequest(registry, 10, "password");
        request.services.push(serviceData({ name: "wallets", routes: [] }, 10));
        await admin.transaction((tx) => applyLegacyMigrations(tx, migrations));
        const { rows } = await admin.query<{ id: string }>("INSERT INTO users (email, name) VALUES ($1, $2), ('grace@example.com', 'Grace Hopper') RETURNING id", [ada.email, ada.name]);
        await admin.query("INSERT INTO accounts (holder, favourite_item) VALUES ('ada', 1), ('grace', 2)");
        await admin.query("INSERT INTO wallets (user_id, balance) VALUES ($1, 12.50)", [rows[0].id]);
        legacyRecords = (await admin.query(recordsSql("public.schema_migrations"))).rows;
    });

    after(async () => {
        await Promise.all([...opened.values()].map((db) => db.end()));
        await admin?.end();
    });

    it("starts from the earlier layout: everything in public, owned by the master user", async () => {
        // Prepare, Act
        const tables = await admin.query("SELECT tablename, tableowner FROM pg_tables WHERE schemaname = 'public' ORDER BY 1");
        // Assess
        assert.deepEqual(tables.rows, ["accounts", "items", "schema_migrations", "users", "wallets"].map((tablename) => ({ tablename, tableowner: "app_admin" })));
    });

    it("refuses the move as a whole when a pending migration of the same run fails: the earlier layout stays as it was", async () => {
        // Prepare
        const broken: Migration = { service: "users", version: 3, name: "broken", file: "0003_broken.sql", sql: "ALTER TABLE users ADD COLUMN", checksum: sha256("ALTER TABLE users ADD COLUMN") };
        // Act
        const failed = run([...migrations, broken]);
        // Assess
        await assert.rejects(failed, /Migration 0003_broken\.sql:1:29 of service "users" \(version 3\) failed: syntax error at end of input/);
        const left = await admin.query("SELECT count(*)::int AS n FROM public.users");
        assert.deepEqual(left.rows, [{ n: 2 }]);
        assert.deepEqual((await admin.query("SELECT count(*)::int AS n FROM public.schema_migrations")).rows, [{ n: 5 }]);
        assert.deepEqual((await admin.query("SELECT nspname FROM pg_namespace WHERE nspname IN ('platform', 'users')")).rows, []);
    });

    it("moves each service's tables into its schema by the relations its applied migrations created, and says what it kept", async () => {
        // Act
        const result = await run();
        // Assess
        assert.deepEqual(result.applied, []);
        assert.equal(result.alreadyApplied, 5);
        assert.deepEqual([...(result.moved ?? [])].sort(), ["accounts.accounts", "catalog.items", "users.users", "wallets.wallet_state", "wallets.wallets"]);
        assert.deepEqual(result.warnings, [
            "Foreign key wallets_user_id_fkey of wallets.wallets references users.users, another service's table: replace it with a plain id column (services share data by API or events).",
        ]);
        const tables = await admin.query("SELECT schemaname, tablename, tableowner FROM pg_tables WHERE schemaname IN ('public', 'users', 'accounts', 'catalog', 'wallets') AND tablename NOT LIKE 'platform\\_%' ORDER BY 1, 2");
        assert.deepEqual(tables.rows, [
            { schemaname: "accounts", tablename: "accounts", tableowner: "accounts_owner" },
            { schemaname: "catalog", tablename: "items", tableowner: "catalog_owner" },
            { schemaname: "users", tablename: "users", tableowner: "users_owner" },
            { schemaname: "wallets", tablename: "wallets", tableowner: "wallets_owner" },
        ]);
    });

    it("moves indexes, constraints and owned sequences with their tables", async () => {
        // Prepare, Act
        const indexes = await admin.query("SELECT schemaname, indexname FROM pg_indexes WHERE tablename = 'users' ORDER BY 2");
        const sequences = await admin.query("SELECT sequence_schema, sequence_name FROM information_schema.sequences ORDER BY 2");
        const [sequenceOwner] = (await admin.query<{ owner: string }>("SELECT pg_get_userbyid(relowner) AS owner FROM pg_class WHERE relname = 'accounts_id_seq'")).rows;
        // Assess
        assert.deepEqual(indexes.rows, [
            { schemaname: "users", indexname: "users_created_at_id" },
            { schemaname: "users", indexname: "users_owner_key" },
            { schemaname: "users", indexname: "users_pkey" },
        ]);
        assert.deepEqual(sequences.rows, [
            { sequence_schema: "accounts", sequence_name: "accounts_id_seq" },
            { sequence_schema: "catalog", sequence_name: "items_id_seq" },
            { sequence_schema: "wallets", sequence_name: "wallets_id_seq" },
        ]);
        assert.equal(sequenceOwner.owner, "accounts_owner");
    });

    it("reads every row back through the routes, signed in as each service's own role", async () => {
        // Prepare
        const callUsers = routeCaller(users, () => serviceDb("users"));
        const callAccounts = routeCaller(accounts, () => serviceDb("accounts"));
        const callCatalog = routeCaller(catalog, () => serviceDb("catalog"));
        // Act
        const list = await callUsers("GET /users", { query: "limit=10", ...OPERATOR });
        const adaId = list.body.items.find((u: { email: string }) => u.email === ada.email).id;
        const one = await callUsers("GET /users/{id}", { path: `/users/${adaId}`, pathParameters: { id: adaId }, ...OPERATOR });
        const account = await callAccounts("GET /accounts/{id}", { path: "/accounts/2", pathParameters: { id: "2" } });
        const items = await callCatalog("GET /items");
        // Assess
        assert.equal(list.status, 200, JSON.stringify(list.body));
        assert.deepEqual(list.body.items.map((u: { email: string; name: string }) => [u.email, u.name]).sort(), [["ada@example.com", "Ada Lovelace"], ["grace@example.com", "Grace Hopper"]]);
        assert.deepEqual({ email: one.body.email, name: one.body.name }, ada);
        assert.deepEqual(account.body, { id: 2, holder: "grace", favouriteItem: 2 });
        assert.deepEqual(items.body.items.map((i: { title: string }) => i.title), ["teapot", "kettle"]);
    });

    it("lets the new code write through the moved sequences: its role has USAGE on them", async () => {
        // Prepare
        const callAccounts = routeCaller(accounts, () => serviceDb("accounts"));
        // Act
        const created = await callAccounts("POST /accounts", { body: JSON.stringify({ holder: "hedy" }), headers: { "content-type": "application/json" } });
        // Assess
        assert.equal(created.status, 201, JSON.stringify(created.body));
        assert.deepEqual(created.body, { id: 3 });
    });

    it("carries the migration records over with their times, and drops the old table", async () => {
        // Prepare, Act
        const records = await admin.query(recordsSql("platform.schema_migrations"));
        const old = await admin.query("SELECT to_regclass('public.schema_migrations') AS old");
        // Assess
        assert.deepEqual(records.rows, legacyRecords);
        assert.deepEqual(records.rows.map(({ service, version, name }) => ({ service, version, name })), [
            { service: "accounts", version: 1, name: "create_accounts" },
            { service: "catalog", version: 1, name: "create_items" },
            { service: "users", version: 1, name: "create_users" },
            { service: "users", version: 2, name: "owner_and_unverified_email" },
            { service: "wallets", version: 1, name: "create_wallets" },
        ]);
        assert.deepEqual(old.rows, [{ old: null }]);
    });

    describe("while the earlier release still serves requests (master user, search_path public, unqualified names)", () => {
        // The earlier release published no events: the same handlers, with a publish that does nothing.
        const earlierUsers = {
            ...users,
            events: undefined,
            routes: Object.fromEntries(
                Object.entries(users.routes).map(([key, route]) => [key, { ...route, handler: (request: never, context: never) => (route!.handler as Function)(request, { ...(context as object), events: { publish: async () => ({ eventId: "" }) } }) }]),
            ),
        } as AnyService;
        const oldCode = () => routeCaller(earlierUsers, () => admin);

        it("creates, reads, renames and deletes users through the compatibility views, into the moved table", async () => {
            // Act
            const caller = { claims: { sub: "old-code" } };
            const created = await oldCode()("POST /users", { body: JSON.stringify({ email: "old@example.com", name: "Old Code" }), headers: { "content-type": "application/json" }, ...caller });
            const duplicate = await oldCode()("POST /users", { body: JSON.stringify({ email: "old@example.com", name: "Again" }), headers: { "content-type": "application/json" }, ...caller });
            const renamed = await oldCode()("PATCH /users/{id}", { path: `/users/${created.body.id}`, pathParameters: { id: created.body.id }, body: JSON.stringify({ name: "Renamed" }), headers: { "content-type": "application/json" }, ...caller });
            const readByNew = await routeCaller(users, () => serviceDb("users"))("GET /users/{id}", { path: `/users/${created.body.id}`, pathParameters: { id: created.body.id }, ...caller });
            const deleted = await oldCode()("DELETE /users/{id}", { path: `/users/${created.body.id}`, pathParameters: { id: created.body.id }, ...caller });
            // Assess
            assert.equal(created.status, 201, JSON.stringify(created.body));
            assert.equal(duplicate.status, 409, JSON.stringify(duplicate.body));
            assert.equal(renamed.body.name, "Renamed");
            assert.equal(readByNew.status, 200);
            assert.equal(readByNew.body.name, "Renamed");
            assert.equal(deleted.status, 204);
            assert.deepEqual((await admin.query("SELECT count(*)::int AS n FROM users.users")).rows, [{ n: 2 }]);
        });

        it("keeps the views through a repeated run of the same release", async () => {
            // Act
            const again = await run();
            // Assess
            assert.deepEqual(again, { applied: [], alreadyApplied: 5 });
            assert.equal((await oldCode()("GET /users", OPERATOR)).status, 200);
        });

        it("gives the services' roles nothing in public: the views are for the master user only", async () => {
            // Prepare
            const db = serviceDb("accounts");
            // Act
            const read = db.query("SELECT * FROM public.users");
            // Assess
            await assert.rejects(read, /permission denied for view users/);
        });
    });

    describe("in the next release", () => {
        it("drops the compatibility views in its first run, leaving the moved tables", async () => {
            // Prepare: the next release adds a migration, so its run has another id.
            const next: Migration = { service: "users", version: 3, name: "add_nickname", file: "0003_add_nickname.sql", sql: "ALTER TABLE users ADD COLUMN nickname text;", checksum: sha256("ALTER TABLE users ADD COLUMN nickname text;") };
            // Act
            const result = await run([...migrations, next]);
            // Assess
            assert.deepEqual(result.applied, ["users/3_add_nickname"]);
            assert.deepEqual([...(result.droppedViews ?? [])].sort(), ["public.accounts", "public.items", "public.users", "public.wallets"]);
            assert.deepEqual((await admin.query("SELECT count(*)::int AS n FROM pg_views WHERE schemaname = 'public'")).rows, [{ n: 0 }]);
            assert.deepEqual((await admin.query("SELECT count(*)::int AS n FROM users.users")).rows, [{ n: 2 }]);
            assert.deepEqual((await admin.query("SELECT count(*)::int AS n FROM platform.compatibility_views")).rows, [{ n: 0 }]);
        });
    });
});
