/**
 * Garbage in, 4xx JSON out, database untouched: a matrix of malformed, hostile and oversized
 * requests against the users routes, GET /notifications and POST /auth, plus unknown routes and
 * wrong methods. Not one may get a 5xx or change a row, and the server answers a valid request
 * after them. Valid but unusual input (SQL-looking text, emoji, right-to-left scripts) is accepted
 * and stored verbatim. A test of the sample services: it serves their modules directly,
 * registered or not.
 */
import * as assert from "node:assert/strict";
import authService from "../../functions/auth/service";
import notifications from "../../functions/notifications/service";
import users from "../../functions/users/service";
import { request, snapshotRows, snapshotUsers, startTestRuntime, type TestRequest, type TestResponse, type TestRuntime } from "../../testing/local-runtime";

const JSON_TYPE = { "content-type": "application/json" };
const SQL_LIKE = "'; DROP TABLE users; --";

/** Bodies that no user-writing route may accept; `name` is the field each targets. */
function badBodies(valid: Record<string, unknown>): Array<[string, TestRequest["body"], Record<string, string>?]> {
    return [
        ["a body that is not JSON", "{not json", JSON_TYPE],
        ["a truncated JSON body", '{"email":"a@b.co","name":"A"', JSON_TYPE],
        ["form-encoded data sent as JSON", "email=a%40b.co&name=A", JSON_TYPE],
        ["bytes that are not UTF-8", Buffer.from([0x7b, 0xff, 0xfe, 0x7d]), JSON_TYPE],
        // Valid JSON around bytes that are not UTF-8: read leniently, they would be stored as U+FFFD.
        ["a JSON string holding bytes that are not UTF-8", Buffer.concat([Buffer.from(JSON.stringify(valid).slice(0, -2)), Buffer.from([0xc3, 0x28, 0xff]), Buffer.from('"}')]), JSON_TYPE],
        ["an overlong UTF-8 encoding of a quote", Buffer.concat([Buffer.from(JSON.stringify(valid).slice(0, -2)), Buffer.from([0xc0, 0xa2]), Buffer.from('"}')]), JSON_TYPE],
        ["JSON declared as text/plain", JSON.stringify(valid), { "content-type": "text/plain" }],
        ["an empty body", "", JSON_TYPE],
        ["JSON null", "null", JSON_TYPE],
        ["a JSON number", "42", JSON_TYPE],
        ["a JSON string", '"hello"', JSON_TYPE],
        ["an array instead of an object", [valid]],
        ["an empty array", []],
        ["an empty object", {}],
        ["every field null", Object.fromEntries(Object.keys(valid).map((key) => [key, null]))],
        ["numbers instead of strings", Object.fromEntries(Object.keys(valid).map((key) => [key, 42]))],
        ["booleans instead of strings", Object.fromEntries(Object.keys(valid).map((key) => [key, true]))],
        ["objects instead of strings", Object.fromEntries(Object.keys(valid).map((key) => [key, { $ne: null }]))],
        ["arrays instead of strings", Object.fromEntries(Object.keys(valid).map((key) => [key, [valid[key]]]))],
        ["an extra field", { ...valid, admin: true }],
        ["an extra id field", { ...valid, id: "00000000-0000-4000-8000-000000000000" }],
        ["a name of 101 characters", { ...valid, name: "x".repeat(101) }],
        ["a name of 101 emoji", { ...valid, name: "😀".repeat(101) }],
        ["a name of 1 MB", { ...valid, name: "x".repeat(1024 * 1024) }],
        ["a whitespace-only name", { ...valid, name: " \t\n " }],
        ["a name with a null byte", { ...valid, name: "null\u0000byte" }],
        ["a name with control characters", { ...valid, name: "bell\u0007\u001b[31mred" }],
        ["a name with a C1 control character (CSI)", { ...valid, name: "red\u009b31m" }],
        ["a name with a right-to-left override", { ...valid, name: "\u202Egnp.exe" }],
        ["a name with a bidirectional isolate", { ...valid, name: "a\u2067b" }],
        ["a name with a lone surrogate", { ...valid, name: "half \ud83d" }],
        ["a SQL-injection name with an unknown field", { ...valid, name: SQL_LIKE, role: "admin' --" }],
        ["deeply nested JSON", { ...valid, name: JSON.parse("[".repeat(500) + "]".repeat(500)) }],
        ["a body over 6 MB", { ...valid, name: "x".repeat(6 * 1024 * 1024 + 10) }],
    ];
}

/** POST /auth answers anything but `{"request":{"type":"Create"}}` with 400 {"message":"Invalid request"}; other fields are ignored. */
const AUTH_BAD_BODIES: Array<[string, TestRequest["body"], Record<string, string>?]> = [
    ["a body that is not JSON", "{not json", JSON_TYPE],
    ["a truncated JSON body", '{"request":{"type":"Create"}', JSON_TYPE],
    ["bytes that are not UTF-8", Buffer.from([0x7b, 0xff, 0xfe, 0x7d]), JSON_TYPE],
    ["JSON declared as text/plain", '{"request":{"type":"Create"}}', { "content-type": "text/plain" }],
    ["form-encoded data", "request[type]=Create", { "content-type": "application/x-www-form-urlencoded" }],
    ["an empty body", "", JSON_TYPE],
    ["JSON null", "null", JSON_TYPE],
    ["a JSON string", '"Create"', JSON_TYPE],
    ["an array instead of an object", [{ request: { type: "Create" } }]],
    ["an empty object", {}],
    ["the type without its request wrapper", { type: "Create" }],
    ["a null request", { request: null }],
    ["a string request", { request: "Create" }],
    ["an array request", { request: [{ type: "Create" }] }],
    ["another type", { request: { type: "Delete" } }],
    ["a lower-case type", { request: { type: "create" } }],
    ["a type with trailing space", { request: { type: "Create " } }],
    ["a type with a null byte", { request: { type: "Create\u0000" } }],
    ["a numeric type", { request: { type: 42 } }],
    ["an array type", { request: { type: ["Create"] } }],
    ["an object type", { request: { type: { $eq: "Create" } } }],
    ["a SQL-injection type", { request: { type: SQL_LIKE } }],
    ["an emoji type", { request: { type: "Create😀" } }],
    ["a 1 MB type", { request: { type: "x".repeat(1024 * 1024) } }],
    ["deeply nested JSON", { request: JSON.parse("[".repeat(500) + "]".repeat(500)) }],
    ["a body over 6 MB", { request: { type: "x".repeat(6 * 1024 * 1024 + 10) } }],
];

function assertRejected(response: TestResponse, label: string): void {
    assert.ok(response.status >= 400 && response.status < 500, `${label}: expected a 4xx, got ${response.status} ${response.text.slice(0, 200)}`);
    // The request carried a good token and is not throttled: the route itself must have refused it.
    assert.ok(![401, 403, 429].includes(response.status), `${label}: refused by the gateway (${response.status}), not by the route`);
    assert.match(String(response.headers["content-type"]), /^application\/json/, `${label}: content-type`);
    assert.equal(typeof response.json, "object", `${label}: a JSON body, got ${response.text.slice(0, 200)}`);
}

describe("e2e: bad input never gets a 5xx and never changes the database", () => {
    let t: TestRuntime;
    let existing: { id: string; email: string; name: string };
    /** The token's owner's record and an operator's scope, so that the protected routes reach their validation. */
    let auth: Record<string, string>;
    /** `request` with the token; a case's own headers come on top. */
    const send = (options: TestRequest) => request(t.url, { ...options, headers: { ...auth, ...options.headers } });
    /** Every row the samples keep. */
    const snapshot = async () => [await snapshotUsers(t.sql), await snapshotRows(t.sql, "notifications", "notifications")];

    before(async () => {
        t = await startTestRuntime([authService, users, notifications]);
        auth = await t.authHeader({ scopes: ["users:admin"] });
        existing = (await send({ method: "POST", path: "/users", body: { email: "taken@example.com", name: "Taken" } })).json;
        await request(t.url, { method: "POST", path: "/users", body: { email: "second@example.com", name: "Second" }, headers: await t.authHeader({ sub: "second" }) });
        // Both welcomes kept, so that nothing the events do later changes the rows under the matrix.
        for (const deadline = Date.now() + 5000; (await t.sql.query("SELECT 1 FROM notifications.notifications")).rowCount! < 2; await new Promise((resolve) => setTimeout(resolve, 20))) {
            if (Date.now() > deadline) throw new Error("the welcomes did not arrive");
        }
    });
    after(async () => {
        await t?.stop();
    });

    const cases: Array<[string, TestRequest]> = [];
    const validUser = { email: "new@example.com", name: "New" };

    for (const [label, body, headers] of badBodies(validUser)) {
        cases.push([`POST /users with ${label}`, { method: "POST", path: "/users", body, headers }]);
    }
    for (const [label, body] of [
        ["an email without @", { email: "no-at-sign", name: "X" }],
        ["an email with spaces", { email: "a b@c.co", name: "X" }],
        ["an email of 255 characters", { email: `${"a".repeat(243)}@example.com`, name: "X" }],
        ["a SQL-injection email", { email: `${SQL_LIKE}@x.co`, name: "X" }],
        ["an OR 1=1 email", { email: "' OR '1'='1", name: "X" }],
        ["a NUL inside the email", { email: "a\u0000b@example.com", name: "X" }],
        ["a C1 control character inside the email", { email: "a\u0085b@example.com", name: "X" }],
        ["a missing email", { name: "X" }],
        ["a missing name", { email: "x@example.com" }],
        ["an unknown field beside bad ones", { email: "nope", name: "", role: "admin" }],
        ["a second user for the token's subject", { email: "TAKEN@Example.com", name: "Impostor" }],
    ] as const) {
        cases.push([`POST /users with ${label}`, { method: "POST", path: "/users", body }]);
    }
    for (const [label, body, headers] of badBodies({ name: "Renamed" })) {
        cases.push([`PATCH /users/{id} with ${label}`, { method: "PATCH", path: "/users/{existing}", body, headers }]);
    }
    cases.push(["PATCH /users/{id} trying to change the email", { method: "PATCH", path: "/users/{existing}", body: { name: "X", email: "x@example.com" } }]);
    for (const [label, id] of [
        ["a SQL-injection id", encodeURIComponent("1; DROP TABLE users; --")],
        ["an OR 1=1 id", encodeURIComponent("' OR '1'='1")],
        ["a null-byte id", "%00"],
        ["an emoji id", encodeURIComponent("😀")],
        ["a UUID with a suffix", "00000000-0000-4000-8000-000000000000x"],
        ["an unknown UUID", "00000000-0000-4000-8000-000000000000"],
        ["a path traversal id", "..%2F..%2Fetc%2Fpasswd"],
    ] as const) {
        cases.push([`PATCH /users/{id} with ${label}`, { method: "PATCH", path: `/users/${id}`, body: { name: "X" } }]);
        cases.push([`DELETE /users/{id} with ${label}`, { method: "DELETE", path: `/users/${id}` }]);
        cases.push([`GET /users/{id} with ${label}`, { method: "GET", path: `/users/${id}` }]);
    }
    for (const [label, body, headers] of AUTH_BAD_BODIES) {
        cases.push([`POST /auth with ${label}`, { method: "POST", path: "/auth", body, headers }]);
    }
    const cursorAt = (createdAt: unknown) => Buffer.from(JSON.stringify({ createdAt, id: "00000000-0000-4000-8000-000000000000" })).toString("base64url");
    for (const query of [
        "limit=1%3B%20DROP%20TABLE%20users",
        "limit=-1",
        "limit=1e3",
        "limit=99999999999999999999",
        `cursor=${encodeURIComponent(SQL_LIKE)}`,
        "cursor=%00",
        // Instants Date.parse accepts and PostgreSQL does not.
        `cursor=${cursorAt("1")}`,
        `cursor=${cursorAt("-271821-04-20T00:00:00.000Z")}`,
        `cursor=${cursorAt("+275760-09-13T00:00:00.000Z")}`,
        `cursor=${cursorAt("2026-02-30T00:00:00.000Z")}`,
        `cursor=${cursorAt("2026-01-01T24:00:00.000Z")}`,
        `cursor=${cursorAt(20260101)}`,
    ]) {
        cases.push([`GET /users?${query}`, { method: "GET", path: `/users?${query}` }]);
    }
    for (const query of ["limit=0", "limit=abc", "limit=%00", "limit=1%27%20OR%201%3D1"]) {
        cases.push([`GET /notifications?${query}`, { method: "GET", path: `/notifications?${query}` }]);
    }
    for (const [method, path] of [
        ["PUT", "/users"],
        ["DELETE", "/users"],
        ["PATCH", "/users"],
        ["POST", "/users/{existing}"],
        ["PUT", "/users/{existing}"],
        ["GET", "/auth"],
        ["DELETE", "/auth"],
        ["POST", "/auth/"],
        ["POST", "/Users"],
        ["GET", "/users/{existing}/extra"],
        ["GET", "/%2e%2e/%2e%2e/etc/passwd"],
        ["POST", "/admin"],
        ["TRACE", "/users"],
    ] as const) {
        cases.push([`${method} ${path} (no such route)`, { method, path, body: method === "GET" || method === "DELETE" || method === "TRACE" ? undefined : validUser }]);
    }

    it(`rejects all ${cases.length} bad requests with a 4xx JSON error, leaves every row as it was, logs no error and keeps serving`, async () => {
        const before = await snapshot();
        assert.equal(before[0].length, 2);
        const failures: string[] = [];
        for (const [label, options] of cases) {
            const response = await send({ ...options, path: options.path.replace("{existing}", existing.id) });
            try {
                assertRejected(response, label);
            } catch (error) {
                failures.push((error as Error).message);
            }
        }
        assert.deepEqual(failures, []);
        assert.deepEqual(await snapshot(), before);
        assert.deepEqual(t.logs.filter((line) => line.level === "ERROR"), []);
        // Still up: a good request right after is answered.
        assert.equal((await send({ path: `/users/${existing.id}` })).status, 200);
    });

    it("answers the POST /auth bad inputs with exactly 400 {\"message\":\"Invalid request\"} (or 413 over 6 MB)", async () => {
        for (const [label, body, headers] of AUTH_BAD_BODIES) {
            const response = await send({ method: "POST", path: "/auth", body, headers });
            if (label === "a body over 6 MB") {
                assert.equal(response.status, 413);
                continue;
            }
            assert.equal(response.status, 400, label);
            assert.deepEqual(response.json, { message: "Invalid request" }, label);
        }
    });

    // `field in shape` would be true for names inherited from Object.prototype: parseBody asks Object.hasOwn.
    it("rejects field names inherited from Object.prototype (__proto__, constructor, toString) as unknown", async () => {
        const before = await snapshotUsers(t.sql);
        for (const field of ["__proto__", "constructor", "toString", "hasOwnProperty"]) {
            const body = `{"${field}":{"admin":true},"email":"proto-${field.toLowerCase()}@example.com","name":"Proto"}`;
            const created = await send({ method: "POST", path: "/users", body, headers: JSON_TYPE });
            assert.equal(created.status, 400, `POST ${field}: ${created.text}`);
            const patched = await send({ method: "PATCH", path: `/users/${existing.id}`, body: `{"${field}":1,"name":"Proto"}`, headers: JSON_TYPE });
            assert.equal(patched.status, 400, `PATCH ${field}: ${patched.text}`);
        }
        assert.deepEqual(await snapshotUsers(t.sql), before);
    });

    describe("valid but unusual input is accepted and stored verbatim", () => {
        const names = [
            SQL_LIKE,
            "Robert'); DROP TABLE users;--",
            "\" OR \"\"=\"",
            "Zoë 😀 👩‍👩‍👧 🏳️‍🌈",
            "مرحبا بالعالم",
            "שָׁלוֹם",
            "名前は山田です",
            "😀".repeat(100),
            "x".repeat(100),
        ];
        names.forEach((name, index) => {
            it(`round-trips the name ${JSON.stringify(name.length > 24 ? `${name.slice(0, 12)}…` : name)} through POST, GET, PATCH and the table`, async () => {
                const email = `unusual${index}@example.com`;
                const owner = await t.authHeader({ sub: `unusual-${index}` });
                const created = await request(t.url, { method: "POST", path: "/users", body: { email, name }, headers: owner });
                assert.equal(created.status, 201, created.text);
                assert.equal(created.json.name, name);
                assert.deepEqual((await request(t.url, { path: `/users/${created.json.id}`, headers: owner })).json, created.json);
                const stored = await t.sql.query("SELECT email, name FROM users.users WHERE id = $1", [created.json.id]);
                assert.deepEqual(stored.rows, [{ email, name }]);
                const renamed = await request(t.url, { method: "PATCH", path: `/users/${created.json.id}`, body: { name: `${name.slice(0, 50)}!` }, headers: owner });
                assert.equal(renamed.status, 200, renamed.text);
                assert.equal(renamed.json.name, `${name.slice(0, 50)}!`);
            });
        });

        it("accepts an internationalized email and stores it lower-cased", async () => {
            const created = await request(t.url, { method: "POST", path: "/users", body: { email: "Üser@Exämple.com", name: "Ü" }, headers: await t.authHeader({ sub: "umlaut" }) });
            assert.equal(created.status, 201, created.text);
            assert.equal(created.json.email, "üser@exämple.com");
        });

        it("still holds exactly the users it was given, and the users table is intact", async () => {
            const count = Number((await t.sql.query("SELECT count(*) FROM users.users")).rows[0].count);
            assert.equal(count, 2 + names.length + 1);
        });
    });
});
