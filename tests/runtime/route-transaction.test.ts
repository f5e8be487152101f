import * as assert from "node:assert/strict";
import type { Database, Queryable } from "../../functions/runtime/data/database";
import type { EventTransport } from "../../functions/runtime/outbox/publisher";
import { createRouteHandler } from "../../functions/runtime/handler";
import { createLogger } from "../../functions/runtime/logger";
import { OUTBOX_TABLE } from "../../functions/runtime/outbox/outbox";
import { defineService, type RouteHandler } from "../../functions/runtime/service";
import { userEvents } from "../../functions/users/events";
import { resolveRegistry } from "../../platform/registry/resolution";
import { validateRegistry } from "../../platform/registry/validation";
import { httpApiEvent } from "../../testing/events";

const USER_ID = "7b0a3c4e-2f7d-4a51-9d3e-0c2b8e6f1a11";

/**
 * A database that records every statement it is sent, `BEGIN`/`COMMIT`/`ROLLBACK` included, as
 * the real one sends them around `transaction(work)`.
 */
function recordingDatabase() {
    const statements: string[] = [];
    const query: Queryable["query"] = async (text) => {
        statements.push(text.trim().split(/\s+/).slice(0, 3).join(" "));
        return { rows: [{ owner: "someone" }], rowCount: 1 } as never;
    };
    const db: Database = {
        query,
        async transaction(work) {
            statements.push("BEGIN");
            try {
                const result = await work({ query });
                statements.push("COMMIT");
                return result;
            } catch (error) {
                statements.push("ROLLBACK");
                throw error;
            }
        },
        withConnectDeadline: () => db,
        end: async () => undefined,
    };
    return { db, statements };
}

/** A route of a database service that publishes `userEvents`, with what reached its database, its bus and its log. */
function route(routeKey: string, handler: RouteHandler, options: { transaction?: boolean; publishes?: boolean } = {}) {
    const { db, statements } = recordingDatabase();
    const sent: string[] = [];
    const transport: EventTransport = { send: async (entries) => void sent.push(...entries.map((entry) => entry.DetailType)) };
    const errors: string[] = [];
    const logger = createLogger({ level: "INFO", write: (line) => (JSON.parse(line).level === "ERROR" ? errors.push(line) : undefined) });
    const invoke = createRouteHandler(handler, {
        service: "users",
        routeKey,
        transaction: options.transaction,
        logger,
        openDatabase: () => db,
        events: options.publishes === false ? undefined : { catalog: userEvents, eventBusName: "bus", transport },
    });
    return { invoke: () => invoke(httpApiEvent({ routeKey })), statements, sent, errors };
}

/** The handlers' database, as a route of a database service sees it. */
const dbOf = (context: { db?: Database }) => context.db!;
const read: RouteHandler = async (_request, context) => (await dbOf(context).query("SELECT owner FROM users WHERE id = $1", [USER_ID])).rows[0];

describe("which routes run in a transaction", () => {
    it("runs a GET route of a database service that publishes without one: its SELECT is its only statement", async () => {
        // Prepare
        const get = route("GET /users/{id}", read);
        // Act
        const response = await get.invoke();
        // Assess
        assert.equal(response.statusCode, 200);
        assert.deepEqual(get.statements, ["SELECT owner FROM"]);
    });

    it("runs a HEAD route without one too", async () => {
        const head = route("HEAD /users/{id}", read);
        await head.invoke();
        assert.deepEqual(head.statements, ["SELECT owner FROM"]);
    });

    it("keeps one transaction around a route that reads then writes, and commits its event with its rows", async () => {
        // Prepare
        const patch = route("DELETE /users/{id}", async (_request, context) => {
            await dbOf(context).query("SELECT owner FROM users WHERE id = $1", [USER_ID]);
            await dbOf(context).query("DELETE FROM users WHERE id = $1", [USER_ID]);
            await context.events.publish("user.deleted", { userId: USER_ID });
            return { statusCode: 204 };
        });
        // Act
        const response = await patch.invoke();
        // Assess: the outbox row is written between the DELETE and the COMMIT, before anything is sent.
        assert.equal(response.statusCode, 204);
        assert.deepEqual(patch.statements.slice(0, 5), ["BEGIN", "SELECT owner FROM", "DELETE FROM users", `INSERT INTO ${OUTBOX_TABLE}`, "COMMIT"]);
    });

    it("runs a GET route that declares transaction: true in one, and rolls it back when it answers 4xx", async () => {
        const ok = route("GET /users/{id}", read, { transaction: true });
        await ok.invoke();
        assert.deepEqual(ok.statements, ["BEGIN", "SELECT owner FROM", "COMMIT"]);

        const refused = route("GET /users/{id}", async (request, context) => {
            await read(request, context);
            return { statusCode: 404, body: { error: "no" } };
        }, { transaction: true });
        await refused.invoke();
        assert.deepEqual(refused.statements, ["BEGIN", "SELECT owner FROM", "ROLLBACK"]);
    });

    it("refuses to publish from a route without a transaction: a 500, nothing sent, and a log line that names the route and the fix", async () => {
        // Prepare
        const get = route("GET /users/{id}", async (_request, { events }) => {
            await events.publish("user.deleted", { userId: USER_ID });
            return { ok: true };
        });
        // Act
        const response = await get.invoke();
        // Assess
        assert.equal(response.statusCode, 500);
        assert.deepEqual(get.sent, []);
        assert.deepEqual(get.statements, []);
        assert.equal(get.errors.length, 1);
        assert.match(get.errors[0], /user\.deleted not published: route \\"GET \/users\/\{id\}\\" of service \\"users\\" runs without a transaction/);
        assert.match(get.errors[0], /declare `transaction: true` on the route/);
    });

    it("runs a write route that declares transaction: false statement by statement, and refuses its publish", async () => {
        const post = route("POST /users", async (_request, context) => {
            await dbOf(context).query("INSERT INTO users (owner) VALUES ($1)", ["me"]);
            await context.events.publish("user.deleted", { userId: USER_ID });
        }, { transaction: false });
        const response = await post.invoke();
        assert.equal(response.statusCode, 500);
        assert.deepEqual(post.statements, ["INSERT INTO users"]);
        assert.deepEqual(post.sent, []);
    });

    it("runs a write route of a database service that publishes nothing statement by statement, unless it declares a transaction", async () => {
        const write: RouteHandler = async (_request, context) => void (await dbOf(context).query("INSERT INTO notes (text) VALUES ($1)", ["a"]));
        const plain = route("POST /notes", write, { publishes: false });
        await plain.invoke();
        assert.deepEqual(plain.statements, ["INSERT INTO notes"]);

        const declared = route("POST /notes", write, { publishes: false, transaction: true });
        await declared.invoke();
        assert.deepEqual(declared.statements, ["BEGIN", "INSERT INTO notes", "COMMIT"]);
    });

    it("resolves each route's transaction from its method, or from what it declares", () => {
        // Prepare
        const users = defineService({
            name: "users",
            description: "d",
            database: true,
            events: userEvents,
            routes: {
                "GET /users/{id}": { handler: () => undefined },
                "HEAD /users/{id}": { handler: () => undefined },
                "GET /users/{id}/audit": { handler: () => undefined, transaction: true },
                "POST /users": { handler: () => undefined },
                "ANY /users/{id}/x": { handler: () => undefined },
                "PUT /users/{id}": { handler: () => undefined, transaction: false },
            },
        });
        const notes = defineService({ name: "notes", description: "d", database: true, routes: { "POST /notes": { handler: () => undefined } } });
        const ping = defineService({ name: "ping", description: "d", database: false, routes: { "POST /ping": { handler: () => undefined } } });
        // Act
        const { routes } = resolveRegistry([users, notes, ping], { memoryMb: 128, timeoutSeconds: 5 });
        // Assess
        assert.deepEqual(Object.fromEntries(routes.map((r) => [r.routeKey, r.transaction])), {
            "GET /users/{id}": false,
            "HEAD /users/{id}": false,
            "GET /users/{id}/audit": true,
            "POST /users": true,
            "ANY /users/{id}/x": true,
            "PUT /users/{id}": false,
            "POST /notes": false,
            "POST /ping": false,
        });
    });

    it("refuses a transaction that is not a boolean, and transaction: true on a service without a database", () => {
        const problems = validateRegistry([
            defineService({ name: "notes", description: "d", database: true, routes: { "GET /notes": { handler: () => undefined, transaction: "yes" as never } } }),
            defineService({ name: "ping", description: "d", database: false, routes: { "GET /ping": { handler: () => undefined, transaction: true } } }),
            defineService({ name: "fine", description: "d", database: false, routes: { "GET /fine": { handler: () => undefined, transaction: false } } }),
        ]);
        assert.deepEqual(
            problems.map((problem) => problem.replace(/^.*route /, "route ")),
            ['route "GET /notes": transaction "yes" is not allowed; use true or false', 'route "GET /ping": transaction: true needs a database; the service has database: false'],
        );
    });
});
