/**
 * The sample services (`auth`, `users`) over real HTTP against the local runtime and a real
 * PostgreSQL: each route's success and failure answers, exactly as a client sees them (with a
 * valid token on the protected routes: each user is created by a subject of its own, and an
 * operator's users:admin token reads them all). It serves the samples' modules directly, so it
 * runs whether or not they are in `infra/registry.ts`. Requests go through the typed client
 * (`typedApi`), so a path, parameter or body the API does not describe fails to compile; only what
 * a typed client cannot send (a body that is not JSON, a query the route does not describe) goes
 * through the plain one.
 */
import * as assert from "node:assert/strict";
import auth from "../../functions/auth/service";
import users from "../../functions/users/service";
import { answered, api, assertPlatformError, snapshotUsers, startTestRuntime, typedApi, UUID, type TestRuntime } from "../../testing/local-runtime";

describe("e2e: sample routes over HTTP", () => {
    let t: TestRuntime;
    let client: ReturnType<typeof typedApi>;
    let operator: ReturnType<typeof typedApi>;
    /** The operator's plain client, for the list's query, which the route does not describe. */
    let operatorQuery: ReturnType<typeof api>;
    let subjects = 0;
    /** A client with a token of a subject of its own (one user record per subject). */
    const someone = async () => typedApi(t.url, await t.authHeader({ sub: `sample-${++subjects}` }));

    before(async () => {
        t = await startTestRuntime([auth, users]);
        // Every users route needs a token from the local issuer. Missing or bad tokens: api-edge.test.ts.
        client = await someone();
        const operatorHeader = await t.authHeader({ sub: "operator", scopes: ["users:admin"] });
        operator = typedApi(t.url, operatorHeader);
        operatorQuery = api(t.url, operatorHeader);
    });
    after(async () => {
        await t?.stop();
    });

    describe("POST /auth", () => {
        it("answers a Create request with 200 and the success message", async () => {
            const response = await answered(client.POST("/auth", { body: { request: { type: "Create" } } }));
            assert.equal(response.status, 200);
            assert.deepEqual(response.json, { message: "User authenticated successfully" });
            assert.match(String(response.headers["content-type"]), /^application\/json/);
        });

        for (const [label, body] of [
            ["another request type", { request: { type: "Delete" } }],
            ["a missing request", {}],
            ["a request without a type", { request: {} }],
            ["a body that is not JSON", "{not json"],
            ["no body at all", undefined],
        ] as const) {
            it(`answers ${label} with 400 {"message":"Invalid request"}`, async () => {
                const response = await api(t.url).post("/auth", body, typeof body === "string" ? { "content-type": "application/json" } : undefined);
                assert.equal(response.status, 400);
                assert.deepEqual(response.json, { message: "Invalid request" });
            });
        }
    });

    describe("users", () => {
        it("POST /users creates a user: 201 with id, normalized email, trimmed name, createdAt and a Location", async () => {
            const response = await answered((await someone()).POST("/users", { body: { email: "  Ada@Example.COM ", name: "  Ada Lovelace " } }));
            assert.equal(response.status, 201, response.text);
            assert.deepEqual(Object.keys(response.json).sort(), ["createdAt", "email", "emailVerified", "id", "name"]);
            assert.match(response.json.id, UUID);
            assert.equal(response.json.email, "ada@example.com");
            assert.equal(response.json.name, "Ada Lovelace");
            assert.ok(!Number.isNaN(Date.parse(response.json.createdAt)));
            assert.equal(response.headers.location, `/users/${response.json.id}`);
            const stored = await t.sql.query("SELECT email, name FROM users.users WHERE id = $1", [response.json.id]);
            assert.deepEqual(stored.rows, [{ email: "ada@example.com", name: "Ada Lovelace" }]);
        });

        it("POST /users rejects an invalid email or an empty name with 400 validation_error naming the fields", async () => {
            const response = await answered((await someone()).POST("/users", { body: { email: "not-an-email", name: "" } }));
            assertPlatformError(response, 400, "validation_error");
            assert.match(response.json.error.message, /email/);
            assert.match(response.json.error.message, /name/);
        });

        it("POST /users answers 409 to a second user for the same subject, and stores nothing", async () => {
            const grace = await someone();
            await answered(grace.POST("/users", { body: { email: "grace@example.com", name: "Grace" } }));
            const before = await snapshotUsers(t.sql);
            const response = await answered(grace.POST("/users", { body: { email: "grace2@example.com", name: "Another Grace" } }));
            assertPlatformError(response, 409, "conflict");
            assert.deepEqual(await snapshotUsers(t.sql), before);
        });

        it("GET /users/{id} returns the caller's stored user", async () => {
            const linus = await someone();
            const created = (await answered(linus.POST("/users", { body: { email: "linus@example.com", name: "Linus" } }))).json;
            const response = await answered(linus.GET("/users/{id}", { params: { path: { id: created.id } } }));
            assert.equal(response.status, 200);
            assert.deepEqual(response.json, created);
        });

        it("GET /users/{id} answers 404 for an unknown id and 400 for a malformed one", async () => {
            assertPlatformError(await answered(client.GET("/users/{id}", { params: { path: { id: "00000000-0000-4000-8000-000000000000" } } })), 404, "not_found");
            assertPlatformError(await answered(client.GET("/users/{id}", { params: { path: { id: "42" } } })), 400, "validation_error");
        });

        it("GET /users pages an operator through every user exactly once with limit and nextCursor", async () => {
            for (let index = 0; index < 5; index++) await answered((await someone()).POST("/users", { body: { email: `page${index}@example.com`, name: `Page ${index}` } }));
            const total = Number((await t.sql.query("SELECT count(*) FROM users.users")).rows[0].count);
            const seen: string[] = [];
            let cursor: string | null = null;
            let pages = 0;
            do {
                const response = await operatorQuery.get(`/users?limit=2${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ""}`);
                assert.equal(response.status, 200, response.text);
                assert.deepEqual(Object.keys(response.json).sort(), ["items", "nextCursor"]);
                assert.ok(response.json.items.length <= 2);
                seen.push(...response.json.items.map((user: { id: string }) => user.id));
                cursor = response.json.nextCursor;
                pages++;
            } while (cursor !== null && pages < 50);
            assert.equal(seen.length, total);
            assert.equal(new Set(seen).size, total);
            assert.equal(pages, Math.ceil(total / 2));
        });

        it("GET /users gives a user without users:admin their own record alone, and nextCursor null", async () => {
            const owner = await someone();
            await answered(owner.POST("/users", { body: { email: "own@example.com", name: "Own" } }));
            const own = (await answered(owner.GET("/users"))).json;
            assert.deepEqual(own.items.map((user: { email: string }) => user.email), ["own@example.com"]);
            assert.equal(own.nextCursor, null);
        });

        for (const query of ["limit=0", "limit=101", "limit=abc", "limit=1.5", "cursor=not-a-cursor", `cursor=${Buffer.from('{"createdAt":"x","id":"y"}').toString("base64url")}`]) {
            it(`GET /users?${query.slice(0, 40)} answers 400 validation_error`, async () => {
                assertPlatformError(await operatorQuery.get(`/users?${query}`), 400, "validation_error");
            });
        }

        it("PATCH /users/{id} renames the caller's user and returns it; other fields stay", async () => {
            const owner = await someone();
            const created = (await answered(owner.POST("/users", { body: { email: "rename@example.com", name: "Before" } }))).json;
            const response = await answered(owner.PATCH("/users/{id}", { params: { path: { id: created.id } }, body: { name: "After" } }));
            assert.equal(response.status, 200, response.text);
            assert.deepEqual(response.json, { ...created, name: "After" });
            assert.equal((await answered(owner.GET("/users/{id}", { params: { path: { id: created.id } } }))).json.name, "After");
        });

        it("PATCH /users/{id} answers 400 for a bad name or id and 404 for an unknown user", async () => {
            const ownerHeader = await t.authHeader({ sub: `sample-${++subjects}` });
            const owner = typedApi(t.url, ownerHeader);
            const created = (await answered(owner.POST("/users", { body: { email: "patch400@example.com", name: "Patch" } }))).json;
            assertPlatformError(await answered(owner.PATCH("/users/{id}", { params: { path: { id: created.id } }, body: { name: "" } })), 400, "validation_error");
            // A field the body does not have: a typed client cannot send it, so the plain one does.
            assertPlatformError(await api(t.url, ownerHeader).patch(`/users/${created.id}`, { email: "x@example.com" }), 400, "validation_error");
            assertPlatformError(await answered(owner.PATCH("/users/{id}", { params: { path: { id: "nope" } }, body: { name: "X" } })), 400, "validation_error");
            assertPlatformError(await answered(owner.PATCH("/users/{id}", { params: { path: { id: "00000000-0000-4000-8000-000000000000" } }, body: { name: "X" } })), 404, "not_found");
        });

        it("DELETE /users/{id} lets the owner delete with a token alone: 204 with no body, then 404 for the same id", async () => {
            const owner = await someone();
            const created = (await answered(owner.POST("/users", { body: { email: "delete@example.com", name: "Delete" } }))).json;
            const response = await answered(owner.DELETE("/users/{id}", { params: { path: { id: created.id } } }));
            assert.equal(response.status, 204);
            assert.equal(response.raw.length, 0);
            assertPlatformError(await answered(owner.DELETE("/users/{id}", { params: { path: { id: created.id } } })), 404, "not_found");
            assertPlatformError(await answered(operator.GET("/users/{id}", { params: { path: { id: created.id } } })), 404, "not_found");
        });
    });
});
