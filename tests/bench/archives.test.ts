/**
 * What `npm run bench` sends each function and how it judges the answer, for any registry: a
 * request derived from the route's key (so a new service is measured, not skipped), and a 5xx or
 * a non-response refused with the route's name (so a failure is never measured as a figure).
 */
import * as assert from "node:assert/strict";
import { checkedStatus, eventFor, type RunnableArchive } from "../../bench/lib/archives";
import { createRouteHandler } from "../../functions/runtime/handler";
import { createLogger } from "../../functions/runtime/logger";
import { resolveRegistry } from "../../platform/registry/resolution";
import { fixtureServices } from "../../testing/fixtures";
import { routeEvent } from "../../testing/events";

const archive = (name: string, routeKey?: string): RunnableArchive => ({
    name,
    handler: "__index.handler",
    directory: "/nonexistent",
    environment: routeKey ? { ROUTE_KEY: routeKey } : {},
    files: [],
    zippedBytes: 0,
    unzippedBytes: 0,
});

describe("bench: the requests and the status check of the archive benchmark", () => {
    const { routes } = resolveRegistry(fixtureServices, { memoryMb: 256, timeoutSeconds: 10 });

    // What the program's invocations give the migration function: one input per database service.
    const MIGRATION_INPUTS = [{ migrationSetHash: "a", service: { service: "a" }, migrations: [], login: "iam" }, { migrationSetHash: "b", service: { service: "b" }, migrations: [], login: "iam" }];
    const MIGRATION = { inputs: MIGRATION_INPUTS, credentials: { username: "postgres", password: "local-only" } };

    it("derives a request for every route of a registry (its route key, a UUID for each path parameter, {} for a body) and gives the migration launcher the program's inputs in turn (the worker them with the master user's credentials)", () => {
        for (const route of routes) {
            // Act
            const event = eventFor(archive(`${route.service}-${route.id}`, route.routeKey), 7, MIGRATION) as ReturnType<typeof routeEvent>;
            // Assess
            assert.equal(event.routeKey, route.routeKey);
            assert.equal(event.requestContext.http.method, route.method);
            assert.doesNotMatch(event.rawPath, /[{}]/, route.routeKey);
            for (const value of Object.values(event.pathParameters ?? {})) assert.equal(value, "00000000-0000-4000-8000-000000000007");
            assert.equal(event.body === undefined, !["POST", "PUT", "PATCH"].includes(route.method), route.routeKey);
        }
        // Each service's input in turn, so a run's warm invocations migrate every service: to the launcher as the program sends it, to the worker as the launcher does.
        assert.deepEqual([0, 1, 2, 1000].map((n) => eventFor(archive("migrations-launcher"), n, MIGRATION)), [MIGRATION_INPUTS[0], MIGRATION_INPUTS[1], MIGRATION_INPUTS[0], MIGRATION_INPUTS[0]]);
        assert.deepEqual([0, 1].map((n) => eventFor(archive("migrations-function"), n, MIGRATION)), [0, 1].map((n) => ({ request: MIGRATION_INPUTS[n], credentials: MIGRATION.credentials })));
        assert.equal(routeEvent("ANY /files/{proxy+}").rawPath, "/files/a/b");
    });

    it("accepts a route's own 2xx and 4xx answers to those requests (here: the fixture's handlers without a database)", async () => {
        // Prepare
        const route = routes.find((r) => r.routeKey === "GET /ping")!;
        const handler = createRouteHandler(route.handler, { service: route.service, routeKey: route.routeKey, logger: createLogger({ write: () => undefined }) });
        // Act
        const result = await handler(routeEvent(route.routeKey));
        // Assess
        assert.equal(checkedStatus(archive("ping-get-ping", route.routeKey), result), 200);
        assert.equal(checkedStatus(archive("notes-post-notes", "POST /notes"), { statusCode: 400, body: "{}" }), 400);
        assert.equal(checkedStatus(archive("migrations-function"), { applied: [] }), undefined);
    });

    it("refuses a 5xx and an answer that is no API Gateway response, naming the function and its route", () => {
        assert.throws(() => checkedStatus(archive("notes-get-notes", "GET /notes"), { statusCode: 500, body: '{"error":{"code":"internal_error"}}' }), /^Error: notes-get-notes \(GET \/notes\) answered 500 \{"error"/);
        assert.throws(() => checkedStatus(archive("notes-get-notes", "GET /notes"), { errorMessage: "Task timed out" }), /notes-get-notes \(GET \/notes\) answered undefined/);
    });
});
