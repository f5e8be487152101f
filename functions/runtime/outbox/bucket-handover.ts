/**
 * Event delivery through a bucket (`events.delivery: bucket-handover`). A database service's
 * functions run in private subnets with no route to EventBridge but the free S3 gateway endpoint,
 * so instead of calling `PutEvents` they hand each batch the outbox sends to their service's own
 * bucket (`bucketHandoverTransport`). Once the object is written the rows count as sent: S3 holds
 * the events durably until the forwarder, a function outside the VPC run by the bucket's
 * notification, has put them on the bus and deleted the object (`createForwarder`).
 *
 * Nothing is lost on the way: an object the forwarder could not send stays in `pending/` (Lambda
 * retries the notification twice, and every later forwarder run, or a wake-up with any other
 * payload, sweeps what is left); entries EventBridge refuses for good move to `refused/` with the
 * reason, for an operator, as the outbox parks rows. A send may be repeated (a retry after a
 * timeout): consumers dedupe by the event's id, as they do for the outbox's own retries.
 */
import type { PutEventsEntry } from "../queue/event-envelope";
import type { Logger } from "../logger";
import { EVENTBRIDGE } from "../limits";
import { EventPublishError, isEventPublishError, type EventTransport } from "./publisher";

/** Where objects live in the bucket: waiting to be forwarded, or refused by EventBridge for good. */
export const HANDOVER_PREFIXES = { pending: "pending/", refused: "refused/" } as const;

/**
 * A left-over object is swept once it is this old, so that a sweep rarely runs beside the object's
 * own notification run; one that does finds it gone or sends it once more (consumers dedupe).
 */
export const SWEEP_AFTER_MS = 60_000;

/**
 * How often a forwarder's execution environment sweeps while notifications keep it busy: each
 * sweep lists the bucket (a billed request), so not at every event; a wake-up always sweeps.
 */
export const SWEEP_EVERY_MS = 10 * 60_000;

/** The object a handover writes: one `PutEvents` request's entries, `Time` as ISO text. */
export interface HandoverObject {
    entries: (Omit<PutEventsEntry, "Time"> & { Time: string })[];
    /** Why EventBridge refused these entries (objects under `refused/` only). */
    refused?: string[];
}

/** The bucket as the handover and the forwarder use it; `s3HandoverStore` is S3's, tests pass their own. */
export interface HandoverStore {
    put(key: string, body: string): Promise<void>;
    /** The object's text; undefined when it is gone (already forwarded). */
    get(key: string): Promise<string | undefined>;
    delete(key: string): Promise<void>;
    /** Keys under `prefix` last written before `before`, oldest key first. */
    listOlderThan(prefix: string, before: Date): Promise<string[]>;
}

/** A key that sorts by when it was written: the sweep then forwards left-overs oldest first. */
export function handoverKey(entries: readonly PutEventsEntry[], now: Date = new Date()): string {
    const first = entries[0] ? (JSON.parse(entries[0].Detail) as { eventId?: string }).eventId : undefined;
    return `${HANDOVER_PREFIXES.pending}${now.toISOString()}-${first ?? "empty"}.json`;
}

/** The outbox's transport for `bucket-handover`: a written object is a sent batch. */
export function bucketHandoverTransport(store: HandoverStore, now: () => Date = () => new Date()): EventTransport {
    return {
        async send(entries) {
            if (entries.length === 0) return;
            const body: HandoverObject = { entries: entries.map((entry) => ({ ...entry, Time: entry.Time.toISOString() })) };
            try {
                await store.put(handoverKey(entries, now()), JSON.stringify(body));
            } catch (error) {
                throw new EventPublishError(`The event bucket did not take the events: ${(error as Error).message}`, error);
            }
        },
    };
}

/** What one forwarder run did. */
export interface ForwardReport {
    /** Objects whose entries are on the bus now, deleted from `pending/`. */
    forwarded: number;
    /** Objects already gone (a repeated notification, or a sweep got there first). */
    gone: number;
    /** Objects with entries EventBridge refused for good, moved to `refused/`. */
    refused: number;
    /** Objects left in `pending/` for a later run, with why. */
    failed: { key: string; error: string }[];
}

/** An S3 notification's records, as Lambda passes them. */
interface S3Notification {
    Records: { eventSource?: string; s3?: { object?: { key?: string } } }[];
}

function isS3Notification(event: unknown): event is S3Notification {
    const records = (event as { Records?: unknown } | null | undefined)?.Records;
    return Array.isArray(records) && records.every((record) => typeof record?.s3?.object?.key === "string");
}

/** S3 notifications carry keys URL-encoded, a space as `+`. */
function decodeKey(key: string): string {
    return decodeURIComponent(key.replace(/\+/g, " "));
}

export interface ForwarderOptions {
    store: HandoverStore;
    /** EventBridge (`eventBridgeTransport`). */
    transport: EventTransport;
    logger: Logger;
    /**
     * Told how many objects a run leaves in `pending/` (EventBridge did not take them): the
     * forwarder's entry logs the outbox write marker for them, so that the service's wake alarm
     * runs the forwarder again. @default nothing
     */
    onLeftOver?: (objects: number) => void;
    now?: () => Date;
}

/**
 * The forwarder's handler. An S3 notification forwards the objects it names, and sweeps older
 * left-overs when this execution environment has not swept for `SWEEP_EVERY_MS`; any other
 * payload (an alarm's state change, an operator's `{}`) sweeps. It throws when an object stays
 * pending, so Lambda retries the notification.
 */
export function createForwarder(options: ForwarderOptions) {
    const { store, transport, logger } = options;
    const now = options.now ?? (() => new Date());
    let lastSweepAt = Number.NEGATIVE_INFINITY;

    const forward = async (key: string, report: ForwardReport): Promise<void> => {
        const text = await store.get(key);
        if (text === undefined) {
            report.gone++;
            return;
        }
        const batch = JSON.parse(text) as HandoverObject;
        const entries: PutEventsEntry[] = batch.entries.map((entry) => ({ ...entry, Time: new Date(entry.Time) }));
        try {
            await transport.send(entries);
        } catch (error) {
            const failed = isEventPublishError(error) ? error.failedEntries : undefined;
            if (!failed) throw error;
            // EventBridge answered: the entries it did not refuse are on the bus; keep only the others.
            const retryable = failed.filter((entry) => (EVENTBRIDGE.retryableEntryErrors as readonly string[]).includes(entry.errorCode));
            const refused = failed.filter((entry) => !retryable.includes(entry));
            if (refused.length > 0) {
                const kept: HandoverObject = {
                    entries: refused.map((entry) => batch.entries[entry.index]),
                    refused: refused.map((entry) => `${entry.errorCode}${entry.errorMessage ? `: ${entry.errorMessage}` : ""}`),
                };
                await store.put(`${HANDOVER_PREFIXES.refused}${key.slice(HANDOVER_PREFIXES.pending.length)}`, JSON.stringify(kept));
                report.refused++;
                logger.error("events refused by EventBridge, kept under refused/", { key, refused: kept.refused });
            }
            if (retryable.length > 0) {
                await store.put(key, JSON.stringify({ entries: retryable.map((entry) => batch.entries[entry.index]) } satisfies HandoverObject));
                throw error;
            }
            await store.delete(key);
            return;
        }
        await store.delete(key);
        report.forwarded++;
    };

    return async (event: unknown): Promise<ForwardReport> => {
        const report: ForwardReport = { forwarded: 0, gone: 0, refused: 0, failed: [] };
        const notified = isS3Notification(event);
        const named = notified ? event.Records.map((record) => decodeKey(record.s3!.object!.key!)).filter((key) => key.startsWith(HANDOVER_PREFIXES.pending)) : [];
        const started = now().getTime();
        const sweeping = !notified || started - lastSweepAt >= SWEEP_EVERY_MS;
        if (sweeping) lastSweepAt = started;
        const leftOver = sweeping ? (await store.listOlderThan(HANDOVER_PREFIXES.pending, new Date(started - SWEEP_AFTER_MS))).filter((key) => !named.includes(key)) : [];
        for (const key of [...named, ...leftOver]) {
            try {
                await forward(key, report);
            } catch (error) {
                report.failed.push({ key, error: (error as Error).message });
            }
        }
        (report.failed.length > 0 ? logger.warn : logger.info).call(logger, "events forwarded", { ...report, swept: leftOver.length });
        if (report.failed.length > 0) options.onLeftOver?.(report.failed.length);
        if (report.failed.length > 0) throw new Error(`${report.failed.length} object(s) stay pending: ${report.failed.map((failure) => `${failure.key}: ${failure.error}`).join("; ")}`);
        return report;
    };
}

/** Thrown by the SDK for a key that is not there. */
function isMissingKey(error: unknown): boolean {
    const name = (error as { name?: string } | null)?.name;
    return name === "NoSuchKey" || name === "NotFound";
}

/**
 * The bucket through S3, with the SDK the Lambda runtime provides (not bundled), loaded at the
 * first call so that a function that never publishes does not pay for it.
 */
export function s3HandoverStore(bucket: string): HandoverStore {
    let sdk: typeof import("@aws-sdk/client-s3") | undefined;
    let client: import("@aws-sdk/client-s3").S3Client | undefined;
    const s3 = () => {
        sdk ??= require("@aws-sdk/client-s3") as typeof import("@aws-sdk/client-s3");
        client ??= new sdk.S3Client({});
        return { sdk, client };
    };
    return {
        async put(key, body) {
            const { sdk, client } = s3();
            await client.send(new sdk.PutObjectCommand({ Bucket: bucket, Key: key, Body: body, ContentType: "application/json" }));
        },
        async get(key) {
            const { sdk, client } = s3();
            try {
                const output = await client.send(new sdk.GetObjectCommand({ Bucket: bucket, Key: key }));
                return await output.Body!.transformToString("utf-8");
            } catch (error) {
                if (isMissingKey(error)) return undefined;
                throw error;
            }
        },
        async delete(key) {
            const { sdk, client } = s3();
            await client.send(new sdk.DeleteObjectCommand({ Bucket: bucket, Key: key }));
        },
        async listOlderThan(prefix, before) {
            const { sdk, client } = s3();
            const keys: string[] = [];
            let token: string | undefined;
            do {
                const page = await client.send(new sdk.ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, ContinuationToken: token }));
                for (const object of page.Contents ?? []) if (object.Key && object.LastModified && object.LastModified < before) keys.push(object.Key);
                token = page.IsTruncated ? page.NextContinuationToken : undefined;
            } while (token);
            return keys.sort();
        },
    };
}
