/**
 * The one table of AWS list prices the plan's cost estimate uses (`cost.ts`).
 *
 * Region: us-east-1. Source: the AWS public pricing page of each service. Prices as published
 * around 2025, on-demand, before free tier, taxes and any discount. Checked: 2025-11.
 *
 * To update: change the numbers here (and PRICES_AS_OF) only; nothing else in the code holds a price.
 * A price for another region is not a multiplier of these: look it up on the pricing pages.
 */
export const PRICES_AS_OF = "2025-11";
export const PRICING_REGION = "us-east-1";
export const PRICING_SOURCE = "AWS public pricing pages, us-east-1 on-demand list prices";

/** Hours AWS bills in an average month (8760 / 12). */
export const HOURS_PER_MONTH = 730;

export const PRICES = {
    lambda: {
        /** USD per request. */
        perRequest: 0.2 / 1_000_000,
        /** USD per GB-second of compute, by architecture. */
        perGbSecond: { arm64: 0.0000133334, x86_64: 0.0000166667 },
    },
    httpApi: {
        /** USD per request (first 300 million a month). */
        perRequest: 1.0 / 1_000_000,
    },
    aurora: {
        /** Aurora Serverless v2 (Standard), USD per ACU-hour, per instance. */
        perAcuHour: 0.12,
        /** USD per GB-month of cluster storage (billed while paused too). */
        storagePerGbMonth: 0.1,
        /** USD per request (I/O), Standard configuration. */
        perIoRequest: 0.2 / 1_000_000,
    },
    natGateway: {
        perHour: 0.045,
        perGbProcessed: 0.045,
    },
    interfaceEndpoint: {
        /** USD per hour per availability zone the endpoint is in. */
        perAzHour: 0.01,
        perGbProcessed: 0.01,
    },
    secretsManager: {
        perSecretMonth: 0.4,
        perApiCall: 0.05 / 10_000,
    },
    cloudWatch: {
        logsIngestedPerGb: 0.5,
        logsStoredPerGbMonth: 0.03,
        /** Standard-resolution metric alarm, per metric it reads: a metric math alarm bills each metric of its expression. */
        perAlarmMonth: 0.1,
        perDashboardMonth: 3.0,
        /** GetMetricData: USD per metric requested (no free tier). */
        perMetricRequested: 0.01 / 1_000,
    },
    rdsProxy: {
        /** On Aurora Serverless v2: USD per ACU-hour of the database's capacity... */
        perAcuHour: 0.015,
        /** ...billed on at least this many ACUs. */
        minimumAcus: 8,
    },
    kms: {
        perCustomerKeyMonth: 1.0,
    },
    fargate: {
        /** Linux tasks, USD per vCPU-hour and per GB-hour of memory, by architecture. */
        arm64: { perVcpuHour: 0.03238, perGbHour: 0.00356 },
        x86_64: { perVcpuHour: 0.04048, perGbHour: 0.004445 },
    },
    cloudMap: {
        /** A private DNS namespace is a Route 53 private hosted zone. */
        perHostedZoneMonth: 0.5,
        /** USD per registered instance (a running task) per month. */
        perInstanceMonth: 0.1,
    },
    ecr: {
        storagePerGbMonth: 0.1,
    },
    eventBridge: {
        /** Custom events put on a bus, USD per event; rules and delivery to SQS add nothing. */
        perCustomEvent: 1.0 / 1_000_000,
        /** Each 64 KB chunk of a PutEvents entry is billed as one event. */
        billedChunkBytes: 64 * 1024,
    },
    scheduler: {
        /** EventBridge Scheduler, USD per invocation (after 14 million free a month). */
        perInvocation: 1.0 / 1_000_000,
    },
    codedeploy: {
        /** Deployments to AWS Lambda (and ECS) cost nothing; published versions and aliases neither (they count against the 75 GB code storage quota). */
        perLambdaDeployment: 0,
    },
    s3: {
        /** S3 Standard: PUT, COPY, POST and LIST requests, USD per request. */
        perPutRequest: 0.005 / 1_000,
        /** GET and all other requests but DELETE (which costs nothing), USD per request. */
        perGetRequest: 0.0004 / 1_000,
    },
    sqs: {
        /** Standard queues, USD per request (after the first million a month): a batch of up to 10 messages is one request. */
        perRequest: 0.4 / 1_000_000,
        /** Each 64 KB chunk of a request's payload is billed as one request. */
        billedChunkBytes: 64 * 1024,
    },
} as const;

export type Prices = typeof PRICES;
