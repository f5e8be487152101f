/**
 * One local Lambda function: its execution environments and how an invocation runs in one. The
 * HTTP gateway, the queue workers and the outbox relays all invoke their handlers through it.
 *
 * - An environment is one wrapper instance (with its own database pool, opened on first use),
 *   handling one event at a time. Environments start lazily, up to the function's concurrency
 *   ceiling; past it an invocation waits for one to be free, and a freed one is reused.
 * - An invocation gets Lambda's context: an `awsRequestId` shaped like Lambda's, and a
 *   `getRemainingTimeInMillis` that counts down to the timeout.
 * - At the timeout the caller gets its timeout outcome. Lambda would end the environment; here the
 *   handler's promise is no longer awaited, and its environment stays busy until the handler settles.
 * - `close` ends every environment's database pool (a stop, or a reload's old functions).
 */
import type { Database } from "../functions/runtime/data/database";
import type { InvocationContext } from "../functions/runtime/handler";
import { newInvocationId } from "./event";

/** A handler as Lambda calls it. */
export type PooledHandler<E, R> = (event: E, context: InvocationContext) => Promise<R>;

export interface LambdaPoolOptions<E, R> {
    /** The function's timeout. */
    timeoutSeconds: number;
    /** Environments that may exist at once (the reserved concurrency, or its stand-in). `Infinity` for none. */
    concurrency: number;
    /** Opens an environment's database; each one opened is ended by `close`. @default no database */
    openDatabase?: () => Database;
    /** Starts one environment: the wrapper instance, given the environment's database opener. */
    createHandler(openDatabase: (() => Database) | undefined): PooledHandler<E, R>;
}

/**
 * What the caller makes of each way an invocation ends. One object per caller, made once, so an
 * invocation allocates nothing for it.
 */
export interface InvocationOutcomes<R, T> {
    result(value: R): T;
    /** The handler threw or rejected: the invocation failed outright. */
    failed(error: unknown): T;
    /** The handler was still running at the function's timeout. */
    timeout(): T;
}

export interface LambdaPool<E, R> {
    /** Runs the event in a free environment (waiting for one at the ceiling) and answers its outcome. */
    invoke<T>(event: E, outcomes: InvocationOutcomes<R, T>): Promise<T>;
    /** Environments started so far. */
    readonly environments: number;
    /** Ends every environment's database pool. Invocations in flight are the caller's to wait for. */
    close(): Promise<void>;
}

export function createLambdaPool<E, R>(options: LambdaPoolOptions<E, R>): LambdaPool<E, R> {
    if (!(options.concurrency >= 1)) throw new Error(`A function's concurrency must be at least 1, not ${options.concurrency}.`);
    const timeoutMs = options.timeoutSeconds * 1000;
    const databases: Database[] = [];
    const openDatabase = options.openDatabase
        ? () => {
              const database = options.openDatabase!();
              databases.push(database);
              return database;
          }
        : undefined;
    const idle: PooledHandler<E, R>[] = [];
    const waiting: Array<(environment: PooledHandler<E, R>) => void> = [];
    let started = 0;

    const release = (environment: PooledHandler<E, R>) => {
        const next = waiting.shift();
        if (next) next(environment);
        else idle.push(environment);
    };
    /** Hands `run` a free environment now, a new one below the ceiling, or the next one freed. */
    const withEnvironment = (run: (environment: PooledHandler<E, R>) => void, failed: (error: unknown) => void) => {
        const environment = idle.pop();
        if (environment) return run(environment);
        if (started >= options.concurrency) return void waiting.push(run);
        started++;
        let created: PooledHandler<E, R>;
        try {
            created = options.createHandler(openDatabase);
        } catch (error) {
            // An environment that could not start takes no place under the ceiling.
            started--;
            return failed(error);
        }
        run(created);
    };

    return {
        get environments() {
            return started;
        },
        // One promise per invocation, settled by whichever comes first, the handler or the timeout:
        // this runs for every request of the local gateway.
        invoke<T>(event: E, outcomes: InvocationOutcomes<R, T>): Promise<T> {
            const deadline = Date.now() + timeoutMs;
            const context: InvocationContext = {
                awsRequestId: newInvocationId(),
                getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
            };
            return new Promise<T>((resolve, reject) => {
                let settled = false;
                const settle = (outcome: () => T) => {
                    if (settled) return;
                    settled = true;
                    clearTimeout(timer);
                    try {
                        resolve(outcome());
                    } catch (error) {
                        // An outcome the caller cannot make is a failure; one it cannot make of a failure is the caller's error.
                        try {
                            resolve(outcomes.failed(error));
                        } catch (failure) {
                            reject(failure);
                        }
                    }
                };
                const timer = setTimeout(() => settle(() => outcomes.timeout()), timeoutMs);
                withEnvironment(
                    (environment) => {
                        let execution: Promise<R>;
                        try {
                            execution = Promise.resolve(environment(event, context));
                        } catch (error) {
                            execution = Promise.reject(error);
                        }
                        // Only a settled handler frees its environment, also one that ran past its timeout.
                        execution.then(
                            (value) => {
                                release(environment);
                                settle(() => outcomes.result(value));
                            },
                            (error: unknown) => {
                                release(environment);
                                settle(() => outcomes.failed(error));
                            },
                        );
                    },
                    (error) => settle(() => outcomes.failed(error)),
                );
            });
        },
        async close() {
            await Promise.all(databases.map((database) => database.end().catch(() => undefined)));
        },
    };
}
