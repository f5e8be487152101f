/**
 * The relay's check in the cloud: a function outside the VPC, with no database, run by a schedule
 * every minute. It reads the last lookback's metrics from CloudWatch (the invocations of the
 * service's publishing functions, the backlog the relay last reported) and invokes the relay,
 * which connects to the database, only when `relayDecision` says something may be pending.
 * `{"force": true}` runs the relay whatever the metrics say.
 *
 * The SDK clients are the Lambda runtime's (not bundled), loaded at the first run.
 */
import { ENVIRONMENT, logLevelFromEnvironment, type Environment } from "../environment";
import { createLogger, type Logger } from "../logger";
import { relayDecision } from "./relay";

/** Where the check reads and what it invokes; the program sets these in its environment. */
export interface RelayCheckSettings {
    service: string;
    /** The relay function it invokes, and the alias it invokes it through (never `$LATEST`). */
    relayFunctionName: string;
    relayQualifier: string;
    /** The service's functions that may publish: their `AWS/Lambda` `Invocations`. */
    producerFunctionNames: string[];
    /** The namespace and metric of the backlog the relay reports (a metric filter on its log group). */
    backlogMetric: { namespace: string; metricName: string };
    lookbackSeconds: number;
}

export interface RelayCheckClients {
    /** Sums of each metric over the lookback, by query id. */
    metricSums(queries: { id: string; namespace: string; metricName: string; dimensions: Record<string, string>; stat: "Sum" | "Maximum" }[], lookbackSeconds: number): Promise<Record<string, number>>;
    invokeRelay(functionName: string, qualifier: string): Promise<void>;
}

/** The clients of the AWS SDK the runtime provides. */
export function awsRelayCheckClients(): RelayCheckClients {
    let cloudwatch: import("@aws-sdk/client-cloudwatch").CloudWatchClient | undefined;
    let lambda: import("@aws-sdk/client-lambda").LambdaClient | undefined;
    return {
        async metricSums(queries, lookbackSeconds) {
            const sdk = require("@aws-sdk/client-cloudwatch") as typeof import("@aws-sdk/client-cloudwatch");
            cloudwatch ??= new sdk.CloudWatchClient({});
            const end = new Date();
            const output = await cloudwatch.send(
                new sdk.GetMetricDataCommand({
                    StartTime: new Date(end.getTime() - lookbackSeconds * 1000),
                    EndTime: end,
                    MetricDataQueries: queries.map((query) => ({
                        Id: query.id,
                        MetricStat: {
                            Metric: { Namespace: query.namespace, MetricName: query.metricName, Dimensions: Object.entries(query.dimensions).map(([Name, Value]) => ({ Name, Value })) },
                            Period: 60,
                            Stat: query.stat,
                        },
                    })),
                }),
            );
            return Object.fromEntries((output.MetricDataResults ?? []).map((result) => [result.Id!, Math.max(0, ...(result.Values ?? []))]));
        },
        async invokeRelay(functionName, qualifier) {
            const sdk = require("@aws-sdk/client-lambda") as typeof import("@aws-sdk/client-lambda");
            lambda ??= new sdk.LambdaClient({});
            await lambda.send(new sdk.InvokeCommand({ FunctionName: functionName, Qualifier: qualifier, InvocationType: "Event" }));
        },
    };
}

/** The check's handler: `{"force": true}` or anything (the schedule sends `{}`). */
export function createRelayCheckHandler(settings: RelayCheckSettings, clients: RelayCheckClients = awsRelayCheckClients(), logger?: Logger) {
    const log = logger ?? createLogger({ level: logLevelFromEnvironment(), fields: { service: settings.service, function: "outbox-relay-check" } });
    return async (event?: { force?: boolean }) => {
        const force = event?.force === true;
        const sums = force
            ? {}
            : await clients.metricSums(
                  [
                      ...settings.producerFunctionNames.map((name, index) => ({ id: `producer${index}`, namespace: "AWS/Lambda", metricName: "Invocations", dimensions: { FunctionName: name }, stat: "Sum" as const })),
                      { id: "backlog", ...settings.backlogMetric, dimensions: { Service: settings.service }, stat: "Maximum" as const },
                  ],
                  settings.lookbackSeconds,
              );
        const producerInvocations = settings.producerFunctionNames.reduce((total, _, index) => total + (sums[`producer${index}`] ?? 0), 0);
        const decision = relayDecision({ producerInvocations, reportedUnsent: sums.backlog ?? 0, force });
        if (decision.run) await clients.invokeRelay(settings.relayFunctionName, settings.relayQualifier);
        log.info(decision.run ? "outbox relay invoked" : "outbox relay not needed", { reason: decision.reason });
        return decision;
    };
}

/** The outbox relay check's settings, from `OUTBOX_RELAY_CHECK`. */
export function relayCheckFromEnvironment(env: Environment = process.env): RelayCheckSettings {
    const raw = env[ENVIRONMENT.outboxRelayCheck];
    if (!raw) throw new Error(`The outbox relay check's settings are missing from the environment: ${ENVIRONMENT.outboxRelayCheck}.`);
    return JSON.parse(raw);
}
