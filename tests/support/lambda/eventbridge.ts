/**
 * EventBridge, stood in for locally: an endpoint speaking its JSON protocol's `PutEvents` that
 * accepts every entry and records it. Publishing functions reach it with the real SDK client
 * through `AWS_ENDPOINT_URL_EVENTBRIDGE`.
 */
import { randomUUID } from "node:crypto";
import * as http from "node:http";
import type { AddressInfo } from "node:net";

/** One entry as the client sent it (`Detail` is the JSON text of the platform's detail). */
export interface ReceivedEntry {
    EventBusName: string;
    Source: string;
    DetailType: string;
    Detail: string;
    Time?: number;
}

/** Starts the endpoint on a free loopback port; `entries` records every entry it took, `targets` every call. */
export function startEventBridgeEndpoint(): Promise<{ url: string; entries: ReceivedEntry[]; targets: string[]; close(): Promise<void> }> {
    const entries: ReceivedEntry[] = [];
    const targets: string[] = [];
    const server = http.createServer((request, response) => {
        let body = "";
        request.on("data", (chunk) => (body += chunk));
        request.on("end", () => {
            const target = String(request.headers["x-amz-target"] ?? "");
            targets.push(target);
            response.setHeader("content-type", "application/x-amz-json-1.1");
            if (target !== "AWSEvents.PutEvents") {
                response.statusCode = 400;
                response.end(JSON.stringify({ __type: "UnknownOperationException", message: target }));
                return;
            }
            const input = JSON.parse(body || "{}") as { Entries?: ReceivedEntry[] };
            entries.push(...(input.Entries ?? []));
            response.end(JSON.stringify({ FailedEntryCount: 0, Entries: (input.Entries ?? []).map(() => ({ EventId: randomUUID() })) }));
        });
    });
    return new Promise((resolve) =>
        server.listen(0, "127.0.0.1", () =>
            resolve({
                url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
                entries,
                targets,
                close: () => new Promise((done) => server.close(() => done())),
            }),
        ),
    );
}
