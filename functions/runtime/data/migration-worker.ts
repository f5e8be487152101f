/**
 * How the migration launcher reaches its worker: a synchronous Lambda `Invoke` (RequestResponse) of
 * the worker's unqualified name, so it runs the code the last `pulumi up` deployed. The payload
 * holds the master user's credentials, so no log of the worker is asked for (`LogType` stays
 * `None`) and nothing of the payload is echoed in an error.
 */
import type * as lambda from "@aws-sdk/client-lambda";
import type { Credentials } from "./database";
import type { MigrationResult, ServiceMigrationRequest } from "./migrations";

/** What the launcher sends the worker: one service's request and the master user's sign-in. */
export interface MigrationWorkerEvent {
    request: ServiceMigrationRequest;
    credentials: Credentials;
}

/**
 * What the worker's event adds around a request, in bytes, at most: `{"request":…,"credentials":
 * {"username":…,"password":…}}` with a PostgreSQL user name (63 bytes at most) and the password
 * RDS generates for the master user (a few dozen characters), even with every character escaped.
 * The launcher's own input is the bare request, so the worker's payload is the larger of the two.
 */
export const MIGRATION_WORKER_ENVELOPE_BYTES = 1024;

/** What a worker's invocation answered: its result, or the error it failed with (Lambda's `errorType` and `errorMessage`). */
export type WorkerOutcome = { ok: true; result: MigrationResult } | { ok: false; errorType: string; errorMessage: string };

// Loaded on first use, like the other SDK clients: the runtime provides it.
const loadLambda = (): typeof lambda => require("@aws-sdk/client-lambda");

/** The part of the Lambda client used here; tests pass a mocked client. */
export type LambdaInvoker = Pick<lambda.LambdaClient, "send">;

/**
 * Invokes `functionName` with each event and reads its answer: Lambda reports a failed run with
 * `FunctionError` set and `{"errorType", "errorMessage"}` as the payload (the runtime's own shape
 * for a handler's error, a timeout or a crash).
 */
export function workerInvoker(functionName: string, client?: LambdaInvoker): (event: MigrationWorkerEvent) => Promise<WorkerOutcome> {
    let made: LambdaInvoker | undefined = client;
    return async (event) => {
        const sdk = loadLambda();
        made ??= new sdk.LambdaClient({});
        const output = await made.send(new sdk.InvokeCommand({ FunctionName: functionName, InvocationType: "RequestResponse", Payload: new TextEncoder().encode(JSON.stringify(event)) }));
        const text = output.Payload ? new TextDecoder().decode(output.Payload) : "";
        let payload: unknown;
        try {
            payload = text === "" ? undefined : JSON.parse(text);
        } catch {
            payload = undefined;
        }
        if (output.FunctionError) {
            const { errorType, errorMessage } = (payload ?? {}) as { errorType?: unknown; errorMessage?: unknown };
            return {
                ok: false,
                errorType: typeof errorType === "string" ? errorType : output.FunctionError,
                errorMessage: typeof errorMessage === "string" ? errorMessage : `The migration worker ${functionName} failed (${output.FunctionError}) with no error message.`,
            };
        }
        const result = payload as { applied?: unknown; alreadyApplied?: unknown } | undefined;
        if (!Array.isArray(result?.applied) || typeof result.alreadyApplied !== "number") {
            return { ok: false, errorType: "Error", errorMessage: `The migration worker ${functionName} answered ${text.slice(0, 200) || "nothing"}, not a migration result.` };
        }
        return { ok: true, result: { applied: result.applied.map(String), alreadyApplied: result.alreadyApplied } };
    };
}
