/**
 * The one resolution of the registry that the program and the local runtime share: defaults applied
 * route, then service, then stack; every database service's migrations read and hashed.
 */
import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { migrationSetHash, readMigrations } from "../../functions/runtime/migrations";
import type { AnyService } from "../../functions/runtime/service";
import { RegistryError, resolveRegistry } from "../../infra/registry-resolution";
import { services } from "../../infra/registry";

const STACK_DEFAULTS = { memoryMb: 256, timeoutSeconds: 10 };
const ok = async () => ({ ok: true });

function service(overrides: Partial<AnyService> = {}): AnyService {
    return { name: "orders", description: "Orders", database: false, routes: { "GET /orders": { handler: ok } }, ...overrides } as AnyService;
}

function migrationsFolder(files: Record<string, string>): string {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "migrations-"));
    for (const [name, sql] of Object.entries(files)) fs.writeFileSync(path.join(dir, name), sql);
    return dir;
}

describe("registry resolution", () => {
    it("accepts the real registry and resolves its six routes", () => {
        const { routes } = resolveRegistry(services, STACK_DEFAULTS);
        assert.deepEqual(
            routes.map((route) => `${route.service} ${route.routeKey}`),
            ["auth POST /auth", "users POST /users", "users GET /users/{id}", "users GET /users", "users PATCH /users/{id}", "users DELETE /users/{id}"],
        );
    });

    it("applies route settings over service settings over stack defaults", () => {
        // Prepare
        const registry = [
            service({ memoryMb: 512, routes: { "GET /a": { handler: ok }, "GET /b": { handler: ok, memoryMb: 1024, timeoutSeconds: 20 } } }),
            service({ name: "plain", routes: { "GET /c": { handler: ok } } }),
        ];
        // Act
        const { routes } = resolveRegistry(registry, STACK_DEFAULTS);
        // Assess
        assert.deepEqual(
            routes.map((r) => [r.routeKey, r.memoryMb, r.timeoutSeconds]),
            [["GET /a", 512, 10], ["GET /b", 1024, 20], ["GET /c", 256, 10]],
        );
    });

    it("groups the routes by service, with each service's database flag and concurrency", () => {
        const { services: resolved } = resolveRegistry(services, STACK_DEFAULTS);
        assert.deepEqual(
            resolved.map((s) => [s.name, s.database, s.reservedConcurrency, s.routes.length]),
            [["auth", false, undefined, 1], ["users", true, 10, 5]],
        );
    });

    it("reads the migrations of database services and hashes the whole set", () => {
        // Prepare
        const users = services.find((s) => s.name === "users")!;
        // Act
        const registry = resolveRegistry(services, STACK_DEFAULTS);
        // Assess
        const expected = readMigrations("users", users.migrationsDir!);
        assert.deepEqual(registry.migrations, expected);
        assert.deepEqual(registry.services.find((s) => s.name === "users")!.migrations, expected);
        assert.deepEqual(registry.services.find((s) => s.name === "auth")!.migrations, []);
        assert.equal(registry.migrationSetHash, migrationSetHash(expected));
        assert.match(registry.migrationSetHash, /^[0-9a-f]{64}$/);
    });

    it("changes the hash when a migration is added", () => {
        const dir = migrationsFolder({ "0001_a.sql": "SELECT 1" });
        const before = resolveRegistry([service({ database: true, migrationsDir: dir })], STACK_DEFAULTS).migrationSetHash;
        fs.writeFileSync(path.join(dir, "0002_b.sql"), "SELECT 2");
        const after = resolveRegistry([service({ database: true, migrationsDir: dir })], STACK_DEFAULTS).migrationSetHash;
        assert.notEqual(after, before);
    });

    it("rejects a misnamed migration file or a missing folder as a registry problem, with the others", () => {
        // Prepare
        const misnamed = migrationsFolder({ "create.sql": "SELECT 1" });
        const registry = [service({ database: true, migrationsDir: misnamed }), service({ name: "billing", database: true, migrationsDir: "/nonexistent/migrations", routes: { "GET /billing": { handler: ok } } })];
        // Act
        let error: unknown;
        try {
            resolveRegistry(registry, STACK_DEFAULTS);
        } catch (caught) {
            error = caught;
        }
        // Assess
        assert.ok(error instanceof RegistryError, `expected a RegistryError, got ${error}`);
        assert.deepEqual(error.problems, [
            'Service "orders": migration file "create.sql" must be named NNNN_name.sql (e.g. 0001_create_users.sql).',
            'service "billing": migrationsDir /nonexistent/migrations is not a folder',
        ]);
    });
});
