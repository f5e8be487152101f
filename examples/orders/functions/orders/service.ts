/**
 * `orders`: places, reads and cancels orders. Every route but the payment webhook needs a token
 * from the stack's issuer; an order belongs to the token subject that placed it, and only that
 * subject, or an operator holding `orders:admin`, reads or cancels it. The payment provider proves
 * its webhook calls with a signature under a key only it and this service hold: a secret.
 */
import * as path from "node:path";
import { callerOf } from "../runtime/caller";
import { assertOwnerOrAdmin, conflict, constraintViolation, notFound } from "../runtime/errors";
import { assertSignedBody } from "../runtime/http/signature";
import { defineService } from "../runtime/service";
import { dateTime, integer, nullable, object, optional, parseParams, text, uuid } from "../runtime/validate";

interface OrderRow {
    id: string;
    reference: string;
    item: string;
    quantity: number;
    placedBy: string;
    /** Absent on orders the previous version placed: a column added by an expanding migration. */
    note: string | null;
    createdAt: Date;
    paidAt: Date | null;
}

const COLUMNS = `id, reference, item, quantity, placed_by AS "placedBy", note, created_at AS "createdAt", paid_at AS "paidAt"`;
/** Who may touch an order besides the subject that placed it: operators, never an app's users. */
const ORDER = { adminScope: "orders:admin", notFound: "No order with this id." };
const BY_ID = { id: uuid() };
/** An order as the routes answer it. */
const ORDER_BODY = object({
    id: uuid(),
    reference: text({ max: 40 }),
    item: text({ max: 200 }),
    quantity: integer({ min: 1, max: 1000 }),
    placedBy: text({ max: 255 }),
    note: nullable(text({ max: 500 })),
    createdAt: dateTime(),
    paidAt: nullable(dateTime()),
});

export default defineService({
    name: "orders", // lower-case letters, digits and dashes; unique in the registry
    description: "Places, reads and cancels orders.",
    database: true, // its handlers get ctx.db, and its migrations run before its code goes live
    memoryMb: 512, // optional: 128-3008 (the stack's policy pack), else the stack's default
    timeoutSeconds: 10, // optional: 1-29 (the HTTP API cuts requests at 30 s), else the stack's default
    reservedConcurrency: 5, // optional: at most 5 containers per route, so at most 5 connections each
    migrationsDir: path.join(__dirname, "migrations"),
    // Its handlers read these with ctx.secrets.get (a name not listed here is a type error). Values
    // never live in code or config: `npm run secret -- set orders PAYMENT_WEBHOOK_KEY` locally,
    // Secrets Manager in the cloud (docs/secrets.md).
    secrets: ["PAYMENT_WEBHOOK_KEY"],
    routes: {
        "POST /orders": {
            description: "Place an order",
            auth: "jwt", // a valid token, checked by API Gateway before the function runs
            // Checked before the handler runs: every bad field at once as a 400; unknown fields are
            // refused; `quantity` must be a JSON number. The handler reads it typed, as request.input.body.
            request: { body: { reference: text({ max: 40 }), item: text({ max: 200 }), quantity: integer({ min: 1, max: 1000 }), note: optional(text({ max: 500 }), undefined) } },
            // What it answers: in the API's description, and held to in the service's tests.
            responses: { 201: { description: "The order, placed", body: ORDER_BODY }, 409: { description: "An order with this reference exists" } },
            handler: async (request, { db, log }) => {
                const me = callerOf(request); // the token's subject and scopes
                const input = request.input.body;
                try {
                    const { rows } = await db.query<OrderRow>(
                        `INSERT INTO orders (reference, item, quantity, placed_by, note) VALUES ($1, $2, $3, $4, $5) RETURNING ${COLUMNS}`,
                        [input.reference, input.item, input.quantity, me.sub, input.note ?? null],
                    );
                    log.info("order placed", { orderId: rows[0].id });
                    return { statusCode: 201, headers: { location: `/orders/${rows[0].id}` }, body: rows[0] };
                } catch (error) {
                    // A unique violation becomes 409 (this message for this constraint), another constraint 400, anything else 500.
                    throw constraintViolation(error, { orders_reference_key: conflict("An order with this reference already exists.") });
                }
            },
        },

        "GET /orders/{id}": {
            description: "Read an order: the caller's own (any with orders:admin)",
            auth: "jwt",
            request: { path: BY_ID },
            responses: { 200: { description: "The order", body: ORDER_BODY }, 404: { description: "No such order, or someone else's" } },
            handler: async (request, { db }) => {
                const me = callerOf(request);
                const { id } = request.input.path;
                const { rows } = await db.query<OrderRow>(`SELECT ${COLUMNS} FROM orders WHERE id = $1`, [id]);
                assertOwnerOrAdmin(rows[0]?.placedBy, me, ORDER); // someone else's order: 404, as a missing one
                return rows[0]; // a plain value is sent as 200 JSON
            },
        },

        "DELETE /orders/{id}": {
            description: "Cancel an order: the caller's own (any with orders:admin)",
            auth: "jwt",
            request: { path: BY_ID },
            responses: { 204: { description: "Cancelled" }, 404: { description: "No such order, or someone else's" } },
            handler: async (request, { db }) => {
                const me = callerOf(request);
                const { id } = request.input.path;
                const { rows } = await db.query<{ placedBy: string }>(`SELECT placed_by AS "placedBy" FROM orders WHERE id = $1`, [id]);
                assertOwnerOrAdmin(rows[0]?.placedBy, me, ORDER);
                const { rowCount } = await db.query("DELETE FROM orders WHERE id = $1", [id]);
                if (rowCount === 0) throw notFound(ORDER.notFound); // cancelled meanwhile
                // Returning nothing answers 204 No Content.
            },
        },

        "POST /orders/{id}/paid": {
            description: "The payment provider's webhook: marks an order paid",
            auth: "none", // no token: the provider proves the call is its own by signing the body
            // No `request`: the signature is checked first, so an unsigned call learns nothing of the id's form.
            responses: { 204: { description: "Marked paid (again: a repeat keeps the first time)" }, 401: { description: "Not signed with the provider's key" }, 404: { description: "No such order" } },
            handler: async (request, { db, secrets }) => {
                // 401 unless the body is signed with the key the provider shares with this service.
                assertSignedBody(request, await secrets.get("PAYMENT_WEBHOOK_KEY"));
                const { id } = parseParams(request.pathParameters, BY_ID, "path");
                // Providers deliver a webhook again when unsure it arrived: a repeat keeps the first time.
                const { rowCount } = await db.query("UPDATE orders SET paid_at = COALESCE(paid_at, now()) WHERE id = $1", [id]);
                if (rowCount === 0) throw notFound(ORDER.notFound);
            },
        },
    },
});
