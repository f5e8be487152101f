/**
 * Every check of the registry, each with the registry it refuses: names, route keys, function
 * settings within Lambda's, the HTTP API's and the stack's policy pack bounds, access, migrations.
 */
import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { defineService, serviceFile, type AnyService, type ServiceRoutes } from "../../functions/runtime/service";
import { functionBoundsFor, PLATFORM_FUNCTION_BOUNDS, validateFunctionSettings, type FunctionBounds } from "../../platform/function-bounds";
import { routeId } from "../../platform/naming";
import { RegistryError, resolveRegistry } from "../../platform/registry/resolution";
import { validateRegistry, validateService } from "../../platform/registry/validation";
import { pathProblems, validateRoute, validateRouteAccess, validateRouteCount, validateRouteKey } from "../../platform/triggers/route";

const STACK_DEFAULTS = { memoryMb: 256, timeoutSeconds: 10 };
const ok = async () => ({ ok: true });

/** A valid service; each failing case changes one thing. */
function service(overrides: Partial<AnyService> = {}): AnyService {
    return { name: "orders", description: "Orders", database: false, routes: { "GET /orders": { handler: ok } }, ...overrides } as AnyService;
}

/** The problems a registry is rejected with (none when it is accepted). */
function problemsOf(registry: AnyService[], bounds: FunctionBounds = PLATFORM_FUNCTION_BOUNDS, defaults = STACK_DEFAULTS): string[] {
    try {
        resolveRegistry(registry, defaults, { bounds });
    } catch (error) {
        assert.ok(error instanceof RegistryError, `expected a RegistryError, got ${error}`);
        return error.problems;
    }
    return [];
}

describe("registry validation", () => {
    it("rejects an empty registry", () => {
        assert.match(problemsOf([])[0], /lists no services/);
    });

    it("rejects service names that are not lower-case DNS-safe", () => {
        for (const name of ["Orders", "orders_v2", "-orders", "orders-", "1orders", "a".repeat(33), ""]) {
            const problems = problemsOf([service({ name })]);
            assert.ok(problems.some((p) => /lower-case letters, digits and dashes/.test(p)), `${name}: ${problems}`);
        }
    });

    it("rejects a service whose schema would be PostgreSQL's, Aurora's or the platform's own, naming the schema and why", () => {
        // Prepare
        const names = ["public", "information-schema", "pg-stats", "platform", "aws-s3"];
        // Act
        const problems = names.map((name) => problemsOf([service({ name, database: true })]));
        // Assess
        assert.deepEqual(problems, [
            ['service "public": its data would live in schema "public", and "public" is PostgreSQL\'s own schema; choose another service name'],
            ['service "information-schema": its data would live in schema "information_schema", and "information_schema" is PostgreSQL\'s own schema; choose another service name'],
            ['service "pg-stats": its data would live in schema "pg_stats", and schema names starting with pg_ are reserved by PostgreSQL; choose another service name'],
            ['service "platform": its data would live in schema "platform", and "platform" is the platform\'s own schema; choose another service name'],
            ['service "aws-s3": its data would live in schema "aws_s3", and schema names starting with aws_ are where Aurora installs its extensions; choose another service name'],
        ]);
        assert.deepEqual(validateRegistry([service({ name: "pgstats" }), service({ name: "platforms", routes: { "GET /p": { handler: ok } } })]), []);
    });

    it("rejects two services with the same name", () => {
        const problems = problemsOf([service(), service({ routes: { "GET /other": { handler: ok } } })]);
        assert.deepEqual(problems, ['service "orders": another service has the same name; service names must be unique']);
    });

    it("rejects a service with no routes, subscriptions or schedules", () => {
        assert.deepEqual(problemsOf([service({ routes: {} })]), ['service "orders": has nothing to run; declare routes ("METHOD /path"), subscriptions or schedules']);
    });

    it("rejects a missing description and a non-boolean database flag", () => {
        const problems = problemsOf([service({ description: " ", database: "yes" as unknown as boolean })]);
        assert.equal(problems.length, 2);
        assert.match(problems[0], /service "orders": description is required/);
        assert.match(problems[1], /service "orders": database must be true or false/);
    });

    it("rejects the same route declared by two services, naming both", () => {
        const problems = problemsOf([service(), service({ name: "billing", routes: { "GET /orders": { handler: ok } } })]);
        assert.deepEqual(problems, ['service "billing", route "GET /orders": duplicates route "GET /orders" of service "orders"; every method and path may be declared once across the registry']);
    });

    it("rejects routes that differ only in a path parameter's name", () => {
        const problems = problemsOf([service({ routes: { "GET /orders/{id}": { handler: ok }, "GET /orders/{orderId}": { handler: ok } } })]);
        assert.equal(problems.length, 1);
        assert.match(problems[0], /route "GET \/orders\/\{orderId\}": duplicates route "GET \/orders\/\{id\}"/);
    });

    it("rejects malformed methods and route keys", () => {
        // Keys the type checker refuses too (a service file is type-checked); plain JavaScript gets them past it.
        const routes = { "FETCH /orders": { handler: ok }, "get /x": { handler: ok }, "GET  /y": { handler: ok }, "/z": { handler: ok } } as ServiceRoutes<false>;
        const problems = problemsOf([service({ routes })]);
        assert.match(problems[0], /route "FETCH \/orders": method "FETCH" is not allowed; use one of GET, POST, PUT, PATCH, DELETE, HEAD, OPTIONS, ANY/);
        assert.match(problems[1], /route "get \/x": method "get" is not allowed/);
        assert.match(problems[2], /route "GET  \/y": a route key is "METHOD \/path" with one space/);
        assert.match(problems[3], /route "\/z": a route key is "METHOD \/path"/);
    });

    it("rejects malformed paths", () => {
        assert.deepEqual(pathProblems("orders"), ["the path must start with /"]);
        assert.deepEqual(pathProblems("/orders/"), ["the path must not end with /"]);
        assert.deepEqual(pathProblems("/orders//x"), ["the path has an empty segment (//)"]);
        assert.deepEqual(pathProblems("/orders/{id"), ['segment "{id" is neither a literal (letters, digits, . _ ~ -) nor a parameter like {id}']);
        assert.deepEqual(pathProblems("/a/{id}/b/{id}"), ["path parameter {id} appears twice"]);
        assert.deepEqual(pathProblems("/files/{path+}/meta"), ["greedy parameter {path+} must be the last segment"]);
        assert.deepEqual(pathProblems("/orders/{id}/items/{proxy+}"), []);
        assert.deepEqual(pathProblems("/"), []);
        const problems = problemsOf([service({ routes: { "GET /orders/{id": { handler: ok } } })]);
        assert.match(problems[0], /^service "orders", route "GET \/orders\/\{id": segment "\{id" is neither/);
    });

    it("rejects memory outside 128-10240 MB or not an integer, on services and routes", () => {
        for (const memoryMb of [64, 127, 10241, 512.5]) {
            assert.deepEqual(problemsOf([service({ memoryMb })]), [`service "orders": memoryMb ${memoryMb} is not allowed; use an integer from 128 to 10240 (Lambda's limits)`]);
            assert.deepEqual(problemsOf([service({ routes: { "GET /orders": { handler: ok, memoryMb } } })]), [
                `service "orders", route "GET /orders": memoryMb ${memoryMb} is not allowed; use an integer from 128 to 10240 (Lambda's limits)`,
            ]);
        }
    });

    it("rejects timeouts outside 1-29 s, explaining the HTTP API's 30 s cut", () => {
        for (const timeoutSeconds of [0, 30, 60, 2.5]) {
            assert.deepEqual(problemsOf([service({ routes: { "GET /orders": { handler: ok, timeoutSeconds } } })]), [
                `service "orders", route "GET /orders": timeoutSeconds ${timeoutSeconds} is not allowed; use an integer from 1 to 29 (the HTTP API cuts requests at 30 s)`,
            ]);
        }
        assert.match(problemsOf([service({ timeoutSeconds: 30 })])[0], /^service "orders": timeoutSeconds 30 is not allowed/);
    });

    it("rejects a reserved concurrency that is not a positive integer", () => {
        assert.match(problemsOf([service({ reservedConcurrency: 0 })])[0], /reservedConcurrency 0 is not allowed; use an integer from 1 to 1000/);
    });

    it("rejects a route whose handler is not a function", () => {
        const problems = problemsOf([service({ routes: { "GET /orders": { handler: "nope" as never } } })]);
        assert.deepEqual(problems, ['service "orders", route "GET /orders": handler must be a function (request, context) => response']);
    });

    it("rejects migrations on a service without the database", () => {
        assert.match(problemsOf([service({ migrationsDir: "/tmp" })])[0], /migrationsDir is set but database is false/);
    });

    it("rejects a relative migrationsDir, which would be read from wherever the command runs, naming the service", () => {
        assert.deepEqual(problemsOf([service({ database: true, migrationsDir: "migrations" })]), [
            'service "orders": migrationsDir "migrations" must be an absolute path; use path.join(__dirname, "migrations")',
        ]);
        assert.match(problemsOf([service({ database: true, migrationsDir: 42 as unknown as string })])[0], /^service "orders": migrationsDir 42 must be an absolute path/);
    });

    it("rejects two routes of a service whose resource names would clash", () => {
        const problems = problemsOf([service({ routes: { "GET /a-b": { handler: ok }, "GET /a/b": { handler: ok } } })]);
        assert.deepEqual(problems, ['service "orders", route "GET /a/b": its resource name "get-a-b" clashes with route "GET /a-b"; rename one path']);
    });

    it("rejects more routes than an HTTP API holds", () => {
        const routes = Object.fromEntries(Array.from({ length: 301 }, (_, i) => [`GET /r${i}`, { handler: ok }]));
        assert.deepEqual(problemsOf([service({ routes })]), ["the registry declares 301 routes; an HTTP API holds at most 300"]);
    });

    it("lists every problem at once in the error message", () => {
        let error: unknown;
        try {
            resolveRegistry([service({ name: "Bad", memoryMb: 1 })], STACK_DEFAULTS);
        } catch (caught) {
            error = caught;
        }
        assert.ok(error instanceof RegistryError);
        assert.match(error.message, /^The service registry \(infra\/registry\.ts\) is invalid:\n  - service "Bad": the name must be/);
        assert.match(error.message, /\n  - service "Bad": memoryMb 1 is not allowed/);
    });

    it("names the file a service was declared in with defineService, from the repository root", () => {
        // Prepare: declared here, in this test file.
        const declared = defineService({ name: "orders", description: "Orders", database: false, memoryMb: 1, routes: { "GET /orders": { handler: ok } } });
        // Act
        const problems = problemsOf([declared]);
        // Assess
        assert.equal(serviceFile(declared), __filename);
        assert.deepEqual(problems, [`service "orders" (tests/platform/registry-validation.test.ts): memoryMb 1 is not allowed; use an integer from 128 to 10240 (Lambda's limits)`]);
    });

    describe("a stack's policy pack bounds (policy/config.<stack>.json)", () => {
        it("narrows memory to what the stack's pack allows, naming the field, the rule and the pack config file", () => {
            // Prepare: 4096 MB passes Lambda's limits, not the dev pack's 3008.
            const bounds = functionBoundsFor("dev");
            const registry = [defineService({ name: "orders", description: "Orders", database: false, memoryMb: 4096, routes: { "GET /orders": { handler: ok, memoryMb: 3008 } } })];
            // Act
            const problems = problemsOf(registry, bounds);
            // Assess
            assert.deepEqual(problems, [
                `service "orders" (tests/platform/registry-validation.test.ts): memoryMb 4096 is not allowed; use an integer from 128 to 3008 (the dev stack's policy pack: lambda-memory-bounds in policy/config.dev.json; Lambda allows 128-10240)`,
            ]);
            assert.deepEqual(problemsOf([service({ memoryMb: 4096 })], PLATFORM_FUNCTION_BOUNDS), []);
        });

        it("takes each stack's own config: its knobs, and only while the rule is mandatory", () => {
            // Prepare
            const root = fs.mkdtempSync(path.join(os.tmpdir(), "pack-bounds-"));
            fs.mkdirSync(path.join(root, "policy"));
            const write = (stack: string, config: object) => fs.writeFileSync(path.join(root, "policy", `config.${stack}.json`), JSON.stringify(config));
            write("big", { all: "mandatory", "lambda-memory-bounds": { maxMb: 10240 }, "lambda-timeout-bounds": { minSeconds: 2, maxSeconds: 60 } });
            write("lax", { all: "mandatory", "lambda-memory-bounds": "advisory" });
            write("small", { "lambda-memory-bounds": { maxMb: 1024 } });
            // Act
            const big = functionBoundsFor("big", root);
            const lax = functionBoundsFor("lax", root);
            const small = functionBoundsFor("small", root);
            const missing = functionBoundsFor("nofile", root);
            // Assess: the platform's limits still hold (a 60 s timeout is still cut by the HTTP API).
            assert.deepEqual([big.memoryMb.max, big.timeoutSeconds.min, big.timeoutSeconds.max], [10240, 2, 29]);
            assert.equal(lax.memoryMb.max, 10240);
            assert.deepEqual([small.memoryMb.max, small.memoryMb.reason], [1024, "the small stack's policy pack: lambda-memory-bounds in policy/config.small.json; Lambda allows 128-10240"]);
            assert.equal(missing.memoryMb.max, 3008, "without a pack config, the pack's defaults");
            fs.rmSync(root, { recursive: true, force: true });
        });

        it("refuses a stack default outside the bounds for the routes that take it, and only for those", () => {
            // Prepare: one route sets its memory, the other takes the stack's 4096.
            const registry = [service({ routes: { "GET /orders": { handler: ok }, "GET /orders/{id}": { handler: ok, memoryMb: 1024 } } })];
            // Act
            const problems = problemsOf(registry, functionBoundsFor("dev"), { memoryMb: 4096, timeoutSeconds: 10 });
            // Assess
            assert.deepEqual(problems, [
                "the stack's functionDefaults.memoryMb 4096 is not allowed for routes GET /orders, which set none; use an integer from 128 to 3008 (the dev stack's policy pack: lambda-memory-bounds in policy/config.dev.json; Lambda allows 128-10240), or set memoryMb in their service files",
            ]);
            assert.deepEqual(problemsOf([service({ memoryMb: 512 })], functionBoundsFor("dev"), { memoryMb: 4096, timeoutSeconds: 10 }), []);
        });
    });

    describe("the named validators, one part of the registry each", () => {
        it("validateService: name, description, database flag, function settings, concurrency, migrations", () => {
            // Prepare
            const where = 'service "x"';
            // Act and assess
            assert.deepEqual(validateService(service(), where), []);
            assert.deepEqual(validateService(service({ name: "X", description: "", database: true, reservedConcurrency: 0 }), where), [
                `${where}: the name must be lower-case letters, digits and dashes, start with a letter, and have at most 32 characters`,
                `${where}: description is required (one line saying what the service does)`,
                `${where}: reservedConcurrency 0 is not allowed; use an integer from 1 to 1000 or leave it out`,
            ]);
        });

        it("validateRouteKey: a known method and a well-formed path", () => {
            assert.deepEqual(validateRouteKey("GET", "/orders/{id}", "r"), []);
            assert.deepEqual(validateRouteKey("FETCH", "/orders/", "r"), ['r: method "FETCH" is not allowed; use one of GET, POST, PUT, PATCH, DELETE, HEAD, OPTIONS, ANY', "r: the path must not end with /"]);
        });

        it("validateFunctionSettings: memory within Lambda's limits, a timeout under the HTTP API's", () => {
            assert.deepEqual(validateFunctionSettings({ memoryMb: 10240, timeoutSeconds: 29 }, "r"), []);
            assert.deepEqual(validateFunctionSettings({}, "r"), []);
            assert.deepEqual(validateFunctionSettings({ memoryMb: 10241, timeoutSeconds: 30 }, "r"), [
                "r: memoryMb 10241 is not allowed; use an integer from 128 to 10240 (Lambda's limits)",
                "r: timeoutSeconds 30 is not allowed; use an integer from 1 to 29 (the HTTP API cuts requests at 30 s)",
            ]);
        });

        it("validateRouteAccess and validateRoute: auth, scopes, throttle and a handler", () => {
            assert.deepEqual(validateRouteAccess({ auth: "jwt", scopes: ["a:b"], throttle: { rateLimit: 0, burstLimit: 0 } }, "r"), []);
            assert.deepEqual(validateRouteAccess({ throttle: { rateLimit: 10001, burstLimit: 5001 } }, "r"), [
                "r: throttle.rateLimit 10001 is not allowed; use requests per second from 0 to 10000",
                "r: throttle.burstLimit 5001 is not allowed; use an integer from 0 to 5000",
            ]);
            assert.deepEqual(validateRoute({ handler: undefined as never, auth: "jwt" }, "r"), ["r: handler must be a function (request, context) => response"]);
        });

        it("validateRouteCount: at most the routes one HTTP API holds", () => {
            assert.deepEqual(validateRouteCount(300), []);
            assert.deepEqual(validateRouteCount(301), ["the registry declares 301 routes; an HTTP API holds at most 300"]);
        });

        it("validateRegistry: all of them, and what only the whole registry can tell", () => {
            assert.deepEqual(validateRegistry([service()]), []);
            assert.deepEqual(validateRegistry([service(), service()]), [
                'service "orders": another service has the same name; service names must be unique',
                'service "orders", route "GET /orders": duplicates route "GET /orders" of service "orders"; every method and path may be declared once across the registry',
            ]);
        });
    });

    it("derives resource-safe route ids", () => {
        assert.equal(routeId("GET", "/users/{id}"), "get-users-id");
        assert.equal(routeId("GET", "/"), "get-root");
        assert.equal(routeId("ANY", "/files/{proxy+}"), "any-files-proxy");
    });
});
