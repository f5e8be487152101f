/**
 * The archives of services that declare secrets, as they would be uploaded: built by the real
 * program (offline), unpacked where the repository's packages are out of reach, loaded by the
 * runtime's Node as Lambda loads them, with only the AWS SDK on NODE_PATH (as the runtime provides
 * it), reading their service's secret with the real Secrets Manager client from a local stand-in
 * endpoint (`testing/lambda/secrets-manager.ts`). `vault` gets both its values, in its route and its
 * schedule; a secret with no value yet makes it answer 503 naming the secret in its log (and leaves a
 * run for a later attempt); `neighbor` cannot read `vault`'s.
 */
import * as assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import { ENVIRONMENT } from "../../functions/runtime/environment";
import { scheduleTargetInput } from "../../functions/runtime/queue/schedule-input";
import { HANDLER_FILE } from "../../infra/function-packaging";
import { runProgramOffline } from "../../tools/offline";
import { routeEvent } from "../../testing/events";
import { fingerprint, secretServices } from "../../testing/fixtures/secret-services";
import { ping } from "../../testing/fixtures/registry";
import { isolatedTempDir, lambdaFunctions, materializeFunction, type MaterializedFunction } from "../../testing/lambda/archive";
import { OFFLINE_CREDENTIALS, provideRuntimeModules, startFunction, type LambdaProcess } from "../../testing/lambda/runtime";
import { credentialsOf, startSecretsEndpoint } from "../../testing/lambda/secrets-manager";

const KB = 1024;

describe("the archives of services with secrets", function () {
    this.timeout(120_000);
    let workDir: string;
    let runtimeModules: string;
    let functions: MaterializedFunction[];
    const secretValues = new Map<string, string | undefined>();
    let endpoint: Awaited<ReturnType<typeof startSecretsEndpoint>>;
    const processes: LambdaProcess[] = [];

    before(async () => {
        const run = await runProgramOffline({ stack: "dev", services: [...secretServices, ping] });
        workDir = isolatedTempDir("secret-archives-");
        runtimeModules = await provideRuntimeModules(["@aws-sdk/client-secrets-manager"]);
        functions = [];
        for (const resource of lambdaFunctions(run.resources)) functions.push(await materializeFunction(resource, path.join(workDir, "functions")));
        endpoint = await startSecretsEndpoint(credentialsOf("postgres://unused:unused@127.0.0.1/none"), secretValues);
    });

    after(async () => {
        await Promise.all(processes.map((process) => process.stop()));
        await endpoint?.close();
        if (workDir) fs.rmSync(workDir, { recursive: true, force: true });
    });

    const fn = (name: string) => functions.find((candidate) => candidate.name === name)!;
    const secretArnOf = (name: string) => fn(name).environment[ENVIRONMENT.serviceSecretArn];
    /** A fresh container of `name`: its own process, so nothing is cached from an earlier test. */
    async function start(name: string): Promise<LambdaProcess> {
        const process = startFunction(fn(name), { runtimeModules, environment: { ...OFFLINE_CREDENTIALS, AWS_ENDPOINT_URL_SECRETS_MANAGER: endpoint.url } });
        processes.push(process);
        await process.load();
        return process;
    }

    it("carries the secret's ARN and no value, bundles no package, and leaves the Secrets Manager client to the runtime", () => {
        for (const name of ["vault-get-vault-fingerprints", "neighbor-get-neighbor-peek"]) {
            const materialized = fn(name);
            assert.match(secretArnOf(name), /^arn:aws:secretsmanager:us-east-1:\d{12}:secret:serverless-microservices\/dev\/(vault|neighbor)-\w{6}$/);
            assert.deepEqual(materialized.packages, [], name);
            const source = fs.readFileSync(path.join(materialized.directory, HANDLER_FILE), "utf8");
            const sdk = [...new Set([...source.matchAll(/\brequire\("(@aws-sdk\/[^"]+)"\)/g)].map((match) => match[1]))];
            assert.deepEqual(sdk, ["@aws-sdk/client-secrets-manager"], name);
            assert.ok(materialized.zippedBytes <= 300 * KB, `${name}: ${materialized.zippedBytes} bytes zipped`);
        }
    });

    it("leaves a function of a service without secrets as it was: no secret's ARN, no Secrets Manager client, no secrets code", () => {
        const materialized = fn("ping-get-ping");
        const source = fs.readFileSync(path.join(materialized.directory, HANDLER_FILE), "utf8");
        assert.equal(materialized.environment[ENVIRONMENT.serviceSecretArn], undefined);
        assert.doesNotMatch(source, /client-secrets-manager|secretsFromEnvironment|withSecrets|createServiceSecrets/);
    });

    it("gives vault's handler both its values, read once for both", async () => {
        // Prepare
        secretValues.set(secretArnOf("vault-get-vault-fingerprints"), JSON.stringify({ API_KEY: "sk_test_vault", SIGNING_KEY: "whsec_vault" }));
        const vault = await start("vault-get-vault-fingerprints");
        const before = endpoint.requests.length;
        // Act
        const { result } = await vault.invoke(routeEvent("GET /vault/fingerprints"));
        // Assess
        assert.equal(result.statusCode, 200, JSON.stringify(result));
        assert.deepEqual(JSON.parse(result.body), { apiKey: fingerprint("sk_test_vault"), signingKey: fingerprint("whsec_vault") });
        assert.deepEqual(endpoint.requests.slice(before), [{ target: "secretsmanager.GetSecretValue", secretId: secretArnOf("vault-get-vault-fingerprints") }]);
    });

    it("answers 503 while a declared secret has no value, its log naming the service and the secret", async () => {
        // Prepare: SIGNING_KEY never set.
        secretValues.set(secretArnOf("vault-get-vault-fingerprints"), JSON.stringify({ API_KEY: "sk_test_vault" }));
        const vault = await start("vault-get-vault-fingerprints");
        // Act
        const { result } = await vault.invoke(routeEvent("GET /vault/fingerprints"));
        // Assess
        assert.equal(result.statusCode, 503, JSON.stringify(result));
        assert.equal(JSON.parse(result.body).error.code, "not_configured");
        const line = vault
            .output()
            .split("\n")
            .filter((text) => text.startsWith("{"))
            .map((text) => JSON.parse(text))
            .find((entry) => entry.message === "secret unavailable");
        assert.ok(line, vault.output());
        assert.deepEqual([line.service, line.secret, line.reason], ["vault", "SIGNING_KEY", "not set"]);
        assert.ok(!vault.output().includes("sk_test_vault"), "a value reached the log");
    });

    it("answers 503 for a secret nobody has put any value into yet", async () => {
        secretValues.set(secretArnOf("vault-get-vault-fingerprints"), undefined);
        const vault = await start("vault-get-vault-fingerprints");
        const { result } = await vault.invoke(routeEvent("GET /vault/fingerprints"));
        assert.equal(result.statusCode, 503, JSON.stringify(result));
    });

    it("gives vault's schedule its values too, and leaves a run for later while a value is missing", async () => {
        // Prepare: a run as the Scheduler fills in the input the platform configures.
        const input = scheduleTargetInput("vault", "check").replace("<aws.scheduler.scheduled-time>", "2026-12-02T02:00:00Z").replace("<aws.scheduler.execution-id>", randomUUID());
        const record = (messageId: string) => ({
            messageId,
            receiptHandle: messageId,
            body: input,
            attributes: { ApproximateReceiveCount: "1", SentTimestamp: "0", SenderId: "scheduler", ApproximateFirstReceiveTimestamp: "0" },
            messageAttributes: {},
            md5OfBody: "",
            eventSource: "aws:sqs",
            eventSourceARN: "arn:aws:sqs:us-east-1:123456789012:vault-schedule-check",
            awsRegion: "us-east-1",
        });
        const arn = secretArnOf("vault-schedule-check");
        // Act: a run while API_KEY has no value, then one in a fresh container once it has.
        secretValues.set(arn, JSON.stringify({ SIGNING_KEY: "whsec_vault" }));
        const unset = await start("vault-schedule-check");
        const withoutKey = (await unset.invoke({ Records: [record("run-1")] })).result;
        secretValues.set(arn, JSON.stringify({ API_KEY: "sk_test_vault", SIGNING_KEY: "whsec_vault" }));
        const set = await start("vault-schedule-check");
        const withKey = (await set.invoke({ Records: [record("run-2")] })).result;
        // Assess
        assert.deepEqual(withoutKey, { batchItemFailures: [{ itemIdentifier: "run-1" }] });
        assert.deepEqual(withKey, { batchItemFailures: [] }, set.output());
        assert.match(set.output(), new RegExp(`"apiKey":"${fingerprint("sk_test_vault")}"`));
    });

    it("does not let neighbor read vault's secret: it asks only for its own", async () => {
        // Prepare
        secretValues.set(secretArnOf("vault-get-vault-fingerprints"), JSON.stringify({ API_KEY: "sk_test_vault", SIGNING_KEY: "whsec_vault" }));
        secretValues.set(secretArnOf("neighbor-get-neighbor-peek"), JSON.stringify({ OWN_TOKEN: "neighbor-token" }));
        const neighbor = await start("neighbor-get-neighbor-peek");
        const before = endpoint.requests.length;
        // Act
        const { result } = await neighbor.invoke(routeEvent("GET /neighbor/peek"));
        // Assess
        assert.equal(result.statusCode, 200, JSON.stringify(result));
        assert.deepEqual(JSON.parse(result.body), { read: false, reason: 'Service "neighbor" reads secret "API_KEY", which it does not declare; add it to the service\'s secrets.' });
        assert.ok(endpoint.requests.slice(before).every((request) => request.secretId === secretArnOf("neighbor-get-neighbor-peek")));
    });
});
