/**
 * The notifications sample over HTTP against the local runtime and a real PostgreSQL, with the users
 * sample as its producer: a new user's welcome is readable within a second; a redelivered event adds
 * nothing; a deleted user's notifications go, and a late user.created does not bring them back; the
 * nightly purge (fired on demand) removes what is past its retention and keeps the rest.
 */
import * as assert from "node:assert/strict";
import notifications, { RETENTION } from "../../functions/notifications/service";
import users from "../../functions/users/service";
import { userEvents } from "../../functions/users/events";
import { putEventsEntry } from "../../functions/runtime/event-envelope";
import { findLocalQueue } from "../../local/event-bus";
import { fireSchedule } from "../../local/schedules";
import { api, startTestRuntime, type TestRuntime } from "../e2e/support";

async function eventually<T>(check: () => Promise<T | undefined | false>, ms: number, what: string): Promise<T> {
    const deadline = Date.now() + ms;
    for (;;) {
        const value = await check();
        if (value) return value;
        if (Date.now() > deadline) throw new Error(`not within ${ms} ms: ${what}`);
        await new Promise((resolve) => setTimeout(resolve, 10));
    }
}

describe("notifications service (users' events, over HTTP)", function () {
    this.timeout(60_000);
    let t: TestRuntime;
    let client: ReturnType<typeof api>;
    const notificationsOf = async (userId: string) => (await client.get(`/notifications?userId=${userId}`)).json.items as { kind: string; message: string; createdAt: string }[];
    const createUser = async (email: string) => {
        const response = await client.post("/users", { email, name: "Ada Lovelace" });
        assert.equal(response.status, 201, response.text);
        return response.json.id as string;
    };
    const rows = async (userId: string) => Number((await t.sql.query("SELECT count(*) AS n FROM notifications.notifications WHERE user_id = $1", [userId])).rows[0].n);

    before(async () => {
        t = await startTestRuntime([users, notifications], { visibilityTimeoutScale: 0.001 });
        client = api(t.url, await t.authHeader({ scopes: ["users:delete"] }));
    });
    after(async () => {
        await t?.stop();
    });

    it("makes a new user's welcome readable within a second of the POST", async () => {
        // Act
        const started = Date.now();
        const userId = await createUser("ada@example.com");
        const items = await eventually(async () => {
            const found = await notificationsOf(userId);
            return found.length > 0 && found;
        }, 1000, "the welcome");
        // Assess
        assert.ok(Date.now() - started < 1000);
        assert.deepEqual(items.map((item) => [item.kind, item.message]), [["welcome", "Welcome, Ada Lovelace! We will write to ada@example.com."]]);
    });

    it("keeps one welcome when the same event is delivered twice", async () => {
        // Prepare: one event (one id), sent to the bus twice, as an at-least-once delivery may.
        const userId = crypto.randomUUID();
        const entry = putEventsEntry(userEvents["user.created"], { userId, email: "twice@example.com", name: "Twice" }, { eventId: crypto.randomUUID(), time: new Date(), eventBusName: "local" });
        // Act
        await t.runtime.events.bus.send([entry]);
        await t.runtime.events.bus.send([entry]);
        // Assess
        await eventually(async () => (await t.runtime.events.store.counts())["notifications-subscription-welcome"] === undefined && (await rows(userId)) > 0, 5000, "both handled");
        assert.equal(await rows(userId), 1);
    });

    it("forgets a deleted user: their notifications go, and a late user.created adds nothing", async () => {
        // Prepare
        const userId = await createUser("grace@example.com");
        await eventually(async () => (await rows(userId)) === 1, 1000, "the welcome");
        // Act
        const deleted = await client.delete(`/users/${userId}`);
        assert.equal(deleted.status, 204);
        await eventually(async () => (await rows(userId)) === 0, 1000, "forgotten");
        const late = putEventsEntry(userEvents["user.created"], { userId, email: "grace@example.com", name: "Grace" }, { eventId: crypto.randomUUID(), time: new Date(), eventBusName: "local" });
        await t.runtime.events.bus.send([late]);
        await eventually(async () => (await t.runtime.events.store.counts())["notifications-subscription-welcome"] === undefined, 5000, "the late event handled");
        // Assess
        assert.equal(await rows(userId), 0);
        assert.deepEqual(await notificationsOf(userId), []);
    });

    it("purges, on the schedule's run, notifications past their retention and keeps the newer", async () => {
        // Prepare: one notification older than the retention, one a day younger than it.
        const userId = crypto.randomUUID();
        for (const days of [RETENTION.notificationDays + 1, RETENTION.notificationDays - 1]) {
            await t.sql.query(
                "INSERT INTO notifications.notifications (user_id, kind, message, event_id, created_at) VALUES ($1, 'welcome', 'old', gen_random_uuid(), now() - make_interval(days => $2))",
                [userId, days],
            );
        }
        // Act: the nightly run, now (npm run queues -- fire notifications/purge).
        await fireSchedule(t.runtime.events.store, findLocalQueue(t.runtime.events.queues, "notifications/purge")!);
        // Assess
        await eventually(async () => (await rows(userId)) === 1, 5000, "purged");
        const [kept] = await notificationsOf(userId);
        assert.ok(Date.now() - Date.parse(kept.createdAt) < RETENTION.notificationDays * 86_400_000);
    });

    it("answers 400 to a missing or malformed userId and 401 without a token", async () => {
        assert.equal((await client.get("/notifications")).status, 400);
        assert.equal((await client.get("/notifications?userId=nope")).status, 400);
        assert.equal((await api(t.url).get(`/notifications?userId=${crypto.randomUUID()}`)).status, 401);
    });
});
