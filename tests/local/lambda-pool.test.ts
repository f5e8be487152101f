import * as assert from "node:assert/strict";
import type { Database } from "../../functions/runtime/data/database";
import type { InvocationContext } from "../../functions/runtime/handler";
import { createLambdaPool, type InvocationOutcomes, type LambdaPoolOptions } from "../../local/lambda-pool";

const UUID_V4 = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

type Outcome = { result: string } | { failed: string } | "timeout";
const OUTCOMES: InvocationOutcomes<string, Outcome> = {
    result: (value) => ({ result: value }),
    failed: (error) => ({ failed: (error as Error).message }),
    timeout: () => "timeout",
};

/** A promise settled from outside: a handler that runs until the test lets it finish. */
function gate() {
    let open!: () => void;
    const opened = new Promise<void>((resolve) => (open = resolve));
    return { opened, open };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
/** Lets the pool's promise chains run. */
const settle = () => new Promise((resolve) => setImmediate(resolve));

/**
 * A pool whose handlers record which environment ran each event, and wait for `hold` (when
 * given) before answering.
 */
function recordingPool(options: Partial<LambdaPoolOptions<string, string>> & { hold?: Promise<void> } = {}) {
    const runs: Array<{ environment: number; event: string; context: InvocationContext }> = [];
    let environmentCount = 0;
    const pool = createLambdaPool<string, string>({
        timeoutSeconds: 10,
        concurrency: 2,
        createHandler() {
            const environment = ++environmentCount;
            return async (event, context) => {
                runs.push({ environment, event, context });
                await options.hold;
                return `${event} in ${environment}`;
            };
        },
        ...options,
    });
    return { pool, runs };
}

/** A database stand-in whose `end` is recorded: the pool only opens and ends it. */
function fakeDatabase(ended: string[], name: string, endFails = false): Database {
    return {
        end: async () => {
            ended.push(name);
            if (endFails) throw new Error(`${name} was already gone`);
        },
    } as unknown as Database;
}

describe("the local Lambda pool", () => {
    it("starts environments up to its concurrency ceiling, and the next invocation waits for a free one", async () => {
        const held = gate();
        const { pool, runs } = recordingPool({ concurrency: 2, hold: held.opened });
        const answers = ["a", "b", "c"].map((event) => pool.invoke(event, OUTCOMES));
        await settle();
        assert.deepEqual(
            runs.map((run) => run.event),
            ["a", "b"],
        );
        assert.equal(pool.environments, 2);
        held.open();
        const outcomes = await Promise.all(answers);
        // "c" ran in an environment "a" or "b" freed: no third one started.
        assert.equal(pool.environments, 2);
        assert.deepEqual(outcomes.slice(0, 2), [{ result: "a in 1" }, { result: "b in 2" }]);
        assert.match((outcomes[2] as { result: string }).result, /^c in [12]$/);
    });

    it("refuses a concurrency below one, naming the figure", () => {
        assert.throws(() => recordingPool({ concurrency: 0 }), /concurrency must be at least 1, not 0/);
    });

    it("reuses a free environment rather than starting another", async () => {
        const { pool, runs } = recordingPool({ concurrency: 5 });
        for (const event of ["a", "b", "c"]) assert.deepEqual(await pool.invoke(event, OUTCOMES), { result: `${event} in 1` });
        assert.equal(pool.environments, 1);
        assert.deepEqual(
            runs.map((run) => run.environment),
            [1, 1, 1],
        );
    });

    it("gives the caller its timeout outcome at the timeout, and keeps the environment busy until the handler settles", async () => {
        const held = gate();
        const { pool, runs } = recordingPool({ concurrency: 1, timeoutSeconds: 0.05, hold: held.opened });
        assert.equal(await pool.invoke("slow", OUTCOMES), "timeout");
        // The only environment still runs "slow": the next invocation waits, and times out waiting.
        assert.equal(await pool.invoke("waits", OUTCOMES), "timeout");
        assert.deepEqual(
            runs.map((run) => run.event),
            ["slow"],
        );
        held.open();
        await settle();
        // Once "slow" settled, its environment took the waiting event, and is free again after it.
        assert.deepEqual(
            runs.map((run) => run.event),
            ["slow", "waits"],
        );
        assert.deepEqual(await pool.invoke("next", OUTCOMES), { result: "next in 1" });
        assert.equal(pool.environments, 1);
    });

    it("answers the handler's result, not a timeout, when it finishes in time, and a failure when it throws", async () => {
        const pool = createLambdaPool<string, string>({
            timeoutSeconds: 0.05,
            concurrency: 1,
            createHandler: () => async (event) => {
                if (event === "bad") throw new Error("the handler broke");
                return "done";
            },
        });
        assert.deepEqual(await pool.invoke("good", OUTCOMES), { result: "done" });
        assert.deepEqual(await pool.invoke("bad", OUTCOMES), { failed: "the handler broke" });
        // A failed invocation frees its environment too.
        assert.deepEqual(await pool.invoke("good", OUTCOMES), { result: "done" });
        assert.equal(pool.environments, 1);
    });

    it("answers a failure when an environment cannot start, and counts it against no ceiling", async () => {
        // Prepare: the first start fails (a missing secret, say), the next ones work.
        let starts = 0;
        const pool = createLambdaPool<string, string>({
            timeoutSeconds: 1,
            concurrency: 1,
            createHandler: () => {
                if (++starts === 1) throw new Error("the environment did not start");
                return async () => "done";
            },
        });
        // Act, Assess
        assert.deepEqual(await pool.invoke("first", OUTCOMES), { failed: "the environment did not start" });
        assert.equal(pool.environments, 0);
        assert.deepEqual(await pool.invoke("second", OUTCOMES), { result: "done" });
        assert.equal(pool.environments, 1);
    });

    it("answers a failure when the caller cannot make its outcome of the result", async () => {
        const pool = createLambdaPool<string, string>({ timeoutSeconds: 1, concurrency: 1, createHandler: () => async () => "not what the caller reads" });
        const outcomes: InvocationOutcomes<string, Outcome> = {
            ...OUTCOMES,
            result: () => {
                throw new Error("unreadable result");
            },
        };
        assert.deepEqual(await pool.invoke("event", outcomes), { failed: "unreadable result" });
        // The environment is free again.
        assert.deepEqual(await pool.invoke("event", OUTCOMES), { result: "not what the caller reads" });
        assert.equal(pool.environments, 1);
    });

    it("rejects the invocation, rather than leaving it pending, when the caller cannot make its failure outcome either", async () => {
        const pool = createLambdaPool<string, string>({ timeoutSeconds: 1, concurrency: 1, createHandler: () => async () => "done" });
        const broken: InvocationOutcomes<string, Outcome> = {
            ...OUTCOMES,
            result: () => {
                throw new Error("unreadable result");
            },
            failed: () => {
                throw new Error("no failure outcome either");
            },
        };
        await assert.rejects(pool.invoke("event", broken), /no failure outcome either/);
        assert.deepEqual(await pool.invoke("event", OUTCOMES), { result: "done" });
    });

    it("gives each invocation Lambda's context: its own request id and the time left, counting down to zero", async () => {
        const readings: number[] = [];
        const ids: string[] = [];
        const pool = createLambdaPool<string, string>({
            timeoutSeconds: 0.2,
            concurrency: 1,
            createHandler: () => async (_event, context) => {
                ids.push(context.awsRequestId);
                readings.push(context.getRemainingTimeInMillis());
                await sleep(30);
                readings.push(context.getRemainingTimeInMillis());
                await sleep(250);
                // Past the deadline: nothing left, never a negative figure.
                readings.push(context.getRemainingTimeInMillis());
                return "late";
            },
        });
        assert.equal(await pool.invoke("a", OUTCOMES), "timeout");
        await sleep(300);
        const [first, second, past] = readings;
        assert.ok(first > 0 && first <= 200, `first reading ${first}`);
        assert.ok(second < first, `${second} is not less than ${first}`);
        assert.equal(past, 0);
        await pool.invoke("b", OUTCOMES);
        assert.match(ids[0], UUID_V4);
        assert.notEqual(ids[0], ids[1]);
    });

    it("opens a database per environment on first use, and ends every one on close, also past one that fails to end", async () => {
        const ended: string[] = [];
        let opened = 0;
        const held = gate();
        const pool = createLambdaPool<string, string>({
            timeoutSeconds: 10,
            concurrency: 3,
            openDatabase: () => {
                opened++;
                return fakeDatabase(ended, `db${opened}`, opened === 1);
            },
            createHandler: (openDatabase) => {
                let database: Database | undefined;
                return async (event) => {
                    database ??= openDatabase!();
                    await held.opened;
                    return event;
                };
            },
        });
        const answers = ["a", "b"].map((event) => pool.invoke(event, OUTCOMES));
        await settle();
        held.open();
        await Promise.all(answers);
        await pool.invoke("c", OUTCOMES);
        // Two environments, one database each; "c" reused one and its database.
        assert.equal(opened, 2);
        assert.deepEqual(ended, []);
        await pool.close();
        assert.deepEqual(ended.sort(), ["db1", "db2"]);
    });

    it("gives an environment no database opener when the function has no database", async () => {
        let given: unknown = "not called";
        const pool = createLambdaPool<string, string>({
            timeoutSeconds: 1,
            concurrency: 1,
            createHandler: (openDatabase) => {
                given = openDatabase;
                return async () => "ok";
            },
        });
        await pool.invoke("a", OUTCOMES);
        assert.equal(given, undefined);
        await pool.close();
    });
});
