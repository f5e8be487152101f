/**
 * Two database services for the data-isolation tests, written as a team would write them: each
 * with its own table, reading only its own schema. `accounts` reserves one container per function,
 * so its login role may hold two connections (two database functions).
 */
import * as path from "node:path";
import { notFound } from "../functions/runtime/errors";
import { defineService } from "../functions/runtime/service";
import { integer, parseParams } from "../functions/runtime/validate";

export const accounts = defineService({
    name: "accounts",
    description: "Accounts, each naming a favourite catalog item by id.",
    database: true,
    reservedConcurrency: 1,
    migrationsDir: path.join(__dirname, "data-services", "accounts", "migrations"),
    routes: {
        "POST /accounts": {
            handler: async (request, { db }) => {
                const { rows } = await db.query<{ id: number }>("INSERT INTO accounts (holder) VALUES ($1) RETURNING id", [String((request.body as { holder?: unknown })?.holder)]);
                return { statusCode: 201, body: rows[0] };
            },
        },
        "GET /accounts/{id}": {
            handler: async (request, { db }) => {
                const { id } = parseParams(request.pathParameters, { id: integer({ min: 1, max: 2 ** 31 - 1 }) }, "path");
                const { rows } = await db.query("SELECT id, holder, favourite_item AS \"favouriteItem\" FROM accounts WHERE id = $1", [id]);
                if (rows.length === 0) throw notFound("No account with this id.");
                return rows[0];
            },
        },
    },
});

export const catalog = defineService({
    name: "catalog",
    description: "The items accounts may name.",
    database: true,
    migrationsDir: path.join(__dirname, "data-services", "catalog", "migrations"),
    routes: {
        "GET /items": {
            handler: async (_request, { db }) => ({ items: (await db.query("SELECT id, title FROM items ORDER BY id")).rows }),
        },
    },
});
