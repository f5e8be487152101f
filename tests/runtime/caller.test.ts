/**
 * The caller of a protected route, from the claims API Gateway passes (every value a string, a
 * list claim as the text "[a b]"), and the ownership rule handlers apply with it: the owner, or an
 * operator with the admin scope; anyone else gets what a missing record gets.
 */
import * as assert from "node:assert/strict";
import { callerOf, scopesOf } from "../../functions/runtime/caller";
import { assertOwnerOrAdmin, isHttpError } from "../../functions/runtime/errors";
import { claimText } from "../../local/authorizer";

/** What `work` throws, as status and code (fails the test when nothing is thrown). */
function thrown(work: () => unknown): [number, string] {
    try {
        work();
    } catch (error) {
        assert.ok(isHttpError(error), String(error));
        return [error.statusCode, error.code];
    }
    assert.fail("nothing thrown");
}

describe("the caller of a protected route", () => {
    describe("scopesOf", () => {
        for (const [label, claims, scopes] of [
            ["scope, space-separated (Cognito access tokens)", { scope: "openid users:admin" }, ["openid", "users:admin"]],
            ["scp as API Gateway passes a list claim, the text [a b]", { scp: "[users:admin orders:read]" }, ["users:admin", "orders:read"]],
            ["scp as one space-separated string (Okta)", { scp: "users:admin" }, ["users:admin"]],
            ["scp as a list (a token's own claim, before the gateway)", { scp: ["users:admin", "a"] }, ["users:admin", "a"]],
            ["both claims, each scope once", { scope: "a b", scp: "[b c]" }, ["a", "b", "c"]],
            ["extra spaces", { scope: "  a   b " }, ["a", "b"]],
            ["neither claim", { sub: "x" }, []],
            ["an empty list claim", { scp: "[]" }, []],
            ["no claims at all", undefined, []],
        ] as const) {
            it(`reads ${label}`, () => {
                assert.deepEqual(scopesOf(claims as Record<string, unknown> | undefined), scopes);
            });
        }

        it("reads the local gateway's text form of a list claim, which is API Gateway's", () => {
            assert.deepEqual(scopesOf({ scp: claimText(["users:admin", "openid"]) }), ["users:admin", "openid"]);
        });
    });

    describe("callerOf", () => {
        it("gives the subject, the scopes and has()", () => {
            const me = callerOf({ claims: { sub: "alice", scope: "openid", scp: "[users:admin]" } });
            assert.deepEqual([me.sub, me.scopes, me.has("users:admin"), me.has("users:delete")], ["alice", ["openid", "users:admin"], true, false]);
        });

        it("gives the email only when the issuer verified it (email_verified true, as text or as a boolean)", () => {
            assert.equal(callerOf({ claims: { sub: "a", email: "a@example.com", email_verified: "true" } }).verifiedEmail, "a@example.com");
            assert.equal(callerOf({ claims: { sub: "a", email: "a@example.com", email_verified: true } }).verifiedEmail, "a@example.com");
            assert.equal(callerOf({ claims: { sub: "a", email: "a@example.com", email_verified: "false" } }).verifiedEmail, undefined);
            assert.equal(callerOf({ claims: { sub: "a", email: "a@example.com" } }).verifiedEmail, undefined);
        });

        it("answers 401 when no token was checked, or its subject is empty, over 255 characters or holds a control character", () => {
            for (const claims of [undefined, {}, { sub: "" }, { sub: "x".repeat(256) }, { sub: "a\u0000b" }]) {
                assert.deepEqual(thrown(() => callerOf({ claims })), [401, "unauthorized"], JSON.stringify(claims));
            }
        });
    });

    describe("assertOwnerOrAdmin", () => {
        const alice = callerOf({ claims: { sub: "alice" } });
        const bob = callerOf({ claims: { sub: "bob", scope: "users:delete" } });
        const operator = callerOf({ claims: { sub: "operator", scope: "users:admin" } });
        const rule = { adminScope: "users:admin", notFound: "No user with this id." };

        it("lets the owner and the admin scope through", () => {
            assert.doesNotThrow(() => assertOwnerOrAdmin("alice", alice, rule));
            assert.doesNotThrow(() => assertOwnerOrAdmin("alice", operator, rule));
        });

        it("answers someone else's record with the 404 of a missing one, whatever other scope they hold", () => {
            assert.deepEqual(thrown(() => assertOwnerOrAdmin("alice", bob, rule)), [404, "not_found"]);
            assert.deepEqual(thrown(() => assertOwnerOrAdmin(undefined, alice, rule)), [404, "not_found"]);
        });

        it("answers 403 instead with hidden: false, for records whose existence is no secret", () => {
            assert.deepEqual(thrown(() => assertOwnerOrAdmin("alice", bob, { ...rule, hidden: false })), [403, "forbidden"]);
            assert.deepEqual(thrown(() => assertOwnerOrAdmin(undefined, bob, { ...rule, hidden: false })), [404, "not_found"]);
        });

        it("leaves a record without an owner (stored before owners were kept) to the admin scope, and a rule without one to owners alone", () => {
            assert.deepEqual(thrown(() => assertOwnerOrAdmin(null, alice, rule)), [404, "not_found"]);
            assert.doesNotThrow(() => assertOwnerOrAdmin(null, operator, rule));
            assert.deepEqual(thrown(() => assertOwnerOrAdmin("alice", operator, { notFound: "No user with this id." })), [404, "not_found"]);
        });
    });
});
