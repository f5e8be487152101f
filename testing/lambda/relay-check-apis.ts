/**
 * CloudWatch and Lambda, stood in for locally, as the outbox relay's check calls them with the
 * real SDK clients: CloudWatch's `GetMetricData` (its JSON 1.0 protocol) answers each query with
 * the values `datapoints` gives for its metric, and Lambda's `Invoke` (REST JSON) records the
 * invocation and accepts it as an asynchronous one (202). The check reaches both through
 * `AWS_ENDPOINT_URL_CLOUDWATCH` and `AWS_ENDPOINT_URL_LAMBDA` (`environment`).
 */
import * as http from "node:http";
import { listenOnLoopback } from "./loopback";

/** One metric a query of `GetMetricData` asks for. */
export interface MetricQuery {
    id: string;
    namespace: string;
    metricName: string;
    dimensions: Record<string, string>;
    stat: string;
    /** The window asked for, in seconds. */
    windowSeconds: number;
}

export interface RelayCheckEndpoint {
    url: string;
    /** What the check's process needs to reach this endpoint with signed requests. */
    environment: Record<string, string>;
    /** The per-minute values each metric has; none by default (an idle service). */
    datapoints: (query: MetricQuery) => number[];
    /** Every metric asked for, in order. */
    queries: MetricQuery[];
    /** Every Lambda invocation asked for. */
    invocations: { functionName: string; qualifier?: string; invocationType: string }[];
    close(): Promise<void>;
}

const INVOKE_PATH = /^\/2015-03-31\/functions\/([^/]+)\/invocations$/;

interface GetMetricDataInput {
    StartTime: number;
    EndTime: number;
    MetricDataQueries: { Id: string; MetricStat: { Metric: { Namespace: string; MetricName: string; Dimensions?: { Name: string; Value: string }[] }; Stat: string } }[];
}

export function startRelayCheckEndpoint(): Promise<RelayCheckEndpoint> {
    const endpoint: Omit<RelayCheckEndpoint, "url" | "environment" | "close"> = { datapoints: () => [], queries: [], invocations: [] };
    const server = http.createServer((request, response) => {
        let body = "";
        request.on("data", (chunk) => (body += chunk));
        request.on("end", () => {
            const invoke = INVOKE_PATH.exec(request.url?.split("?")[0] ?? "");
            if (request.method === "POST" && invoke) {
                const qualifier = new URLSearchParams(request.url?.split("?")[1] ?? "").get("Qualifier") ?? undefined;
                endpoint.invocations.push({ functionName: decodeURIComponent(invoke[1]), qualifier, invocationType: String(request.headers["x-amz-invocation-type"] ?? "RequestResponse") });
                response.statusCode = 202;
                response.end();
                return;
            }
            response.setHeader("content-type", "application/x-amz-json-1.0");
            if (request.headers["x-amz-target"] !== "GraniteServiceVersion20100801.GetMetricData") {
                response.statusCode = 400;
                response.end(JSON.stringify({ __type: "UnknownOperationException", message: String(request.headers["x-amz-target"] ?? request.url) }));
                return;
            }
            const input = JSON.parse(body) as GetMetricDataInput;
            const results = input.MetricDataQueries.map((query) => {
                const metric: MetricQuery = {
                    id: query.Id,
                    namespace: query.MetricStat.Metric.Namespace,
                    metricName: query.MetricStat.Metric.MetricName,
                    dimensions: Object.fromEntries((query.MetricStat.Metric.Dimensions ?? []).map((dimension) => [dimension.Name, dimension.Value])),
                    stat: query.MetricStat.Stat,
                    windowSeconds: Math.round(input.EndTime - input.StartTime),
                };
                endpoint.queries.push(metric);
                const values = endpoint.datapoints(metric);
                return { Id: query.Id, Label: metric.metricName, StatusCode: "Complete", Values: values, Timestamps: values.map((_, index) => Math.floor(input.EndTime) - 60 * index) };
            });
            response.end(JSON.stringify({ MetricDataResults: results, Messages: [] }));
        });
    });
    return listenOnLoopback(server).then(({ url, close }) =>
        Object.assign(endpoint, {
            url,
            environment: {
                AWS_ENDPOINT_URL_CLOUDWATCH: url,
                AWS_ENDPOINT_URL_LAMBDA: url,
                AWS_ACCESS_KEY_ID: "AKIAOFFLINEEXAMPLE",
                AWS_SECRET_ACCESS_KEY: "offline-secret-access-key",
                AWS_SESSION_TOKEN: "offline-session-token",
            },
            close,
        }),
    );
}
