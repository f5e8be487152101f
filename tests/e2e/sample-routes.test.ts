/**
 * The sample services (`auth`, `users`) over real HTTP against the local runtime and a real
 * PostgreSQL: each route's success and failure answers, exactly as a client sees them (with a
 * valid token on the protected routes). It serves the samples' modules directly, so it runs
 * whether or not they are in `infra/registry.ts`.
 */
import * as assert from "node:assert/strict";
import auth from "../../functions/auth/service";
import users from "../../functions/users/service";
import { api, assertPlatformError, snapshotUsers, startTestRuntime, UUID, type TestRuntime } from "./support";

describe("e2e: sample routes over HTTP", () => {
    let t: TestRuntime;
    let client: ReturnType<typeof api>;

    before(async () => {
        t = await startTestRuntime([auth, users]);
        // Writes need a token from the local issuer; deleting needs users:delete. (Reads are public:
        // API Gateway passes the header on to public routes too.) Missing or bad tokens: api-edge.test.ts.
        client = api(t.url, await t.authHeader({ scopes: ["users:delete"] }));
    });
    after(async () => {
        await t?.stop();
    });

    describe("POST /auth", () => {
        it("answers a Create request with 200 and the success message", async () => {
            const response = await client.post("/auth", { request: { type: "Create" } });
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
                const response = await client.post("/auth", body, typeof body === "string" ? { "content-type": "application/json" } : undefined);
                assert.equal(response.status, 400);
                assert.deepEqual(response.json, { message: "Invalid request" });
            });
        }
    });

    describe("users", () => {
        it("POST /users creates a user: 201 with id, normalized email, trimmed name, createdAt and a Location", async () => {
            const response = await client.post("/users", { email: "  Ada@Example.COM ", name: "  Ada Lovelace " });
            assert.equal(response.status, 201, response.text);
            assert.deepEqual(Object.keys(response.json).sort(), ["createdAt", "email", "id", "name"]);
            assert.match(response.json.id, UUID);
            assert.equal(response.json.email, "ada@example.com");
            assert.equal(response.json.name, "Ada Lovelace");
            assert.ok(!Number.isNaN(Date.parse(response.json.createdAt)));
            assert.equal(response.headers.location, `/users/${response.json.id}`);
            const stored = await t.sql.query("SELECT email, name FROM users.users WHERE id = $1", [response.json.id]);
            assert.deepEqual(stored.rows, [{ email: "ada@example.com", name: "Ada Lovelace" }]);
        });

        it("POST /users rejects an invalid email or an empty name with 400 validation_error naming the fields", async () => {
            const response = await client.post("/users", { email: "not-an-email", name: "" });
            assertPlatformError(response, 400, "validation_error");
            assert.match(response.json.error.message, /email/);
            assert.match(response.json.error.message, /name/);
        });

        it("POST /users answers 409 for an email already taken, whatever its case, and stores nothing", async () => {
            await client.post("/users", { email: "grace@example.com", name: "Grace" });
            const before = await snapshotUsers(t.sql);
            const response = await client.post("/users", { email: "GRACE@Example.com", name: "Another Grace" });
            assertPlatformError(response, 409, "conflict");
            assert.deepEqual(await snapshotUsers(t.sql), before);
        });

        it("GET /users/{id} returns the stored user", async () => {
            const created = (await client.post("/users", { email: "linus@example.com", name: "Linus" })).json;
            const response = await client.get(`/users/${created.id}`);
            assert.equal(response.status, 200);
            assert.deepEqual(response.json, created);
        });

        it("GET /users/{id} answers 404 for an unknown id and 400 for a malformed one", async () => {
            assertPlatformError(await client.get("/users/00000000-0000-4000-8000-000000000000"), 404, "not_found");
            assertPlatformError(await client.get("/users/42"), 400, "validation_error");
        });

        it("GET /users pages through every user exactly once with limit and nextCursor", async () => {
            for (let index = 0; index < 5; index++) await client.post("/users", { email: `page${index}@example.com`, name: `Page ${index}` });
            const total = Number((await t.sql.query("SELECT count(*) FROM users.users")).rows[0].count);
            const seen: string[] = [];
            let cursor: string | null = null;
            let pages = 0;
            do {
                const response = await client.get(`/users?limit=2${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ""}`);
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

        it("GET /users without a limit returns at most 20 users and nextCursor null when they all fit", async () => {
            const response = await client.get("/users");
            assert.equal(response.status, 200);
            assert.ok(response.json.items.length <= 20);
            assert.equal(response.json.nextCursor, null);
        });

        for (const query of ["limit=0", "limit=101", "limit=abc", "limit=1.5", "cursor=not-a-cursor", `cursor=${Buffer.from('{"createdAt":"x","id":"y"}').toString("base64url")}`]) {
            it(`GET /users?${query.slice(0, 40)} answers 400 validation_error`, async () => {
                assertPlatformError(await client.get(`/users?${query}`), 400, "validation_error");
            });
        }

        it("PATCH /users/{id} renames a user and returns it; other fields stay", async () => {
            const created = (await client.post("/users", { email: "rename@example.com", name: "Before" })).json;
            const response = await client.patch(`/users/${created.id}`, { name: "After" });
            assert.equal(response.status, 200, response.text);
            assert.deepEqual(response.json, { ...created, name: "After" });
            assert.equal((await client.get(`/users/${created.id}`)).json.name, "After");
        });

        it("PATCH /users/{id} answers 400 for a bad name or id and 404 for an unknown user", async () => {
            const created = (await client.post("/users", { email: "patch400@example.com", name: "Patch" })).json;
            assertPlatformError(await client.patch(`/users/${created.id}`, { name: "" }), 400, "validation_error");
            assertPlatformError(await client.patch(`/users/${created.id}`, { email: "x@example.com" }), 400, "validation_error");
            assertPlatformError(await client.patch("/users/nope", { name: "X" }), 400, "validation_error");
            assertPlatformError(await client.patch("/users/00000000-0000-4000-8000-000000000000", { name: "X" }), 404, "not_found");
        });

        it("DELETE /users/{id} answers 204 with no body, then 404 for the same id", async () => {
            const created = (await client.post("/users", { email: "delete@example.com", name: "Delete" })).json;
            const response = await client.delete(`/users/${created.id}`);
            assert.equal(response.status, 204);
            assert.equal(response.raw.length, 0);
            assertPlatformError(await client.delete(`/users/${created.id}`), 404, "not_found");
            assertPlatformError(await client.get(`/users/${created.id}`), 404, "not_found");
        });
    });
});
