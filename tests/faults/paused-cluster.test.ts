/**
 * A paused dev cluster: for a while new connections are held silent (as a resuming Aurora
 * Serverless v2 cluster holds them) or refused, in front of a real PostgreSQL. The migration
 * function (which `pulumi up` waits on) and a route whose timeout covers the window must succeed; a
 * route whose timeout ends inside the window must answer a clean 503 before its timeout, and the
 * next request in the same container must succeed.
 *
 * The cloud's numbers (a 15 s resume, routes of 29 s and of the dev stack's 10 s) are scaled down
 * to a 6 s window, 10 s and 5 s routes, in the same order: the long timeout ends after the window,
 * the short one inside it, the short route's next request after it; a held connection still times
 * out (the 5 s connect timeout) and is tried again within the window. `npm run bench:faults` runs
 * the cloud's numbers and prints the timings.
 */
import * as assert from "node:assert/strict";
import notes from "../../testing/fixtures/services/notes/service";
import { pausedClusterRegistry, pausedClusterScenario, type RouteCall } from "../../testing/paused-cluster";
import { usePostgres } from "../support/postgres";

const WINDOW_MS = 6_000;
const LONG_TIMEOUT_SECONDS = 10;
const SHORT_TIMEOUT_SECONDS = 5;

function assertDatabaseUnavailable(call: RouteCall): void {
    assert.equal(call.status, 503, JSON.stringify(call.body));
    assert.equal(call.body?.error?.code, "database_unavailable");
    assert.equal(typeof call.body.error.message, "string");
    assert.equal(call.body.error.requestId, call.headers["x-request-id"]);
    assert.equal(call.headers["retry-after"], "1");
    assert.match(call.headers["content-type"], /^application\/json/);
}

describe("faults: a paused cluster (connections held or refused for a while)", function () {
    this.timeout(45_000);
    const postgres = usePostgres({ services: [notes] });

    for (const mode of ["silent", "refused"] as const) {
        it(`${mode}: the migration run and a route whose timeout covers the window succeed; a shorter route answers 503 before its timeout and the next request succeeds`, async () => {
            // Prepare: a database the migration run has not seen yet.
            const migrationDatabase = `paused_${mode}`;
            await postgres().sql(`CREATE DATABASE ${migrationDatabase}`);
            const migrationDatabaseUrl = Object.assign(new URL(postgres().server.url), { pathname: `/${migrationDatabase}` }).toString();

            // Act
            const outcome = await pausedClusterScenario({
                routeDatabaseUrl: postgres().serviceUrl(notes.name),
                migrationDatabaseUrl,
                passwordOf: postgres().login.passwordOf,
                mode,
                windowMs: WINDOW_MS,
                longTimeoutSeconds: LONG_TIMEOUT_SECONDS,
                shortTimeoutSeconds: SHORT_TIMEOUT_SECONDS,
            });

            // Assess: the migration waited the window out.
            const expected = pausedClusterRegistry().migrations.map((m) => `${m.service}/${m.version}_${m.name}`);
            assert.deepEqual(outcome.migration, { applied: expected, atMs: outcome.migration.atMs });
            assert.ok(outcome.migration.atMs >= WINDOW_MS - 500, `migrated after ${outcome.migration.atMs} ms`);
            // The long route succeeded once the cluster answered, inside its timeout.
            assert.equal(outcome.longRoute.status, 200, JSON.stringify(outcome.longRoute.body));
            assert.ok(Array.isArray(outcome.longRoute.body.items));
            assert.ok(outcome.longRoute.durationMs < LONG_TIMEOUT_SECONDS * 1000);
            // The short route gave up in time to answer cleanly, a second before its timeout...
            assertDatabaseUnavailable(outcome.shortRouteFirst);
            assert.ok(outcome.shortRouteFirst.durationMs >= SHORT_TIMEOUT_SECONDS * 1000 - 1500 && outcome.shortRouteFirst.durationMs < SHORT_TIMEOUT_SECONDS * 1000, `503 after ${outcome.shortRouteFirst.durationMs} ms`);
            // ...and the next request in the same container succeeded.
            assert.equal(outcome.shortRouteNext.status, 200, JSON.stringify(outcome.shortRouteNext.body));
            assert.ok(outcome.shortRouteNext.durationMs < SHORT_TIMEOUT_SECONDS * 1000);
        });
    }
});
