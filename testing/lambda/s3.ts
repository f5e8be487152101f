/**
 * S3, stood in for locally, as far as the event handover uses it with the real SDK client
 * (`functions/runtime/outbox/bucket-handover.ts`): `PutObject`, `GetObject`, `DeleteObject` and
 * `ListObjectsV2` on path-style URLs (the SDK uses them for an endpoint that is an IP address). A
 * function reaches it through `AWS_ENDPOINT_URL_S3` (`environment`). `onObjectCreated` runs after a
 * put is answered, as S3's notification does; `failing` answers every call with a 503.
 */
import * as http from "node:http";
import { listenOnLoopback } from "./loopback";

export interface StoredObject {
    body: string;
    lastModified: Date;
}

export interface S3Endpoint {
    url: string;
    /** What a function's process needs to reach this endpoint with signed requests. */
    environment: Record<string, string>;
    /** Objects by `<bucket>/<key>`. */
    objects: Map<string, StoredObject>;
    /** Answer every call with a 503 (S3 unreachable as far as the caller can tell). */
    failing: boolean;
    /** Runs after a put is answered, as a bucket notification would. @default nothing */
    onObjectCreated?: (bucket: string, key: string) => void;
    close(): Promise<void>;
}

const xmlEscape = (text: string) => text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");

function errorXml(code: string, message: string): string {
    return `<?xml version="1.0" encoding="UTF-8"?><Error><Code>${code}</Code><Message>${xmlEscape(message)}</Message></Error>`;
}

/** Starts the endpoint on a free loopback port. */
export function startS3Endpoint(): Promise<S3Endpoint> {
    const endpoint: Omit<S3Endpoint, "url" | "environment" | "close"> = { objects: new Map(), failing: false };
    const server = http.createServer((request, response) => {
        const chunks: Buffer[] = [];
        request.on("data", (chunk: Buffer) => chunks.push(chunk));
        request.on("end", () => {
            const url = new URL(request.url ?? "/", "http://127.0.0.1");
            const [, bucket = "", ...rest] = url.pathname.split("/");
            const key = decodeURIComponent(rest.join("/"));
            const answer = (status: number, body = "", type = "application/xml") => {
                response.writeHead(status, { "content-type": type, "content-length": Buffer.byteLength(body) });
                response.end(body);
            };
            if (endpoint.failing) return answer(503, errorXml("SlowDown", "Please reduce your request rate (test)."));
            const id = `${bucket}/${key}`;
            switch (request.method) {
                case "PUT":
                    endpoint.objects.set(id, { body: Buffer.concat(chunks).toString("utf8"), lastModified: new Date() });
                    answer(200);
                    endpoint.onObjectCreated?.(bucket, key);
                    return;
                case "GET": {
                    if (key === "" && url.searchParams.get("list-type") === "2") {
                        const prefix = url.searchParams.get("prefix") ?? "";
                        const contents = [...endpoint.objects]
                            .filter(([name]) => name.startsWith(`${bucket}/${prefix}`))
                            .map(([name, object]) => `<Contents><Key>${xmlEscape(name.slice(bucket.length + 1))}</Key><LastModified>${object.lastModified.toISOString()}</LastModified><Size>${Buffer.byteLength(object.body)}</Size></Contents>`)
                            .join("");
                        return answer(200, `<?xml version="1.0" encoding="UTF-8"?><ListBucketResult><Name>${bucket}</Name><Prefix>${xmlEscape(prefix)}</Prefix><IsTruncated>false</IsTruncated>${contents}</ListBucketResult>`);
                    }
                    const object = endpoint.objects.get(id);
                    if (!object) return answer(404, errorXml("NoSuchKey", "The specified key does not exist."));
                    return answer(200, object.body, "application/json");
                }
                case "DELETE":
                    endpoint.objects.delete(id);
                    return answer(204);
                default:
                    return answer(405, errorXml("MethodNotAllowed", `${request.method} is not stood in for`));
            }
        });
    });
    return listenOnLoopback(server).then(({ url, close }) => Object.assign(endpoint, { url, environment: { AWS_ENDPOINT_URL_S3: url }, close }));
}
