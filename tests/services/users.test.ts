/**
 * The users sample against a real PostgreSQL, through the wrapper its functions run, with the claims
 * API Gateway's authorizer hands a protected route: each route's answers, and who may touch which
 * record (the owner, or an operator with users:admin; anyone else gets what a missing record gets).
 */
import * as assert from "node:assert/strict";
import users, { USERS_ADMIN_SCOPE } from "../../functions/users/service";
import { recordingTransport, routeCaller } from "../support/invoke";
import { usePostgres } from "../support/postgres";

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const MISSING_ID = "00000000-0000-4000-8000-000000000000";

/** The claims of a token for `sub`, as API Gateway passes them (every value a string). */
const claimsOf = (sub: string, more: Record<string, string> = {}) => ({ sub, ...more });
const ALICE = claimsOf("alice");
const BOB = claimsOf("bob");
const OPERATOR = claimsOf("operator", { scope: USERS_ADMIN_SCOPE });

describe("users service against PostgreSQL", () => {
    const postgres = usePostgres({ services: [users] });
    const published = recordingTransport();
    const call = routeCaller(users, () => postgres().serviceDb("users"), published);
    const byId = (routeKey: string, id: string, claims: object | undefined, body?: object) => call(routeKey, { path: `/users/${id}`, pathParameters: { id }, body, claims: claims as Record<string, unknown> });
    const create = (claims: Record<string, unknown>, email: string, name = "Ada Lovelace") => call("POST /users", { body: { email, name }, claims });
    const count = async () => Number((await postgres().sql<{ n: string }>("SELECT count(*) AS n FROM users.users"))[0].n);
    /** A user created for a fresh subject. */
    let subjects = 0;
    const someone = () => claimsOf(`user-${++subjects}`);

    beforeEach(async () => {
        await postgres().sql("TRUNCATE users.users");
        published.entries.length = 0;
    });

    describe("what an attacker with a valid token of their own gets (OWASP API1, broken object-level authorization)", () => {
        it("Bob renaming Alice's user: 404, and Alice's user is as it was", async () => {
            const alice = (await create(ALICE, "alice@example.com", "Alice")).body;
            const reply = await byId("PATCH /users/{id}", alice.id, BOB, { name: "pwned by bob" });
            assert.deepEqual([reply.status, reply.body.error.code], [404, "not_found"]);
            assert.deepEqual(await postgres().sql("SELECT name FROM users.users"), [{ name: "Alice" }]);
        });

        it("Bob reading Alice's user: 404 with nothing of hers", async () => {
            const alice = (await create(ALICE, "alice@example.com", "Alice")).body;
            const reply = await byId("GET /users/{id}", alice.id, BOB);
            assert.deepEqual([reply.status, reply.body.error.message], [404, "No user with this id."]);
            assert.ok(!JSON.stringify(reply.body).includes("alice@example.com"));
        });

        it("no token at all, listing and reading users: 401, no email in the answer", async () => {
            const alice = (await create(ALICE, "alice@example.com", "Alice")).body;
            const list = await call("GET /users", { query: "limit=100" });
            const one = await byId("GET /users/{id}", alice.id, undefined);
            assert.deepEqual([list.status, one.status], [401, 401]);
            assert.ok(![list, one].some((reply) => JSON.stringify(reply.body).includes("alice@example.com")));
        });

        it("Bob, holding the old users:delete scope, deleting Alice's user: 404, and she stays", async () => {
            const alice = (await create(ALICE, "alice@example.com", "Alice")).body;
            const reply = await byId("DELETE /users/{id}", alice.id, claimsOf("bob", { scope: "users:delete openid" }));
            assert.equal(reply.status, 404);
            assert.equal(await count(), 1);
            assert.deepEqual(published.entries.map((entry) => entry.DetailType), ["user.created"]);
        });

        it("Bob claiming Carol's address first: his record is his and unverified, and the real Carol still signs up", async () => {
            // Prepare: Bob claims Carol's address.
            const squatted = await create(BOB, "carol@example.com", "Not Carol");
            // Act: the real Carol signs up with a token whose issuer verified that address.
            const carol = await create(claimsOf("carol", { email: "carol@example.com", email_verified: "true" }), "carol@example.com", "Carol");
            // Assess
            assert.deepEqual([squatted.status, squatted.body.emailVerified], [201, false]);
            assert.deepEqual([carol.status, carol.body.emailVerified], [201, true]);
            assert.deepEqual(await postgres().sql("SELECT owner, email_verified FROM users.users ORDER BY owner"), [
                { owner: "bob", email_verified: false },
                { owner: "carol", email_verified: true },
            ]);
        });
    });

    describe("POST /users", () => {
        it("creates the caller's user: 201 with id, email, emailVerified, name and createdAt, and a location header", async () => {
            const reply = await create(ALICE, "Ada@Example.com", "  Ada Lovelace ");
            assert.equal(reply.status, 201);
            assert.match(reply.body.id, UUID);
            assert.deepEqual({ email: reply.body.email, emailVerified: reply.body.emailVerified, name: reply.body.name }, { email: "ada@example.com", emailVerified: false, name: "Ada Lovelace" });
            assert.ok(Math.abs(Date.parse(reply.body.createdAt) - Date.now()) < 60_000);
            assert.equal(reply.headers.location, `/users/${reply.body.id}`);
            assert.deepEqual(await postgres().sql("SELECT owner FROM users.users"), [{ owner: "alice" }]);
        });

        it("stores the creating token's subject as the owner and says so in user.created", async () => {
            const reply = await create(ALICE, "alice@example.com", "Alice");
            const detail = JSON.parse(published.entries[0].Detail!);
            assert.deepEqual([published.entries[0].DetailType, detail.payload], ["user.created", { userId: reply.body.id, email: "alice@example.com", name: "Alice", owner: "alice" }]);
        });

        it("keeps an email as verified only when the token's verified email claim names the same address", async () => {
            const vouched = await create(claimsOf("v1", { email: "Vera@Example.com", email_verified: "true" }), "vera@example.com", "Vera");
            const other = await create(claimsOf("v2", { email: "vera@example.com", email_verified: "true" }), "someone-else@example.com", "Not Vera");
            const unverified = await create(claimsOf("v3", { email: "vic@example.com", email_verified: "false" }), "vic@example.com", "Vic");
            assert.deepEqual([vouched.body.emailVerified, other.body.emailVerified, unverified.body.emailVerified], [true, false, false]);
        });

        it("answers 409 to a second user for the same subject, and stores one", async () => {
            await create(ALICE, "alice@example.com");
            const reply = await create(ALICE, "alice2@example.com", "Other");
            assert.deepEqual([reply.status, reply.body.error.code], [409, "conflict"]);
            assert.equal(await count(), 1);
        });

        it("answers 401 when the request carries no verified subject (a route declared without auth)", async () => {
            const reply = await call("POST /users", { body: { email: "a@example.com", name: "A" } });
            assert.deepEqual([reply.status, reply.body.error.code], [401, "unauthorized"]);
            assert.equal(await count(), 0);
        });

        const invalid: [string, object][] = [
            ["a missing email", { name: "Ada" }],
            ["a missing name", { email: "a@example.com" }],
            ["an email that is not one", { email: "not-an-email", name: "Ada" }],
            ["a NUL inside the email", { email: "a\u0000b@example.com", name: "Ada" }],
            ["a C1 control character inside the email", { email: "a\u0085b@example.com", name: "Ada" }],
            ["a number as name", { email: "a@example.com", name: 42 }],
            ["an empty name", { email: "a@example.com", name: "   " }],
            ["a 101-character name", { email: "a@example.com", name: "x".repeat(101) }],
            ["an unknown field", { email: "a@example.com", name: "Ada", admin: true }],
            ["a control character in the name", { email: "a@example.com", name: "Ada\u0000" }],
            ["a C1 control character in the name", { email: "a@example.com", name: "Ada\u009b31m" }],
            ["a right-to-left override in the name", { email: "a@example.com", name: "\u202Egnp.exe" }],
            ["a lone surrogate in the name", { email: "a@example.com", name: "Ada \ud800" }],
        ];
        for (const [what, body] of invalid) {
            it(`answers 400 to ${what} and stores nothing`, async () => {
                const reply = await call("POST /users", { body, claims: someone() });
                assert.equal(reply.status, 400, JSON.stringify(reply.body));
                assert.equal(reply.body.error.code, "validation_error");
                assert.equal(await count(), 0);
            });
        }

        it("names every invalid field in one 400, unknown fields among them", async () => {
            const reply = await call("POST /users", { body: { email: 1, name: "", admin: true }, claims: someone() });
            assert.deepEqual(reply.body.error.details.issues, [
                { field: "body.email", problem: "must be a string" },
                { field: "body.name", problem: "must not be empty" },
                { field: "body.admin", problem: "is not a field of this request (allowed: email, name)" },
            ]);
        });

        it("answers 400 to a body that is not JSON", async () => {
            const reply = await call("POST /users", { body: "{", headers: { "content-type": "application/json" }, claims: someone() });
            assert.deepEqual([reply.status, reply.body.error.message], [400, "The request body is not valid JSON."]);
        });

        it("stores SQL-looking and non-Latin names verbatim", async () => {
            const name = "Robert'); DROP TABLE users; -- 👩‍💻 مرحبا";
            const reply = await create(someone(), "bobby@example.com", name);
            assert.equal(reply.status, 201);
            assert.deepEqual(await postgres().sql("SELECT name FROM users.users"), [{ name }]);
        });
    });

    describe("GET /users/{id}", () => {
        it("reads the caller's own user", async () => {
            const created = (await create(ALICE, "alice@example.com")).body;
            const reply = await byId("GET /users/{id}", created.id, ALICE);
            assert.deepEqual([reply.status, reply.body], [200, created]);
        });

        it("lets an operator with users:admin read anyone's user", async () => {
            const alice = (await create(ALICE, "alice@example.com")).body;
            assert.deepEqual((await byId("GET /users/{id}", alice.id, OPERATOR)).body, alice);
        });

        it("answers 404 to an unknown id and 400 to an id that is not a UUID", async () => {
            assert.deepEqual([(await byId("GET /users/{id}", MISSING_ID, ALICE)).status], [404]);
            const reply = await byId("GET /users/{id}", "42' OR '1'='1", ALICE);
            assert.deepEqual([reply.status, reply.body.error.message], [400, "Invalid request: path.id must be a UUID."]);
        });
    });

    describe("GET /users", () => {
        it("lists only the caller's own user", async () => {
            const alice = (await create(ALICE, "alice@example.com")).body;
            await create(BOB, "bob@example.com");
            const reply = await call("GET /users", { query: "limit=100", claims: ALICE });
            assert.deepEqual([reply.status, reply.body], [200, { items: [alice], nextCursor: null }]);
        });

        it("lists every user by creation time for users:admin, 20 by default, with a cursor to the next page", async () => {
            for (let i = 0; i < 25; i++) await create(someone(), `user${i}@example.com`, `User ${i}`);
            const first = await call("GET /users", { claims: OPERATOR });
            assert.equal(first.status, 200);
            assert.equal(first.body.items.length, 20);
            const second = await call("GET /users", { query: `cursor=${first.body.nextCursor}`, claims: OPERATOR });
            assert.equal(second.body.items.length, 5);
            assert.equal(second.body.nextCursor, null);
            const listed = [...first.body.items, ...second.body.items];
            // Ordered by (createdAt, id): users created in the same millisecond are ordered by id.
            const sortKey = (u: { createdAt: string; id: string }) => `${u.createdAt}|${u.id}`;
            assert.deepEqual(listed.map(sortKey), listed.map(sortKey).sort());
            assert.deepEqual(listed.map((u: { email: string }) => u.email).sort(), Array.from({ length: 25 }, (_, i) => `user${i}@example.com`).sort());
        });

        it("pages through every user exactly once with a small limit", async () => {
            for (let i = 0; i < 7; i++) await create(someone(), `p${i}@example.com`);
            const seen: string[] = [];
            let cursor: string | null = null;
            do {
                const reply: { body: { items: { id: string }[]; nextCursor: string | null } } = await call("GET /users", { query: `limit=3${cursor ? `&cursor=${cursor}` : ""}`, claims: OPERATOR });
                seen.push(...reply.body.items.map((u) => u.id));
                cursor = reply.body.nextCursor;
            } while (cursor);
            assert.equal(seen.length, 7);
            assert.equal(new Set(seen).size, 7);
        });

        const cursorOf = (createdAt: unknown) => Buffer.from(JSON.stringify({ createdAt, id: MISSING_ID })).toString("base64url");
        for (const [label, query] of [
            ["limit=0", "limit=0"],
            ["limit=101", "limit=101"],
            ["limit=abc", "limit=abc"],
            ["limit=2.5", "limit=2.5"],
            ["cursor=not-a-cursor", "cursor=not-a-cursor"],
            ["a cursor of other fields", `cursor=${Buffer.from('{"createdAt":"x","id":"y"}').toString("base64url")}`],
            // Times Date.parse takes and PostgreSQL does not: each was a 500 before the strict check.
            ['a cursor at "1"', `cursor=${cursorOf("1")}`],
            ["a cursor at -271821-04-20", `cursor=${cursorOf("-271821-04-20T00:00:00.000Z")}`],
            ["a cursor at +275760-09-13", `cursor=${cursorOf("+275760-09-13T00:00:00.000Z")}`],
            ["a cursor on February 30th", `cursor=${cursorOf("2026-02-30T00:00:00.000Z")}`],
            ["a cursor in year 0", `cursor=${cursorOf("0000-01-01T00:00:00.000Z")}`],
        ]) {
            it(`answers 400 to ${label}`, async () => {
                const reply = await call("GET /users", { query, claims: OPERATOR });
                assert.equal(reply.status, 400);
                assert.match(reply.body.error.message, /^Invalid request: query\.(limit must be an integer from 1 to 100|cursor must be a cursor returned by a previous page)\.$/);
            });
        }
    });

    describe("PATCH /users/{id}", () => {
        it("renames the caller's own user", async () => {
            const created = (await create(ALICE, "alice@example.com")).body;
            const reply = await byId("PATCH /users/{id}", created.id, ALICE, { name: "Countess of Lovelace" });
            assert.deepEqual([reply.status, reply.body], [200, { ...created, name: "Countess of Lovelace" }]);
        });

        it("lets an operator with users:admin rename anyone's user", async () => {
            const alice = (await create(ALICE, "alice@example.com")).body;
            assert.equal((await byId("PATCH /users/{id}", alice.id, OPERATOR, { name: "Renamed by support" })).body.name, "Renamed by support");
        });

        it("answers 400 to an invalid name and leaves the user as it was", async () => {
            const created = (await create(ALICE, "alice@example.com")).body;
            for (const body of [{ name: "" }, { name: 7 }, { email: "x@example.com" }, {}, { name: "a\u2066b" }]) {
                assert.equal((await byId("PATCH /users/{id}", created.id, ALICE, body)).status, 400, JSON.stringify(body));
            }
            assert.deepEqual((await byId("GET /users/{id}", created.id, ALICE)).body, created);
        });

        it("answers 404 to an unknown id", async () => {
            assert.equal((await byId("PATCH /users/{id}", MISSING_ID, ALICE, { name: "X" })).status, 404);
        });
    });

    describe("DELETE /users/{id}", () => {
        it("deletes the caller's own user with a token alone: 204, gone, and user.deleted published", async () => {
            const created = (await create(ALICE, "alice@example.com")).body;
            const reply = await byId("DELETE /users/{id}", created.id, ALICE);
            assert.deepEqual([reply.status, reply.body], [204, undefined]);
            assert.equal((await byId("GET /users/{id}", created.id, ALICE)).status, 404);
            assert.deepEqual(published.entries.map((entry) => entry.DetailType), ["user.created", "user.deleted"]);
        });

        it("lets an operator with users:admin delete anyone's user, the scope read from scp in API Gateway's list form too", async () => {
            const alice = (await create(ALICE, "alice@example.com")).body;
            const reply = await byId("DELETE /users/{id}", alice.id, claimsOf("operator", { scp: `[openid ${USERS_ADMIN_SCOPE}]` }));
            assert.equal(reply.status, 204);
            assert.equal(await count(), 0);
        });

        it("answers 404 to an unknown id and 400 to a malformed one", async () => {
            assert.equal((await byId("DELETE /users/{id}", MISSING_ID, ALICE)).status, 404);
            assert.equal((await byId("DELETE /users/{id}", "nope", ALICE)).status, 400);
        });
    });
});
