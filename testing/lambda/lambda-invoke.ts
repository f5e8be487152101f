/**
 * Lambda's synchronous `Invoke`, stood in for locally, as the migration launcher calls it with the
 * real SDK client (`AWS_ENDPOINT_URL_LAMBDA`): a `RequestResponse` invocation of a function the
 * test started (`startFunction`) runs that process with the payload and answers as Lambda does, 200
 * with the result, or 200 with `X-Amz-Function-Error: Unhandled` and `{"errorType",
 * "errorMessage"}` when the handler failed. A function it does not know is a 404
 * `ResourceNotFoundException`; a payload over Lambda's limit a 413 `RequestTooLargeException`.
 */
import * as http from "node:http";
import { listenOnLoopback } from "./loopback";
import { LAMBDA } from "../../policy/lib/limits";
import { OFFLINE_CREDENTIALS, type LambdaProcess } from "./runtime";

const INVOKE_PATH = /^\/2015-03-31\/functions\/([^/]+)\/invocations$/;

export interface InvokeEndpoint {
    url: string;
    /** What a caller's process needs to reach this endpoint with signed requests. */
    environment: Record<string, string>;
    /** Every invocation, in order: the function's name, its qualifier and its invocation type. */
    invocations: Array<{ functionName: string; qualifier?: string; invocationType: string }>;
    close(): Promise<void>;
}

/** Starts the endpoint on a free loopback port; `functionNamed` gives the process behind a deployed name. */
export function startInvokeEndpoint(functionNamed: (name: string) => LambdaProcess | undefined): Promise<InvokeEndpoint> {
    const invocations: InvokeEndpoint["invocations"] = [];
    const server = http.createServer((request, response) => {
        const chunks: Buffer[] = [];
        request.on("data", (chunk: Buffer) => chunks.push(chunk));
        request.on("end", () => {
            const body = Buffer.concat(chunks);
            const answer = (status: number, payload: unknown, headers: Record<string, string> = {}) => {
                response.writeHead(status, { "content-type": "application/json", ...headers });
                response.end(JSON.stringify(payload));
            };
            const match = INVOKE_PATH.exec(request.url?.split("?")[0] ?? "");
            if (request.method !== "POST" || !match) return answer(400, { Type: "User", message: `Not an Invoke: ${request.method} ${request.url}` }, { "x-amzn-errortype": "InvalidRequestContentException" });
            const functionName = decodeURIComponent(match[1]);
            const qualifier = new URLSearchParams(request.url?.split("?")[1] ?? "").get("Qualifier") ?? undefined;
            const invocationType = String(request.headers["x-amz-invocation-type"] ?? "RequestResponse");
            invocations.push({ functionName, qualifier, invocationType });
            const target = functionNamed(functionName);
            if (!target) return answer(404, { Type: "User", message: `Function not found: ${functionName}` }, { "x-amzn-errortype": "ResourceNotFoundException" });
            if (body.length > LAMBDA.payloadBytes) return answer(413, { Type: "User", message: `Request must be smaller than ${LAMBDA.payloadBytes} bytes for the InvokeFunction operation` }, { "x-amzn-errortype": "RequestTooLargeException" });
            target
                .invoke(JSON.parse(body.toString("utf8") || "null"), { requestId: `${functionName}-invoke`, timeoutMs: 120_000 })
                .then(({ result }) => answer(200, result ?? null))
                .catch((error: Error & { reported?: { errorType: string; errorMessage: string } }) =>
                    answer(200, { ...(error.reported ?? { errorType: error.name, errorMessage: error.message }), trace: [] }, { "x-amz-function-error": "Unhandled" }),
                );
        });
    });
    return listenOnLoopback(server).then(({ url, close }) => ({ url, environment: { ...OFFLINE_CREDENTIALS, AWS_ENDPOINT_URL_LAMBDA: url }, invocations, close }));
}
