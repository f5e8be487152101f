/**
 * `local/start.ts` in its own process, as `npm start` runs it (serving the fixture registry and a
 * fixture container service), while its database fails under load: sessions terminated, then
 * PostgreSQL stopped and started again. Then the runtime is killed with SIGKILL: no PostgreSQL (and
 * no container service's process) may survive it, and the next start on the same data folder must work.
 */
import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import * as pg from "pg";
import { freePort, processInfo } from "../../local/postgres";
import { mintLocalToken } from "../../local/issuer";
import { request } from "../../testing/local-runtime";
import { FIXTURE_CONTAINER_REGISTRY_MODULE } from "../../testing/fixtures";
import { summarizeLoad } from "../../testing/api-load";
import { PHASES, runtimeFaultScenario } from "../../testing/runtime-faults";
import { jwtDirOf, killRuntimeProcess, postmasterPid, processesMentioning, startRuntimeProcess, waitFor } from "../../testing/runtime-process";
import { seedPostgresDataFolder } from "../../testing/postgres-template";

describe("faults: the local runtime under load while its database fails", function () {
    this.timeout(90_000);
    const root = fs.mkdtempSync(path.join(os.tmpdir(), "local-faults-"));
    fs.chmodSync(root, 0o755); // PostgreSQL runs as its own user when we are root
    const dataDir = path.join(root, "postgres");
    after(() => fs.rmSync(root, { recursive: true, force: true }));

    it("stays up through terminated sessions and a PostgreSQL restart; then a SIGKILL leaves no PostgreSQL and the next start works", async () => {
        // Prepare
        await seedPostgresDataFolder(dataDir);
        const run = startRuntimeProcess({ port: await freePort(), dataDir, args: ["--registry", FIXTURE_CONTAINER_REGISTRY_MODULE] });
        let rerun: ReturnType<typeof startRuntimeProcess> | undefined;
        try {
            const { url, databaseUrl } = await run.ready;
            const token = await mintLocalToken({ sub: "load", dir: jwtDirOf(dataDir) });

            // Act: twelve clients (more than the routes' ten containers, so requests queue for them).
            const outcome = await runtimeFaultScenario({ run, baseUrl: url, databaseUrl, dataDir, token, clients: 12 });

            // Assess: the process is up, and said why PostgreSQL came back.
            const summary = summarizeLoad(outcome.requests);
            const context = `${JSON.stringify(summary)}\n${run.output()}`;
            assert.equal(run.child.exitCode, null, context);
            assert.ok(outcome.terminatedSessions > 0, context);
            assert.match(run.output(), /PostgreSQL \(pid \d+\) stopped without being asked to/);
            // Every request got an HTTP answer: success, or the platform's 503 JSON error with retry-after.
            for (const entry of outcome.requests) {
                assert.equal(entry.transportError, undefined, `${entry.route} in "${entry.phase}": ${entry.transportError}\n${context}`);
                if (entry.status === 503) {
                    assert.equal(entry.errorCode, "database_unavailable", context);
                    assert.equal(entry.retryAfter, "1");
                } else {
                    assert.ok([200, 201].includes(entry.status!), `${entry.route} in "${entry.phase}": ${entry.status} ${entry.errorCode}\n${context}`);
                }
            }
            // Before and after the faults, everything succeeds.
            for (const phase of [PHASES.steady, PHASES.recovered]) {
                const answered = outcome.requests.filter((entry) => entry.phase === phase);
                assert.ok(answered.length > 20, `${phase}: ${answered.length} requests`);
                assert.ok(answered.every((entry) => entry.status === 200 || entry.status === 201), `${phase}: ${JSON.stringify(summary[phase])}`);
            }
            // No acknowledged write is lost.
            const sql = new pg.Client({ connectionString: databaseUrl });
            sql.on("error", () => undefined);
            await sql.connect();
            const { rows } = await sql.query<{ n: number }>("SELECT count(*)::int AS n FROM notes.notes WHERE id = ANY($1::uuid[])", [outcome.acknowledgedIds]);
            await sql.end();
            assert.equal(rows[0].n, outcome.acknowledgedIds.length, `acknowledged ${outcome.acknowledgedIds.length}, stored ${rows[0].n}`);

            // Act: SIGKILL, which runs no cleanup code at all.
            const postgresPid = postmasterPid(dataDir);
            const containerPids = [...run.output().matchAll(/Container service \S+ serves on \S+ \(process, pid (\d+)\)/g)].map((match) => Number(match[1]));
            assert.equal(containerPids.length, 1, run.output());
            process.kill(run.child.pid!, "SIGKILL");
            await run.exited();

            // Assess: within a few seconds, nothing of that PostgreSQL runs any more (nor its watchdog).
            await waitFor(() => !processInfo(postgresPid).running, 5_000, `PostgreSQL ${postgresPid} survived its runtime`);
            await waitFor(() => processesMentioning(dataDir).length === 0, 5_000, `still running: ${JSON.stringify(processesMentioning(dataDir))}`);
            // Nor its container services' processes (their leash sees the runtime's end of the pipe close).
            await waitFor(() => containerPids.every((pid) => !processInfo(pid).running), 10_000, `container processes ${containerPids.join(", ")} survived their runtime`);

            // Act: the next start on the same data folder.
            rerun = startRuntimeProcess({ port: await freePort(), dataDir, args: ["--registry", FIXTURE_CONTAINER_REGISTRY_MODULE] });
            const again = await rerun.ready;
            // Assess: it serves the data that was acknowledged before.
            const read = await request(again.url, { path: `/notes/${outcome.acknowledgedIds[0]}` });
            assert.equal(read.status, 200, read.text);
            process.kill(rerun.child.pid!, "SIGTERM");
            assert.equal(await rerun.exited(), 0, rerun.output());
        } finally {
            killRuntimeProcess(run);
            if (rerun) killRuntimeProcess(rerun);
        }
    });
});
