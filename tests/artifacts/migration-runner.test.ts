/**
 * The platform's migration functions as they ship: the launcher's and the worker's archives built
 * by the real program (offline) for a registry of two database services deployed a stack per
 * service (the runner from `dev-platform`, each service's invocation from its own stack; the
 * one-stack layout registers the same, `tests/infra/layouts.test.ts`), unpacked where the
 * repository's packages are out of reach, and run as Lambda runs them, in this process
 * (`testing/lambda/in-process.ts`) so that `aws-sdk-client-mock` stands in for AWS: Secrets
 * Manager answers the launcher's read of the master secret with the embedded PostgreSQL's
 * superuser, and Lambda's `Invoke` runs the worker's archive with the payload the launcher sent,
 * answering as Lambda does (a result, or `FunctionError` with the error's type and message). The
 * launcher is invoked with each service's own invocation input as its stack registers it; what it
 * returns is what `pulumi up` of that service's stack sees: a rejection here is the error the
 * `aws.lambda.Invocation` fails that stack's update with.
 */
import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import * as pg from "pg";
import { InvokeCommand, LambdaClient, type InvokeCommandInput, type InvokeCommandOutput } from "@aws-sdk/client-lambda";
import { GetSecretValueCommand, SecretsManagerClient } from "@aws-sdk/client-secrets-manager";
import { mockClient } from "aws-sdk-client-mock";
import type { ServiceMigrationRequest } from "../../functions/runtime/data/migrations";
import { ENVIRONMENT } from "../../functions/runtime/environment";
import { defineService } from "../../functions/runtime/service";
import { startLocalPostgres, type LocalPostgres } from "../../local/postgres";
import { LAMBDA } from "../../policy/lib/limits";
import { Types } from "../../policy/lib/types";
import { isolatedTempDir, lambdaFunctions, materializeFunction, type MaterializedFunction } from "../../testing/lambda/archive";
import { loadInProcess, type InProcessFunction } from "../../testing/lambda/in-process";
import { localDatabaseEnvironment } from "../../testing/lambda/runtime";
import { credentialsOf } from "../../testing/lambda/secrets-manager";
import { seedPostgresDataFolder } from "../../testing/postgres-template";
import { readStackConfig, runProgramOffline } from "../../tools/offline";
import { withLayout } from "../../testing/layouts";

/** A database service whose migrations folder holds `files`. */
function databaseService(root: string, name: string, files: Record<string, string>) {
    const dir = path.join(root, name);
    fs.mkdirSync(dir);
    for (const [file, sql] of Object.entries(files)) fs.writeFileSync(path.join(dir, file), sql);
    return defineService({ name, description: name, database: true, migrationsDir: dir, routes: { [`GET /${name}`]: { handler: async () => ({}) } } });
}

const encode = (value: unknown) => new TextEncoder().encode(JSON.stringify(value));

describe("the migration launcher's and worker's archives, invoked with each service's own input", function () {
    this.timeout(120_000);
    let workDir: string;
    let postgresDir: string;
    let postgres: LocalPostgres;
    let launcherArchive: MaterializedFunction;
    let workerArchive: MaterializedFunction;
    let launcher: InProcessFunction;
    let worker: InProcessFunction;
    /** The worker's deployed name: the one function Lambda's stand-in knows. */
    let workerName: string;
    /** The master user's credentials, as the cluster's secret holds them. */
    let master: { username: string; password: string };
    /** Each service's invocation input, as the program registered it. */
    const inputs = new Map<string, ServiceMigrationRequest>();
    const secretsManager = mockClient(SecretsManagerClient);
    const lambda = mockClient(LambdaClient);
    /** What the launcher's `Invoke` calls carried. */
    let invocations: InvokeCommandInput[] = [];
    /** Everything written to stdout and stderr while a function ran. */
    let written = "";

    const query = async <Row extends object>(sql: string, values: unknown[] = []): Promise<Row[]> => {
        const client = new pg.Client({ connectionString: postgres.url });
        await client.connect();
        try {
            return (await client.query<Row>(sql, values)).rows;
        } finally {
            await client.end();
        }
    };
    const recorded = () => query<{ service: string; version: number }>("SELECT service, version FROM platform.schema_migrations ORDER BY service, version");
    const schemas = async () => (await query<{ name: string }>("SELECT nspname AS name FROM pg_namespace WHERE nspname IN ('platform', 'alpha', 'beta') ORDER BY 1")).map((row) => row.name);
    const secretReads = () => secretsManager.commandCalls(GetSecretValueCommand).length;
    /** The master secret answers with `values`, in turn, the last one from then on. */
    const secretHolds = (...values: Array<{ username: string; password: string }>) => {
        let behaviour = secretsManager.on(GetSecretValueCommand, { SecretId: launcherArchive.environment[ENVIRONMENT.databaseSecretArn] });
        for (const value of values.slice(0, -1)) behaviour = behaviour.resolvesOnce({ SecretString: JSON.stringify(value) });
        behaviour.resolves({ SecretString: JSON.stringify(values.at(-1)) });
    };
    /** Runs `work` with stdout and stderr captured into `written`. */
    const capturing = async <T>(work: () => Promise<T>): Promise<T> => {
        const [out, err] = [process.stdout.write, process.stderr.write];
        const capture = (chunk: unknown) => ((written += String(chunk)), true);
        process.stdout.write = capture as typeof process.stdout.write;
        process.stderr.write = capture as typeof process.stderr.write;
        try {
            return await work();
        } finally {
            [process.stdout.write, process.stderr.write] = [out, err];
        }
    };
    const launch = (event: unknown) => capturing(() => launcher.invoke(event));

    before(async () => {
        // Prepare: alpha's migrations apply; beta's second one fails (a type PostgreSQL does not have).
        workDir = isolatedTempDir("migration-runner-");
        const registry = [
            databaseService(workDir, "alpha", { "0001_create_things.sql": "CREATE TABLE things (id int PRIMARY KEY, label text NOT NULL);", "0002_seed_things.sql": "INSERT INTO things VALUES (1, 'kept');" }),
            databaseService(workDir, "beta", { "0001_create_items.sql": "CREATE TABLE items (id int);", "0002_broken.sql": "ALTER TABLE items\n  ADD price moneyy;" }),
        ];
        const environments = { dev: withLayout(readStackConfig("dev"), "stack-per-service") };
        const platform = await runProgramOffline({ stack: "dev-platform", services: registry, environments });
        assert.deepEqual(platform.resources.filter((resource) => resource.type === Types.lambdaInvocation), [], "the platform stack runs no service's migrations");
        const launcherResource = lambdaFunctions(platform.resources).find((fn) => fn.name === "migrations-launcher")!;
        for (const service of ["alpha", "beta"]) {
            const run = await runProgramOffline({ stack: `dev-${service}`, services: registry, environments });
            const invocations = run.resources.filter((resource) => resource.type === Types.lambdaInvocation);
            assert.deepEqual(invocations.map((invocation) => invocation.name), [`${service}-migrations`], `dev-${service} invokes the runner for its own service alone`);
            assert.equal(invocations[0].inputs.functionName, launcherResource.outputs.name, "the invocation calls the launcher");
            const input = JSON.parse(invocations[0].inputs.input) as ServiceMigrationRequest;
            assert.equal(input.service.service, service);
            inputs.set(service, input);
        }
        launcherArchive = await materializeFunction(launcherResource, path.join(workDir, "functions"));
        const workerResource = lambdaFunctions(platform.resources).find((fn) => fn.name === "migrations-function")!;
        workerArchive = await materializeFunction(workerResource, path.join(workDir, "functions"));
        workerName = workerResource.outputs.name;
        assert.equal(launcherArchive.environment[ENVIRONMENT.migrationWorkerFunction], workerName, "the launcher is told the worker's name");

        postgresDir = fs.mkdtempSync(path.join(os.tmpdir(), "migration-runner-pg-"));
        fs.chmodSync(postgresDir, 0o777);
        const dataDir = path.join(postgresDir, "data");
        await seedPostgresDataFolder(dataDir);
        postgres = await startLocalPostgres({ dataDir, persistent: false });
        master = credentialsOf(postgres.url);
        // The worker reaches the embedded PostgreSQL (no TLS) where the program pointed it at the cluster; the launcher needs nothing changed.
        launcher = loadInProcess(launcherArchive);
        worker = loadInProcess(workerArchive, localDatabaseEnvironment(postgres.port));
    });

    beforeEach(async () => {
        // Each test starts from a database no run has touched (roles are cluster-wide and harmless to keep).
        await query("DROP SCHEMA IF EXISTS platform, alpha, beta CASCADE");
        secretsManager.reset();
        lambda.reset();
        invocations = [];
        written = "";
        secretHolds(master);
        // Lambda's Invoke of the worker, as the service answers a synchronous invocation.
        lambda.on(InvokeCommand).callsFake(async (input: InvokeCommandInput): Promise<Partial<InvokeCommandOutput>> => {
            invocations.push(input);
            if (input.FunctionName !== workerName) throw Object.assign(new Error(`Function not found: ${input.FunctionName}`), { name: "ResourceNotFoundException" });
            const payload = input.Payload as Uint8Array;
            if (payload.byteLength > LAMBDA.payloadBytes) throw Object.assign(new Error("Request must be smaller than 6291456 bytes for the InvokeFunction operation"), { name: "RequestTooLargeException" });
            const answer = await worker.invokeReported(JSON.parse(new TextDecoder().decode(payload)));
            return "error" in answer ? { StatusCode: 200, FunctionError: "Unhandled", Payload: encode({ ...answer.error, trace: [] }) as InvokeCommandOutput["Payload"] } : { StatusCode: 200, Payload: encode(answer.result) as InvokeCommandOutput["Payload"] };
        });
    });

    after(async () => {
        secretsManager.restore();
        lambda.restore();
        await postgres?.stop();
        if (workDir) fs.rmSync(workDir, { recursive: true, force: true });
        if (postgresDir) fs.rmSync(postgresDir, { recursive: true, force: true });
    });

    it("holds neither service's SQL in either archive: each service's input carries its own", () => {
        for (const archive of [launcherArchive, workerArchive]) {
            const source = fs.readFileSync(path.join(archive.directory, archive.files[0]), "utf8");
            for (const statement of ["CREATE TABLE things", "INSERT INTO things", "CREATE TABLE items", "moneyy"]) assert.ok(!source.includes(statement), `${archive.name} holds "${statement}"`);
        }
        assert.deepEqual(inputs.get("alpha")!.migrations.map((m) => m.name), ["create_things", "seed_things"]);
        assert.deepEqual(inputs.get("beta")!.migrations.map((m) => m.name), ["create_items", "broken"]);
    });

    it("bundles pg into the worker alone, and leaves the launcher nothing but the runtime's Secrets Manager and Lambda clients", () => {
        const required = (archive: MaterializedFunction) =>
            [...new Set([...fs.readFileSync(path.join(archive.directory, archive.files[0]), "utf8").matchAll(/\brequire\("(@aws-sdk\/[^"]+)"\)/g)].map((match) => match[1]))].sort();
        assert.deepEqual(launcherArchive.packages, []);
        assert.ok(workerArchive.packages.includes("pg"), workerArchive.packages.join(", "));
        assert.deepEqual(required(launcherArchive), ["@aws-sdk/client-lambda", "@aws-sdk/client-secrets-manager"]);
        assert.deepEqual(required(workerArchive), []);
    });

    it("applies service alpha's input: the launcher reads the master secret once and has the worker run the request, synchronously, on its newest code", async () => {
        // Act
        const result = await launch(inputs.get("alpha"));
        // Assess
        assert.deepEqual(result, { applied: ["alpha/1_create_things", "alpha/2_seed_things"], alreadyApplied: 0 });
        assert.deepEqual(await recorded(), [{ service: "alpha", version: 1 }, { service: "alpha", version: 2 }]);
        assert.deepEqual(await schemas(), ["alpha", "platform"]);
        assert.deepEqual(await query("SELECT id, label FROM alpha.things"), [{ id: 1, label: "kept" }]);
        assert.deepEqual(await query("SELECT rolname, rolconnlimit FROM pg_roles WHERE rolname = 'alpha_app'"), [{ rolname: "alpha_app", rolconnlimit: inputs.get("alpha")!.service.connectionLimit }]);
        assert.equal(secretReads(), 1);
        assert.equal(invocations.length, 1);
        const [call] = invocations;
        assert.deepEqual([call.FunctionName, call.InvocationType, call.Qualifier, call.LogType], [launcherArchive.environment[ENVIRONMENT.migrationWorkerFunction], "RequestResponse", undefined, undefined]);
        assert.deepEqual(JSON.parse(new TextDecoder().decode(call.Payload as Uint8Array)), { request: inputs.get("alpha"), credentials: master });
    });

    it("fails dev-beta's up (its invocation) with the worker's error, naming the file, line and service, while alpha's runs before and after succeed and keep alpha's data", async () => {
        // Prepare
        await launch(inputs.get("alpha"));
        // Act
        const failed = launch(inputs.get("beta"));
        // Assess: the error the invocation (and so beta's `pulumi up`) fails with; nothing of beta's run stays.
        await assert.rejects(failed, (error: Error) => {
            assert.match(error.message, /^Migration .*beta\/0002_broken\.sql:2:\d+ of service "beta" \(version 2\) failed: type "moneyy" does not exist.*Nothing of this run was applied\.$/s);
            assert.equal(error.name, "Error");
            return true;
        });
        assert.deepEqual(await recorded(), [{ service: "alpha", version: 1 }, { service: "alpha", version: 2 }]);
        assert.deepEqual(await schemas(), ["alpha", "platform"]);
        // Act: alpha's next run (a new alpha migration would ride on it) is not held back by beta's failure.
        const after = await launch(inputs.get("alpha"));
        // Assess
        assert.deepEqual(after, { applied: [], alreadyApplied: 2 });
        assert.deepEqual(await query("SELECT id, label FROM alpha.things"), [{ id: 1, label: "kept" }]);
    });

    it("refuses a malformed input with a clear error before reading the master secret or invoking the worker, changing nothing", async () => {
        // Prepare
        const { service, ...withoutService } = inputs.get("alpha")!;
        const broken = [{ ...withoutService, services: [service] }, { ...inputs.get("alpha")!, migrations: inputs.get("beta")!.migrations }, "not a request"];
        for (const event of broken) {
            // Act + Assess
            await assert.rejects(launch(event), /A migration run needs one service's \{"migrationSetHash", "login", "service", "migrations"\}/, JSON.stringify(event).slice(0, 80));
        }
        assert.deepEqual([secretReads(), invocations.length], [0, 0]);
        assert.deepEqual(await schemas(), []);
    });

    it("runs the same input twice as a no-op the second time: the checksums match and nothing is applied again", async () => {
        // Prepare
        const first = await launch(inputs.get("alpha"));
        const appliedAt = await query("SELECT version, applied_at FROM platform.schema_migrations ORDER BY version");
        // Act
        const second = await launch(inputs.get("alpha"));
        // Assess
        assert.deepEqual(first.applied.length, 2);
        assert.deepEqual(second, { applied: [], alreadyApplied: 2 });
        assert.deepEqual(await query("SELECT version, applied_at FROM platform.schema_migrations ORDER BY version"), appliedAt);
        assert.deepEqual(await query("SELECT count(*)::int AS n FROM alpha.things"), [{ n: 1 }]);
    });

    it("reads the secret again and runs once more when the password rotated between the read and the sign-in", async () => {
        // Prepare: the first read still gets the password the rotation just replaced.
        secretsManager.reset();
        secretHolds({ username: master.username, password: "replaced-by-rotation" }, master);
        // Act
        const result = await launch(inputs.get("alpha"));
        // Assess
        assert.deepEqual(result, { applied: ["alpha/1_create_things", "alpha/2_seed_things"], alreadyApplied: 0 });
        assert.deepEqual([secretReads(), invocations.length], [2, 2]);
        const passwords = invocations.map((call) => JSON.parse(new TextDecoder().decode(call.Payload as Uint8Array)).credentials.password);
        assert.deepEqual(passwords, ["replaced-by-rotation", master.password]);
    });

    it("fails cleanly when the secret's password is refused twice, read afresh in between: what to look at, nothing applied, no third try", async () => {
        // Prepare: the secret no longer holds the cluster's password.
        secretsManager.reset();
        secretHolds({ username: master.username, password: "not-the-cluster-password" });
        // Act
        const failed = launch(inputs.get("alpha"));
        // Assess
        await assert.rejects(failed, (error: Error) => {
            assert.equal(error.name, "MasterSignInRefused");
            assert.match(error.message, /^The database refused the master user's sign-in; nothing of this run was applied\. It was refused again with the master secret read afresh, so the secret does not hold the cluster's master password: look for a rotation that failed/);
            return true;
        });
        assert.deepEqual([secretReads(), invocations.length], [2, 2]);
        assert.deepEqual(await schemas(), []);
    });

    it("keeps the credentials out of the launcher's results, errors and logs and out of the invocation inputs the stacks keep in state", async () => {
        // Act: a run that succeeds, one that fails in a migration, one refused at sign-in.
        const results = [await launch(inputs.get("alpha")), await launch(inputs.get("beta")).catch((error: Error) => `${error.name}: ${error.message}`)];
        secretsManager.reset();
        secretHolds({ username: master.username, password: "not-the-cluster-password" });
        results.push(await launch(inputs.get("alpha")).catch((error: Error) => `${error.name}: ${error.message}`));
        // Assess
        for (const secret of [master.password, "not-the-cluster-password"]) {
            assert.ok(!JSON.stringify(results).includes(secret), "a result or an error holds the password");
            assert.ok(!written.includes(secret), "a log line holds the password");
            for (const input of inputs.values()) assert.ok(!JSON.stringify(input).includes(secret));
        }
        assert.ok(!Object.values(launcherArchive.environment).concat(Object.values(workerArchive.environment)).some((value) => value.includes(master.password)));
    });

    it("has the worker refuse an event without credentials with a clear error, before reading anything or touching the database", async () => {
        // Prepare: the service's request alone (the worker invoked directly), and credentials without a password.
        const events = [inputs.get("alpha"), { request: inputs.get("alpha"), credentials: { username: master.username } }];
        for (const event of events) {
            // Act + Assess
            await assert.rejects(worker.invoke(event), /^Error: The migration worker signs in with the master user's credentials its launcher reads from the cluster's secret and passes as "credentials": \{"username", "password"\}; this event has none, so nothing ran\. Invoke the launcher/);
        }
        assert.deepEqual(await schemas(), []);
    });
});
