/**
 * The samples' tests hold each route to its declared `responses` (`testing/responses.ts`): an
 * undescribed success, a body its declaration does not take, and a body where none is declared
 * are each named; the platform's error shape passes for an undescribed error.
 */
import * as assert from "node:assert/strict";
import type { RouteResponses } from "../../functions/runtime/service";
import { array, integer, object, text } from "../../functions/runtime/validate";
import { assertDeclaredResponse, responseProblems } from "../../testing/responses";

describe("a route's declared responses, in tests", () => {
    const responses: RouteResponses = {
        200: { description: "A page", body: object({ items: array(object({ name: text({ max: 5 }) }), { max: 2 }), total: integer({ min: 0, max: 9 }) }) },
        204: { description: "Nothing to say" },
    };

    it("takes an answer its declaration describes", () => {
        assert.deepEqual(responseProblems(responses, { status: 200, body: { items: [{ name: "Ada" }], total: 1 } }), []);
        assert.deepEqual(responseProblems(responses, { status: 204, body: undefined }), []);
        assert.deepEqual(responseProblems(responses, { status: 404, body: { error: { code: "not_found", message: "No such thing.", requestId: "r" } } }), []);
    });

    it("names a status it does not describe, a body that does not match by its paths, and a body where none is declared", () => {
        assert.deepEqual(responseProblems(responses, { status: 201, body: {} }), ["status 201 is not among the declared responses (200, 204)"]);
        assert.deepEqual(responseProblems(responses, { status: 200, body: { items: [{ name: "Ada Lovelace" }], total: 1, extra: true } }), [
            "the 200 body does not match its declaration: items.0.name must have at most 5 characters; extra is not a field of this request (allowed: items, total)",
        ]);
        assert.deepEqual(responseProblems(responses, { status: 204, body: { surprise: 1 } }), ["status 204 declares no body, but one came"]);
        assert.deepEqual(responseProblems(responses, { status: 500, body: "oops" }), ["status 500 is not among the declared responses (200, 204)"]);
        assert.throws(() => assertDeclaredResponse("GET /things", responses, { status: 201, body: {} }), /^Error: GET \/things answered what it does not declare: status 201/);
    });
});
