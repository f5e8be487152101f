/**
 * What database faults cost, measured (`npm run bench:faults`); the fault tests assert the
 * behaviour, this prints the figures:
 *
 * - a paused cluster: connections held silent, then refused, for `FAULTS_WINDOW_MS` (default 15 s)
 *   in front of a real PostgreSQL; when the migration run, a 29 s route and a 10 s route (twice in
 *   one container) were answered, and how;
 * - the local runtime (`local/start.ts` in its own process, serving the fixture registry of
 *   `testing/fixtures`) under load from `FAULTS_CLIENTS`
 *   clients (default 12) while every session is terminated and PostgreSQL is then stopped: the
 *   requests per phase by outcome, and the time to serve again after each fault.
 *
 * Prints a report and writes `bench/results/faults.json`.
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { createDatabase } from "../functions/runtime/data/database";
import { mintLocalToken } from "../local/issuer";
import { freePort, startLocalPostgres } from "../local/postgres";
import { localLogin, loginSecretFile, readOrCreateLoginSecret } from "../local/service-login";
import { summarizeLoad } from "../testing/api-load";
import { FIXTURE_REGISTRY_MODULE } from "../testing/fixtures";
import { notes } from "../testing/fixtures/registry";
import { pausedClusterScenario, type PausedClusterOutcome, type RouteCall } from "../testing/paused-cluster";
import { migrateAsLocalRuntime } from "../testing/postgres";
import { runtimeFaultScenario } from "../testing/runtime-faults";
import { jwtDirOf, killRuntimeProcess, startRuntimeProcess } from "../testing/runtime-process";

const WINDOW_MS = Number(process.env.FAULTS_WINDOW_MS ?? 15_000);
const CLIENTS = Number(process.env.FAULTS_CLIENTS ?? 12);
const seconds = (ms: number | undefined) => (ms === undefined ? "never" : `${(ms / 1000).toFixed(1)} s`);
const describeCall = (call: RouteCall) => `${call.status}${call.body?.error?.code ? ` ${call.body.error.code}` : ""} after ${seconds(call.durationMs)}`;

function temporaryDirectory(prefix: string): string {
    const directory = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
    fs.chmodSync(directory, 0o755); // PostgreSQL runs as its own user when we are root
    return directory;
}

async function pausedCluster(): Promise<Record<string, PausedClusterOutcome>> {
    const root = temporaryDirectory("bench-paused-");
    const postgres = await startLocalPostgres({ dataDir: path.join(root, "data"), persistent: false });
    const db = createDatabase({ connectionString: postgres.url });
    const login = localLogin(postgres.url, readOrCreateLoginSecret(loginSecretFile(path.join(root, "data"), true)));
    try {
        await migrateAsLocalRuntime(db, [notes], login);
        const outcomes: Record<string, PausedClusterOutcome> = {};
        for (const mode of ["silent", "refused"] as const) {
            await db.query(`CREATE DATABASE bench_${mode}`);
            const migrationDatabaseUrl = Object.assign(new URL(postgres.url), { pathname: `/bench_${mode}` }).toString();
            const outcome = await pausedClusterScenario({ routeDatabaseUrl: login.serviceDatabaseUrl(notes.name), migrationDatabaseUrl, passwordOf: login.passwordOf, mode, windowMs: WINDOW_MS });
            outcomes[mode] = outcome;
            console.log(`\nPaused cluster, connections ${mode === "silent" ? "held silent" : "refused"} for ${seconds(WINDOW_MS)}:`);
            console.log(`  migration run          ${outcome.migration.error ? `failed: ${outcome.migration.error}` : `applied ${outcome.migration.applied?.length} after ${seconds(outcome.migration.atMs)}`}`);
            console.log(`  route, 29 s timeout    ${describeCall(outcome.longRoute)}`);
            console.log(`  route, 10 s timeout    ${describeCall(outcome.shortRouteFirst)}; the next request: ${describeCall(outcome.shortRouteNext)}`);
        }
        return outcomes;
    } finally {
        await db.end();
        await postgres.stop();
        fs.rmSync(root, { recursive: true, force: true });
    }
}

async function runtimeFaults() {
    const root = temporaryDirectory("bench-runtime-faults-");
    const dataDir = path.join(root, "postgres");
    const run = startRuntimeProcess({ port: await freePort(), dataDir, args: ["--registry", FIXTURE_REGISTRY_MODULE] });
    try {
        const { url, databaseUrl } = await run.ready;
        const token = await mintLocalToken({ sub: "bench", dir: jwtDirOf(dataDir) });
        const outcome = await runtimeFaultScenario({ run, baseUrl: url, databaseUrl, dataDir, token, clients: CLIENTS });
        const summary = summarizeLoad(outcome.requests);
        console.log(`\nLocal runtime under load (${CLIENTS} clients; ${outcome.terminatedSessions} sessions terminated, then PostgreSQL stopped):`);
        for (const [phase, outcomes] of Object.entries(summary)) {
            console.log(`  ${phase.padEnd(34)} ${Object.entries(outcomes).map(([what, count]) => `${count} x ${what}`).join(", ")}`);
        }
        console.log(`  served again after the termination in ${seconds(outcome.recoveredAfterTerminationMs)}, after the stop in ${seconds(outcome.recoveredAfterRestartMs)}`);
        console.log(`  the runtime process is ${run.child.exitCode === null ? "still up" : `gone (exit ${run.child.exitCode})`}`);
        return { summary, terminatedSessions: outcome.terminatedSessions, recoveredAfterTerminationMs: outcome.recoveredAfterTerminationMs, recoveredAfterRestartMs: outcome.recoveredAfterRestartMs };
    } finally {
        killRuntimeProcess(run);
        fs.rmSync(root, { recursive: true, force: true });
    }
}

async function main(): Promise<void> {
    const results = { windowMs: WINDOW_MS, pausedCluster: await pausedCluster(), runtime: await runtimeFaults() };
    const file = path.join(__dirname, "results", "faults.json");
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, JSON.stringify(results, null, 2));
    console.log(`\nWrote ${path.relative(process.cwd(), file)}`);
}

main().then(
    () => process.exit(0),
    (error) => {
        console.error(error);
        process.exit(1);
    },
);
