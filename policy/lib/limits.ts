/**
 * AWS's limits and defaults, and the platform rules derived from them: the one home of every bound
 * the registry, the stack config, the components and this pack's knob defaults check against.
 *
 * It lives in the pack because the pack is its own package and imports nothing outside `policy/`;
 * the program and the tools import it from here. Ranges are inclusive.
 */

/** An inclusive range; `step` when only multiples of it are allowed. */
export interface Range {
    readonly min: number;
    readonly max: number;
    readonly step?: number;
}

/** API Gateway HTTP APIs. */
export const HTTP_API = {
    /** How long an integration waits for its function, in milliseconds. The maximum cannot be raised. */
    integrationTimeoutMs: { min: 50, max: 30_000 },
    /** Routes one API holds. */
    maxRoutes: 300,
    /** The account's throttling ceilings for a stage or a route: requests per second and burst. */
    throttle: { rateLimit: { max: 10_000 }, burstLimit: { max: 5_000 } },
    /** The longest a browser may cache a CORS preflight answer, in seconds. */
    corsMaxAgeSeconds: { min: 0, max: 86_400 },
} as const;

/** AWS Lambda. */
export const LAMBDA = {
    memoryMb: { min: 128, max: 10_240 },
    timeoutSeconds: { min: 1, max: 900 },
    /**
     * The registry's bound on one function's reserved concurrency. AWS keeps 100 of the account's
     * concurrency unreserved, so on the default quota of 1000 a function can reserve at most 900;
     * an account with a raised quota can reserve more.
     */
    reservedConcurrency: { min: 1, max: 1_000 },
    /** A synchronous invocation's payload, each way: a larger request never reaches a function. */
    payloadBytes: 6 * 1024 * 1024,
} as const;

/**
 * Functions behind the HTTP API: the API gives up on an integration at its maximum, so a function
 * timeout at or above it is work nobody waits for. Route functions end at least a second earlier,
 * so that their own timeout, not the API's, answers the caller.
 */
export const ROUTE_FUNCTION = {
    timeoutSeconds: { min: LAMBDA.timeoutSeconds.min, max: HTTP_API.integrationTimeoutMs.max / 1000 - 1 },
} as const;

/**
 * The policy pack's default bounds on a function's memory (`lambda-memory-bounds`), well under
 * Lambda's ceiling: memory buys CPU and multiplies every invocation's price, so a stack whose
 * functions need more raises `maxMb` in its own `policy/config.<stack>.json`. The registry holds
 * service files to the bounds of the stack's pack config, so the local runtime and the plan refuse
 * what `pulumi preview` would.
 */
export const PACK_FUNCTION_DEFAULTS = {
    memoryMb: { min: LAMBDA.memoryMb.min, max: 3008 },
} as const;

/** Aurora Serverless v2. */
export const AURORA_SERVERLESS_V2 = {
    /** The lowest capacity, in Aurora Capacity Units per instance, in half-ACU steps; 0 lets the cluster pause. */
    minCapacityAcu: { min: 0, max: 256, step: 0.5 },
    /** The highest capacity: at least 1 ACU. */
    maxCapacityAcu: { min: 1, max: 256, step: 0.5 },
    /** Idle seconds before a 0-ACU cluster pauses. */
    autoPauseSeconds: { min: 300, max: 86_400 },
    /** Days of automated backups. */
    backupRetentionDays: { min: 1, max: 35 },
} as const;

/** The retention periods CloudWatch Logs accepts, in days (0, "never expire", is not one of them). */
export const LOG_RETENTION_DAYS = [1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653] as const;

/** What AWS applies when a setting is left out: what a rule or the plan must assume then. */
export const AWS_DEFAULTS = {
    lambda: { memoryMb: 128, timeoutSeconds: 3, architecture: "x86_64" },
    /** An HTTP API integration without `timeoutMilliseconds` waits the maximum. */
    httpApiIntegrationTimeoutMs: HTTP_API.integrationTimeoutMs.max,
    rdsBackupRetentionDays: 1,
    /** A VPC endpoint without a type is a Gateway endpoint (S3, DynamoDB), which bills nothing by the hour. */
    vpcEndpointType: "Gateway",
    /** What `awsx.ec2.Vpc` builds when told nothing: three zones, a NAT gateway in each. */
    awsxVpc: { availabilityZones: 3, natGatewayStrategy: "OnePerAz" },
} as const;
