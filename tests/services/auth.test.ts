import * as assert from "node:assert/strict";
import auth from "../../functions/auth/service";
import { routeCaller } from "../support/invoke";

describe("auth service: POST /auth", () => {
    const call = routeCaller(auth);

    it("authenticates a Create request", async () => {
        const reply = await call("POST /auth", { body: { request: { type: "Create", user: "ada" } } });
        assert.deepEqual([reply.status, reply.body], [200, { message: "User authenticated successfully" }]);
    });

    const invalid: [string, object | string | undefined][] = [
        ["another request type", { request: { type: "Delete" } }],
        ["a type in the wrong case", { request: { type: "create" } }],
        ["no request object", { type: "Create" }],
        ["a request without type", { request: {} }],
        ["a JSON array", [{ request: { type: "Create" } }]],
        ["JSON null", "null"],
        ["a body that is not JSON", "request=Create"],
        ["no body at all", undefined],
    ];
    for (const [what, body] of invalid) {
        it(`answers 400 {"message":"Invalid request"} to ${what}`, async () => {
            const reply = await call("POST /auth", { body, headers: { "content-type": "application/json" } });
            assert.deepEqual([reply.status, reply.body], [400, { message: "Invalid request" }]);
        });
    }
});
