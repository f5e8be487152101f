/**
 * The platform's migration function as it ships: its archive built by the real program (offline)
 * for a registry of two database services deployed a stack per service (the runner from
 * `dev-platform`, each service's invocation from its own stack; the one-stack layout registers the
 * same, `tests/infra/layouts.test.ts`), unpacked where the repository's packages are out of reach,
 * loaded the way the Lambda Node.js runtime loads it, and invoked with each service's own
 * invocation input as its stack registers it. It reads the master secret through the real
 * Secrets Manager client from a local endpoint and migrates an embedded PostgreSQL. What the
 * invocation returns is what `pulumi up` of that service's stack sees: a rejection here is the
 * error Lambda returns and the `aws.lambda.Invocation` fails that stack's update with.
 */
import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import * as pg from "pg";
import type { ServiceMigrationRequest } from "../../functions/runtime/data/migrations";
import { defineService } from "../../functions/runtime/service";
import { startLocalPostgres, type LocalPostgres } from "../../local/postgres";
import { Types } from "../../policy/lib/types";
import { isolatedTempDir, lambdaFunctions, materializeFunction } from "../../testing/lambda/archive";
import { localEnvironmentFor, provideRuntimeModules, startFunction, type LambdaProcess } from "../../testing/lambda/runtime";
import { credentialsOf, LOCAL_SECRET_ARN, startSecretsEndpoint } from "../../testing/lambda/secrets-manager";
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

describe("the migration function's archive, invoked with each service's own input", function () {
    this.timeout(120_000);
    let workDir: string;
    let postgresDir: string;
    let postgres: LocalPostgres;
    let secrets: Awaited<ReturnType<typeof startSecretsEndpoint>>;
    let runner: LambdaProcess;
    let source: string;
    /** Each service's invocation input, as the program registered it. */
    const inputs = new Map<string, ServiceMigrationRequest>();

    const invoke = async (event: unknown) => (await runner.invoke(event, { requestId: "migration-run", timeoutMs: 60_000 })).result;
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
    const secretReads = () => secrets.requests.filter((request) => request.target === "secretsmanager.GetSecretValue").length;

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
        for (const service of ["alpha", "beta"]) {
            const run = await runProgramOffline({ stack: `dev-${service}`, services: registry, environments });
            const invocations = run.resources.filter((resource) => resource.type === Types.lambdaInvocation);
            assert.deepEqual(invocations.map((invocation) => invocation.name), [`${service}-migrations`], `dev-${service} invokes the runner for its own service alone`);
            const input = JSON.parse(invocations[0].inputs.input) as ServiceMigrationRequest;
            assert.equal(input.service.service, service);
            inputs.set(service, input);
        }
        const resource = lambdaFunctions(platform.resources).find((fn) => fn.name === "migrations-function")!;
        const materialized = await materializeFunction(resource, path.join(workDir, "functions"));
        source = fs.readFileSync(path.join(materialized.directory, materialized.files[0]), "utf8");

        postgresDir = fs.mkdtempSync(path.join(os.tmpdir(), "migration-runner-pg-"));
        fs.chmodSync(postgresDir, 0o777);
        const dataDir = path.join(postgresDir, "data");
        await seedPostgresDataFolder(dataDir);
        postgres = await startLocalPostgres({ dataDir, persistent: false });
        secrets = await startSecretsEndpoint(credentialsOf(postgres.url));
        const runtimeModules = await provideRuntimeModules(["@aws-sdk/client-secrets-manager"], path.join(workDir, "runtime"));
        runner = startFunction(materialized, { runtimeModules, environment: localEnvironmentFor(materialized, postgres.port, { url: secrets.url, arn: LOCAL_SECRET_ARN }) });
        await runner.load();
    });

    beforeEach(async () => {
        // Each test starts from a database no run has touched (roles are cluster-wide and harmless to keep).
        await query("DROP SCHEMA IF EXISTS platform, alpha, beta CASCADE");
    });

    after(async () => {
        await runner?.stop();
        await postgres?.stop();
        await secrets?.close();
        if (workDir) fs.rmSync(workDir, { recursive: true, force: true });
        if (postgresDir) fs.rmSync(postgresDir, { recursive: true, force: true });
    });

    it("holds neither service's SQL in its code: each service's input carries its own", () => {
        for (const statement of ["CREATE TABLE things", "INSERT INTO things", "CREATE TABLE items", "moneyy"]) assert.ok(!source.includes(statement), `the archive holds "${statement}"`);
        assert.deepEqual(inputs.get("alpha")!.migrations.map((m) => m.name), ["create_things", "seed_things"]);
        assert.deepEqual(inputs.get("beta")!.migrations.map((m) => m.name), ["create_items", "broken"]);
    });

    it("applies service alpha's input: alpha's schema, roles and migrations, nothing of beta", async () => {
        // Act
        const result = await invoke(inputs.get("alpha"));
        // Assess
        assert.deepEqual(result, { applied: ["alpha/1_create_things", "alpha/2_seed_things"], alreadyApplied: 0 });
        assert.deepEqual(await recorded(), [{ service: "alpha", version: 1 }, { service: "alpha", version: 2 }]);
        assert.deepEqual(await schemas(), ["alpha", "platform"]);
        assert.deepEqual(await query("SELECT id, label FROM alpha.things"), [{ id: 1, label: "kept" }]);
        assert.deepEqual(await query("SELECT rolname, rolconnlimit FROM pg_roles WHERE rolname = 'alpha_app'"), [{ rolname: "alpha_app", rolconnlimit: inputs.get("alpha")!.service.connectionLimit }]);
    });

    it("fails dev-beta's up (its invocation) on its failing migration, naming the file, line and service, while alpha's runs before and after succeed and keep alpha's data", async () => {
        // Prepare
        await invoke(inputs.get("alpha"));
        // Act
        const failed = invoke(inputs.get("beta"));
        // Assess: the error the invocation (and so beta's `pulumi up`) fails with; nothing of beta's run stays.
        await assert.rejects(failed, /Migration .*beta\/0002_broken\.sql:2:\d+ of service "beta" \(version 2\) failed: type "moneyy" does not exist.*Nothing of this run was applied\./s);
        assert.deepEqual(await recorded(), [{ service: "alpha", version: 1 }, { service: "alpha", version: 2 }]);
        assert.deepEqual(await schemas(), ["alpha", "platform"]);
        // Act: alpha's next run (a new alpha migration would ride on it) is not held back by beta's failure.
        const after = await invoke(inputs.get("alpha"));
        // Assess
        assert.deepEqual(after, { applied: [], alreadyApplied: 2 });
        assert.deepEqual(await query("SELECT id, label FROM alpha.things"), [{ id: 1, label: "kept" }]);
    });

    it("refuses a malformed input with a clear error before reading the master secret, changing nothing", async () => {
        // Prepare
        const readsBefore = secretReads();
        const { service, ...withoutService } = inputs.get("alpha")!;
        const broken = [
            { ...withoutService, services: [service] },
            { ...inputs.get("alpha")!, migrations: inputs.get("beta")!.migrations },
            "not a request",
        ];
        for (const event of broken) {
            // Act + Assess
            await assert.rejects(invoke(event), /A migration run needs one service's \{"migrationSetHash", "login", "service", "migrations"\}/, JSON.stringify(event).slice(0, 80));
        }
        assert.equal(secretReads(), readsBefore);
        assert.deepEqual(await schemas(), []);
    });

    it("runs the same input twice as a no-op the second time: the checksums match and nothing is applied again", async () => {
        // Prepare
        const first = await invoke(inputs.get("alpha"));
        const appliedAt = await query("SELECT version, applied_at FROM platform.schema_migrations ORDER BY version");
        // Act
        const second = await invoke(inputs.get("alpha"));
        // Assess
        assert.deepEqual(first.applied.length, 2);
        assert.deepEqual(second, { applied: [], alreadyApplied: 2 });
        assert.deepEqual(await query("SELECT version, applied_at FROM platform.schema_migrations ORDER BY version"), appliedAt);
        assert.deepEqual(await query("SELECT count(*)::int AS n FROM alpha.things"), [{ n: 1 }]);
    });
});
