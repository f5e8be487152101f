/**
 * Who owns what, through the local gateway as a client meets it: two users with tokens minted the
 * way `npm run token` mints them (tools/token.ts), trying what an attacker with a valid token of
 * their own tries against the samples (OWASP API Security Top 10 2023, API1 and API3), and an
 * anonymous client. Each attempt gets 401/404 and no personal data, nothing of the other user
 * changes, and the samples' own flows still work: create, read own, rename own, delete own, the
 * welcome, and forgetting a deleted user. Requests go through the typed client (`typedApi`), but
 * those with a query the route does not describe, and the anonymous client's.
 */
import * as assert from "node:assert/strict";
import notifications from "../../functions/notifications/service";
import users from "../../functions/users/service";
import { main as tokenCommand } from "../../tools/token";
import { eventually } from "../../testing/eventually";
import { answered, api, snapshotRows, snapshotUsers, RETRY_AFTER_CONSUMER_TIMEOUT, startTestRuntime, typedApi, type TestResponse, type TestRuntime } from "../../testing/local-runtime";

/** `npm run -s token -- <args>` against this runtime's key, as a client would mint it. */
async function mint(t: TestRuntime, ...args: string[]): Promise<Record<string, string>> {
    const out: string[] = [];
    const code = await tokenCommand([...args, "--dir", t.jwtDir], { out: (line) => out.push(line), err: (line) => assert.fail(line) });
    assert.equal(code, 0);
    return { authorization: `Bearer ${out[0]}` };
}

/** True when nothing of Alice's (her address, her name) is in the answer. */
const holdsNothingOfAlice = (response: TestResponse) => !/alice@example\.com|Alice Liddell/.test(response.text);

describe("e2e: the samples enforce who owns what", function () {
    this.timeout(60_000);
    let t: TestRuntime;
    let alice: ReturnType<typeof typedApi>;
    let bob: ReturnType<typeof typedApi>;
    /** Bob's plain client, for queries the routes do not describe. */
    let bobQuery: ReturnType<typeof api>;
    let aliceId: string;

    before(async () => {
        t = await startTestRuntime([users, notifications], { visibilityTimeoutScale: RETRY_AFTER_CONSUMER_TIMEOUT });
        alice = typedApi(t.url, await mint(t, "--sub", "alice", "--email", "alice@example.com"));
        const bobHeader = await mint(t, "--sub", "bob", "--scope", "users:delete");
        bob = typedApi(t.url, bobHeader);
        bobQuery = api(t.url, bobHeader);
        const created = await answered(alice.POST("/users", { body: { email: "alice@example.com", name: "Alice Liddell" } }));
        assert.equal(created.status, 201, created.text);
        aliceId = created.json.id;
        await eventually(async () => (await answered(alice.GET("/notifications"))).json.items.length === 1, "Alice's welcome");
    });
    after(async () => {
        await t?.stop();
    });

    it("Bob's PATCH of Alice's user: 404, and her name stays", async () => {
        const response = await answered(bob.PATCH("/users/{id}", { params: { path: { id: aliceId } }, body: { name: "pwned by bob" } }));
        assert.deepEqual([response.status, response.json.error.code], [404, "not_found"]);
        assert.ok(holdsNothingOfAlice(response));
        assert.equal((await answered(alice.GET("/users/{id}", { params: { path: { id: aliceId } } }))).json.name, "Alice Liddell");
    });

    it("Bob's GET /notifications?userId=<Alice's id>: his own notifications (none), nothing of hers", async () => {
        const response = await bobQuery.get(`/notifications?userId=${aliceId}`);
        assert.deepEqual([response.status, response.json.items], [200, []]);
        assert.ok(holdsNothingOfAlice(response));
    });

    it("no token, GET /users?limit=100, GET /users/<id> and GET /notifications: 401, no personal data", async () => {
        const anonymous = api(t.url);
        for (const path of ["/users?limit=100", `/users/${aliceId}`, `/notifications?userId=${aliceId}`]) {
            const response = await anonymous.get(path);
            assert.equal(response.status, 401, path);
            assert.deepEqual(response.json, { message: "Unauthorized" }, path);
        }
    });

    it("Bob's DELETE of Alice's user with users:delete: 404, and she and her welcome stay", async () => {
        const before = await snapshotUsers(t.sql);
        const response = await answered(bob.DELETE("/users/{id}", { params: { path: { id: aliceId } } }));
        assert.deepEqual([response.status, response.json.error.code], [404, "not_found"]);
        assert.deepEqual(await snapshotUsers(t.sql), before);
        assert.equal((await answered(alice.GET("/notifications"))).json.items.length, 1);
    });

    it("Bob's POST /users with Carol's address: his own unverified record; the real Carol still signs up, verified", async () => {
        const squatted = await answered(bob.POST("/users", { body: { email: "carol@example.com", name: "Carol?" } }));
        const carol = typedApi(t.url, await mint(t, "--sub", "carol", "--email", "carol@example.com"));
        const real = await answered(carol.POST("/users", { body: { email: "carol@example.com", name: "Carol" } }));
        assert.deepEqual([squatted.status, squatted.json.emailVerified], [201, false]);
        assert.deepEqual([real.status, real.json.emailVerified], [201, true]);
        assert.deepEqual((await t.sql.query("SELECT owner FROM users.users WHERE id = $1", [squatted.json.id])).rows, [{ owner: "bob" }]);
        // Bob sees his own record and nobody else's.
        assert.deepEqual((await bobQuery.get("/users?limit=100")).json.items.map((user: { id: string }) => user.id), [squatted.json.id]);
    });

    it("keeps the samples' own flows: read own, rename own, the welcome, delete own with a token alone, then forgotten", async () => {
        // Prepare: Dora and her welcome.
        const dora = typedApi(t.url, await mint(t, "--sub", "dora"));
        const created = await answered(dora.POST("/users", { body: { email: "dora@example.com", name: "Dora" } }));
        assert.equal(created.status, 201, created.text);
        await eventually(async () => (await answered(dora.GET("/notifications"))).json.items.length === 1, "Dora's welcome");
        // Act
        const read = await answered(dora.GET("/users/{id}", { params: { path: { id: created.json.id } } }));
        const renamed = await answered(dora.PATCH("/users/{id}", { params: { path: { id: created.json.id } }, body: { name: "Dora the Explorer" } }));
        const deleted = await answered(dora.DELETE("/users/{id}", { params: { path: { id: created.json.id } } }));
        // Assess
        assert.deepEqual([read.status, renamed.status, renamed.json.name, deleted.status], [200, 200, "Dora the Explorer", 204]);
        await eventually(async () => (await snapshotRows(t.sql, "notifications", "notifications")).every((row) => (row as { user_id: string }).user_id !== created.json.id), "Dora forgotten");
        assert.deepEqual((await answered(dora.GET("/notifications"))).json.items, []);
    });
});
