/**
 * The input checks handlers use: a body keeps JSON's types, path and query parameters are text, so
 * `integer()` takes a JSON number in a body and digits in a parameter, and refuses the other way
 * round; every bad field is named in one 400.
 */
import * as assert from "node:assert/strict";
import { isHttpError } from "../../functions/runtime/errors";
import { email, integer, optional, parseBody, parseParams, text } from "../../functions/runtime/validate";

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

    it("names every bad field of a body in one 400, and refuses unknown fields", () => {
        assert.deepEqual(issuesOf(() => parseBody({ email: "nope", quantity: "2" }, { email: email(), quantity })), [
            { field: "email", problem: "must be an email address" },
            { field: "quantity", problem: "must be an integer from 1 to 100 (a JSON number, not a string)" },
        ]);
        assert.throws(() => parseBody({ quantity: 1, admin: true }, { quantity }), /Unknown field\(s\) in the request body: admin/);
    });
});
