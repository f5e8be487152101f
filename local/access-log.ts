/**
 * The local gateway's access log (`npm start` without `--quiet`): one line per request,
 * `GET /users/42 -> 200 in 3 ms (GET /users/{id}, JKJaXmPLvHcESHA=)`.
 *
 * Lines are gathered and written together once per turn of the event loop, never while a request
 * is being answered: standard output to a file or a terminal is written synchronously in Node, and
 * a write for every request costs a third of the gateway's CPU under load. `flush` writes what is
 * gathered at once; the start script calls it before the process exits.
 */
import type { AccessLogEntry } from "./server";

export interface AccessLog {
    /** Queues the entry's line; it is written after the current turn of the event loop. */
    record(entry: AccessLogEntry): void;
    /** Writes every queued line now. */
    flush(): void;
}

export function formatAccessLine(entry: AccessLogEntry): string {
    return `${entry.method} ${entry.path} -> ${entry.statusCode} in ${entry.durationMs} ms (${entry.routeKey ?? "no route"}, ${entry.requestId})`;
}

/** An access log that hands `write` its lines in batches, each line ending with a newline. */
export function createAccessLog(write: (text: string) => void): AccessLog {
    let pending = "";
    let scheduled: NodeJS.Immediate | undefined;
    const flush = () => {
        if (scheduled) clearImmediate(scheduled);
        scheduled = undefined;
        if (pending === "") return;
        const text = pending;
        pending = "";
        write(text);
    };
    return {
        record(entry) {
            pending += `${formatAccessLine(entry)}\n`;
            scheduled ??= setImmediate(flush);
        },
        flush,
    };
}
