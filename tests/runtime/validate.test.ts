/**
 * The input checks handlers use: a body keeps JSON's types, path and query parameters are text, so
 * `integer()` takes a JSON number in a body and digits in a parameter, and refuses the other way
 * round; every bad field is named in one 400.
 */
import * as assert from "node:assert/strict";
import { isHttpError } from "../../functions/runtime/errors";
import { dateTime, email, integer, optional, parseBody, parseParams, subject, text, uuid, type Check } from "../../functions/runtime/validate";

/** The issues a 400 names (fails the test when nothing is thrown). */
function issuesOf(parse: () => unknown): Array<{ field: string; problem: string }> {
    try {
        parse();
    } catch (error) {
        assert.ok(isHttpError(error) && error.statusCode === 400, String(error));
        return (error.details as { issues: Array<{ field: string; problem: string }> }).issues;
    }
    assert.fail("accepted");
}

describe("input validation", () => {
    const quantity = integer({ min: 1, max: 100 });

    it("integer() takes a JSON number in a body and refuses the string \"5\", saying why", () => {
        assert.deepEqual(parseBody({ quantity: 5 }, { quantity }), { quantity: 5 });
        assert.deepEqual(issuesOf(() => parseBody({ quantity: "5" }, { quantity })), [{ field: "quantity", problem: "must be an integer from 1 to 100 (a JSON number, not a string)" }]);
        for (const value of [0, 101, 2.5, true, null, [5]]) {
            assert.deepEqual(issuesOf(() => parseBody({ quantity: value }, { quantity })), [{ field: "quantity", problem: "must be an integer from 1 to 100" }], JSON.stringify(value));
        }
    });

    it("integer() takes decimal digits in a path or query parameter, and nothing else there", () => {
        assert.deepEqual(parseParams({ quantity: "5" }, { quantity }, "query"), { quantity: 5 });
        for (const value of ["5.0", "1e1", " 5", "0x5", "five", "-"]) {
            assert.deepEqual(issuesOf(() => parseParams({ quantity: value }, { quantity }, "query")), [{ field: "quantity", problem: "must be an integer from 1 to 100" }], value);
        }
    });

    it("optional() falls back for an absent field, and for an empty parameter, but checks an empty string in a body", () => {
        const limit = optional(integer({ min: 1, max: 10 }), 3);
        assert.deepEqual(parseParams({}, { limit }), { limit: 3 });
        assert.deepEqual(parseParams({ limit: "" }, { limit }), { limit: 3 });
        assert.deepEqual(parseBody({}, { limit }), { limit: 3 });
        assert.equal(issuesOf(() => parseBody({ limit: "" }, { limit }))[0].field, "limit");
        assert.equal(issuesOf(() => parseBody({ nickname: "" }, { nickname: optional(text({ max: 10 }), undefined) }))[0].problem, "must not be empty");
    });

    it("names every bad field of a body in one 400, unknown fields among them", () => {
        assert.deepEqual(issuesOf(() => parseBody({ email: "nope", quantity: "2", admin: true, role: "x" }, { email: email(), quantity })), [
            { field: "email", problem: "must be an email address" },
            { field: "quantity", problem: "must be an integer from 1 to 100 (a JSON number, not a string)" },
            { field: "admin", problem: "is not a field of this request (allowed: email, quantity)" },
            { field: "role", problem: "is not a field of this request (allowed: email, quantity)" },
        ]);
        assert.deepEqual(issuesOf(() => parseBody({ quantity: 1, admin: true }, { quantity })), [{ field: "admin", problem: "is not a field of this request (allowed: quantity)" }]);
    });

    // Every text-like check, with a value it takes, to plant a character in.
    const textLike: [string, Check<string>, string][] = [
        ["text()", text({ max: 100 }), "Ada Lovelace"],
        ["email()", email(), "ada@example.com"],
        ["subject()", subject(), "auth0|ada"],
    ];
    const controls: [string, string][] = [
        ["NUL (C0)", "\u0000"],
        ["escape (C0)", "\u001b"],
        ["DEL", "\u007f"],
        ["next line (C1)", "\u0085"],
        ["CSI (C1)", "\u009b"],
        ["a lone high surrogate", "\ud83d"],
        ["a lone low surrogate", "\ude00"],
    ];
    for (const [name, check, good] of textLike) {
        it(`${name} refuses C0 and C1 control characters and lone surrogates anywhere in the value`, () => {
            assert.equal(check(good, "json").ok, true);
            for (const [label, character] of controls) {
                const planted = `${good.slice(0, 3)}${character}${good.slice(3)}`;
                const outcome = check(planted, "json");
                assert.equal(outcome.ok, false, `${label} in ${JSON.stringify(planted)}`);
            }
        });
    }

    it("text() refuses the bidirectional controls U+202A-U+202E and U+2066-U+2069, and keeps right-to-left scripts", () => {
        for (let code = 0x202a; code <= 0x202e; code++) assert.equal(text()(`a${String.fromCodePoint(code)}b`, "json").ok, false, code.toString(16));
        for (let code = 0x2066; code <= 0x2069; code++) assert.equal(text()(`a${String.fromCodePoint(code)}b`, "json").ok, false, code.toString(16));
        for (const rtl of ["مرحبا بالعالم", "שָׁלוֹם", "Zoë 😀 👩‍👩‍👧"]) assert.deepEqual(text()(rtl, "json"), { ok: true, value: rtl });
    });

    it("subject() keeps a subject exactly as sent (no trimming), up to 255 characters", () => {
        assert.deepEqual(subject()(" ada ", "json"), { ok: true, value: " ada " });
        assert.equal(subject()("x".repeat(255), "json").ok, true);
        assert.equal(subject()("x".repeat(256), "json").ok, false);
        assert.equal(subject()("", "json").ok, false);
    });

    it("uuid() takes only the canonical form, so no control character reaches a query", () => {
        assert.equal(uuid()("00000000-0000-4000-8000-000000000000", "text").ok, true);
        assert.equal(uuid()("00000000-0000-4000-8000-000000000000\u0000", "text").ok, false);
    });

    it("dateTime() takes real instants with an offset, and refuses what Date.parse takes but PostgreSQL does not", () => {
        for (const good of ["2026-11-27T11:39:07.194Z", "2024-02-29T23:59:59Z", "0001-01-01T00:00:00+14:00", "9999-12-31T23:59:59.999999999-12:00"]) {
            assert.deepEqual(dateTime()(good, "json"), { ok: true, value: good }, good);
        }
        for (const bad of ["1", "-271821-04-20T00:00:00.000Z", "+275760-09-13T00:00:00.000Z", "2026-02-30T00:00:00Z", "2025-02-29T00:00:00Z", "0000-01-01T00:00:00Z", "2026-01-01T24:00:00Z", "2026-01-01T23:60:00Z", "2026-01-01T23:59:60Z", "2026-01-01T00:00:00+15:00", "2026-01-01T00:00:00+01:60", "2026-01-01T00:00:00", "2026-01-01", 1764243547194]) {
            assert.equal(dateTime()(bad, "json").ok, false, String(bad));
        }
    });
});
