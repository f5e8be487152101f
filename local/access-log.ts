/**
 * The local gateway's access log (`npm start` without `--quiet`): one line per request,
 * `GET /users/42 -> 200 in 3 ms (GET /users/{id}, JKJaXmPLvHcESHA=)`.
 *
 * Lines are gathered and written together at most every `FLUSH_INTERVAL_MS`, never while a
 * request is being answered: standard output to a file or a terminal is written synchronously in
 * Node, and a write for every request costs a third of the gateway's CPU under load. Under load a
 * turn of the event loop answers only a request or two, so a write per turn is still nearly a
 * write per request; a few milliseconds is below what a person watching the log notices. `flush`
 * writes what is gathered at once; the start script calls it before the process exits.
 */
import type { AccessLogEntry } from "./server";

/** How long a line may wait for others to be written with it. */
export const FLUSH_INTERVAL_MS = 20;
/** Past this much text the lines are written at the end of the turn without waiting longer. */
const MAX_PENDING_CHARS = 64 * 1024;

export interface AccessLog {
    /** Queues the entry's line; it is written within `FLUSH_INTERVAL_MS`. */
    record(entry: AccessLogEntry): void;
    /** Writes every queued line now. */
    flush(): void;
}

export function formatAccessLine(entry: AccessLogEntry): string {
    return `${entry.method} ${entry.path} -> ${entry.statusCode} in ${entry.durationMs} ms (${entry.routeKey ?? "no route"}, ${entry.requestId})`;
}

/** An access log that hands `write` its lines in batches, each line ending with a newline. */
export function createAccessLog(write: (text: string) => void, intervalMs = FLUSH_INTERVAL_MS): AccessLog {
    let pending = "";
    let timer: NodeJS.Timeout | undefined;
    let immediate: NodeJS.Immediate | undefined;
    const flush = () => {
        clearTimeout(timer);
        if (immediate) clearImmediate(immediate);
        timer = immediate = undefined;
        if (pending === "") return;
        const text = pending;
        pending = "";
        write(text);
    };
    return {
        record(entry) {
            pending += `${formatAccessLine(entry)}\n`;
            if (pending.length > MAX_PENDING_CHARS) immediate ??= setImmediate(flush);
            // Unreferenced: a gathered line never keeps the process alive (the exit handler flushes it).
            timer ??= setTimeout(flush, intervalMs).unref();
        },
        flush,
    };
}
