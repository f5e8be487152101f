/**
 * The database faults a running local runtime must ride out, under load: every server-side session
 * terminated (what an Aurora failover, reboot, scaling event or `idle_session_timeout` does to kept
 * connections), then PostgreSQL stopped (fast shutdown) and left to the runtime to start again.
 * The fault test asserts on the outcome; `bench/faults.ts` prints it.
 */
import * as pg from "pg";
import { startApiLoad, recoveredAfterMs, type LoadRequest } from "./api-load";
import { postmasterPid, waitFor, type RuntimeProcess } from "./runtime-process";

export interface RuntimeFaultOutcome {
    /** Sessions `pg_terminate_backend` ended. */
    terminatedSessions: number;
    requests: readonly LoadRequest[];
    acknowledgedIds: readonly string[];
    /** From the termination, and from the stop, to the API serving again. */
    recoveredAfterTerminationMs?: number;
    recoveredAfterRestartMs?: number;
}

export const PHASES = { steady: "steady", terminated: "sessions terminated", restart: "PostgreSQL stopped and restarted", recovered: "recovered" } as const;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export async function runtimeFaultScenario(options: { run: RuntimeProcess; baseUrl: string; databaseUrl: string; dataDir: string; token: string; clients: number }): Promise<RuntimeFaultOutcome> {
    const load = startApiLoad({ baseUrl: options.baseUrl, token: options.token, clients: options.clients, phase: PHASES.steady });
    try {
        await sleep(1000);

        load.phase(PHASES.terminated);
        const terminatedAt = Date.now();
        const admin = new pg.Client({ connectionString: options.databaseUrl });
        admin.on("error", () => undefined); // its own session ends in the restart below
        await admin.connect();
        let terminatedSessions = 0;
        // Three rounds, so that connections opened after the first are caught as well.
        for (let round = 0; round < 3; round++) {
            const { rows } = await admin.query<{ ended: boolean }>(
                "SELECT pg_terminate_backend(pid) AS ended FROM pg_stat_activity WHERE datname = 'app' AND pid <> pg_backend_pid() AND backend_type = 'client backend'",
            );
            terminatedSessions += rows.filter((row) => row.ended).length;
            await sleep(200);
        }
        await admin.end();
        await sleep(1500);

        load.phase(PHASES.restart);
        const stoppedAt = Date.now();
        process.kill(postmasterPid(options.dataDir), "SIGINT");
        await waitFor(() => options.run.output().includes("PostgreSQL is running again"), 20_000, "the runtime did not start PostgreSQL again");
        await sleep(1000);

        load.phase(PHASES.recovered);
        await sleep(1000);
        const requests = await load.stop();
        return {
            terminatedSessions,
            requests,
            acknowledgedIds: load.acknowledgedIds(),
            recoveredAfterTerminationMs: recoveredAfterMs(requests.filter((entry) => entry.phase === PHASES.terminated), terminatedAt),
            recoveredAfterRestartMs: recoveredAfterMs(requests.filter((entry) => entry.phase === PHASES.restart), stoppedAt),
        };
    } finally {
        await load.stop();
    }
}
