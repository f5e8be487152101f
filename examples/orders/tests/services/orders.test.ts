import * as assert from "node:assert/strict";
import orders from "../../functions/orders/service";
import { signBody } from "../../functions/runtime/http/signature";
import { routeCaller } from "../support/invoke";
import { usePostgres } from "../support/postgres";

describe("orders service against PostgreSQL", () => {
    const postgres = usePostgres({ services: [orders] }); // a fresh PostgreSQL with this service's schema, roles and migrations
    // Signed in as orders_app, as its functions are; its secret's value as the test sets it.
    const WEBHOOK_KEY = "whsec_test_key";
    const call = routeCaller(orders, () => postgres().serviceDb("orders"), undefined, { PAYMENT_WEBHOOK_KEY: WEBHOOK_KEY });
    // The claims API Gateway's authorizer hands a protected route: Ada's token, Bob's, an operator's.
    const ADA = { sub: "ada" };
    const BOB = { sub: "bob" };
    const OPERATOR = { sub: "support", scope: "orders:admin" };
    const place = (body: object, claims = ADA) => call("POST /orders", { body, claims });
    const byId = (routeKey: string, id: string, claims: Record<string, string> = ADA) => call(routeKey, { path: `/orders/${id}`, pathParameters: { id }, claims });
    // The test's own SQL runs as the administrator, so it names the service's schema.
    const count = async () => (await postgres().sql<{ n: number }>("SELECT count(*)::int AS n FROM orders.orders"))[0].n;

    beforeEach(() => postgres().sql("TRUNCATE orders.orders"));

    it("places an order for the token's subject: 201 with a location, then reads it back by id", async () => {
        // Act
        const placed = await place({ reference: "A-1", item: "Analytical engine", quantity: 1 });
        const read = await byId("GET /orders/{id}", placed.body.id);
        // Assess
        assert.equal(placed.status, 201);
        assert.equal(placed.headers.location, `/orders/${placed.body.id}`);
        assert.deepEqual([read.status, read.body.item, read.body.placedBy], [200, "Analytical engine", "ada"]);
    });

    it("keeps an optional note, and reads an order the previous version placed without one (expand, then contract) with a null note", async () => {
        // Prepare: an order inserted as the version before the note column was added does it, as during a canary.
        const [previous] = await postgres().sql<{ id: string }>("INSERT INTO orders.orders (reference, item, quantity, placed_by) VALUES ('A-0', 'Difference engine', 1, 'ada') RETURNING id");
        // Act
        const placed = await place({ reference: "A-1", item: "Analytical engine", quantity: 1, note: "Leave at the door" });
        const readPrevious = await byId("GET /orders/{id}", previous.id);
        // Assess
        assert.deepEqual([placed.status, placed.body.note], [201, "Leave at the door"]);
        assert.deepEqual([readPrevious.status, readPrevious.body.item, readPrevious.body.note], [200, "Difference engine", null]);
    });

    it("answers someone else's read and cancel with 404, as for a missing order, and keeps the order", async () => {
        // Prepare
        const placed = await place({ reference: "A-2", item: "Engine", quantity: 1 });
        // Act
        const read = await byId("GET /orders/{id}", placed.body.id, BOB);
        const cancelled = await byId("DELETE /orders/{id}", placed.body.id, BOB);
        // Assess
        assert.deepEqual([read.status, cancelled.status], [404, 404]);
        assert.equal(await count(), 1);
    });

    it("lets an operator with orders:admin read anyone's order", async () => {
        const placed = await place({ reference: "A-3", item: "Engine", quantity: 1 });
        assert.equal((await byId("GET /orders/{id}", placed.body.id, OPERATOR)).body.placedBy, "ada");
    });

    it("answers 409 to a second order with the same reference, and stores one", async () => {
        // Prepare
        await place({ reference: "A-1", item: "Analytical engine", quantity: 1 });
        // Act
        const again = await place({ reference: "A-1", item: "Difference engine", quantity: 2 });
        // Assess
        assert.deepEqual([again.status, again.body.error.code, again.body.error.message], [409, "conflict", "An order with this reference already exists."]);
        assert.equal(await count(), 1);
    });

    it("answers 400 naming the field to a quantity sent as a string or out of range, and stores nothing", async () => {
        for (const quantity of ["5", 0, 1001, 2.5]) {
            // Act
            const reply = await place({ reference: "A-2", item: "Engine", quantity });
            // Assess
            assert.equal(reply.status, 400, String(quantity));
            assert.deepEqual(reply.body.error.details.issues.map((issue: { field: string }) => issue.field), ["body.quantity"]);
        }
        assert.equal(await count(), 0);
    });

    it("answers 404 to an unknown id and 400 to one that is not a UUID", async () => {
        assert.equal((await byId("GET /orders/{id}", "00000000-0000-4000-8000-000000000000")).status, 404);
        assert.equal((await byId("GET /orders/{id}", "not-a-uuid")).status, 400);
    });

    it("cancels the caller's own order with 204 and no body; a second cancel is 404", async () => {
        // Prepare
        const placed = await place({ reference: "A-3", item: "Engine", quantity: 1 });
        // Act
        const cancelled = await byId("DELETE /orders/{id}", placed.body.id);
        const again = await byId("DELETE /orders/{id}", placed.body.id);
        // Assess
        assert.deepEqual([cancelled.status, cancelled.body], [204, undefined]);
        assert.equal(again.status, 404);
    });
    describe("the payment provider's webhook", () => {
        const body = JSON.stringify({ event: "payment.succeeded" });
        const paid = (id: string, signature: string | undefined, callWith = call) =>
            callWith("POST /orders/{id}/paid", { path: `/orders/${id}/paid`, pathParameters: { id }, body, headers: signature ? { "x-signature-256": signature } : {} });

        it("marks an order paid when the body is signed with the service's key; a repeat keeps the first time", async () => {
            // Prepare
            const placed = await place({ reference: "P-1", item: "Engine", quantity: 1 });
            // Act
            const first = await paid(placed.body.id, signBody(body, WEBHOOK_KEY));
            const paidAt = (await byId("GET /orders/{id}", placed.body.id)).body.paidAt;
            const again = await paid(placed.body.id, signBody(body, WEBHOOK_KEY));
            // Assess
            assert.deepEqual([first.status, again.status], [204, 204]);
            assert.ok(paidAt);
            assert.equal((await byId("GET /orders/{id}", placed.body.id)).body.paidAt, paidAt);
        });

        it("answers 401 to a missing or wrong signature and leaves the order unpaid", async () => {
            // Prepare
            const placed = await place({ reference: "P-2", item: "Engine", quantity: 1 });
            // Act
            const unsigned = await paid(placed.body.id, undefined);
            const forged = await paid(placed.body.id, signBody(body, "someone-elses-key"));
            // Assess
            assert.deepEqual([unsigned.status, forged.status], [401, 401]);
            assert.equal((await byId("GET /orders/{id}", placed.body.id)).body.paidAt, null);
        });

        it("answers 404 to a signed call for an unknown order", async () => {
            assert.equal((await paid("00000000-0000-4000-8000-000000000000", signBody(body, WEBHOOK_KEY))).status, 404);
        });

        it("answers 503 while the key has no value, never running unsigned", async () => {
            const unset = routeCaller(orders, () => postgres().serviceDb("orders"));
            const placed = await place({ reference: "P-3", item: "Engine", quantity: 1 });
            assert.equal((await paid(placed.body.id, signBody(body, WEBHOOK_KEY), unset)).status, 503);
            assert.equal((await byId("GET /orders/{id}", placed.body.id)).body.paidAt, null);
        });
    });
});
