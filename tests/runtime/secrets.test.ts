/**
 * A service's secrets as its handlers read them (`functions/runtime/secrets/`): only declared names,
 * cached and fetched again after the TTL (the clock injected), a missing value answered 503 with a
 * log line naming the service and the secret, and Secrets Manager read through the SDK (a mocked
 * client) with a never-set secret counted as "nothing set".
 */
import * as assert from "node:assert/strict";
import { GetSecretValueCommand, ResourceNotFoundException, SecretsManagerClient } from "@aws-sdk/client-secrets-manager";
import { mockClient } from "aws-sdk-client-mock";
import { ENVIRONMENT } from "../../functions/runtime/environment";
import { createRouteHandler } from "../../functions/runtime/handler";
import { createLogger } from "../../functions/runtime/logger";
import { secretsFromEnvironment, secretsManagerSource } from "../../functions/runtime/secrets/secrets-manager";
import { createServiceSecrets, MISSING_SECRET_RETRY_MS, SECRETS_CACHE_TTL_MS, type SecretValues } from "../../functions/runtime/secrets/secrets";
import { withSecrets } from "../../functions/runtime/entry/secrets";
import { defineService, type HandlerContext } from "../../functions/runtime/service";
import { httpApiEvent } from "../../testing/events";

const SECRET_ARN = "arn:aws:secretsmanager:us-east-1:123456789012:secret:serverless-microservices/dev/vault-AbCdEf";

/** A source whose values the test changes, counting its fetches. */
function changingSource(initial: SecretValues | undefined) {
    const state = { values: initial, fetches: 0, fail: false };
    return {
        state,
        source: async () => {
            state.fetches++;
            if (state.fail) throw new Error("throttled");
            return state.values;
        },
    };
}

function collectingLog() {
    const lines: Record<string, unknown>[] = [];
    return { lines, log: createLogger({ level: "DEBUG", write: (line) => lines.push(JSON.parse(line)) }) };
}

describe("a service's secrets", () => {
    describe("the declaration types ctx.secrets", () => {
        it("accepts a declared name and refuses any other at compile time", () => {
            // Checked by tsc: the @ts-expect-error lines fail the type check if they ever compile.
            const service = defineService({
                name: "typed",
                description: "Type test",
                database: false,
                secrets: ["STRIPE_API_KEY", "WEBHOOK_SECRET"],
                routes: {
                    "GET /typed": {
                        handler: async (_request, ctx) => {
                            const key: string = await ctx.secrets.get("STRIPE_API_KEY");
                            // @ts-expect-error: "OTHER" is not declared by this service
                            await ctx.secrets.get("OTHER");
                            return { key };
                        },
                    },
                },
            });
            const none = defineService({
                name: "untyped",
                description: "Type test",
                database: false,
                routes: {
                    "GET /untyped": {
                        handler: async (_request, ctx) => {
                            // @ts-expect-error: a service that declares no secrets has no ctx.secrets to read
                            await ctx.secrets.get("ANY");
                        },
                    },
                },
            });
            assert.deepEqual(service.secrets, ["STRIPE_API_KEY", "WEBHOOK_SECRET"]);
            assert.equal(none.secrets, undefined);
        });
    });

    describe("the cache", () => {
        it("fetches once within the TTL and again after it, picking up a rotated value", async () => {
            // Prepare
            let now = 1_000_000;
            const { state, source } = changingSource({ API_KEY: "first" });
            const secrets = createServiceSecrets("vault", ["API_KEY"], source, { log: collectingLog().log, now: () => now });
            // Act
            const first = await secrets.get("API_KEY");
            state.values = { API_KEY: "rotated" };
            now += SECRETS_CACHE_TTL_MS - 1;
            const withinTtl = await secrets.get("API_KEY");
            now += 1;
            const afterTtl = await secrets.get("API_KEY");
            // Assess
            assert.equal(first, "first");
            assert.equal(withinTtl, "first");
            assert.equal(afterTtl, "rotated");
            assert.equal(state.fetches, 2);
        });

        it("keeps the values it has when a refresh fails, and tries again on the next read", async () => {
            // Prepare
            let now = 0;
            const { state, source } = changingSource({ API_KEY: "kept" });
            const secrets = createServiceSecrets("vault", ["API_KEY"], source, { log: collectingLog().log, now: () => now, ttlMs: 10 });
            await secrets.get("API_KEY");
            state.fail = true;
            now = 10;
            // Act
            const duringOutage = await secrets.get("API_KEY");
            state.fail = false;
            state.values = { API_KEY: "new" };
            const afterOutage = await secrets.get("API_KEY");
            // Assess
            assert.equal(duringOutage, "kept");
            assert.equal(afterOutage, "new");
            assert.equal(state.fetches, 3);
        });

        it("does not cache a failed first fetch", async () => {
            // Prepare
            const { state, source } = changingSource({ API_KEY: "later" });
            state.fail = true;
            const { lines, log } = collectingLog();
            const secrets = createServiceSecrets("vault", ["API_KEY"], source, { log });
            // Act
            await assert.rejects(secrets.get("API_KEY"), (error: { statusCode?: number }) => error.statusCode === 503);
            state.fail = false;
            const value = await secrets.get("API_KEY");
            // Assess
            assert.equal(value, "later");
            assert.equal(lines[0].reason, "unreadable");
        });
    });

    describe("a value that is missing", () => {
        it("answers 503 from the route wrapper with a log line naming the service and the secret, never a value", async () => {
            // Prepare
            const { source } = changingSource({ API_KEY: "present-value" });
            const { lines, log } = collectingLog();
            const secrets = createServiceSecrets("vault", ["API_KEY", "SIGNING_KEY"], source, { log });
            let ranPastTheRead = false;
            const route = withSecrets(
                {
                    handler: async (_request: unknown, ctx: HandlerContext<false, {}, "API_KEY" | "SIGNING_KEY">) => {
                        await ctx.secrets.get("SIGNING_KEY");
                        ranPastTheRead = true;
                        return { ok: true };
                    },
                },
                secrets,
            );
            const invoke = createRouteHandler(route.handler as never, { service: "vault", routeKey: "GET /vault", logger: log });
            // Act
            const response = await invoke(httpApiEvent({ routeKey: "GET /vault", requestId: "rid-503" }));
            // Assess
            assert.equal(response.statusCode, 503);
            assert.equal(JSON.parse(String(response.body)).error.code, "not_configured");
            assert.equal(ranPastTheRead, false);
            const line = lines.find((entry) => entry.message === "secret unavailable");
            assert.ok(line, JSON.stringify(lines));
            assert.equal(line.service, "vault");
            assert.equal(line.secret, "SIGNING_KEY");
            assert.equal(line.reason, "not set");
            assert.ok(!JSON.stringify(lines).includes("present-value"));
        });

        it("looks again after a short wait, not the whole TTL, so a value set after the deploy is picked up", async () => {
            // Prepare
            let now = 0;
            const { state, source } = changingSource({});
            const secrets = createServiceSecrets("vault", ["API_KEY"], source, { log: collectingLog().log, now: () => now });
            await assert.rejects(secrets.get("API_KEY"));
            state.values = { API_KEY: "set-later" };
            // Act
            now = MISSING_SECRET_RETRY_MS - 1;
            const tooSoon = secrets.get("API_KEY");
            await assert.rejects(tooSoon);
            now = MISSING_SECRET_RETRY_MS;
            const value = await secrets.get("API_KEY");
            // Assess
            assert.equal(value, "set-later");
            assert.equal(state.fetches, 2);
        });

        it("counts an empty string as not set", async () => {
            const secrets = createServiceSecrets("vault", ["API_KEY"], async () => ({ API_KEY: "" }), { log: collectingLog().log });
            await assert.rejects(secrets.get("API_KEY"), (error: { statusCode?: number }) => error.statusCode === 503);
        });

        it("refuses a name the service does not declare, without fetching", async () => {
            // Prepare
            const { state, source } = changingSource({ API_KEY: "x", OTHER: "y" });
            const secrets = createServiceSecrets<string>("vault", ["API_KEY"], source, { log: collectingLog().log });
            // Act, Assess
            await assert.rejects(secrets.get("OTHER"), /Service "vault" reads secret "OTHER", which it does not declare/);
            assert.equal(state.fetches, 0);
        });
    });

    describe("Secrets Manager", () => {
        const sm = mockClient(SecretsManagerClient);
        afterEach(() => sm.reset());

        it("reads the service's one secret by the ARN in the environment and parses its JSON", async () => {
            // Prepare
            sm.on(GetSecretValueCommand, { SecretId: SECRET_ARN }).resolves({ SecretString: JSON.stringify({ API_KEY: "k1", SIGNING_KEY: "s1" }) });
            const secrets = secretsFromEnvironment("vault", ["API_KEY", "SIGNING_KEY"], { [ENVIRONMENT.serviceSecretArn]: SECRET_ARN }, { client: new SecretsManagerClient({}), log: collectingLog().log });
            // Act
            const values = [await secrets.get("API_KEY"), await secrets.get("SIGNING_KEY")];
            // Assess
            assert.deepEqual(values, ["k1", "s1"]);
            assert.equal(sm.commandCalls(GetSecretValueCommand).length, 1);
        });

        it("treats a secret nobody has put a value into (no AWSCURRENT version) as nothing set", async () => {
            // Prepare
            sm.on(GetSecretValueCommand).rejects(new ResourceNotFoundException({ message: "Secrets Manager can't find the specified secret value for staging label: AWSCURRENT", $metadata: {} }));
            const source = secretsManagerSource(SECRET_ARN, new SecretsManagerClient({}));
            // Act, Assess
            assert.equal(await source(), undefined);
        });

        it("refuses a value that is not a JSON object, naming the secret", async () => {
            sm.on(GetSecretValueCommand).resolves({ SecretString: "just-a-string" });
            await assert.rejects(secretsManagerSource(SECRET_ARN, new SecretsManagerClient({}))(), /Secret arn:aws:secretsmanager:.*vault-AbCdEf does not hold JSON/);
        });

        it("stops a function whose environment lacks the secret's ARN, naming the variable", () => {
            assert.throws(() => secretsFromEnvironment("vault", ["API_KEY"], {}), /SERVICE_SECRET_ARN/);
        });
    });
});
