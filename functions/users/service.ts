/**
 * `users`: a service that keeps data. It is the model to copy for a CRUD service: input checked
 * by `parseBody`/`parseParams`, parameterized SQL, errors thrown as `badRequest`/`notFound`/`conflict`.
 * Reads are public; writes need a token from the stack's issuer, and deleting needs `users:delete`.
 */
import * as path from "node:path";
import { conflict, notFound } from "../runtime/errors";
import { defineService } from "../runtime/service";
import { email, integer, optional, parseBody, parseParams, text, uuid, type Check } from "../runtime/validate";
import { userEvents } from "./events";

interface UserRow {
    id: string;
    email: string;
    name: string;
    createdAt: Date;
}

const USER_COLUMNS = `id, email, name, created_at AS "createdAt"`;
const NAME = text({ max: 100 });

/** The page cursor: the last row's (createdAt, id), base64url-encoded so clients treat it as opaque. */
interface Cursor {
    createdAt: string;
    id: string;
}

function encodeCursor(row: UserRow): string {
    return Buffer.from(JSON.stringify({ createdAt: row.createdAt.toISOString(), id: row.id })).toString("base64url");
}

const cursor: Check<Cursor> = (value) => {
    try {
        const decoded = JSON.parse(Buffer.from(String(value), "base64url").toString("utf8")) as Partial<Cursor>;
        if (
            typeof decoded.createdAt === "string" &&
            !Number.isNaN(Date.parse(decoded.createdAt)) &&
            typeof decoded.id === "string" &&
            uuid()(decoded.id, "json").ok
        ) {
            return { ok: true, value: { createdAt: decoded.createdAt, id: decoded.id } };
        }
    } catch {
        // falls through to the problem below
    }
    return { ok: false, problem: "must be a cursor returned by a previous page" };
};

export default defineService({
    name: "users",
    description: "Creates, reads, lists, renames and deletes users.",
    database: true,
    memoryMb: 512,
    timeoutSeconds: 10,
    reservedConcurrency: 10,
    migrationsDir: path.join(__dirname, "migrations"),
    events: userEvents,
    routes: {
        "POST /users": {
            description: "Create a user",
            auth: "jwt",
            // Sign-ups come in bursts; keep them from starving the reads.
            throttle: { rateLimit: 20, burstLimit: 40 },
            handler: async (request, { db, log, events }) => {
                const input = parseBody(request.body, { email: email(), name: NAME });
                const { rows } = await db.query<UserRow>(
                    `INSERT INTO users (email, name) VALUES ($1, $2)
                     ON CONFLICT (email) DO NOTHING
                     RETURNING ${USER_COLUMNS}`,
                    [input.email, input.name],
                );
                if (rows.length === 0) throw conflict("A user with this email already exists.");
                log.info("user created", { userId: rows[0].id });
                await events.publish("user.created", { userId: rows[0].id, email: rows[0].email, name: rows[0].name });
                return { statusCode: 201, headers: { location: `/users/${rows[0].id}` }, body: rows[0] };
            },
        },

        "GET /users/{id}": {
            description: "Read a user",
            handler: async (request, { db }) => {
                const { id } = parseParams(request.pathParameters, { id: uuid() }, "path");
                const { rows } = await db.query<UserRow>(`SELECT ${USER_COLUMNS} FROM users WHERE id = $1`, [id]);
                if (rows.length === 0) throw notFound("No user with this id.");
                return rows[0];
            },
        },

        "GET /users": {
            description: "List users by creation time, a page at a time",
            handler: async (request, { db }) => {
                const { limit, cursor: after } = parseParams(
                    request.query,
                    { limit: optional(integer({ min: 1, max: 100 }), 20), cursor: optional(cursor, undefined) },
                    "query",
                );
                // One row more than asked tells whether another page exists.
                const { rows } = await db.query<UserRow>(
                    after
                        ? `SELECT ${USER_COLUMNS} FROM users WHERE (created_at, id) > ($2::timestamptz, $3::uuid)
                           ORDER BY created_at, id LIMIT $1`
                        : `SELECT ${USER_COLUMNS} FROM users ORDER BY created_at, id LIMIT $1`,
                    after ? [limit + 1, after.createdAt, after.id] : [limit + 1],
                );
                const items = rows.slice(0, limit);
                return { items, nextCursor: rows.length > limit ? encodeCursor(items[items.length - 1]) : null };
            },
        },

        "PATCH /users/{id}": {
            description: "Rename a user",
            auth: "jwt",
            handler: async (request, { db }) => {
                const { id } = parseParams(request.pathParameters, { id: uuid() }, "path");
                const input = parseBody(request.body, { name: NAME });
                const { rows } = await db.query<UserRow>(
                    `UPDATE users SET name = $2, updated_at = date_trunc('milliseconds', clock_timestamp())
                     WHERE id = $1 RETURNING ${USER_COLUMNS}`,
                    [id, input.name],
                );
                if (rows.length === 0) throw notFound("No user with this id.");
                return rows[0];
            },
        },

        "DELETE /users/{id}": {
            description: "Delete a user",
            auth: "jwt",
            scopes: ["users:delete"],
            handler: async (request, { db, events }) => {
                const { id } = parseParams(request.pathParameters, { id: uuid() }, "path");
                const { rowCount } = await db.query("DELETE FROM users WHERE id = $1", [id]);
                if (rowCount === 0) throw notFound("No user with this id.");
                await events.publish("user.deleted", { userId: id });
                return { statusCode: 204 };
            },
        },
    },
});
