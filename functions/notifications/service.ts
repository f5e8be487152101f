/**
 * `notifications`: a service that exists for the users service's events. It welcomes each new user
 * (`user.created`), forgets a deleted user (`user.deleted`: their notifications go, since a
 * welcome holds their name and address, and the user is remembered as deleted so that a late
 * `user.created` adds nothing), serves the caller their own notifications (whose they are comes
 * with the event: its `owner`, the user's token subject), and purges old ones every night.
 *
 * Events arrive at least once and in no particular order: every write here can run twice.
 */
import * as path from "node:path";
import { callerOf } from "../runtime/caller";
import { defineService } from "../runtime/service";
import { array, dateTime, integer, object, optional, parseParams, text, uuid } from "../runtime/validate";
import { userEvents } from "../users/events";

/** How long a notification is kept, and a deleted user remembered (longer than SQS keeps a message, dead-letter queue included). */
export const RETENTION = { notificationDays: 90, forgottenUserDays: 30 } as const;

interface NotificationRow {
    id: string;
    userId: string;
    kind: string;
    message: string;
    createdAt: Date;
}

const COLUMNS = `id, user_id AS "userId", kind, message, created_at AS "createdAt"`;

/** The most notifications a page holds. */
const PAGE_MAX = 100;
/** A notification as the route answers it. */
const NOTIFICATION = object({ id: uuid(), userId: uuid(), kind: text({ max: 40 }), message: text({ max: 2000 }), createdAt: dateTime() });

export default defineService({
    name: "notifications",
    description: "Keeps the notifications the users service's events call for.",
    database: true,
    memoryMb: 256,
    timeoutSeconds: 10,
    migrationsDir: path.join(__dirname, "migrations"),
    routes: {
        "GET /notifications": {
            description: "The caller's notifications, newest first",
            auth: "jwt",
            request: { query: { limit: optional(integer({ min: 1, max: PAGE_MAX }), 20) } },
            responses: { 200: { description: "The caller's newest notifications", body: object({ items: array(NOTIFICATION, { max: PAGE_MAX }) }) } },
            handler: async (request, { db }) => {
                // Whose they are comes from the token, never from the request: no parameter names a user.
                const me = callerOf(request);
                const { limit } = request.input.query;
                const { rows } = await db.query<NotificationRow>(`SELECT ${COLUMNS} FROM notifications WHERE owner = $1 ORDER BY created_at DESC, id LIMIT $2`, [me.sub, limit]);
                return { items: rows };
            },
        },
    },
    subscriptions: {
        welcome: {
            event: userEvents["user.created"],
            description: "A welcome for each new user",
            handler: async ({ id, payload }, { db, log }) => {
                // The event id is the notification's key: a second delivery of the event inserts nothing.
                const { rowCount } = await db.query(
                    `INSERT INTO notifications (user_id, owner, kind, message, event_id)
                     SELECT $1, $2, 'welcome', $3, $4
                     WHERE NOT EXISTS (SELECT 1 FROM forgotten_users WHERE user_id = $1)
                     ON CONFLICT (event_id) DO NOTHING`,
                    [payload.userId, payload.owner ?? null, `Welcome, ${payload.name}! We will write to ${payload.email}.`, id],
                );
                log.info(rowCount === 1 ? "welcome kept" : "welcome already kept, or its user is deleted", { userId: payload.userId });
            },
        },
        forget: {
            event: userEvents["user.deleted"],
            description: "A deleted user's notifications go",
            handler: async ({ payload, time }, { db }) => {
                await db.transaction(async (tx) => {
                    await tx.query("INSERT INTO forgotten_users (user_id, deleted_at) VALUES ($1, $2) ON CONFLICT (user_id) DO NOTHING", [payload.userId, time]);
                    await tx.query("DELETE FROM notifications WHERE user_id = $1", [payload.userId]);
                });
            },
        },
    },
    schedules: {
        purge: {
            expression: "cron(15 3 * * ? *)",
            timeZone: "UTC",
            description: "Nightly: notifications and deleted users past their retention",
            handler: async ({ scheduledTime }, { db, log }) => {
                // From the run's scheduled time, not the clock: a retried run purges the same.
                const { scheduledTime: asOf } = parseParams({ scheduledTime }, { scheduledTime: dateTime() }, "run");
                const notifications = await db.query("DELETE FROM notifications WHERE created_at < $1::timestamptz - make_interval(days => $2)", [asOf, RETENTION.notificationDays]);
                const forgotten = await db.query("DELETE FROM forgotten_users WHERE deleted_at < $1::timestamptz - make_interval(days => $2)", [asOf, RETENTION.forgottenUserDays]);
                log.info("purged", { notifications: notifications.rowCount, forgottenUsers: forgotten.rowCount });
            },
        },
    },
});
