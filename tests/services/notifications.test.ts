/**
 * The notifications sample over HTTP against the local runtime and a real PostgreSQL, with the users
 * sample as its producer: a new user's welcome is readable by that user (found from their token,
 * never from a parameter); a redelivered event adds nothing; a deleted user's
 * notifications go, and a late user.created does not bring them back; the nightly purge (fired on
 * demand) removes what is past its retention and keeps the rest.
 */
import * as assert from "node:assert/strict";
import notifications, { RETENTION } from "../../functions/notifications/service";
import users from "../../functions/users/service";
import { userEvents } from "../../functions/users/events";
import { putEventsEntry } from "../../functions/runtime/queue/event-envelope";
import { findLocalQueue } from "../../local/event-bus";
import { fireSchedule } from "../../local/schedules";
import { api, RETRY_AFTER_CONSUMER_TIMEOUT, startTestRuntime, type TestRuntime } from "../../testing/local-runtime";
import { eventually } from "../../testing/eventually";
import { assertDeclaredResponse } from "../../testing/responses";

describe("notifications service (users' events, over HTTP)", function () {
    this.timeout(60_000);
    let t: TestRuntime;
    /** A client with a token for `sub`. */
    const as = async (sub: string) => api(t.url, await t.authHeader({ sub }));
    const notificationsOf = async (client: ReturnType<typeof api>, query = "") => {
        const response = await client.get(`/notifications${query}`);
        assert.equal(response.status, 200, response.text);
        assertDeclaredResponse("GET /notifications", notifications.routes["GET /notifications"].responses!, { status: response.status, body: response.json });
        return response.json.items as { userId: string; kind: string; message: string; createdAt: string }[];
    };
    const createUser = async (client: ReturnType<typeof api>, email: string, name = "Ada Lovelace") => {
        const response = await client.post("/users", { email, name });
        assert.equal(response.status, 201, response.text);
        return response.json.id as string;
    };
    const rows = async (userId: string) => Number((await t.sql.query("SELECT count(*) AS n FROM notifications.notifications WHERE user_id = $1", [userId])).rows[0].n);

    before(async () => {
        t = await startTestRuntime([users, notifications], { visibilityTimeoutScale: RETRY_AFTER_CONSUMER_TIMEOUT });
    });
    after(async () => {
        await t?.stop();
    });

    it("makes a new user's welcome readable to that user after the POST", async () => {
        // Prepare
        const ada = await as("ada");
        // Act
        await createUser(ada, "ada@example.com");
        const items = await eventually(async () => {
            const found = await notificationsOf(ada);
            return found.length > 0 && found;
        }, "the welcome");
        // Assess
        assert.deepEqual(items.map((item) => [item.kind, item.message]), [["welcome", "Welcome, Ada Lovelace! We will write to ada@example.com."]]);
    });

    it("gives Bob his own notifications, never Alice's, whatever userId he asks for", async () => {
        // Prepare
        const alice = await as("alice");
        const bob = await as("bob");
        const aliceId = await createUser(alice, "alice@example.com", "Alice");
        await eventually(async () => (await rows(aliceId)) === 1, "Alice's welcome");
        // Act
        const asked = await bob.get(`/notifications?userId=${aliceId}`);
        // Assess
        assert.deepEqual([asked.status, asked.json.items], [200, []]);
        assert.ok(!asked.text.includes("alice@example.com"));
        assert.equal((await notificationsOf(alice, `?userId=${crypto.randomUUID()}`)).length, 1);
    });

    it("keeps one welcome when the same event is delivered twice", async () => {
        // Prepare: one event (one id), sent to the bus twice, as an at-least-once delivery may.
        const userId = crypto.randomUUID();
        const entry = putEventsEntry(userEvents["user.created"], { userId, email: "twice@example.com", name: "Twice", owner: "twice" }, { eventId: crypto.randomUUID(), time: new Date(), eventBusName: "local" });
        // Act
        await t.runtime.events.bus.send([entry]);
        await t.runtime.events.bus.send([entry]);
        // Assess
        await eventually(async () => (await t.runtime.events.store.counts())["notifications-subscription-welcome"] === undefined && (await rows(userId)) > 0, "both handled");
        assert.equal(await rows(userId), 1);
        assert.equal((await notificationsOf(await as("twice"))).length, 1);
    });

    it("keeps a welcome whose event has no owner (published before events carried one), served to nobody", async () => {
        // Prepare: user.created v1 as it was published before the owner field.
        const userId = crypto.randomUUID();
        const entry = putEventsEntry(userEvents["user.created"], { userId, email: "early@example.com", name: "Early" }, { eventId: crypto.randomUUID(), time: new Date(), eventBusName: "local" });
        // Act
        await t.runtime.events.bus.send([entry]);
        // Assess
        await eventually(async () => (await rows(userId)) === 1, "the welcome");
        assert.deepEqual((await t.sql.query("SELECT owner FROM notifications.notifications WHERE user_id = $1", [userId])).rows, [{ owner: null }]);
        assert.deepEqual(await notificationsOf(await as("early")), []);
    });

    it("forgets a deleted user: their notifications go, and a late user.created adds nothing", async () => {
        // Prepare
        const grace = await as("grace");
        const userId = await createUser(grace, "grace@example.com");
        await eventually(async () => (await rows(userId)) === 1, "the welcome");
        // Act: she deletes her own user, with her token alone.
        const deleted = await grace.delete(`/users/${userId}`);
        assert.equal(deleted.status, 204);
        await eventually(async () => (await rows(userId)) === 0, "forgotten");
        const late = putEventsEntry(userEvents["user.created"], { userId, email: "grace@example.com", name: "Grace", owner: "grace" }, { eventId: crypto.randomUUID(), time: new Date(), eventBusName: "local" });
        await t.runtime.events.bus.send([late]);
        await eventually(async () => (await t.runtime.events.store.counts())["notifications-subscription-welcome"] === undefined, "the late event handled");
        // Assess
        assert.equal(await rows(userId), 0);
        assert.deepEqual(await notificationsOf(grace), []);
    });

    it("purges, on the schedule's run, notifications past their retention and keeps the newer", async () => {
        // Prepare: one notification older than the retention, one a day younger than it.
        const userId = crypto.randomUUID();
        for (const days of [RETENTION.notificationDays + 1, RETENTION.notificationDays - 1]) {
            await t.sql.query(
                "INSERT INTO notifications.notifications (user_id, owner, kind, message, event_id, created_at) VALUES ($1, 'old-timer', 'welcome', 'old', gen_random_uuid(), now() - make_interval(days => $2))",
                [userId, days],
            );
        }
        // Act: the nightly run, now (npm run queues -- fire notifications/purge).
        await fireSchedule(t.runtime.events.store, findLocalQueue(t.runtime.events.queues, "notifications/purge")!);
        // Assess
        await eventually(async () => (await rows(userId)) === 1, "purged");
        const [kept] = await notificationsOf(await as("old-timer"));
        assert.ok(Date.now() - Date.parse(kept.createdAt) < RETENTION.notificationDays * 86_400_000);
    });

    it("answers 400 to a malformed limit and 401 without a token", async () => {
        assert.equal((await (await as("ada")).get("/notifications?limit=0")).status, 400);
        assert.equal((await api(t.url).get(`/notifications?userId=${crypto.randomUUID()}`)).status, 401);
    });
});
