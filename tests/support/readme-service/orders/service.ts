// The service of the README's "Adding a service", as a team would write it (tests/e2e/new-service.test.ts keeps the two the same).
import * as path from "node:path";
import { defineService } from "../../../../functions/runtime/service";
import { notFound } from "../../../../functions/runtime/errors";
import { parseParams, uuid } from "../../../../functions/runtime/validate";

export default defineService({
    name: "orders",                      // lower-case DNS label, unique
    description: "Places and reads orders.",
    database: true,                      // handlers get ctx.db
    memoryMb: 512,                       // optional; default from the stack file
    timeoutSeconds: 10,                  // optional; 1-29 (the HTTP API cuts requests at 30 s)
    reservedConcurrency: 10,             // optional; its role may hold this many connections per database function
    migrationsDir: path.join(__dirname, "migrations"),
    routes: {
        "GET /orders/{id}": {
            handler: async (request, { db }) => {
                const { id } = parseParams(request.pathParameters, { id: uuid() }, "path");
                const { rows } = await db.query("SELECT * FROM orders WHERE id = $1", [id]);
                if (rows.length === 0) throw notFound("No order with this id.");
                return rows[0];             // a plain value is sent as 200 JSON
            },
        },
    },
});
