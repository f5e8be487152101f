/**
 * A few clients writing and reading notes (the fixture database service, `testing/fixtures`) through
 * the API while a test breaks the database under them. Every request is kept with the phase it ended in (a request in flight when a fault hits is
 * that fault's), its status and error code, or the transport error it met, and every write the API
 * acknowledged with 201 is remembered, so a test can say what each fault cost and check that
 * nothing acknowledged was lost.
 */
import { request, type TestResponse } from "./local-runtime";

export interface LoadRequest {
    /** The phase when it was answered. */
    phase: string;
    route: "POST /notes" | "GET /notes/{id}" | "GET /notes";
    startedAt: number;
    finishedAt: number;
    /** The HTTP status, or undefined when the request got no response (reset, refused, ...). */
    status?: number;
    /** `error.code` of a JSON error body. */
    errorCode?: string;
    retryAfter?: string;
    /** A transport error (e.g. ECONNRESET). */
    transportError?: string;
}

export interface ApiLoad {
    /** Requests answered from now on belong to `phase`. */
    phase(name: string): void;
    /** Everything so far. */
    requests(): readonly LoadRequest[];
    /** Ids of the notes the API answered 201 for. */
    acknowledgedIds(): readonly string[];
    /** Lets every client finish its current request, then stops. */
    stop(): Promise<readonly LoadRequest[]>;
}

export function startApiLoad(options: { baseUrl: string; token: string; clients: number; phase?: string }): ApiLoad {
    let phase = options.phase ?? "steady";
    let stopped = false;
    const requests: LoadRequest[] = [];
    const acknowledged: string[] = [];
    const authorization = `Bearer ${options.token}`;

    const send = async (route: LoadRequest["route"], call: () => Promise<TestResponse>): Promise<TestResponse | undefined> => {
        const entry: LoadRequest = { phase, route, startedAt: Date.now(), finishedAt: 0 };
        try {
            const response = await call();
            Object.assign(entry, { status: response.status, errorCode: response.json?.error?.code, retryAfter: response.headers["retry-after"] });
            return response;
        } catch (error) {
            entry.transportError = (error as NodeJS.ErrnoException).code ?? String(error);
            return undefined;
        } finally {
            entry.finishedAt = Date.now();
            entry.phase = phase;
            requests.push(entry);
        }
    };

    const client = async (index: number) => {
        for (let round = 0; !stopped; round++) {
            const title = `load ${index}.${round} ${Date.now()}`;
            const created = await send("POST /notes", () =>
                request(options.baseUrl, { method: "POST", path: "/notes", body: { title, body: `Client ${index}` }, headers: { authorization } }),
            );
            if (created?.status === 201) {
                acknowledged.push(created.json.id);
                await send("GET /notes/{id}", () => request(options.baseUrl, { path: `/notes/${created.json.id}` }));
            }
            if (round % 5 === 0) await send("GET /notes", () => request(options.baseUrl, { path: "/notes?limit=5" }));
            // A client that got no answer at all waits a moment, as any would, instead of spinning.
            if (!created) await new Promise((resolve) => setTimeout(resolve, 50));
        }
    };
    const clients = Array.from({ length: options.clients }, (_, index) => client(index));

    return {
        phase: (name) => void (phase = name),
        requests: () => requests,
        acknowledgedIds: () => acknowledged,
        async stop() {
            stopped = true;
            await Promise.all(clients);
            return requests;
        },
    };
}

/** Per phase: how many requests, by outcome (`201`, `503 database_unavailable`, `ECONNRESET`, ...). */
export function summarizeLoad(requests: readonly LoadRequest[]): Record<string, Record<string, number>> {
    const summary: Record<string, Record<string, number>> = {};
    for (const entry of requests) {
        const outcome = entry.transportError ?? (entry.errorCode ? `${entry.status} ${entry.errorCode}` : String(entry.status));
        summary[entry.phase] ??= {};
        summary[entry.phase][outcome] = (summary[entry.phase][outcome] ?? 0) + 1;
    }
    return summary;
}

/**
 * How long after `since` (a fault) the API served again: to the end of the first success among
 * the requests that started no earlier than the last failing one (and than `since`).
 */
export function recoveredAfterMs(requests: readonly LoadRequest[], since: number): number | undefined {
    const failed = (entry: LoadRequest) => entry.status === undefined || entry.status >= 500;
    const lastFailureStart = Math.max(since, ...requests.filter(failed).map((entry) => entry.startedAt));
    const firstSuccess = requests.filter((entry) => !failed(entry) && entry.startedAt >= lastFailureStart).sort((a, b) => a.finishedAt - b.finishedAt)[0];
    return firstSuccess ? firstSuccess.finishedAt - since : undefined;
}
