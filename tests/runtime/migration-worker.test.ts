/**
 * How the migration launcher reads its worker's answer (`workerInvoker`), with Lambda's client
 * mocked: a result, the error Lambda reports for a failed run (`FunctionError` with the runtime's
 * `{"errorType", "errorMessage"}`, or without it when the run crashed before answering), and an
 * answer that is no migration result. And the launcher's timeout against Lambda's limit.
 */
import * as assert from "node:assert/strict";
import { InvokeCommand, LambdaClient, type InvokeCommandOutput } from "@aws-sdk/client-lambda";
import { mockClient } from "aws-sdk-client-mock";
import { MIGRATION_LAUNCHER_EXTRA_SECONDS, MIGRATION_TIMEOUT_SECONDS } from "../../functions/runtime/data/migrations";
import { workerInvoker, type MigrationWorkerEvent } from "../../functions/runtime/data/migration-worker";
import { launcherTimeoutFor } from "../../infra/components/migrations";

const EVENT = { request: { migrationSetHash: "h", service: {}, migrations: [], login: "iam" }, credentials: { username: "postgres", password: "p" } } as unknown as MigrationWorkerEvent;
const payload = (value: unknown) => new TextEncoder().encode(typeof value === "string" ? value : JSON.stringify(value)) as InvokeCommandOutput["Payload"];

describe("the migration launcher's call of its worker", () => {
    const lambda = mockClient(LambdaClient);
    afterEach(() => lambda.reset());
    after(() => lambda.restore());

    it("invokes the worker by name, synchronously, unqualified and without its log tail, and returns its result", async () => {
        // Prepare
        lambda.on(InvokeCommand).resolves({ StatusCode: 200, Payload: payload({ applied: ["a/1_x"], alreadyApplied: 2 }) });
        // Act
        const outcome = await workerInvoker("migrations-function-1a2b3c4", new LambdaClient({ region: "us-east-1" }))(EVENT);
        // Assess
        assert.deepEqual(outcome, { ok: true, result: { applied: ["a/1_x"], alreadyApplied: 2 } });
        const [call] = lambda.commandCalls(InvokeCommand);
        assert.deepEqual([call.args[0].input.FunctionName, call.args[0].input.InvocationType, call.args[0].input.Qualifier, call.args[0].input.LogType], ["migrations-function-1a2b3c4", "RequestResponse", undefined, undefined]);
        assert.deepEqual(JSON.parse(new TextDecoder().decode(call.args[0].input.Payload as Uint8Array)), EVENT);
    });

    it("reports a failed run with the worker's error type and message", async () => {
        // Prepare
        lambda.on(InvokeCommand).resolves({ StatusCode: 200, FunctionError: "Unhandled", Payload: payload({ errorType: "MasterSignInRefused", errorMessage: "refused", trace: [] }) });
        // Act
        const outcome = await workerInvoker("w", new LambdaClient({ region: "us-east-1" }))(EVENT);
        // Assess
        assert.deepEqual(outcome, { ok: false, errorType: "MasterSignInRefused", errorMessage: "refused" });
    });

    it("reports a run that failed without the runtime's error document by Lambda's FunctionError, and an answer that is no migration result as an error", async () => {
        // Prepare
        lambda.on(InvokeCommand).resolvesOnce({ StatusCode: 200, FunctionError: "Unhandled", Payload: payload("not json") }).resolvesOnce({ StatusCode: 200, Payload: payload({ ok: true }) });
        const invoke = workerInvoker("w", new LambdaClient({ region: "us-east-1" }));
        // Act
        const crashed = await invoke(EVENT);
        const strange = await invoke(EVENT);
        // Assess
        assert.deepEqual(crashed, { ok: false, errorType: "Unhandled", errorMessage: "The migration worker w failed (Unhandled) with no error message." });
        assert.deepEqual(strange, { ok: false, errorType: "Error", errorMessage: 'The migration worker w answered {"ok":true}, not a migration result.' });
    });
});

describe("the migration launcher's timeout", () => {
    it("is the worker's plus the time of one refused run and the secret reads, within Lambda's 900 s", () => {
        assert.equal(launcherTimeoutFor("migrations", MIGRATION_TIMEOUT_SECONDS), MIGRATION_TIMEOUT_SECONDS + MIGRATION_LAUNCHER_EXTRA_SECONDS);
        assert.equal(launcherTimeoutFor("migrations", 900 - MIGRATION_LAUNCHER_EXTRA_SECONDS), 900);
    });

    it("refuses a worker timeout that would put the launcher past Lambda's limit, or none at all, naming the runner and the range", () => {
        for (const timeout of [900 - MIGRATION_LAUNCHER_EXTRA_SECONDS + 1, 0, 1.5]) {
            assert.throws(() => launcherTimeoutFor("migrations", timeout), new RegExp(`^Error: MigrationRunner "migrations": timeoutSeconds ${timeout} must be a whole number from 1 to ${900 - MIGRATION_LAUNCHER_EXTRA_SECONDS}: the launcher waits for the worker plus ${MIGRATION_LAUNCHER_EXTRA_SECONDS} s`), String(timeout));
        }
    });
});
