/**
 * `users`: a service that keeps personal data. It is the model to copy for a CRUD service: what
 * each route accepts and answers declared on it (`request`, checked before the handler runs, and
 * `responses`), parameterized SQL, errors thrown as `badRequest`/`notFound`/
 * `conflict`, and who may touch which record decided here, in the handler.
 *
 * Every route needs a token from the stack's issuer. A user record belongs to the token subject
 * (`sub`) that created it, one record per subject: reads return the caller's own record only, and
 * only its owner renames or deletes it, unless the caller holds `users:admin`, a scope for
 * operators who act on other people's records. Someone else's record answers 404, as a missing one.
 *
 * The email address is the one the user sends. It is stored as verified only when the token's
 * issuer vouches for that same address (a verified `email` claim: ID tokens carry one, most access
 * tokens do not); addresses are not unique, so claiming an address first locks nobody out of it.
 */
import * as path from "node:path";
import { callerOf } from "../runtime/caller";
import { assertOwnerOrAdmin, conflict, notFound } from "../runtime/errors";
import { defineService } from "../runtime/service";
import { array, boolean, dateTime, email, integer, nullable, object, optional, text, uuid, type Check } from "../runtime/validate";
import { userEvents } from "./events";

interface UserRow {
    id: string;
    email: string;
    emailVerified: boolean;
    name: string;
    createdAt: Date;
}

/** The scope that opens every user record: for operators, never for an app's users. */
export const USERS_ADMIN_SCOPE = "users:admin";

const USER_COLUMNS = `id, email, email_verified AS "emailVerified", name, created_at AS "createdAt"`;
const NAME = text({ max: 100 });
const BY_ID = { id: uuid() };
/** A user as the routes answer it. */
const USER = object({ id: uuid(), email: email(), emailVerified: boolean(), name: NAME, createdAt: dateTime() });
const USER_RECORD = { adminScope: USERS_ADMIN_SCOPE, notFound: "No user with this id." };

/** The page cursor: the last row's (createdAt, id), base64url-encoded so clients treat it as opaque. */
interface Cursor {
    createdAt: string;
    id: string;
}

function encodeCursor(row: UserRow): string {
    return Buffer.from(JSON.stringify({ createdAt: row.createdAt.toISOString(), id: row.id })).toString("base64url");
}

const CURSOR_TIME = dateTime();
const CURSOR_ID = uuid();

const cursor: Check<Cursor> = (value) => {
    try {
        const decoded = JSON.parse(Buffer.from(String(value), "base64url").toString("utf8")) as Partial<Cursor>;
        if (CURSOR_TIME(decoded.createdAt, "json").ok && CURSOR_ID(decoded.id, "json").ok) {
            return { ok: true, value: { createdAt: decoded.createdAt!, id: decoded.id! } };
        }
    } catch {
        // falls through to the problem below
    }
    return { ok: false, problem: "must be a cursor returned by a previous page" };
};

export default defineService({
    name: "users",
    description: "Creates, reads, lists, renames and deletes users, each record its owner's.",
    database: true,
    memoryMb: 512,
    timeoutSeconds: 10,
    reservedConcurrency: 10,
    migrationsDir: path.join(__dirname, "migrations"),
    events: userEvents,
    routes: {
        "POST /users": {
            description: "Create the caller's user",
            auth: "jwt",
            // Sign-ups come in bursts; keep them from starving the reads.
            throttle: { rateLimit: 20, burstLimit: 40 },
            request: { body: { email: email(), name: NAME } },
            responses: {
                201: { description: "The user, created", body: USER },
                409: { description: "This token's subject has a user already" },
            },
            handler: async (request, { db, log, events }) => {
                const me = callerOf(request);
                const input = request.input.body;
                const verified = me.verifiedEmail?.toLowerCase() === input.email;
                const { rows } = await db.query<UserRow>(
                    `INSERT INTO users (owner, email, email_verified, name) VALUES ($1, $2, $3, $4)
                     ON CONFLICT (owner) DO NOTHING
                     RETURNING ${USER_COLUMNS}`,
                    [me.sub, input.email, verified, input.name],
                );
                if (rows.length === 0) throw conflict("This token's subject has a user already.");
                log.info("user created", { userId: rows[0].id });
                await events.publish("user.created", { userId: rows[0].id, email: rows[0].email, name: rows[0].name, owner: me.sub });
                return { statusCode: 201, headers: { location: `/users/${rows[0].id}` }, body: rows[0] };
            },
        },

        "GET /users/{id}": {
            description: "Read a user: the caller's own (any with users:admin)",
            auth: "jwt",
            request: { path: BY_ID },
            responses: { 200: { description: "The user", body: USER }, 404: { description: "No such user, or someone else's" } },
            handler: async (request, { db }) => {
                const me = callerOf(request);
                const { id } = request.input.path;
                const { rows } = await db.query<UserRow & { owner: string | null }>(`SELECT ${USER_COLUMNS}, owner FROM users WHERE id = $1`, [id]);
                assertOwnerOrAdmin(rows[0]?.owner, me, USER_RECORD);
                const { owner: _owner, ...user } = rows[0];
                return user;
            },
        },

        "GET /users": {
            description: "List users by creation time, a page at a time: the caller's own (every one with users:admin)",
            auth: "jwt",
            request: { query: { limit: optional(integer({ min: 1, max: 100 }), 20), cursor: optional(cursor, undefined) } },
            responses: {
                200: { description: "A page of users, and the cursor of the next page (null on the last)", body: object({ items: array(USER, { max: 100 }), nextCursor: nullable(text({ max: 200 })) }) },
            },
            handler: async (request, { db }) => {
                const me = callerOf(request);
                const { limit, cursor: after } = request.input.query;
                // One row more than asked tells whether another page exists.
                const { rows } = await db.query<UserRow>(
                    `SELECT ${USER_COLUMNS} FROM users WHERE ($2 OR owner = $3)
                     ${after ? "AND (created_at, id) > ($4::timestamptz, $5::uuid)" : ""}
                     ORDER BY created_at, id LIMIT $1`,
                    [limit + 1, me.has(USERS_ADMIN_SCOPE), me.sub, ...(after ? [after.createdAt, after.id] : [])],
                );
                const items = rows.slice(0, limit);
                return { items, nextCursor: rows.length > limit ? encodeCursor(items[items.length - 1]) : null };
            },
        },

        "PATCH /users/{id}": {
            description: "Rename a user: the caller's own (any with users:admin)",
            auth: "jwt",
            request: { path: BY_ID, body: { name: NAME } },
            responses: { 200: { description: "The user, renamed", body: USER }, 404: { description: "No such user, or someone else's" } },
            handler: async (request, { db }) => {
                const me = callerOf(request);
                const { id } = request.input.path;
                const input = request.input.body;
                const { rows: found } = await db.query<{ owner: string | null }>("SELECT owner FROM users WHERE id = $1", [id]);
                assertOwnerOrAdmin(found[0]?.owner, me, USER_RECORD);
                const { rows } = await db.query<UserRow>(
                    `UPDATE users SET name = $2, updated_at = date_trunc('milliseconds', clock_timestamp())
                     WHERE id = $1 RETURNING ${USER_COLUMNS}`,
                    [id, input.name],
                );
                if (rows.length === 0) throw notFound(USER_RECORD.notFound);
                return rows[0];
            },
        },

        "DELETE /users/{id}": {
            description: "Delete a user: the caller's own (any with users:admin)",
            auth: "jwt",
            request: { path: BY_ID },
            responses: { 204: { description: "Deleted" }, 404: { description: "No such user, or someone else's" } },
            handler: async (request, { db, events }) => {
                const me = callerOf(request);
                const { id } = request.input.path;
                const { rows } = await db.query<{ owner: string | null }>("SELECT owner FROM users WHERE id = $1", [id]);
                assertOwnerOrAdmin(rows[0]?.owner, me, USER_RECORD);
                const { rowCount } = await db.query("DELETE FROM users WHERE id = $1", [id]);
                if (rowCount === 0) throw notFound(USER_RECORD.notFound);
                await events.publish("user.deleted", { userId: id });
                return { statusCode: 204 };
            },
        },
    },
});
