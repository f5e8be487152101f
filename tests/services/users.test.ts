import * as assert from "node:assert/strict";
import users from "../../functions/users/service";
import { routeCaller } from "../support/invoke";
import { usePostgres } from "../support/postgres";

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const MISSING_ID = "00000000-0000-4000-8000-000000000000";

describe("users service against PostgreSQL", () => {
    const postgres = usePostgres({ services: [users] });
    const call = routeCaller(users, () => postgres().serviceDb("users"));
    const byId = (routeKey: string, id: string, body?: object) => call(routeKey, { path: `/users/${id}`, pathParameters: { id }, body });
    const create = (email: string, name = "Ada Lovelace") => call("POST /users", { body: { email, name } });
    const count = async () => Number((await postgres().sql<{ n: string }>("SELECT count(*) AS n FROM users.users"))[0].n);

    beforeEach(() => postgres().sql("TRUNCATE users.users"));

    describe("POST /users", () => {
        it("creates a user: 201 with id, email, name and createdAt, and a location header", async () => {
            const reply = await create("Ada@Example.com", "  Ada Lovelace ");
            assert.equal(reply.status, 201);
            assert.match(reply.body.id, UUID);
            assert.deepEqual({ email: reply.body.email, name: reply.body.name }, { email: "ada@example.com", name: "Ada Lovelace" });
            assert.ok(Math.abs(Date.parse(reply.body.createdAt) - Date.now()) < 60_000);
            assert.equal(reply.headers.location, `/users/${reply.body.id}`);
            assert.equal(await count(), 1);
        });

        it("answers 409 to a second user with the same email, whatever its case", async () => {
            await create("ada@example.com");
            const reply = await create("ADA@example.com", "Other");
            assert.equal(reply.status, 409);
            assert.equal(reply.body.error.code, "conflict");
            assert.equal(await count(), 1);
        });

        const invalid: [string, object][] = [
            ["a missing email", { name: "Ada" }],
            ["a missing name", { email: "a@example.com" }],
            ["an email that is not one", { email: "not-an-email", name: "Ada" }],
            ["a number as name", { email: "a@example.com", name: 42 }],
            ["an empty name", { email: "a@example.com", name: "   " }],
            ["a 101-character name", { email: "a@example.com", name: "x".repeat(101) }],
            ["an unknown field", { email: "a@example.com", name: "Ada", admin: true }],
            ["a control character in the name", { email: "a@example.com", name: "Ada\u0000" }],
        ];
        for (const [what, body] of invalid) {
            it(`answers 400 to ${what} and stores nothing`, async () => {
                const reply = await call("POST /users", { body });
                assert.equal(reply.status, 400);
                assert.equal(reply.body.error.code, "validation_error");
                assert.equal(await count(), 0);
            });
        }

        it("names every invalid field in one 400", async () => {
            const reply = await call("POST /users", { body: { email: 1, name: "" } });
            assert.deepEqual(reply.body.error.details.issues, [
                { field: "email", problem: "must be a string" },
                { field: "name", problem: "must not be empty" },
            ]);
        });

        it("answers 400 to a body that is not JSON", async () => {
            const reply = await call("POST /users", { body: "{", headers: { "content-type": "application/json" } });
            assert.deepEqual([reply.status, reply.body.error.message], [400, "The request body is not valid JSON."]);
        });

        it("stores SQL-looking and non-Latin names verbatim", async () => {
            const name = "Robert'); DROP TABLE users; -- 👩‍💻 مرحبا";
            const reply = await create("bobby@example.com", name);
            assert.equal(reply.status, 201);
            assert.deepEqual(await postgres().sql("SELECT name FROM users.users"), [{ name }]);
        });
    });

    describe("GET /users/{id}", () => {
        it("reads a user", async () => {
            const created = (await create("ada@example.com")).body;
            const reply = await byId("GET /users/{id}", created.id);
            assert.deepEqual([reply.status, reply.body], [200, created]);
        });

        it("answers 404 to an unknown id", async () => {
            const reply = await byId("GET /users/{id}", MISSING_ID);
            assert.deepEqual([reply.status, reply.body.error.code], [404, "not_found"]);
        });

        it("answers 400 to an id that is not a UUID", async () => {
            const reply = await byId("GET /users/{id}", "42' OR '1'='1");
            assert.deepEqual([reply.status, reply.body.error.message], [400, "Invalid path: id must be a UUID."]);
        });
    });

    describe("GET /users", () => {
        it("lists users by creation time, 20 by default, with a cursor to the next page", async () => {
            for (let i = 0; i < 25; i++) await create(`user${i}@example.com`, `User ${i}`);
            const first = await call("GET /users");
            assert.equal(first.status, 200);
            assert.equal(first.body.items.length, 20);
            const second = await call("GET /users", { query: `cursor=${first.body.nextCursor}` });
            assert.equal(second.body.items.length, 5);
            assert.equal(second.body.nextCursor, null);
            const listed = [...first.body.items, ...second.body.items];
            // Ordered by (createdAt, id): users created in the same millisecond are ordered by id.
            const sortKey = (u: { createdAt: string; id: string }) => `${u.createdAt}|${u.id}`;
            assert.deepEqual(listed.map(sortKey), listed.map(sortKey).sort());
            assert.deepEqual(listed.map((u: { email: string }) => u.email).sort(), Array.from({ length: 25 }, (_, i) => `user${i}@example.com`).sort());
        });

        it("pages through every user exactly once with a small limit", async () => {
            for (let i = 0; i < 7; i++) await create(`p${i}@example.com`);
            const seen: string[] = [];
            let cursor: string | null = null;
            do {
                const reply: { body: { items: { id: string }[]; nextCursor: string | null } } = await call("GET /users", { query: `limit=3${cursor ? `&cursor=${cursor}` : ""}` });
                seen.push(...reply.body.items.map((u) => u.id));
                cursor = reply.body.nextCursor;
            } while (cursor);
            assert.equal(seen.length, 7);
            assert.equal(new Set(seen).size, 7);
        });

        for (const query of ["limit=0", "limit=101", "limit=abc", "limit=2.5", "cursor=not-a-cursor", `cursor=${Buffer.from('{"createdAt":"x","id":"y"}').toString("base64url")}`]) {
            it(`answers 400 to ${query}`, async () => {
                const reply = await call("GET /users", { query });
                assert.equal(reply.status, 400);
                assert.match(reply.body.error.message, /^Invalid query: (limit must be an integer from 1 to 100|cursor must be a cursor returned by a previous page)\.$/);
            });
        }
    });

    describe("PATCH /users/{id}", () => {
        it("renames a user", async () => {
            const created = (await create("ada@example.com")).body;
            const reply = await byId("PATCH /users/{id}", created.id, { name: "Countess of Lovelace" });
            assert.deepEqual([reply.status, reply.body], [200, { ...created, name: "Countess of Lovelace" }]);
        });

        it("answers 400 to an invalid name and leaves the user as it was", async () => {
            const created = (await create("ada@example.com")).body;
            for (const body of [{ name: "" }, { name: 7 }, { email: "x@example.com" }, {}]) {
                assert.equal((await byId("PATCH /users/{id}", created.id, body)).status, 400, JSON.stringify(body));
            }
            assert.deepEqual((await byId("GET /users/{id}", created.id)).body, created);
        });

        it("answers 404 to an unknown id", async () => {
            assert.equal((await byId("PATCH /users/{id}", MISSING_ID, { name: "X" })).status, 404);
        });
    });

    describe("DELETE /users/{id}", () => {
        it("deletes a user: 204 and gone", async () => {
            const created = (await create("ada@example.com")).body;
            const reply = await byId("DELETE /users/{id}", created.id);
            assert.deepEqual([reply.status, reply.body], [204, undefined]);
            assert.equal((await byId("GET /users/{id}", created.id)).status, 404);
        });

        it("answers 404 to an unknown id and 400 to a malformed one", async () => {
            assert.equal((await byId("DELETE /users/{id}", MISSING_ID)).status, 404);
            assert.equal((await byId("DELETE /users/{id}", "nope")).status, 400);
        });
    });
});
