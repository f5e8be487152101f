/**
 * Each service owns its data, on a real PostgreSQL: a service's functions (signed in as its login
 * role) and its migrations (run as its owner role) reach only its own schema, and its connection
 * limit is its own. Two fixture services, `accounts` and `catalog` (testing/data-services.ts).
 */
import * as assert from "node:assert/strict";
import * as http from "node:http";
import * as pg from "pg";
import { createDatabase, type Database } from "../../functions/runtime/data/database";
import { createRouteHandler } from "../../functions/runtime/handler";
import { createLogger } from "../../functions/runtime/logger";
import { applyMigrations, readMigrations, sha256, type Migration } from "../../functions/runtime/data/migrations";
import { migrationRunRequest, serviceMigrationRequests } from "../../platform/data-plan";
import { resolveRegistry } from "../../platform/registry/resolution";
import { createLocalServer } from "../../local/server";
import { accounts, catalog } from "../../testing/data-services";
import { httpApiEvent } from "../../testing/events";
import { createRdsLikeDatabase } from "../../testing/postgres";
import { usePostgres } from "../support/postgres";

const STACK_DEFAULTS = { memoryMb: 256, timeoutSeconds: 10 };
const CONNECTIONS_PER_FUNCTION = 10;
const registry = resolveRegistry([accounts, catalog], STACK_DEFAULTS);

/** Rejects with PostgreSQL's error; the assertion reads its SQLSTATE and message. */
async function sqlError(work: Promise<unknown>): Promise<{ code: string; message: string }> {
    try {
        await work;
    } catch (error) {
        return { code: String((error as { code?: string }).code), message: (error as Error).message };
    }
    throw new Error("the statement succeeded");
}

describe("data isolation between services (real PostgreSQL)", function () {
    this.timeout(60_000);
    const postgres = usePostgres({ services: [accounts, catalog] });
    const silent = createLogger({ write: () => undefined });
    const opened: Database[] = [];
    after(() => Promise.all(opened.map((db) => db.end())));

    /** A new Lambda container of a route: its own connection, signed in as its service's role. */
    const container = (service: typeof accounts | typeof catalog, routeKey: string) => {
        const invoke = createRouteHandler(service.routes[routeKey as keyof typeof service.routes]!.handler as never, {
            service: service.name,
            routeKey,
            logger: silent,
            openDatabase: () => {
                const db = createDatabase({ connectionString: postgres().serviceUrl(service.name), connectRetryWindowMs: 2_000 });
                opened.push(db);
                return db;
            },
        });
        return async (options: Parameters<typeof httpApiEvent>[0]) => {
            const started = Date.now();
            const response = await invoke(httpApiEvent(options), { awsRequestId: "isolation", getRemainingTimeInMillis: () => Math.max(0, started + 10_000 - Date.now()) });
            return { status: response.statusCode ?? 200, body: response.body ? JSON.parse(response.body) : undefined, headers: response.headers ?? {}, ms: Date.now() - started };
        };
    };

    describe("a service's functions", () => {
        it("get permission denied for a query on another service's table, and do not find it unqualified", async () => {
            // Prepare
            const db = postgres().serviceDb("accounts");
            // Act
            const qualified = await sqlError(db.query("SELECT title FROM catalog.items"));
            const unqualified = await sqlError(db.query("SELECT title FROM items"));
            const write = await sqlError(db.query("UPDATE catalog.items SET title = 'mine'"));
            // Assess
            assert.deepEqual(qualified, { code: "42501", message: "permission denied for schema catalog" });
            assert.deepEqual(unqualified, { code: "42P01", message: 'relation "items" does not exist' });
            assert.deepEqual(write, { code: "42501", message: "permission denied for schema catalog" });
            assert.deepEqual(await postgres().sql("SELECT title FROM catalog.items ORDER BY id"), [{ title: "teapot" }, { title: "kettle" }]);
        });

        it("read and write their own tables by unqualified names: their schema is their search_path", async () => {
            // Prepare
            const db = postgres().serviceDb("catalog");
            // Act
            const inserted = await db.query<{ id: number }>("INSERT INTO items (title) VALUES ('mug') RETURNING id");
            const removed = await db.query("DELETE FROM items WHERE id = $1", [inserted.rows[0].id]);
            // Assess
            assert.equal(removed.rowCount, 1);
            assert.deepEqual((await db.query("SHOW search_path")).rows, [{ search_path: "catalog" }]);
        });

        it("get permission denied for DDL in their own schema: no CREATE, ALTER, DROP or TRUNCATE", async () => {
            // Prepare
            const db = postgres().serviceDb("accounts");
            // Act
            const create = await sqlError(db.query("CREATE TABLE notes (id int)"));
            const alter = await sqlError(db.query("ALTER TABLE accounts ADD COLUMN note text"));
            const drop = await sqlError(db.query("DROP TABLE accounts"));
            const truncate = await sqlError(db.query("TRUNCATE accounts"));
            const index = await sqlError(db.query("CREATE INDEX accounts_holder ON accounts (holder)"));
            // Assess
            assert.deepEqual(create, { code: "42501", message: "permission denied for schema accounts" });
            assert.deepEqual(alter, { code: "42501", message: "must be owner of table accounts" });
            assert.deepEqual(drop, { code: "42501", message: "must be owner of table accounts" });
            assert.deepEqual(truncate, { code: "42501", message: "permission denied for table accounts" });
            assert.deepEqual(index, { code: "42501", message: "must be owner of table accounts" });
        });

        it("cannot become the owner role, nor read the platform's schema", async () => {
            // Prepare
            const db = postgres().serviceDb("accounts");
            // Act
            const becomeOwner = await sqlError(db.query("SET ROLE accounts_owner"));
            const platform = await sqlError(db.query("SELECT * FROM platform.schema_migrations"));
            // Assess
            assert.deepEqual(becomeOwner, { code: "42501", message: 'permission denied to set role "accounts_owner"' });
            assert.deepEqual(platform, { code: "42501", message: "permission denied for schema platform" });
        });
    });

    describe("the roles the platform keeps", () => {
        it("give each login role its connection limit, statement timeout and search path, and keep the owner role from signing in", async () => {
            // Prepare
            const names = ["accounts_app", "accounts_owner", "catalog_app", "catalog_owner"];
            // Act
            const roles = await postgres().sql("SELECT rolname, rolcanlogin, rolconnlimit, rolsuper, rolcreaterole, rolcreatedb, rolconfig FROM pg_roles WHERE rolname = ANY($1) ORDER BY 1", [names]);
            // Assess: accounts reserves one container per function and has two database functions.
            assert.deepEqual(roles, [
                { rolname: "accounts_app", rolcanlogin: true, rolconnlimit: 2, rolsuper: false, rolcreaterole: false, rolcreatedb: false, rolconfig: ["search_path=accounts", "statement_timeout=9000"] },
                { rolname: "accounts_owner", rolcanlogin: false, rolconnlimit: -1, rolsuper: false, rolcreaterole: false, rolcreatedb: false, rolconfig: null },
                { rolname: "catalog_app", rolcanlogin: true, rolconnlimit: 10, rolsuper: false, rolcreaterole: false, rolcreatedb: false, rolconfig: ["search_path=catalog", "statement_timeout=9000"] },
                { rolname: "catalog_owner", rolcanlogin: false, rolconnlimit: -1, rolsuper: false, rolcreaterole: false, rolcreatedb: false, rolconfig: null },
            ]);
        });

        it("give the login role DML on the tables and USAGE, SELECT on the sequences its migrations create, nothing more", async () => {
            // Prepare
            const privileges = (table: string) =>
                postgres().sql<{ privilege_type: string }>("SELECT privilege_type FROM information_schema.role_table_grants WHERE grantee = 'accounts_app' AND table_name = $1 ORDER BY 1", [table]);
            // Act
            const table = await privileges("accounts");
            const [sequence] = await postgres().sql<{ usage: boolean; select: boolean; update: boolean }>(
                "SELECT has_sequence_privilege('accounts_app', 'accounts.accounts_id_seq', 'USAGE') AS usage, has_sequence_privilege('accounts_app', 'accounts.accounts_id_seq', 'SELECT') AS select, has_sequence_privilege('accounts_app', 'accounts.accounts_id_seq', 'UPDATE') AS update",
            );
            // Assess
            assert.deepEqual(table.map((p) => p.privilege_type), ["DELETE", "INSERT", "SELECT", "UPDATE"]);
            assert.deepEqual(sequence, { usage: true, select: true, update: false });
        });

        it("bring a changed connection limit to the role on the next run, changing nothing else", async () => {
            // Prepare
            const lowered = migrationRunRequest(registry, CONNECTIONS_PER_FUNCTION, "password");
            lowered.services = lowered.services.map((service) => (service.service === "catalog" ? { ...service, connectionLimit: 4 } : service));
            try {
                // Act
                const result = await applyMigrations(postgres().db, lowered, registry.migrations, { passwordOf: postgres().login.passwordOf });
                // Assess
                assert.deepEqual(result, { applied: [], alreadyApplied: 2 });
                assert.deepEqual(await postgres().sql("SELECT rolconnlimit FROM pg_roles WHERE rolname = 'catalog_app'"), [{ rolconnlimit: 4 }]);
                assert.deepEqual(await postgres().sql("SELECT count(*)::int AS n FROM catalog.items"), [{ n: 2 }]);
            } finally {
                await applyMigrations(postgres().db, migrationRunRequest(registry, CONNECTIONS_PER_FUNCTION, "password"), registry.migrations, { passwordOf: postgres().login.passwordOf });
            }
        });
    });

    describe("a service's migrations", () => {
        const pending = (sql: string): Migration => ({ service: "accounts", version: 2, name: "reach_out", file: "functions/accounts/migrations/0002_reach_out.sql", sql, checksum: sha256(sql) });
        const attempt = (sql: string) =>
            applyMigrations(postgres().db, migrationRunRequest(registry, CONNECTIONS_PER_FUNCTION, "password"), [...registry.migrations, pending(sql)], { passwordOf: postgres().login.passwordOf });
        /** As the cloud runs it: the accounts service's own request, which names no other service. */
        const attemptAlone = (sql: string) => {
            const own = serviceMigrationRequests(registry, CONNECTIONS_PER_FUNCTION, "password").find((request) => request.service.service === "accounts")!;
            return applyMigrations(postgres().db, { migrationSetHash: own.migrationSetHash, services: [own.service], login: "password" }, [...own.migrations, pending(sql)], { passwordOf: postgres().login.passwordOf });
        };
        const sharing = /Services share data through the owning service's API or its events, keeping the other service's ids as plain columns: never a foreign key, a view or a query across schemas\. Nothing of this run was applied\.$/;

        const reaches: Array<[string, string, RegExp]> = [
            ["a foreign key to the other service's table", "ALTER TABLE accounts\n    ADD FOREIGN KEY (favourite_item) REFERENCES catalog.items (id);", /:2:49 of service "accounts" \(version 2\) failed: it touches schema catalog, which belongs to service "catalog" \(permission denied for schema catalog; SQLSTATE 42501\)/],
            ["a read of the other service's table by its unqualified name", "INSERT INTO accounts (holder)\nSELECT title FROM items;", /:2:19 of service "accounts" \(version 2\) failed: it touches catalog\.items, which belongs to service "catalog" \(relation "items" does not exist; SQLSTATE 42P01\)/],
            ["a drop of the other service's table", "DROP TABLE catalog.items;", /:1:12 of service "accounts" \(version 2\) failed: it touches schema catalog, which belongs to service "catalog" \(permission denied for schema catalog; SQLSTATE 42501\)/],
            ["a view over the other service's table", "CREATE VIEW titles AS\n  SELECT title FROM catalog.items;", /:2:21 of service "accounts" \(version 2\) failed: it touches schema catalog, which belongs to service "catalog"/],
        ];
        for (const [what, sql, where] of reaches) for (const [run, migrate] of [["in a run of every service (local)", attempt], ["in the service's own run (the cloud's, which knows the other service by its records)", attemptAlone]] as const) {
            it(`fail on ${what} ${run}, naming both services, the file and where, and how services share data`, async () => {
                // Prepare
                const before = await postgres().sql("SELECT count(*)::int AS n FROM catalog.items");
                // Act
                const failed = migrate(sql);
                // Assess
                await assert.rejects(failed, (error: Error) => {
                    assert.match(error.message, /^Migration functions\/accounts\/migrations\/0002_reach_out\.sql:\d+:\d+ of service "accounts" \(version 2\) failed/);
                    assert.match(error.message, where);
                    assert.match(error.message, /A service's migrations reach only its own schema "accounts"\./);
                    assert.match(error.message, sharing);
                    return true;
                });
                assert.deepEqual(await postgres().sql("SELECT count(*)::int AS n FROM catalog.items"), before);
                assert.deepEqual(await postgres().sql("SELECT version FROM platform.schema_migrations WHERE service = 'accounts'"), [{ version: 1 }]);
            });
        }

        it("fail on the platform's own schema, saying whose it is", async () => {
            // Prepare
            const sql = "DELETE FROM platform.schema_migrations;";
            // Act
            const failed = attempt(sql);
            // Assess
            await assert.rejects(failed, /it touches schema platform, which belongs to the platform's own schema/);
        });

        it("fail plainly on their own mistakes, blaming no other service", async () => {
            // Prepare
            const sql = "ALTER TABLE accounts ADD COLUMN opened_at timestamptz;\nUPDATE accounts SET opened_at = now() WHERE holder IN (SELECT holder FROM archive);";
            // Act
            const failed = attempt(sql);
            // Assess
            await assert.rejects(failed, /^Error: Migration functions\/accounts\/migrations\/0002_reach_out\.sql:2:75 of service "accounts" \(version 2\) failed: relation "archive" does not exist \(SQLSTATE 42P01\)\. Nothing of this run was applied\.$/);
        });
    });

    describe("connection limits", () => {
        const sessionsOf = async (role: string) => (await postgres().sql<{ n: number }>("SELECT count(*)::int AS n FROM pg_stat_activity WHERE usename = $1", [role]))[0].n;
        /** Waits until the server has ended all but `left` sessions of `role` (a closed client's backend exits a moment later). */
        const settle = async (role: string, left: number) => {
            while ((await sessionsOf(role)) > left) await new Promise((resolve) => setTimeout(resolve, 20));
        };

        it("give a service at its limit clean 503s at once while the other service keeps answering, and serve it again once a connection frees", async () => {
            // Prepare: the earlier tests' session closed; two warm containers of accounts hold its two connections.
            await postgres().serviceDb("accounts").end();
            await settle("accounts_app", 0);
            const first = container(accounts, "GET /accounts/{id}");
            const second = container(accounts, "POST /accounts");
            const created = await second({ routeKey: "POST /accounts", body: JSON.stringify({ holder: "ada" }), headers: { "content-type": "application/json" } });
            assert.equal(created.status, 201, JSON.stringify(created.body));
            const read = (invoke: typeof first) => invoke({ routeKey: "GET /accounts/{id}", path: `/accounts/${created.body.id}`, pathParameters: { id: String(created.body.id) } });
            assert.equal((await read(first)).status, 200);

            // Act: a third container (Lambda scaling out) and another service at the same moment.
            const third = container(accounts, "GET /accounts/{id}");
            const [refused, items] = await Promise.all([read(third), container(catalog, "GET /items")({ routeKey: "GET /items" })]);

            // Assess
            assert.equal(refused.status, 503, JSON.stringify(refused.body));
            assert.equal(refused.body.error.code, "database_unavailable");
            assert.equal(refused.headers["retry-after"], "1");
            assert.ok(refused.ms < 1_000, `the 503 took ${refused.ms} ms: a full role is not retried`);
            assert.equal(items.status, 200, JSON.stringify(items.body));
            assert.deepEqual(items.body.items.map((item: { title: string }) => item.title), ["teapot", "kettle"]);

            // Once a container goes away (its session ended on the server), the next one signs in.
            await opened[0].end();
            await settle("accounts_app", 1);
            const again = await read(container(accounts, "GET /accounts/{id}"));
            assert.equal(again.status, 200, JSON.stringify(again.body));
        });

        it("keep the local server within the role's limit: it runs no more containers per function than the limit counts", async () => {
            // Prepare: no session of catalog's left from the earlier tests; the server's containers are all it has.
            await Promise.all([postgres().serviceDb("catalog").end(), ...opened.map((db) => db.end())]);
            await settle("catalog_app", 0);
            const server = createLocalServer({ routes: registry.routes, serviceDatabaseUrl: postgres().serviceUrl, connectionsPerFunction: CONNECTIONS_PER_FUNCTION, throttling: false, writeLog: () => undefined });
            const base = await server.listen(0);
            const get = () =>
                new Promise<number>((resolve, reject) => {
                    http.get(`${base}/items`, (response) => {
                        response.resume();
                        response.on("end", () => resolve(response.statusCode ?? 0));
                    }).on("error", reject);
                });
            const peak = { catalog: 0 };
            const sampler = new pg.Client({ connectionString: postgres().server.url });
            await sampler.connect();
            try {
                // Act: forty requests at once on a function whose local ceiling is ten.
                let sampling = true;
                const sampling$ = (async () => {
                    while (sampling) {
                        const { rows } = await sampler.query("SELECT count(*)::int AS n FROM pg_stat_activity WHERE usename = 'catalog_app'");
                        peak.catalog = Math.max(peak.catalog, rows[0].n);
                        await new Promise((resolve) => setTimeout(resolve, 5));
                    }
                })();
                const statuses = await Promise.all(Array.from({ length: 40 }, get));
                sampling = false;
                await sampling$;
                // Assess
                assert.deepEqual([...new Set(statuses)], [200]);
                assert.ok(peak.catalog >= 1 && peak.catalog <= 10, `catalog_app held ${peak.catalog} connections; its limit is 10`);
            } finally {
                await sampler.end();
                await server.close();
            }
        });
    });

    describe("on a database whose administrator is RDS's kind of master user (CREATEROLE, not a superuser)", () => {
        // A server of its own: roles are server-wide, and the superuser made this file's already.
        const rdsLike = usePostgres();
        it("creates the schemas and roles, grants rds_iam to the login roles, applies the migrations as the owners, and does it again idempotently", async () => {
            // Prepare
            const url = await createRdsLikeDatabase(rdsLike().server.url, "rds_like_isolation");
            const db = createDatabase({ connectionString: url });
            const request = migrationRunRequest(registry, CONNECTIONS_PER_FUNCTION, "iam");
            try {
                // Act
                const first = await applyMigrations(db, request, registry.migrations);
                const second = await applyMigrations(db, request, registry.migrations);
                // Assess
                assert.deepEqual(first, { applied: ["accounts/1_create_accounts", "catalog/1_create_items"], alreadyApplied: 0 });
                assert.deepEqual(second, { applied: [], alreadyApplied: 2 });
                const [admin] = (await db.query<{ rolsuper: boolean }>("SELECT rolsuper FROM pg_roles WHERE rolname = current_user")).rows;
                assert.equal(admin.rolsuper, false);
                const members = await db.query("SELECT u.rolname AS role FROM pg_auth_members m JOIN pg_roles r ON r.oid = m.roleid JOIN pg_roles u ON u.oid = m.member WHERE r.rolname = 'rds_iam' AND u.rolname LIKE '%_app' ORDER BY 1");
                assert.deepEqual(members.rows, [{ role: "accounts_app" }, { role: "catalog_app" }]);
                const owners = await db.query("SELECT schemaname, tableowner FROM pg_tables WHERE schemaname IN ('accounts', 'catalog') AND tablename NOT LIKE 'platform\\_%' ORDER BY 1");
                assert.deepEqual(owners.rows, [{ schemaname: "accounts", tableowner: "accounts_owner" }, { schemaname: "catalog", tableowner: "catalog_owner" }]);
            } finally {
                await db.end();
            }
        });
    });

    it("reads the fixture services' own migration folders", () => {
        // Prepare, Act
        const files = [...readMigrations("accounts", accounts.migrationsDir!), ...readMigrations("catalog", catalog.migrationsDir!)].map((m) => m.file);
        // Assess
        assert.deepEqual(files, ["testing/data-services/accounts/migrations/0001_create_accounts.sql", "testing/data-services/catalog/migrations/0001_create_items.sql"]);
    });
});
