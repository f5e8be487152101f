/**
 * The migration run, as two functions. Each service's invocation calls the **launcher** with its
 * `ServiceMigrationRequest` (its schema, roles, limits and migrations). The launcher runs outside
 * the VPC, so it reaches Secrets Manager with no interface endpoint: it checks the request, reads
 * the cluster's master secret and invokes the **worker** synchronously with the request and the
 * credentials. The worker, in the VPC beside the database, signs in with them and applies the
 * service's pending migrations. Neither holds any service's SQL.
 *
 * The credentials travel only in the worker's invocation payload: never in an environment variable,
 * a log line, a result or an error message, nor in the invocation input Pulumi keeps in its state.
 */
import type { ClusterSettings, CredentialSource, Credentials } from "../data/database";
import { parseServiceMigrationRequest, runServiceMigration, type MigrationResult, type MigrationRunOptions } from "../data/migrations";
import type { MigrationWorkerEvent, WorkerOutcome } from "../data/migration-worker";

/**
 * The name (`errorType`) of the worker's error when the database refused the credentials it was
 * given: the launcher reads the secret again and runs once more (a rotation between its read and
 * the sign-in).
 */
export const MASTER_SIGN_IN_REFUSED = "MasterSignInRefused";

export interface MigrationWorkerProvider {
    /** The cluster (from the worker's environment); who signs in comes with each event. */
    cluster: () => ClusterSettings;
    /** How login roles sign in. @default IAM authentication */
    options?: MigrationRunOptions;
}

const isObject = (value: unknown): value is Record<string, unknown> => typeof value === "object" && value !== null && !Array.isArray(value);

/** The worker's event, checked before anything runs: credentials from a launcher, and one service's request. */
export function parseMigrationWorkerEvent(event: unknown): MigrationWorkerEvent {
    const { request, credentials } = isObject(event) ? event : {};
    const signIn = isObject(credentials) ? credentials : {};
    if (typeof signIn.username !== "string" || signIn.username === "" || typeof signIn.password !== "string" || signIn.password === "") {
        throw new Error(
            'The migration worker signs in with the master user\'s credentials its launcher reads from the cluster\'s secret and passes as "credentials": {"username", "password"}; ' +
                "this event has none, so nothing ran. Invoke the launcher (the function each service's migration invocation names) with the service's request.",
        );
    }
    return { request: parseServiceMigrationRequest(request), credentials: { username: signIn.username, password: signIn.password } };
}

/**
 * The credentials of the worker's event as a source the database asks at each sign-in. It holds no
 * others: once the server refused them (the database then calls `refresh`), asking again fails the
 * run with `MASTER_SIGN_IN_REFUSED` at once, for the launcher to read the secret again.
 */
function launcherCredentials(credentials: Credentials): Required<CredentialSource> {
    let refused = false;
    return {
        get: async () => {
            if (!refused) return credentials;
            const error = new Error("The database refused the master user's sign-in; nothing of this run was applied.");
            error.name = MASTER_SIGN_IN_REFUSED;
            throw error;
        },
        refresh: () => {
            refused = true;
        },
    };
}

/** A refused sign-in asks the credentials again once, which `launcherCredentials` answers with the refusal. */
const SIGN_IN_THEN_REPORT = { attempts: 2, firstDelayMs: 0 } as const;

/** The worker: one service's migrations, signed in with the credentials of its event. */
export function createMigrationWorkerEntry(provider: MigrationWorkerProvider): (event: unknown) => Promise<MigrationResult> {
    return async (event) => {
        const { request, credentials } = parseMigrationWorkerEvent(event);
        return runServiceMigration({ ...provider.cluster(), credentials: launcherCredentials(credentials), signInRetry: SIGN_IN_THEN_REPORT }, request, provider.options);
    };
}

export interface MigrationLauncherProvider {
    /** The master secret, a fresh source for each run: `get()` reads it, `refresh()` makes the next `get()` read it again. */
    masterCredentials: () => Required<CredentialSource>;
    /** Invokes the worker and waits for its answer. */
    invokeWorker: (event: MigrationWorkerEvent) => Promise<WorkerOutcome>;
}

/** The worker's error as the launcher's own: the same name and message reach the invocation, and so `pulumi up`. */
function workerError({ errorType, errorMessage }: { errorType: string; errorMessage: string }): Error {
    const error = new Error(errorMessage);
    error.name = errorType;
    return error;
}

/**
 * The launcher: checks the request (a malformed one changes nothing and reads no secret), reads the
 * master secret, and has the worker run the request. A refused sign-in means the password rotated
 * between the read and the sign-in: the secret is read again and the worker runs once more; a
 * second refusal fails the run with what to look at.
 */
export function createMigrationLauncherEntry(provider: MigrationLauncherProvider): (event: unknown) => Promise<MigrationResult> {
    return async (event) => {
        const request = parseServiceMigrationRequest(event);
        const secret = provider.masterCredentials();
        let outcome = await provider.invokeWorker({ request, credentials: await secret.get() });
        if (!outcome.ok && outcome.errorType === MASTER_SIGN_IN_REFUSED) {
            secret.refresh();
            outcome = await provider.invokeWorker({ request, credentials: await secret.get() });
            if (!outcome.ok && outcome.errorType === MASTER_SIGN_IN_REFUSED) {
                throw workerError({
                    errorType: MASTER_SIGN_IN_REFUSED,
                    errorMessage:
                        `${outcome.errorMessage} It was refused again with the master secret read afresh, so the secret does not hold the cluster's master password: ` +
                        "look for a rotation that failed (the secret's rotation status in Secrets Manager) or a password changed outside it, then run `pulumi up` again.",
                });
            }
        }
        if (!outcome.ok) throw workerError(outcome);
        return outcome.result;
    };
}
