/**
 * Measures function archives the way Lambda runs them: each unpacked archive is started in a fresh
 * process of the runtime's Node (`tests/support/lambda`), its handler loaded by the runtime's
 * rules and invoked with a request it answers, against an embedded PostgreSQL (route functions as
 * their service's role) and a local Secrets Manager endpoint (the migration function's master
 * secret). Also builds the size floor of an archive: the same code, fully minified.
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import * as esbuild from "esbuild";
import { bundleTarget, HANDLER_FILE } from "../../infra/function-packaging";
import { startLocalPostgres } from "../../local/postgres";
import { httpApiEvent } from "../../tests/support/events";
import { isolatedTempDir, unpackArchive, type MaterializedFunction } from "../../tests/support/lambda/archive";
import { localEnvironmentFor, provideRuntimeModules, startFunction } from "../../tests/support/lambda/runtime";
import { LOCAL_SECRET_ARN, startSecretsEndpoint } from "../../tests/support/lambda/secrets-manager";
import { trustRoles } from "../../tests/support/postgres";

/** An unpacked archive with what the program gave its function. */
export type RunnableArchive = Pick<MaterializedFunction, "name" | "handler" | "directory" | "environment" | "files" | "zippedBytes" | "unzippedBytes">;

export interface ArchiveMeasurement {
    name: string;
    zippedKB: number;
    unzippedKB: number;
    files: number;
    /** Median over the cold starts: from the load request to a resolved handler. */
    coldLoadMs: number;
    /** Median over the cold starts: the first invocation (the connection included for database functions, and the secret fetch for the migration function). */
    firstInvokeMs: number;
    /** Median of the warm invocations after the first cold start. */
    warmP50Ms: number;
}

export const median = (values: number[]): number => {
    const sorted = [...values].sort((a, b) => a - b);
    const middle = Math.floor(sorted.length / 2);
    return sorted.length % 2 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
};
export const round = (value: number, digits = 1) => Math.round(value * 10 ** digits) / 10 ** digits;

/** A request each function answers, with fresh data so that repeated invocations stay valid; the migration function gets the program's invocation input. */
function eventFor(name: string, n: number, migrationInput: unknown): unknown {
    const id = "00000000-0000-4000-8000-" + String(n).padStart(12, "0");
    const json = { "content-type": "application/json" };
    switch (name) {
        case "auth-post-auth":
            return httpApiEvent({ routeKey: "POST /auth", headers: json, body: JSON.stringify({ request: { type: "Create" } }) });
        case "users-post-users":
            return httpApiEvent({ routeKey: "POST /users", headers: json, body: JSON.stringify({ email: `bench-${process.pid}-${n}-${Date.now()}@example.com`, name: "Bench" }) });
        case "users-get-users":
            return httpApiEvent({ routeKey: "GET /users", query: "limit=20" });
        case "users-get-users-id":
            return httpApiEvent({ routeKey: "GET /users/{id}", path: `/users/${id}`, pathParameters: { id } });
        case "users-patch-users-id":
            return httpApiEvent({ routeKey: "PATCH /users/{id}", path: `/users/${id}`, pathParameters: { id }, headers: json, body: JSON.stringify({ name: "Renamed" }) });
        case "users-delete-users-id":
            return httpApiEvent({ routeKey: "DELETE /users/{id}", path: `/users/${id}`, pathParameters: { id } });
        default:
            return migrationInput;
    }
}

export interface ArchiveBench {
    /** `runs` cold starts of `archive` (load, first invocation), and `warm` invocations after the first. */
    measure(archive: RunnableArchive): Promise<ArchiveMeasurement>;
    /** The same code as `fn`'s archive, fully minified (identifiers too): the smallest this bundle gets. */
    floorOf(fn: RunnableArchive): Promise<RunnableArchive>;
    /** Where to unpack archives for `measure`. */
    readonly workDir: string;
    close(): Promise<void>;
}

/**
 * `migrationInput` is the input the program gives the migration function (its `Invocation`): the
 * services' roles, which the embedded PostgreSQL then trusts as Aurora lets them in with IAM tokens.
 */
export async function startArchiveBench(options: { runs: number; warm: number; migrationInput: { services: Array<{ loginRole: string }> } }): Promise<ArchiveBench> {
    const workDir = isolatedTempDir("bench-artifacts-");
    const postgresDir = fs.mkdtempSync(path.join(os.tmpdir(), "bench-pg-"));
    fs.chmodSync(postgresDir, 0o777);
    const runtimeModules = await provideRuntimeModules(["@aws-sdk/client-secrets-manager"], path.join(workDir, "runtime"));
    const [postgres, secrets] = await Promise.all([startLocalPostgres({ dataDir: path.join(postgresDir, "data"), persistent: false }), startSecretsEndpoint()]);
    await trustRoles(postgres.url, path.join(postgresDir, "data"), options.migrationInput.services.map((service) => service.loginRole));
    return {
        workDir,
        async measure(archive) {
            const environment = localEnvironmentFor(archive, postgres.port, { url: secrets.url, arn: LOCAL_SECRET_ARN });
            const loads: number[] = [];
            const firsts: number[] = [];
            const warm: number[] = [];
            for (let i = 0; i < options.runs; i++) {
                const lambda = startFunction(archive, { runtimeModules, environment });
                try {
                    loads.push((await lambda.load()).loadMs);
                    firsts.push((await lambda.invoke(eventFor(archive.name, i * 1000, options.migrationInput))).ms);
                    if (i === 0) for (let n = 1; n <= options.warm; n++) warm.push((await lambda.invoke(eventFor(archive.name, n, options.migrationInput))).ms);
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
            };
        },
        async floorOf(fn) {
            const source = fs.readFileSync(path.join(fn.directory, HANDLER_FILE), "utf8");
            const minified = await esbuild.transform(source, { minify: true, legalComments: "none", target: bundleTarget() });
            const unpacked = unpackArchive([{ path: HANDLER_FILE, data: Buffer.from(minified.code) }], path.join(workDir, "floor"), fn.name);
            return { ...fn, ...unpacked };
        },
        async close() {
            await postgres.stop();
            await secrets.close();
            fs.rmSync(workDir, { recursive: true, force: true });
            fs.rmSync(postgresDir, { recursive: true, force: true });
        },
    };
}
