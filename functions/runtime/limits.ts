/**
 * The few AWS facts the deployed runtime needs, copied from the policy pack's `policy/lib/limits.ts`
 * (the one source of every AWS limit): the runtime ships inside each function and must not import
 * the pack, and the pack imports nothing outside `policy/`. `tests/runtime/limits.test.ts` checks
 * that every value and `putEventsEntrySize` here equal the pack's, so a change there fails until
 * it is copied here.
 */

/** Amazon EventBridge's `PutEvents`, as the outbox and the publisher send to it. */
export const EVENTBRIDGE = {
    /** Entries one `PutEvents` request may carry. */
    putEventsMaxEntries: 10,
    /**
     * Bytes one `PutEvents` request may carry in all, and so one entry at most: each entry counted
     * as EventBridge counts it (`putEventsEntrySize`), not by its JSON.
     */
    putEventsMaxBytes: 256 * 1024,
    /** What EventBridge counts for an entry's `Time`, whatever its value. */
    putEventsTimeBytes: 14,
    /**
     * The `ErrorCode`s of a refused entry that a later attempt may get past; any other (an invalid
     * or unauthorized entry) refuses it every time.
     */
    retryableEntryErrors: ["InternalFailure", "ThrottlingException"],
} as const;

/**
 * The size EventBridge gives a `PutEvents` entry: 14 bytes for its time, and the UTF-8 bytes of its
 * source, detail type, detail and resources.
 */
export function putEventsEntrySize(entry: { Source: string; DetailType: string; Detail: string; Time?: unknown; Resources?: readonly string[] }): number {
    const bytes = (text: string) => Buffer.byteLength(text, "utf8");
    return (
        (entry.Time !== undefined ? EVENTBRIDGE.putEventsTimeBytes : 0) +
        bytes(entry.Source) +
        bytes(entry.DetailType) +
        bytes(entry.Detail) +
        (entry.Resources ?? []).reduce((total, resource) => total + bytes(resource), 0)
    );
}
