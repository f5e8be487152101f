/**
 * A route's declared `request` is checked where every handler is assembled (`createRouteHandler`),
 * before the handler runs: one 400 naming every bad field of path, query and body, each prefixed
 * with its part; the handler sees the parsed values as `request.input`.
 */
import * as assert from "node:assert/strict";
import { createRouteHandler } from "../../functions/runtime/handler";
import { createLogger } from "../../functions/runtime/logger";
import { defineService, type ApiRequest, type RouteRequest } from "../../functions/runtime/service";
import { email, integer, optional, text, uuid } from "../../functions/runtime/validate";
import { httpApiEvent } from "../../testing/events";

const ID = "00000000-0000-4000-8000-00000000000A";
const declared: RouteRequest = {
    path: { id: uuid() },
    query: { limit: optional(integer({ min: 1, max: 100 }), 20) },
    body: { email: email(), name: text({ max: 10 }) },
};

function route(request: RouteRequest | undefined) {
    const seen: ApiRequest[] = [];
    const logger = createLogger({ level: "ERROR", write: () => undefined, fields: {} });
    const invoke = createRouteHandler(
        async (received) => {
            seen.push(received);
            return { ok: true };
        },
        { service: "test", routeKey: "POST /things/{id}", logger, request },
    );
    const call = (options: { id: string; query?: string; body?: unknown }) =>
        invoke(httpApiEvent({ routeKey: "POST /things/{id}", path: `/things/${options.id}`, pathParameters: { id: options.id }, query: options.query, body: options.body as never }));
    return { call, seen };
}

describe("a route's declared request", () => {
    it("reaches the handler parsed: path and query read from text, the body normalized, defaults filled in", async () => {
        const { call, seen } = route(declared);
        const response = await call({ id: ID, body: { email: "Ada@Example.com", name: " Ada " } });
        assert.equal(response.statusCode, 200);
        assert.deepEqual(seen[0].input, { path: { id: ID.toLowerCase() }, query: { limit: 20 }, body: { email: "ada@example.com", name: "Ada" } });
        await call({ id: ID, query: "limit=7&other=x", body: { email: "a@b.co", name: "B" } });
        assert.deepEqual(seen[1].input?.query, { limit: 7 });
    });

    it("answers one 400 naming every bad field of path, query and body, unknown body fields among them, and never runs the handler", async () => {
        const { call, seen } = route(declared);
        const response = await call({ id: "42", query: "limit=1e3", body: { email: "nope", name: "", admin: true } });
        assert.equal(response.statusCode, 400);
        const body = JSON.parse(response.body as string) as { error: { code: string; details: { issues: Array<{ field: string; problem: string }> } } };
        assert.deepEqual(body.error.details.issues, [
            { field: "path.id", problem: "must be a UUID" },
            { field: "query.limit", problem: "must be an integer from 1 to 100" },
            { field: "body.email", problem: "must be an email address" },
            { field: "body.name", problem: "must not be empty" },
            { field: "body.admin", problem: "is not a field of this request (allowed: email, name)" },
        ]);
        assert.equal(seen.length, 0);
    });

    it("does not coerce a JSON body: the string \"5\" is refused where a number is declared", async () => {
        const { call } = route({ body: { count: integer({ min: 1, max: 9 }) } });
        const response = await call({ id: ID, body: { count: "5" } });
        assert.equal(response.statusCode, 400);
        assert.match(response.body as string, /body\.count.*a JSON number, not a string/);
    });

    it("refuses a missing or non-object body in the same 400", async () => {
        const { call } = route({ body: { name: text({ max: 5 }) } });
        for (const body of [undefined, [1], 42]) {
            const response = await call({ id: ID, body });
            assert.equal(response.statusCode, 400, JSON.stringify(body));
            assert.match(response.body as string, /"field":"body"/);
        }
    });

    it("leaves a route without `request` as it was: no input, nothing checked", async () => {
        const { call, seen } = route(undefined);
        const response = await call({ id: "anything", body: { whatever: 1 } });
        assert.equal(response.statusCode, 200);
        assert.equal(seen[0].input, undefined);
    });

    it("types the handler's input by each route's own declaration, with no cast (checked by tsc)", () => {
        // The @ts-expect-error lines fail the type check if they ever compile.
        const service = defineService({
            name: "typed-input",
            description: "Type test",
            database: true,
            routes: {
                "POST /things/{id}": {
                    request: { path: { id: uuid() }, body: { email: email(), count: optional(integer({ min: 1, max: 9 }), 1) } },
                    handler: async (request, { db }) => {
                        const id: string = request.input.path.id;
                        const count: number = request.input.body.count;
                        // @ts-expect-error: the body declares no field "name"
                        request.input.body.name;
                        // @ts-expect-error: this route declares no query
                        request.input.query.limit;
                        // @ts-expect-error: an email is a string, not a number
                        const wrong: number = request.input.body.email;
                        return { id, count, wrong, db: typeof db.query };
                    },
                },
                "GET /things": {
                    request: { query: { limit: optional(integer({ min: 1, max: 100 }), 20) } },
                    handler: async (request) => {
                        const limit: number = request.input.query.limit;
                        return { limit };
                    },
                },
                "GET /plain": { handler: async (request) => ({ path: request.path }) },
            },
        });
        const misspelt = defineService({
            name: "bad-key",
            description: "Type test",
            database: false,
            routes: {
                // @ts-expect-error: FETCH is not an HTTP method
                "FETCH /things": { handler: async () => undefined },
            },
        });
        const notAShape = defineService({
            name: "bad-request",
            description: "Type test",
            database: false,
            routes: {
                // @ts-expect-error: a body's fields are checks, not values
                "POST /things": { request: { body: { count: 5 } }, handler: async () => undefined },
            },
        });
        assert.deepEqual(Object.keys(service.routes), ["POST /things/{id}", "GET /things", "GET /plain"]);
        assert.ok(notAShape);
        assert.ok(misspelt);
    });
});
