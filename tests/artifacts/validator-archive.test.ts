/**
 * What the validators put in a route's archive: the valibot functions its checks run, serialized
 * by value, never the whole package (a closure that reached the `valibot` module object would
 * load all of it) and never the JSON Schema converter, which runs at build and plan time only.
 */
import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { bundledPackagesOf, functionSource, HANDLER_FILE } from "../../infra/function-packaging";
import { createRouteHandler } from "../../functions/runtime/handler";
import { array, boolean, dateTime, email, enumeration, integer, number, object, optional, parseParams, refine, text, uuid } from "../../functions/runtime/validate";

describe("a route archive's validators", function () {
    this.timeout(120_000);

    it("hold valibot's functions by value, and neither the whole package nor its JSON Schema converter", async () => {
        const request = {
            path: { id: uuid() },
            query: { limit: optional(integer({ min: 1, max: 100 }), 20), open: optional(boolean(), undefined) },
            body: {
                email: email(),
                name: text({ max: 100 }),
                at: dateTime(),
                price: number({ min: 0 }),
                status: enumeration(["open", "closed"]),
                items: array(object({ sku: refine(text({ max: 8 }), (sku) => sku !== "x", "must not be x") }), { max: 5 }),
            },
        };
        const source = await functionSource("validators", () => createRouteHandler(async (received) => received.input, { service: "test", routeKey: "POST /things/{id}", request }));
        assert.deepEqual(bundledPackagesOf(source), []);
        assert.match(source, /"valibot"/, "the checks run valibot's schemas");
        assert.doesNotMatch(source, /to-json-schema|toJsonSchema|convertSchema/);
    });

    it("stay by value, and work, when a handler builds its checks as it runs (which serializes every export of validate.ts)", async () => {
        const source = await functionSource("helpers", () => async (received: { query: Record<string, string> }) => parseParams(received.query, { limit: optional(integer({ min: 1, max: 9 }), 2), name: optional(text({ max: 5 }), "none") }));
        assert.deepEqual(bundledPackagesOf(source), []);
        const directory = fs.mkdtempSync(path.join(os.tmpdir(), "validator-archive-"));
        try {
            fs.writeFileSync(path.join(directory, HANDLER_FILE), source);
            const { handler } = require(path.join(directory, HANDLER_FILE)) as { handler: (event: unknown) => Promise<unknown> };
            assert.deepEqual(await handler({ query: { limit: "3" } }), { limit: 3, name: "none" });
            await assert.rejects(handler({ query: { limit: "1e3" } }), (error: { statusCode?: number; message?: string }) => error.statusCode === 400 && /limit must be an integer from 1 to 9/.test(String(error.message)));
        } finally {
            fs.rmSync(directory, { recursive: true, force: true });
        }
    });
});
