/**
 * Every route that declares what it accepts refuses a bad value with a 400 in the platform's JSON
 * error shape, through the local runtime: requests generated from the served OpenAPI document's
 * schemas (`testing/bad-requests.ts`), one bad value each (wrong type, too long, empty, control
 * character, out of range, missing, unknown field), over the real registry and a fixture service.
 */
import * as assert from "node:assert/strict";
import { services } from "../../infra/services";
import type { OpenApiDocument } from "../../platform/api/openapi";
import { badRequests } from "../../testing/bad-requests";
import { describedService } from "../../testing/fixtures/described-service";
import { placeholderSecrets } from "../../testing/local-secrets";
import { assertPlatformError, request, startTestRuntime, type TestRuntime } from "../../testing/local-runtime";

describe("e2e: bad values from the document's schemas get 400", function () {
    this.timeout(180_000);
    let t: TestRuntime;
    let document: OpenApiDocument;

    before(async () => {
        // Whatever secrets the registry declares, set (the runtime refuses unset ones).
        t = await startTestRuntime([...services, describedService], { secrets: placeholderSecrets(services) });
        document = (await request(t.url, { path: "/openapi.json" })).json;
    });
    after(async () => {
        await t?.stop();
    });

    it("generates every kind of bad value for the fixture's declared parameters and body", () => {
        const labels = (path: string, method: string) => badRequests(path, method, document.paths[path][method]).map((bad) => bad.label);
        assert.deepEqual(labels("/things/{id}", "get"), [
            "path id control character",
            "path id not a uuid",
            "query limit wrong type",
            "query limit not whole",
            "query limit out of range (above)",
            "query limit out of range (below)",
            "query q too long",
            "query q control character",
        ]);
        const body = labels("/things", "post");
        for (const expected of ["body name wrong type", "body name too long", "body name empty", "body name control character", "body name missing", "body email not a email", "body count out of range (above)", "body count wrong type", "body note too long", "body with an unknown field", "body not an object"]) {
            assert.ok(body.includes(expected), `${expected} in ${body.join(", ")}`);
        }
        assert.deepEqual(labels("/things", "get"), [], "a route that declares nothing gets no bad requests");
    });

    it("every route that declares its request answers each bad request with 400 validation_error, naming the field", async () => {
        const declaring = t.runtime.registry.routes.filter((route) => route.request);
        assert.ok(declaring.some((route) => route.service === "described"), "the fixture's routes are among them");
        let sent = 0;
        for (const route of declaring) {
            const path = route.path.replace(/\{(\w+)\+\}/g, "{$1}");
            const operation = document.paths[path][route.method.toLowerCase()];
            const headers = route.auth === "jwt" ? await t.authHeader({ sub: "bad-values", scopes: route.scopes }) : {};
            for (const bad of badRequests(path, route.method, operation)) {
                const response = await request(t.url, { method: bad.method, path: bad.path, headers, body: bad.body });
                const label = `${route.routeKey}: ${bad.label}`;
                assert.equal(response.status, 400, `${label}: ${response.status} ${response.text}`);
                assertPlatformError(response, 400, "validation_error");
                if (bad.field !== undefined) {
                    const named = JSON.stringify(response.json.error.details?.issues ?? []).includes(bad.field) || response.json.error.message.includes(bad.field);
                    assert.ok(named, `${label}: the answer names ${bad.field}: ${response.text}`);
                }
                sent++;
            }
        }
        assert.ok(sent >= 30, `${sent} bad requests sent`);
    });
});
