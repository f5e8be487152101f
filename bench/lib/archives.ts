/**
 * Measures function archives the way Lambda runs them: each unpacked archive is started in a fresh
 * process of the runtime's Node (`testing/lambda`), its handler loaded by the runtime's
 * rules and invoked with a request derived from its route key (`routeEvent`: any registry's routes,
 * none left out), against an embedded PostgreSQL (route functions as their service's role) and a
 * local Secrets Manager endpoint (the migration launcher's master secret, and placeholder values
 * of the services' declared secrets), the launcher reaching its worker through a local stand-in of
 * Lambda's `Invoke`. Every answer's status is
 * checked: a 5xx, or anything but an API Gateway response, stops the benchmark naming the route,
 * since its figures would measure a failure. Also builds the size floor of an archive: the same
 * code, fully minified.
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import * as esbuild from "esbuild";
import { ENVIRONMENT } from "../../functions/runtime/environment";
import { bundleTarget, HANDLER_FILE } from "../../infra/function-packaging";
import { startLocalPostgres } from "../../local/postgres";
import { routeEvent } from "../../testing/events";
import { isolatedTempDir, unpackArchive, type MaterializedFunction } from "../../testing/lambda/archive";
import { startEventBridgeEndpoint } from "../../testing/lambda/eventbridge";
import { startRelayCheckEndpoint } from "../../testing/lambda/relay-check-apis";
import { startS3Endpoint } from "../../testing/lambda/s3";
import { startInvokeEndpoint } from "../../testing/lambda/lambda-invoke";
import { localEnvironmentWithEndpoints, provideRuntimeModules, RUNTIME_SDK_CLIENTS, startFunction } from "../../testing/lambda/runtime";
import { LOCAL_SECRET_ARN, credentialsOf, startSecretsEndpoint } from "../../testing/lambda/secrets-manager";
import { trustRoles } from "../../testing/postgres";

/** An unpacked archive with what the program gave its function. */
export type RunnableArchive = Pick<MaterializedFunction, "name" | "handler" | "directory" | "environment" | "files" | "zippedBytes" | "unzippedBytes">;

export interface ArchiveMeasurement {
    name: string;
    zippedKB: number;
    unzippedKB: number;
    files: number;
    /** Median over the cold starts: from the load request to a resolved handler. */
    coldLoadMs: number;
    /** Median over the cold starts: the first invocation (the connection included for database functions, and for the migration launcher the secret fetch and the worker's run). */
    firstInvokeMs: number;
    /** Median of the warm invocations after the first cold start. */
    warmP50Ms: number;
    /** The statuses the route answered (none for the migration functions). */
    statuses: number[];
}

export const median = (values: number[]): number => {
    const sorted = [...values].sort((a, b) => a - b);
    const middle = Math.floor(sorted.length / 2);
    return sorted.length % 2 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
};
export const round = (value: number, digits = 1) => Math.round(value * 10 ** digits) / 10 ** digits;

/** The migration functions' names in the program: the launcher each service's invocation calls, and the worker it invokes. */
export const MIGRATION_FUNCTIONS = { launcher: "migrations-launcher", worker: "migrations-function" } as const;

/**
 * What `archive` is invoked with: a request its route answers (fresh data for each `n`, so repeated
 * invocations stay valid), or for the migration launcher one of the program's invocation inputs
 * (one per database service), in turn, so the first run's warm invocations migrate every service;
 * the worker gets the same inputs as the launcher sends them, with the master user's credentials.
 */
export function eventFor(archive: RunnableArchive, n: number, migration: { inputs: readonly unknown[]; credentials: { username: string; password: string } }): unknown {
    const routeKey = archive.environment.ROUTE_KEY;
    if (routeKey) return routeEvent(routeKey, n);
    const input = migration.inputs[n % migration.inputs.length];
    return archive.name === MIGRATION_FUNCTIONS.worker ? { request: input, credentials: migration.credentials } : input;
}

/** The status of a route's answer; throws, naming the route, on a 5xx or on what is no response at all. */
export function checkedStatus(archive: RunnableArchive, result: unknown): number | undefined {
    const routeKey = archive.environment.ROUTE_KEY;
    if (!routeKey) return undefined;
    const { statusCode, body } = (result ?? {}) as { statusCode?: unknown; body?: unknown };
    if (typeof statusCode !== "number" || statusCode >= 500) {
        throw new Error(`${archive.name} (${routeKey}) answered ${JSON.stringify(statusCode)} ${String(body ?? "").slice(0, 300)}: its figures would measure a failure`);
    }
    return statusCode;
}

export interface ArchiveBench {
    /**
     * `runs` cold starts of `archive` (load, first invocation), and `warm` invocations after the
     * first. The migration launcher needs `worker`: the archive its invocations run (one warm process).
     */
    measure(archive: RunnableArchive, worker?: RunnableArchive): Promise<ArchiveMeasurement>;
    /** The same code as `fn`'s archive, fully minified (identifiers too): the smallest this bundle gets. */
    floorOf(fn: RunnableArchive): Promise<RunnableArchive>;
    /** Where to unpack archives for `measure`. */
    readonly workDir: string;
    close(): Promise<void>;
}

/**
 * `migrationInputs` are the inputs the program gives the migration function (an `Invocation` per
 * database service): their roles, which the embedded PostgreSQL then trusts as Aurora lets them in
 * with IAM tokens.
 */
export async function startArchiveBench(options: {
    runs: number;
    warm: number;
    migrationInputs: ReadonlyArray<{ service: { loginRole: string } }>;
    /** The services' secrets the stand-in Secrets Manager holds, by ARN (`placeholderSecretValues`). @default none */
    serviceSecrets?: Map<string, string>;
}): Promise<ArchiveBench> {
    const workDir = isolatedTempDir("bench-artifacts-");
    const postgresDir = fs.mkdtempSync(path.join(os.tmpdir(), "bench-pg-"));
    fs.chmodSync(postgresDir, 0o777);
    const runtimeModules = await provideRuntimeModules(RUNTIME_SDK_CLIENTS);
    const [postgres, eventBridge, relayCheckApis, s3] = await Promise.all([
        startLocalPostgres({ dataDir: path.join(postgresDir, "data"), persistent: false }),
        startEventBridgeEndpoint(),
        startRelayCheckEndpoint(),
        startS3Endpoint(),
    ]);
    const secrets = await startSecretsEndpoint(credentialsOf(postgres.url), options.serviceSecrets);
    await trustRoles(postgres.url, path.join(postgresDir, "data"), options.migrationInputs.map((input) => input.service.loginRole));
    const migration = { inputs: options.migrationInputs, credentials: credentialsOf(postgres.url) };
    const environmentOf = (archive: RunnableArchive) =>
        localEnvironmentWithEndpoints(archive, { postgresPort: postgres.port, secrets: { url: secrets.url, arn: LOCAL_SECRET_ARN }, eventBridgeUrl: eventBridge.url, relayCheckEnvironment: relayCheckApis.environment, s3Url: s3.url });
    /** `runs` cold starts of `archive` in `environment`, and `warm` invocations after the first. */
    const measureArchive = async (archive: RunnableArchive, environment: Record<string, string>): Promise<ArchiveMeasurement> => {
        const loads: number[] = [];
        const firsts: number[] = [];
        const warm: number[] = [];
        const statuses = new Set<number>();
        const invoke = async (lambda: ReturnType<typeof startFunction>, n: number) => {
            const { ms, result } = await lambda.invoke(eventFor(archive, n, migration));
            const status = checkedStatus(archive, result);
            if (status !== undefined) statuses.add(status);
            return ms;
        };
        for (let i = 0; i < options.runs; i++) {
            const lambda = startFunction(archive, { runtimeModules, environment });
            try {
                loads.push((await lambda.load()).loadMs);
                firsts.push(await invoke(lambda, i * 1000));
                if (i === 0) for (let n = 1; n <= options.warm; n++) warm.push(await invoke(lambda, n));
            } finally {
                await lambda.stop();
            }
        }
        return {
            name: archive.name,
            zippedKB: round(archive.zippedBytes / 1024),
            unzippedKB: round(archive.unzippedBytes / 1024),
            files: archive.files.length,
            coldLoadMs: round(median(loads)),
            firstInvokeMs: round(median(firsts)),
            warmP50Ms: round(median(warm), 2),
            statuses: [...statuses].sort((a, b) => a - b),
        };
    };
    return {
        workDir,
        async measure(archive, worker) {
            // The launcher's worker, warm in its own process behind Lambda's stand-in for the whole measurement.
            const launches = archive.environment[ENVIRONMENT.migrationWorkerFunction];
            if (launches !== undefined && !worker) throw new Error(`${archive.name} invokes ${launches}: measure it with the worker's archive.`);
            const workerProcess = launches !== undefined && worker ? startFunction(worker, { runtimeModules, environment: environmentOf(worker) }) : undefined;
            await workerProcess?.load();
            const invokeEndpoint = workerProcess ? await startInvokeEndpoint((name) => (name === launches ? workerProcess : undefined)) : undefined;
            const environment = { ...environmentOf(archive), ...invokeEndpoint?.environment };
            try {
                return await measureArchive(archive, environment);
            } finally {
                await workerProcess?.stop();
                await invokeEndpoint?.close();
            }
        },
        async floorOf(fn) {
            const source = fs.readFileSync(path.join(fn.directory, HANDLER_FILE), "utf8");
            const minified = await esbuild.transform(source, { minify: true, legalComments: "none", target: bundleTarget() });
            const unpacked = unpackArchive([{ path: HANDLER_FILE, data: Buffer.from(minified.code) }], path.join(workDir, "floor"), fn.name);
            return { ...fn, ...unpacked };
        },
        async close() {
            await postgres.stop();
            await Promise.all([secrets.close(), eventBridge.close(), relayCheckApis.close(), s3.close()]);
            fs.rmSync(workDir, { recursive: true, force: true });
            fs.rmSync(postgresDir, { recursive: true, force: true });
        },
    };
}
