/**
 * EventBridge, stood in for locally: an endpoint speaking its JSON protocol's `PutEvents` that
 * accepts every entry and records it (or, while `failing` is set, answers every call with a 500).
 * Publishing functions reach it with the real SDK client through `AWS_ENDPOINT_URL_EVENTBRIDGE`.
 * `beforeAccept` runs before an accepted call is answered: what the sender's database holds then.
 */
import { randomUUID } from "node:crypto";
import * as http from "node:http";
import { listenOnLoopback } from "./loopback";

/** One entry as the client sent it (`Detail` is the JSON text of the platform's detail). */
export interface ReceivedEntry {
    EventBusName: string;
    Source: string;
    DetailType: string;
    Detail: string;
    Time?: number;
}

export interface EventBridgeEndpoint {
    url: string;
    /** Every entry it took. */
    entries: ReceivedEntry[];
    /** Every call's `X-Amz-Target`. */
    targets: string[];
    /** Answer every call with a 500 (EventBridge unreachable as far as the sender can tell). */
    failing: boolean;
    /** Runs before an accepted call is answered. @default nothing */
    beforeAccept?: (entries: readonly ReceivedEntry[]) => Promise<void>;
    close(): Promise<void>;
}

/** Starts the endpoint on a free loopback port. */
export function startEventBridgeEndpoint(): Promise<EventBridgeEndpoint> {
    const endpoint: Omit<EventBridgeEndpoint, "url" | "close"> = { entries: [], targets: [], failing: false };
    const server = http.createServer((request, response) => {
        let body = "";
        request.on("data", (chunk) => (body += chunk));
        request.on("end", async () => {
            const target = String(request.headers["x-amz-target"] ?? "");
            endpoint.targets.push(target);
            response.setHeader("content-type", "application/x-amz-json-1.1");
            if (target !== "AWSEvents.PutEvents") {
                response.statusCode = 400;
                response.end(JSON.stringify({ __type: "UnknownOperationException", message: target }));
                return;
            }
            if (endpoint.failing) {
                response.statusCode = 500;
                response.end(JSON.stringify({ __type: "InternalException", message: "EventBridge is unavailable (stand-in)" }));
                return;
            }
            const received = (JSON.parse(body || "{}") as { Entries?: ReceivedEntry[] }).Entries ?? [];
            await endpoint.beforeAccept?.(received);
            endpoint.entries.push(...received);
            response.end(JSON.stringify({ FailedEntryCount: 0, Entries: received.map(() => ({ EventId: randomUUID() })) }));
        });
    });
    return listenOnLoopback(server).then((listening) => Object.assign(endpoint, listening));
}
