/**
 * Waiting for what happens asynchronously (an event delivered, a row written by a consumer): poll a
 * condition until it holds. The bound is patience, not a speed: generous enough that a machine
 * whose CPUs are saturated by other work still gets there. How fast it happens is for the
 * benchmarks (`npm run bench:events`), never asserted by a test.
 */

/** How long a test waits for what must happen. */
export const PATIENCE_MS = 20_000;

/**
 * How long a test waits for the background type check (local/type-check.ts): it runs at a lower CPU
 * priority, so on a machine whose CPUs are busy with other work it gets a small share of them and a
 * check of a few seconds of CPU takes minutes.
 */
export const TYPE_CHECK_PATIENCE_MS = 300_000;

/** Resolves with `check`'s value once it is truthy, polling every 10 ms; rejects naming `what` after `ms`. */
export async function eventually<T>(check: () => T | undefined | false | Promise<T | undefined | false>, what: string, ms = PATIENCE_MS): Promise<T> {
    const deadline = Date.now() + ms;
    for (;;) {
        const value = await check();
        if (value) return value;
        if (Date.now() > deadline) throw new Error(`not within ${ms} ms: ${what}`);
        await new Promise((resolve) => setTimeout(resolve, 10));
    }
}
