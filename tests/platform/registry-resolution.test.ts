/**
 * The one resolution of the registry that the program and the local runtime share: defaults applied
 * route, then service, then stack; every database service's migrations read and hashed. Asserted
 * over the fixture registry, and over whatever `infra/registry.ts` holds.
 */
import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { isContainerService } from "../../functions/runtime/container";
import { migrationSetHash, readMigrations } from "../../functions/runtime/data/migrations";
import type { AnyService, RouteDefinition } from "../../functions/runtime/service";
import { functionBoundsFor } from "../../platform/function-bounds";
import { listStacks } from "../../platform/config/stack-files";
import { RegistryError, resolveRegistry, servicesOf } from "../../platform/registry/resolution";
import * as registryModule from "../../infra/registry";
import { services } from "../../infra/services";
import { readLocalStackConfig } from "../../local/stack-config";
import { fixtureServices } from "../../testing/fixtures";

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

const routesOf = (definition: AnyService) => Object.entries(definition.routes as Record<string, RouteDefinition>);

describe("registry resolution", () => {
    describe("the real registry (infra/registry.ts, whatever it holds)", () => {
        it("lists one service per export of infra/registry.ts, in its order", () => {
            assert.deepEqual(services, Object.values(registryModule));
            assert.deepEqual(servicesOf(registryModule), services);
            assert.ok(services.length > 0);
        });

        for (const stack of listStacks()) {
            it(`resolves under the ${stack} stack's defaults and policy pack bounds: every route of every service, in registry order`, () => {
                // Prepare
                const defaults = readLocalStackConfig(stack).functionDefaults;
                // Act
                const resolved = resolveRegistry(services, defaults, { stack, bounds: functionBoundsFor(stack) });
                // Assess
                assert.deepEqual(
                    resolved.apiRoutes.map((route) => `${route.service} ${route.routeKey}`).sort(),
                    services.flatMap((s) => Object.keys(s.routes).map((key) => `${s.name} ${key}`)).sort(),
                );
                // Function services and container services apart, each in registry order.
                const functionServices = services.filter((s) => !isContainerService(s));
                assert.deepEqual(resolved.routes.map((route) => `${route.service} ${route.routeKey}`), functionServices.flatMap((s) => Object.keys(s.routes).map((key) => `${s.name} ${key}`)));
                assert.deepEqual(resolved.services.map((s) => [s.name, s.database, s.routes.length]), functionServices.map((s) => [s.name, s.database, Object.keys(s.routes).length]));
                assert.deepEqual(resolved.containers.map((s) => s.name), services.filter(isContainerService).map((s) => s.name));
            });
        }

        it("reads each database service's migrations from its folder and hashes the whole set", () => {
            // Act
            const registry = resolveRegistry(services, STACK_DEFAULTS);
            // Assess
            const expected = services.flatMap((s) => (s.database && s.migrationsDir ? readMigrations(s.name, s.migrationsDir) : []));
            assert.deepEqual(registry.migrations, expected);
            for (const resolved of [...registry.services, ...registry.containers]) assert.deepEqual(resolved.migrations, expected.filter((m) => m.service === resolved.name), resolved.name);
            assert.equal(registry.migrationSetHash, migrationSetHash(expected));
        });
    });

    describe("the fixture registry", () => {
        const [ping, notes] = fixtureServices;

        it("applies route settings over service settings over stack defaults", () => {
            // Act
            const { routes } = resolveRegistry(fixtureServices, STACK_DEFAULTS);
            // Assess: ping sets both on its route; notes sets memory on the service, and GET /notes both on the route.
            const expected = [ping, notes].flatMap((s) =>
                routesOf(s).map(([key, route]) => [key, route.memoryMb ?? s.memoryMb ?? STACK_DEFAULTS.memoryMb, route.timeoutSeconds ?? s.timeoutSeconds ?? STACK_DEFAULTS.timeoutSeconds]),
            );
            assert.deepEqual(routes.map((r) => [r.routeKey, r.memoryMb, r.timeoutSeconds]), expected);
            assert.deepEqual(routes.find((r) => r.routeKey === "GET /notes")!.memoryMb, 512);
            assert.deepEqual(routes.find((r) => r.routeKey === "POST /notes")!.memoryMb, 384);
            assert.deepEqual(routes.find((r) => r.routeKey === "POST /notes")!.timeoutSeconds, STACK_DEFAULTS.timeoutSeconds);
        });

        it("groups the routes by service, with each service's database flag, concurrency and migrations", () => {
            const { services: resolved } = resolveRegistry(fixtureServices, STACK_DEFAULTS);
            assert.deepEqual(
                resolved.map((s) => [s.name, s.database, s.reservedConcurrency, s.routes.length, s.migrations.length]),
                [["ping", false, undefined, 1, 0], ["notes", true, 10, 4, 1]],
            );
        });

        it("resolves auth, scopes and throttle onto the routes, public by default", () => {
            const { routes } = resolveRegistry(fixtureServices, STACK_DEFAULTS);
            assert.deepEqual(
                routes.map((r) => [r.routeKey, r.auth, r.scopes, r.throttle]),
                [
                    ["GET /ping", "none", [], undefined],
                    ["POST /notes", "jwt", [], { rateLimit: 20, burstLimit: 40 }],
                    ["GET /notes/{id}", "none", [], undefined],
                    ["GET /notes", "none", [], undefined],
                    ["DELETE /notes/{id}", "jwt", ["notes:delete"], undefined],
                ],
            );
        });
    });

    it("changes the hash when a migration is added", () => {
        const dir = migrationsFolder({ "0001_a.sql": "SELECT 1" });
        const before = resolveRegistry([service({ database: true, migrationsDir: dir })], STACK_DEFAULTS).migrationSetHash;
        fs.writeFileSync(path.join(dir, "0002_b.sql"), "SELECT 2");
        const after = resolveRegistry([service({ database: true, migrationsDir: dir })], STACK_DEFAULTS).migrationSetHash;
        assert.notEqual(after, before);
    });

    it("rejects a misnamed migration file or a missing folder as a registry problem, with the others, naming the service", () => {
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
            'service "orders": migration file "create.sql" must be named NNNN_name.sql (e.g. 0001_create_users.sql).',
            'service "billing": migrationsDir /nonexistent/migrations is not a folder; use path.join(__dirname, "migrations") with the folder beside the service file',
        ]);
    });
});
