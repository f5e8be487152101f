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

/**
 * AWS CodeDeploy for Lambda: the predefined deployment configurations, which shift an alias from one
 * published version to another. A canary sends `percent` of the traffic for `intervalMinutes`, then
 * the rest; a linear shift adds `percent` every `intervalMinutes`. Only these exist without a custom
 * configuration, so the stack setting offers exactly these.
 */
export const CODEDEPLOY_LAMBDA = {
    allAtOnce: "CodeDeployDefault.LambdaAllAtOnce",
    canary: {
        percent: 10,
        configs: { 5: "CodeDeployDefault.LambdaCanary10Percent5Minutes", 10: "CodeDeployDefault.LambdaCanary10Percent10Minutes", 15: "CodeDeployDefault.LambdaCanary10Percent15Minutes", 30: "CodeDeployDefault.LambdaCanary10Percent30Minutes" },
    },
    linear: {
        percent: 10,
        configs: { 1: "CodeDeployDefault.LambdaLinear10PercentEvery1Minute", 2: "CodeDeployDefault.LambdaLinear10PercentEvery2Minutes", 3: "CodeDeployDefault.LambdaLinear10PercentEvery3Minutes", 10: "CodeDeployDefault.LambdaLinear10PercentEvery10Minutes" },
    },
    /** CloudWatch alarms one deployment group may list. */
    maxAlarms: 10,
    /** Lambda's code storage per account and region (75 GB, adjustable): every published version counts. */
    codeStorageGb: 75,
} as const;

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
    /**
     * Concurrency AWS keeps unreserved in every account and region: a reservation that would leave
     * less fails ("decreases account's UnreservedConcurrentExecution below its minimum value").
     */
    minimumUnreservedConcurrency: 100,
    /**
     * The account's concurrency quota unless raised. New accounts often start at 10, where no
     * function can reserve anything; `aws lambda get-account-settings` shows the real one.
     */
    defaultAccountConcurrency: 1_000,
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

/** AWS Secrets Manager, and the platform's rule for a service's secrets. */
export const SECRETS_MANAGER = {
    /** Bytes one secret value may hold: a service's values together, as one JSON object. */
    secretValueBytes: 65_536,
    /**
     * Secrets one service may declare: its values share one secret's 64 KB, so this leaves each
     * about 2 KB (an API key, a signing key, a PEM private key).
     */
    maxSecretsPerService: 32,
    /**
     * Days a deleted secret can be restored in, during which its name stays taken: 7 to 30, or 0
     * to delete it at once (`ForceDeleteWithoutRecovery`). @default 30
     */
    recoveryWindowDays: { min: 7, max: 30, immediately: 0 },
} as const;

/** Amazon SQS, and what Lambda's SQS event source mapping accepts. */
export const SQS = {
    /** Messages per batch a mapping hands its function; above 10 needs a batching window of 1 s or more. */
    batchSize: { min: 1, max: 10_000 },
    /** The largest batch without a batching window. */
    batchSizeWithoutWindow: 10,
    /** How long a mapping may gather a batch, in seconds. */
    batchWindowSeconds: { min: 0, max: 300 },
    /** A redrive policy's `maxReceiveCount`. */
    maxReceiveCount: { min: 1, max: 1_000 },
    /** A mapping's maximum concurrency (`scalingConfig.maximumConcurrency`). */
    maximumConcurrency: { min: 2, max: 1_000 },
    /** A queue's visibility timeout, in seconds (12 hours at most). */
    visibilityTimeoutSeconds: { min: 0, max: 43_200 },
    /** How long a queue keeps a message, in seconds (1 minute to 14 days). */
    messageRetentionSeconds: { min: 60, max: 1_209_600 },
    /**
     * What AWS asks of a queue that feeds a function: a visibility timeout of at least six times the
     * function's timeout (plus the batching window), so that a message whose invocation is retried
     * (throttled, or cut off) is not delivered again while it is still being worked on.
     */
    visibilityTimeoutFactor: 6,
    /** Messages one ReceiveMessage returns, and entries one DeleteMessageBatch takes, at most. */
    messagesPerRequest: 10,
} as const;

/**
 * How Lambda polls a queue for an event source mapping in its default (not provisioned) mode: it
 * keeps five long polls open, each waiting up to 20 s (SQS's longest wait), also while the queue is
 * empty. The mapping is free; the receives are SQS requests billed to the queue's owner.
 */
export const SQS_EVENT_SOURCE_POLLING = {
    idlePollers: 5,
    longPollSeconds: 20,
} as const;

/** The shortest visibility timeout a queue feeding a function of `timeoutSeconds` may have (`SQS.visibilityTimeoutFactor`). */
export function minimumVisibilityTimeoutSeconds(timeoutSeconds: number, batchWindowSeconds = 0): number {
    return SQS.visibilityTimeoutFactor * timeoutSeconds + batchWindowSeconds;
}

/** Amazon EventBridge and EventBridge Scheduler. */
export const EVENTBRIDGE = {
    /** An event's `detail-type` (the platform's event name), in characters. */
    detailTypeMaxLength: 128,
    /** A target's retry policy: attempts and the age after which an event is no longer retried, in seconds. */
    retryAttempts: { min: 0, max: 185 },
    maximumEventAgeSeconds: { min: 60, max: 86_400 },
    /** Entries one `PutEvents` request may carry. */
    putEventsMaxEntries: 10,
    /**
     * Bytes one `PutEvents` request may carry in all, and so one entry at most: each entry counted
     * as EventBridge counts it (`putEventsEntrySize`), not by its JSON.
     */
    putEventsMaxBytes: 256 * 1024,
    /** What EventBridge counts for an entry's `Time`, whatever its value. */
    putEventsTimeBytes: 14,
    /**
     * The `ErrorCode`s of a refused entry that a later attempt may get past; any other (an invalid
     * or unauthorized entry) refuses it every time.
     */
    retryableEntryErrors: ["InternalFailure", "ThrottlingException"],
} as const;

/**
 * The size EventBridge gives a `PutEvents` entry: 14 bytes for its time, and the UTF-8 bytes of its
 * source, detail type, detail and resources.
 */
export function putEventsEntrySize(entry: { Source: string; DetailType: string; Detail: string; Time?: unknown; Resources?: readonly string[] }): number {
    const bytes = (text: string) => Buffer.byteLength(text, "utf8");
    return (
        (entry.Time !== undefined ? EVENTBRIDGE.putEventsTimeBytes : 0) +
        bytes(entry.Source) +
        bytes(entry.DetailType) +
        bytes(entry.Detail) +
        (entry.Resources ?? []).reduce((total, resource) => total + bytes(resource), 0)
    );
}

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
    /**
     * Seconds without a user session before a 0-ACU cluster pauses. An open session, idle or not,
     * keeps it running.
     */
    autoPauseSeconds: { min: 300, max: 86_400 },
    /** The least a running instance bills, even with a minimum of 0: below it the instance pauses. */
    lowestRunningCapacityAcu: 0.5,
    /** Days of automated backups. */
    backupRetentionDays: { min: 1, max: 35 },
} as const;

/**
 * AWS Fargate. A task's CPU is in CPU units (1024 = 1 vCPU) and its memory in MiB; each CPU size
 * accepts only certain memory sizes: a list, or a range in steps.
 */
export const FARGATE = {
    /** CPU units -> the memory sizes (MiB) that size accepts. */
    taskSizes: [
        { cpu: 256, memoryMb: [512, 1024, 2048] },
        { cpu: 512, memoryMb: { min: 1024, max: 4096, step: 1024 } },
        { cpu: 1024, memoryMb: { min: 2048, max: 8192, step: 1024 } },
        { cpu: 2048, memoryMb: { min: 4096, max: 16_384, step: 1024 } },
        { cpu: 4096, memoryMb: { min: 8192, max: 30_720, step: 1024 } },
        { cpu: 8192, memoryMb: { min: 16_384, max: 61_440, step: 4096 } },
        { cpu: 16_384, memoryMb: { min: 32_768, max: 122_880, step: 8192 } },
    ],
    /** Tasks one ECS service may be told to run: the registry's bound on `scaling.maxTasks`. */
    maxTasks: 100,
} as const;

/** Whether Fargate runs a task of `cpu` units with `memoryMb` MiB. */
export function isFargateTaskSize(cpu: number, memoryMb: number): boolean {
    const size = FARGATE.taskSizes.find((entry) => entry.cpu === cpu);
    if (!size) return false;
    const memory = size.memoryMb;
    if (Array.isArray(memory)) return (memory as readonly number[]).includes(memoryMb);
    const range = memory as { min: number; max: number; step: number };
    return memoryMb >= range.min && memoryMb <= range.max && (memoryMb - range.min) % range.step === 0;
}

/** The Fargate sizes in words, for error messages: `256 CPU units with 512, 1024 or 2048 MiB; ...`. */
export function describeFargateTaskSizes(): string {
    return FARGATE.taskSizes
        .map(({ cpu, memoryMb }) =>
            Array.isArray(memoryMb)
                ? `${cpu} with ${(memoryMb as readonly number[]).join(", ")}`
                : `${cpu} with ${(memoryMb as Range).min}-${(memoryMb as Range).max} in steps of ${(memoryMb as Range).step}`,
        )
        .join("; ");
}

/**
 * The `max_connections` Aurora PostgreSQL Serverless v2 derives from the maximum capacity: about 210
 * per ACU of maximum capacity (189 at 1 ACU, 3360 at 16), at most 5000, and at most 2000 when the
 * minimum capacity is 0 or 0.5 ACU. It does not change as the cluster scales. An estimate:
 * `SHOW max_connections` on the writer is the truth.
 */
export function estimatedMaxConnections(minCapacity: number, maxCapacity: number): number {
    return Math.min(Math.floor(maxCapacity * 210), minCapacity <= 0.5 ? 2000 : 5000);
}

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
    /** A queue without these settings hides a received message 30 s and keeps a message four days. */
    sqsQueue: { visibilityTimeoutSeconds: 30, messageRetentionSeconds: 345_600 },
    /** A mapping without a batch size hands its function batches of 10. */
    sqsMappingBatchSize: 10,
    /** An EventBridge or Scheduler target without a retry policy gets the most: 185 attempts over a day. */
    eventTargetRetry: { maximumRetryAttempts: EVENTBRIDGE.retryAttempts.max, maximumEventAgeInSeconds: EVENTBRIDGE.maximumEventAgeSeconds.max },
    /** A schedule without a time zone runs in UTC. */
    scheduleTimeZone: "UTC",
} as const;

/**
 * What AWS accepts as a name, for the names the program sets or lets Pulumi generate. `autonameSuffix`
 * is what Pulumi appends to a resource's logical name when it names the resource itself (a dash and
 * seven random characters), so the logical name may use only `maxLength - autonameSuffix`.
 * `identifier` adds RDS's identifier rules: a letter first, no `--`, no `-` at the end.
 * `lowercase`: AWS takes lower-case letters only, so a name is folded to lower case to fit.
 * `separators`: these characters may only stand between two letters or digits (ECR, DNS labels).
 */
export interface NameRule {
    readonly maxLength: number;
    /** Every character must match this one-character class. */
    readonly allowed: RegExp;
    /** Says what `allowed` allows, for messages. */
    readonly allowedText: string;
    readonly autonameSuffix?: number;
    readonly identifier?: boolean;
    readonly lowercase?: boolean;
    readonly separators?: string;
}

/** Pulumi's autonaming: `<logical name>-<7 random characters>`. */
const AUTONAME_SUFFIX = 8;

export const NAME_RULES = {
    lambdaFunction: { maxLength: 64, allowed: /[A-Za-z0-9_-]/, allowedText: "letters, digits, - and _", autonameSuffix: AUTONAME_SUFFIX },
    /** Lambda permission statement ids, autonamed from the permission's logical name. */
    lambdaStatementId: { maxLength: 100, allowed: /[A-Za-z0-9_-]/, allowedText: "letters, digits, - and _", autonameSuffix: AUTONAME_SUFFIX },
    iamRole: { maxLength: 64, allowed: /[A-Za-z0-9+=,.@_-]/, allowedText: "letters, digits and +=,.@_-", autonameSuffix: AUTONAME_SUFFIX },
    logGroup: { maxLength: 512, allowed: /[A-Za-z0-9._\-\/#]/, allowedText: "letters, digits and ._-/#" },
    metricAlarm: { maxLength: 255, allowed: /[\x20-\x7E]/, allowedText: "printable ASCII" },
    snsTopic: { maxLength: 256, allowed: /[A-Za-z0-9_-]/, allowedText: "letters, digits, - and _" },
    dashboard: { maxLength: 255, allowed: /[A-Za-z0-9_-]/, allowedText: "letters, digits, - and _" },
    /** Cluster identifiers (autonamed) and final snapshot identifiers (set by the program). */
    rdsIdentifier: { maxLength: 63, allowed: /[A-Za-z0-9-]/, allowedText: "letters, digits and -", identifier: true },
    rdsAutonamedIdentifier: { maxLength: 63, allowed: /[A-Za-z0-9-]/, allowedText: "letters, digits and -", identifier: true, autonameSuffix: AUTONAME_SUFFIX },
    /** Queues, autonamed from the logical name. */
    sqsQueue: { maxLength: 80, allowed: /[A-Za-z0-9_-]/, allowedText: "letters, digits, - and _", autonameSuffix: AUTONAME_SUFFIX },
    /** EventBridge rules, autonamed. */
    eventRule: { maxLength: 64, allowed: /[A-Za-z0-9._-]/, allowedText: "letters, digits and ._-", autonameSuffix: AUTONAME_SUFFIX },
    /** The stack's event bus, named by the program. */
    eventBus: { maxLength: 256, allowed: /[A-Za-z0-9._-]/, allowedText: "letters, digits and ._-" },
    /** EventBridge Scheduler schedules, autonamed. */
    schedule: { maxLength: 64, allowed: /[A-Za-z0-9._-]/, allowedText: "letters, digits and ._-", autonameSuffix: AUTONAME_SUFFIX },
    /** The stack's ECS cluster, named by the program. */
    ecsCluster: { maxLength: 255, allowed: /[A-Za-z0-9_-]/, allowedText: "letters, digits, - and _" },
    /** A container service's task definition family. */
    ecsTaskFamily: { maxLength: 255, allowed: /[A-Za-z0-9_-]/, allowedText: "letters, digits, - and _" },
    /** A container service's ECR repository: lower case, a separator only between letters or digits. */
    ecrRepository: { maxLength: 256, allowed: /[a-z0-9._-]/, allowedText: "lower-case letters, digits and ._-", lowercase: true, separators: "._-" },
    /**
     * One label of a DNS name: the stack's part of its Cloud Map namespace (`<label>.internal`), a
     * private hosted zone in Route 53.
     */
    dnsLabel: { maxLength: 63, allowed: /[a-z0-9-]/, allowedText: "lower-case letters, digits and -", lowercase: true, separators: "-" },
    /** CodeDeploy applications and deployment groups, named by the program. */
    codedeploy: { maxLength: 100, allowed: /[A-Za-z0-9._+@-]/, allowedText: "letters, digits and ._+@-" },
    /** The HTTP API's VPC link into the container services. */
    vpcLink: { maxLength: 128, allowed: /[\x20-\x7E]/, allowedText: "printable ASCII" },
} as const satisfies Record<string, NameRule>;
