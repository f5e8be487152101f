/**
 * Each database service's migration request (`serviceMigrationRequests`): what its own invocation
 * of the platform's migration function carries. Only that service's schema, roles, limits and SQL;
 * its hash moves when that service's migrations move and no other's; a request too large for one
 * synchronous invocation is a problem naming the service.
 */
import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { migrationSetHash, sha256, type Migration, type ServiceMigrationRequest } from "../../functions/runtime/data/migrations";
import { defineService } from "../../functions/runtime/service";
import { migrationPayloadBytes, migrationPayloadProblems, migrationRunRequest, serviceMigrationRequests } from "../../platform/data-plan";
import { resolveRegistry } from "../../platform/registry/resolution";
import { LAMBDA } from "../../policy/lib/limits";
import { echoContainer } from "../../testing/fixtures/registries";

const DEFAULTS = { memoryMb: 256, timeoutSeconds: 10 };
const CONNECTIONS_PER_FUNCTION = 2;

describe("a service's migration request", () => {
    let root: string;
    /** A database service whose migrations folder holds `files` (name -> SQL). */
    const service = (name: string, files: Record<string, string>, reservedConcurrency?: number) => {
        const dir = fs.mkdtempSync(path.join(root, `${name}-`));
        for (const [file, sql] of Object.entries(files)) fs.writeFileSync(path.join(dir, file), sql);
        return defineService({ name, description: name, database: true, migrationsDir: dir, ...(reservedConcurrency ? { reservedConcurrency } : {}), routes: { [`GET /${name}`]: { handler: async () => ({}) } } });
    };
    const requests = (...services: ReturnType<typeof service>[]) => serviceMigrationRequests(resolveRegistry(services, DEFAULTS), CONNECTIONS_PER_FUNCTION, "iam");
    const byName = (list: ServiceMigrationRequest[], name: string) => list.find((request) => request.service.service === name)!;

    before(() => {
        root = fs.mkdtempSync(path.join(os.tmpdir(), "migration-requests-"));
    });
    after(() => fs.rmSync(root, { recursive: true, force: true }));

    it("carries one database service's schema, roles, limits and its own migrations alone, in registry order, containers included", () => {
        // Prepare
        const accounts = service("accounts", { "0001_create_accounts.sql": "CREATE TABLE accounts (id int);" });
        const ledger = service("ledger", { "0001_create_entries.sql": "CREATE TABLE entries (id int);", "0002_add_amount.sql": "ALTER TABLE entries ADD amount int;" });
        const plain = defineService({ name: "plain", description: "x", database: false, routes: { "GET /plain": { handler: async () => ({}) } } });
        const echoDir = fs.mkdtempSync(path.join(root, "echo-"));
        fs.writeFileSync(path.join(echoDir, "0001_create_echoes.sql"), "CREATE TABLE echoes (id int);");
        const registry = resolveRegistry([accounts, plain, ledger, echoContainer({ database: true, migrationsDir: echoDir })], DEFAULTS, { stack: "dev" });
        // Act
        const built = serviceMigrationRequests(registry, CONNECTIONS_PER_FUNCTION, "iam");
        // Assess
        assert.deepEqual(built.map((request) => request.service.service), ["accounts", "ledger", "echo"]);
        const whole = migrationRunRequest(registry, CONNECTIONS_PER_FUNCTION, "iam");
        for (const request of built) {
            const own = registry.migrations.filter((migration) => migration.service === request.service.service);
            assert.deepEqual(request, { migrationSetHash: migrationSetHash(own), service: whole.services.find((data) => data.service === request.service.service), migrations: own, login: "iam" });
            const others = registry.migrations.filter((migration) => migration.service !== request.service.service);
            for (const other of others) assert.ok(!JSON.stringify(request).includes(other.sql), `${request.service.service} carries ${other.file}`);
        }
        assert.deepEqual(byName(built, "ledger").migrations.map((m) => m.name), ["create_entries", "add_amount"]);
    });

    it("changes a service's hash when its own migrations change and leaves every other service's request as it was", () => {
        // Prepare
        const accounts = service("accounts", { "0001_create_accounts.sql": "CREATE TABLE accounts (id int);" });
        const before = requests(accounts, service("ledger", { "0001_create_entries.sql": "CREATE TABLE entries (id int);" }));
        // Act: ledger gains a migration, then ledger's applied file is edited.
        const added = requests(accounts, service("ledger", { "0001_create_entries.sql": "CREATE TABLE entries (id int);", "0002_add_amount.sql": "ALTER TABLE entries ADD amount int;" }));
        const edited = requests(accounts, service("ledger", { "0001_create_entries.sql": "CREATE TABLE entries (id bigint);" }));
        // Assess
        for (const after of [added, edited]) {
            assert.deepEqual(byName(after, "accounts"), byName(before, "accounts"));
            assert.notEqual(byName(after, "ledger").migrationSetHash, byName(before, "ledger").migrationSetHash);
        }
        assert.notEqual(byName(added, "ledger").migrationSetHash, byName(edited, "ledger").migrationSetHash);
    });

    it("changes only that service's data when its connection ceiling changes", () => {
        // Prepare
        const accounts = service("accounts", { "0001_create_accounts.sql": "CREATE TABLE accounts (id int);" });
        const ledgerFiles = { "0001_create_entries.sql": "CREATE TABLE entries (id int);" };
        const before = requests(accounts, service("ledger", ledgerFiles));
        // Act
        const after = requests(accounts, service("ledger", ledgerFiles, 7));
        // Assess
        assert.deepEqual(byName(after, "accounts"), byName(before, "accounts"));
        assert.equal(byName(after, "ledger").migrationSetHash, byName(before, "ledger").migrationSetHash);
        assert.deepEqual([byName(before, "ledger").service.connectionLimit, byName(after, "ledger").service.connectionLimit], [CONNECTIONS_PER_FUNCTION, 7]);
    });

    it("refuses, naming the service and its largest file, a request over Lambda's synchronous payload limit (the worker's, credentials included), and accepts one at the limit", () => {
        // Prepare: a request whose one migration fills it to exactly the limit, and one a byte over.
        const sized = (name: string, padding: number): ServiceMigrationRequest => {
            const sql = `-- ${"x".repeat(padding)}`;
            const migration: Migration = { service: name, version: 1, name: "seed", file: `functions/${name}/migrations/0001_seed.sql`, sql, checksum: sha256(sql) };
            return { migrationSetHash: migrationSetHash([migration]), service: { service: name, schema: name, ownerRole: `${name}_owner`, loginRole: `${name}_app`, connectionLimit: 1, statementTimeoutMs: 1000 }, migrations: [migration], login: "iam" };
        };
        const overhead = (name: string) => migrationPayloadBytes(sized(name, 0));
        const atLimit = sized("fits", LAMBDA.payloadBytes - overhead("fits"));
        const overLimit = sized("bulky", LAMBDA.payloadBytes - overhead("bulky") + 1);
        // Act
        const problems = migrationPayloadProblems([atLimit, overLimit]);
        // Assess
        assert.equal(migrationPayloadBytes(atLimit), LAMBDA.payloadBytes);
        // The worker's event, the request with the master user's longest possible name and a long password around it, fits what was counted.
        const workerEvent = { request: atLimit, credentials: { username: "u".repeat(63), password: '"\\'.repeat(64) } };
        assert.ok(Buffer.byteLength(JSON.stringify(workerEvent), "utf8") <= LAMBDA.payloadBytes, "the worker's payload stays within the limit");
        assert.deepEqual(problems, [
            `service "bulky": its migrations make a ${LAMBDA.payloadBytes + 1}-byte migration payload, over the ${LAMBDA.payloadBytes} bytes (6 MB) Lambda accepts in one synchronous invocation ` +
                `(the largest is functions/bulky/migrations/0001_seed.sql, ${LAMBDA.payloadBytes - overhead("bulky") + 4} bytes); load bulk data at run time instead of in migrations.`,
        ]);
    });
});
