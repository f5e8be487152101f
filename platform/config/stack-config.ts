/**
 * The stack's configuration (`Pulumi.<stack>.yaml`), read through one typed module. `parseStackConfig`
 * is pure: it takes the raw key/value pairs and either returns a complete, typed config or throws a
 * `ConfigError` naming the stack, every wrong key and what is allowed — before any resource exists.
 */

import { LOG_LEVELS, type LogLevel } from "../../functions/runtime/logger";
import { ENVIRONMENT_NAME, STACK_LAYOUTS, type StackLayout } from "./stack-layout";
import { AURORA_SERVERLESS_V2, CODEDEPLOY_LAMBDA, HTTP_API, LAMBDA, LOG_RETENTION_DAYS, ROUTE_FUNCTION } from "../../policy/lib/limits";

/** The Pulumi project name; config keys without a namespace belong to it. */
export const PROJECT = "serverless-microservices";

export const NAT_GATEWAY_STRATEGIES = ["none", "single", "onePerAz"] as const;

/**
 * How a publishing database service's functions, which run in the private subnets, hand their
 * events to EventBridge (docs/events.md):
 * - `interface-endpoint`: they call `PutEvents` through the VPC's EventBridge interface endpoint
 *   (~$7.30/month per zone, idle or not): the lowest latency;
 * - `bucket-handover`: they write each batch to their service's S3 bucket through the free S3
 *   gateway endpoint, and a forwarder outside the VPC sends it on (about a second more, nothing
 *   billed while idle).
 */
export const EVENT_DELIVERY_MODES = ["interface-endpoint", "bucket-handover"] as const;
export type EventDeliveryMode = (typeof EVENT_DELIVERY_MODES)[number];

/**
 * What wakes a publishing service's outbox relay, which sends what the request path left unsent:
 * - `every-minute`: a check outside the VPC reads the producers' metrics every minute
 *   (CloudWatch `GetMetricData`, ~$0.44/month per metric read) and runs the relay when something
 *   may be pending: a left-over event goes within about a minute;
 * - `on-alarm`: an alarm on the service's outbox writes wakes the relay when it changes state
 *   (~$0.10/month per alarm metric, nothing per minute): a left-over event goes within minutes.
 */
export const RELAY_WAKE_MODES = ["every-minute", "on-alarm"] as const;
export type RelayWakeMode = (typeof RELAY_WAKE_MODES)[number];

/**
 * Whether the stack's functions reserve concurrency: `registry` applies each service's
 * `reservedConcurrency` (and 1 for the migration function), `none` reserves nothing.
 */
export const RESERVATION_MODES = ["none", "registry"] as const;
export type ReservationMode = (typeof RESERVATION_MODES)[number];

/**
 * How a stack's new function versions reach traffic: `all-at-once` (the program moves each
 * function's `live` alias to the version it publishes), or gradually through CodeDeploy, which the
 * release step (`npm run release`) starts after `pulumi up`: `canary` (10% for `intervalMinutes`,
 * then all) or `linear` (10% more every `intervalMinutes`), rolled back when an alarm fires.
 */
export const RELEASE_STRATEGIES = ["all-at-once", "canary", "linear"] as const;
export type ReleaseStrategy = (typeof RELEASE_STRATEGIES)[number];
/** The strategies CodeDeploy shifts: the alias is then the release step's, never the program's. */
export type GradualReleaseStrategy = Exclude<ReleaseStrategy, "all-at-once">;

export function isGradual(release: Pick<ReleaseConfig, "strategy">): release is ReleaseConfig & { strategy: GradualReleaseStrategy; intervalMinutes: number } {
    return release.strategy !== "all-at-once";
}

/** The CodeDeploy deployment configuration a stack's release setting names (`CODEDEPLOY_LAMBDA`). */
export function deploymentConfigName(release: ReleaseConfig): string {
    if (!isGradual(release)) return CODEDEPLOY_LAMBDA.allAtOnce;
    const configs: Record<number, string> = CODEDEPLOY_LAMBDA[release.strategy].configs;
    const name = configs[release.intervalMinutes];
    if (!name) throw new Error(`No CodeDeploy configuration for a ${release.strategy} release every ${release.intervalMinutes} minutes`);
    return name;
}

/** The intervals CodeDeploy's predefined configurations offer for a gradual strategy. */
export function releaseIntervals(strategy: GradualReleaseStrategy): number[] {
    return Object.keys(CODEDEPLOY_LAMBDA[strategy].configs).map(Number);
}

export interface ReleaseConfig {
    /** @default STACK_DEFAULTS.release.strategy */
    strategy: ReleaseStrategy;
    /** Minutes of each step of a canary or linear shift; absent for all-at-once. @default STACK_DEFAULTS.release.intervalMinutes[strategy] */
    intervalMinutes?: number;
    /**
     * Published versions of each function the release step keeps (the newest, plus any an alias
     * points at); older ones are deleted so the account's 75 GB of code storage is not reached.
     * @default STACK_DEFAULTS.release.keepVersions
     */
    keepVersions: number;
}

/**
 * What a stack file may leave out, and what it then gets: the one owner of these defaults. The
 * components take every one of them as a required argument, so a default can never be decided in
 * two places. Every setting not listed here is required in the stack file (deletion protection,
 * backups, capacity: a stack says what it wants). Alarm thresholds are the exception: the
 * Monitoring component owns their defaults (`MONITORING_DEFAULTS`).
 */
export const STACK_DEFAULTS: {
    readonly logLevel: LogLevel;
    readonly cors: Readonly<CorsConfig>;
    readonly network: Readonly<StackConfig["network"]>;
    readonly database: Readonly<Pick<StackConfig["database"], "engineVersion" | "databaseName" | "readers" | "protect" | "connectionsPerFunction">>;
    readonly monitoring: { readonly enabled: boolean };
    readonly concurrency: Readonly<Pick<StackConfig["concurrency"], "reservations">>;
    readonly release: { readonly strategy: ReleaseStrategy; readonly intervalMinutes: Readonly<Record<GradualReleaseStrategy, number>>; readonly keepVersions: number };
    readonly events: Readonly<StackConfig["events"]>;
} = {
    logLevel: "INFO",
    /** Applied field by field once `api.cors` is present; without it the API answers no preflight. */
    cors: {
        allowOrigins: [],
        allowMethods: ["*"],
        allowHeaders: ["content-type", "authorization"],
        exposeHeaders: ["x-request-id"],
        allowCredentials: false,
        maxAgeSeconds: 300,
    },
    network: {
        cidrBlock: "10.0.0.0/16",
        availabilityZones: 2,
        // Functions reach AWS through interface endpoints; a NAT gateway costs ~$33/month before traffic.
        natGateways: "none",
        // One zone of interface endpoints is enough for dev; production spans every zone.
        endpointZones: 1,
        // Unverified whether traces leave a private subnet without it; see the README.
        xrayEndpoint: false,
    },
    database: {
        engineVersion: "17.5",
        databaseName: "app",
        readers: 0,
        protect: false,
        // What the local runtime always allowed a function: ten containers at once.
        connectionsPerFunction: 10,
    },
    /** No `monitoring` at all: no alarms, no topic, no dashboard (`monitoring.dashboard` follows `enabled`). */
    monitoring: { enabled: false },
    /**
     * No reservations unless a stack asks for them: a new account's concurrency quota is often 10,
     * and AWS keeps 100 unreserved, so any reservation there fails the deployment.
     */
    concurrency: { reservations: "none" },
    /**
     * All at once unless a stack asks for a gradual release (prod: `canary`, so 10% for 5 minutes
     * first); a gradual one needs the stack's alarms (`monitoring.enabled`) to decide a rollback.
     * Three versions kept: the live one and two to go back to by hand.
     */
    release: { strategy: "all-at-once", intervalMinutes: { canary: 5, linear: 1 }, keepVersions: 3 },
    /** The lowest latency unless a stack trades it for cost (dev: `bucket-handover`, `on-alarm`). */
    events: { delivery: "interface-endpoint", relayWake: "every-minute" },
};

/**
 * The alarm thresholds a stack may override under `monitoring.thresholds`, with the values each
 * accepts. Their defaults live in one place, `MONITORING_DEFAULTS` in infra/components/monitoring.ts;
 * this module stays free of Pulumi, so it only knows what is allowed.
 */
export const MONITORING_THRESHOLD_RANGES = {
    /** Function alarm: Errors / Invocations over 5 minutes, in percent. */
    functionErrorRatePercent: { min: 0.1, max: 100 },
    /** Function alarm: throttled invocations in 5 minutes. */
    functionThrottles: { min: 1, max: 100000, integer: true },
    /** Function alarm: p99 Duration as a percentage of that function's own timeout. */
    functionDurationPercentOfTimeout: { min: 10, max: 100 },
    /** API alarm: 5xx responses / requests over 5 minutes, in percent. */
    apiServerErrorRatePercent: { min: 0.1, max: 100 },
    /** API alarm: p99 Latency in milliseconds (the HTTP API gives up at its integration timeout). */
    apiLatencyP99Ms: { min: 10, max: HTTP_API.integrationTimeoutMs.max, integer: true },
    /** Database alarm: writer capacity as a percentage of database.maxCapacity. */
    databaseCapacityPercentOfMax: { min: 10, max: 100 },
    /** Database alarm: connections as a percentage of the max_connections the maximum capacity gives. */
    databaseConnectionsPercent: { min: 10, max: 100 },
    /** Database alarm: writer CPU in percent. */
    databaseCpuPercent: { min: 10, max: 100 },
    /** Queue alarm: the oldest message of a subscription's or schedule's queue waiting this long, in seconds (SQS keeps one at most 14 days). */
    queueOldestMessageAgeSeconds: { min: 60, max: 1_209_600, integer: true },
    /** Outbox alarm: the oldest event a publishing service's outbox has not sent, waiting this long, in seconds. */
    outboxOldestUnsentSeconds: { min: 60, max: 86_400, integer: true },
    /** Container alarm: a container service's average CPU in percent. */
    containerCpuPercent: { min: 10, max: 100 },
    /** Container alarm: a container service's average memory in percent. */
    containerMemoryPercent: { min: 10, max: 100 },
} as const;

export type MonitoringThresholds = { -readonly [K in keyof typeof MONITORING_THRESHOLD_RANGES]: number };

export interface CorsConfig {
    allowOrigins: string[];
    allowMethods: string[];
    allowHeaders: string[];
    exposeHeaders: string[];
    allowCredentials: boolean;
    maxAgeSeconds: number;
}

export interface StackConfig {
    /** The environment these settings are for: the stack of a one-stack layout, `dev` for `dev-users`. */
    stack: string;
    /** One stack for the environment, or a platform stack and a stack per service (platform/config/stack-layout.ts). @default one-stack */
    layout: StackLayout;
    /** `aws:region`. */
    region: string;
    /** Retention of every log group the program creates (functions, API access logs). */
    logRetentionDays: number;
    /** Application log level of the functions (Lambda drops lines below it). @default STACK_DEFAULTS.logLevel */
    logLevel: LogLevel;
    /** Memory and timeout for services that do not set their own. */
    functionDefaults: { memoryMb: number; timeoutSeconds: number };
    api: {
        /** Steady-state requests per second across the API's routes. */
        throttlingRateLimit: number;
        /** Requests allowed in a burst above the rate. */
        throttlingBurstLimit: number;
        /** CORS; absent means the API answers no preflight and sends no CORS headers. Fields left out: `STACK_DEFAULTS.cors`. */
        cors?: CorsConfig;
    };
    /** Every field: @default `STACK_DEFAULTS.network`. */
    network: {
        /** Address range of the VPC. */
        cidrBlock: string;
        /** Availability zones to spread subnets over (Aurora's subnet group needs at least 2). */
        availabilityZones: number;
        /**
         * NAT gateways for the private subnets, ~$33/month each before traffic. Functions reach AWS
         * through interface endpoints, so none are needed unless a function calls the internet.
         */
        natGateways: (typeof NAT_GATEWAY_STRATEGIES)[number];
        /**
         * Zones every interface endpoint spans (~$7.30/month per endpoint and zone). One is enough
         * for dev; production wants one per zone so a zone outage does not cut tasks off AWS. (Route
         * functions sign in with IAM tokens and call no AWS API; of the functions only the
         * migration function reads a secret, the master password, during `pulumi up`.)
         */
        endpointZones: number;
        /**
         * An X-Ray interface endpoint for the functions in private subnets (~$7.30/month per zone).
         * Whether Lambda's traces leave a VPC without NAT or this endpoint is not documented by AWS.
         */
        xrayEndpoint: boolean;
    };
    database: {
        /** Aurora PostgreSQL version; the parameter group family follows its major version. @default STACK_DEFAULTS.database.engineVersion */
        engineVersion: string;
        /** @default STACK_DEFAULTS.database.databaseName */
        databaseName: string;
        /**
         * Lowest capacity in Aurora Capacity Units. 0 lets the cluster pause when idle (the first
         * request after a pause waits up to ~15 s while it resumes); production keeps a floor.
         */
        minCapacity: number;
        maxCapacity: number;
        /** Idle seconds before a 0-ACU cluster pauses; required with `minCapacity: 0`, refused otherwise. */
        autoPauseSeconds?: number;
        /** Readers in other zones, promoted on failover. @default STACK_DEFAULTS.database.readers */
        readers: number;
        backupRetentionDays: number;
        /**
         * Refuse deletion through the AWS API. Caution: turning it off on a live stack is what lets
         * `pulumi destroy` (or a replacement) delete the data.
         */
        deletionProtection: boolean;
        /** Take a snapshot when the cluster is deleted. */
        finalSnapshot: boolean;
        /** Pulumi `protect`: `pulumi destroy` refuses to delete the cluster. @default STACK_DEFAULTS.database.protect */
        protect: boolean;
        /**
         * The connections a database function may hold when the stack reserves no concurrency for
         * it: its container ceiling (one connection each). A service's role may hold this many
         * times its database functions (its `CONNECTION LIMIT`), and the local runtime runs at
         * most this many containers of a function. @default STACK_DEFAULTS.database.connectionsPerFunction
         */
        connectionsPerFunction: number;
    };
    /** Token issuers for routes with `auth: "jwt"`. */
    auth: {
        /** An OIDC issuer (Cognito user pool, Auth0, Okta, ...): the HTTP API's JWT authorizer checks tokens against it. */
        jwt?: { issuer: string; audience: string[] };
    };
    /** A custom domain for the API; absent means the execute-api URL. */
    domain?: {
        /** e.g. api.example.com */
        name: string;
        /** An ACM certificate for the name, in the stack's region, already issued. */
        certificateArn: string;
        /** A Route 53 hosted zone to create the alias record in; without it, point DNS yourself. */
        hostedZoneId?: string;
    };
    /** How much of the account's Lambda concurrency the stack's functions reserve. */
    concurrency: {
        /** `registry`: each function reserves its service's `reservedConcurrency`, the migration function 1; `none`: nothing. @default STACK_DEFAULTS.concurrency.reservations */
        reservations: ReservationMode;
        /**
         * The account's concurrency quota in the stack's region (`aws lambda get-account-settings`,
         * `AccountLimit.ConcurrentExecutions`); the reservations must leave 100 of it unreserved.
         * @default LAMBDA.defaultAccountConcurrency (1000), AWS's default quota, assumed
         */
        accountLimit?: number;
    };
    /** How new function versions reach traffic (docs/releases.md). */
    release: ReleaseConfig;
    /** How publishing database services deliver their events. Every field: @default `STACK_DEFAULTS.events`. */
    events: {
        /** How their functions in the private subnets reach EventBridge (`EVENT_DELIVERY_MODES`). */
        delivery: EventDeliveryMode;
        /** What wakes their outbox relays (`RELAY_WAKE_MODES`). */
        relayWake: RelayWakeMode;
    };
    /** Alarms, their notification topic and the dashboard (infra/components/monitoring.ts). */
    monitoring: {
        /** Alarms and the SNS topic they notify. Absent `monitoring` means false. */
        enabled: boolean;
        /** The CloudWatch dashboard ($3/month). Follows `enabled` unless set. */
        dashboard: boolean;
        /** Subscribed to the alarm topic; AWS mails a confirmation link first. */
        email?: string;
        /** Only the thresholds the stack overrides; the rest keep the component's defaults. */
        thresholds: Partial<MonitoringThresholds>;
    };
}

/** Raised for any wrong, missing or unknown stack setting; lists every problem at once. */
export class ConfigError extends Error {
    constructor(
        readonly stack: string,
        readonly problems: string[],
    ) {
        super(`Stack "${stack}" configuration (Pulumi.${stack}.yaml) is invalid:\n${problems.map((p) => `  - ${p}`).join("\n")}`);
        this.name = "ConfigError";
    }
}

/** Reads values out of a raw config tree, recording a problem (with the key's full name) for each bad one. */
class Reader {
    readonly problems: string[] = [];

    constructor(private readonly stack: string) {}

    private fail(key: string, message: string): undefined {
        this.problems.push(`${key}: ${message}`);
        return undefined;
    }

    /** Pulumi hands scalars over as strings and structured values as JSON text. */
    private decode(value: unknown): unknown {
        if (typeof value !== "string") return value;
        const trimmed = value.trim();
        if (trimmed.startsWith("{") || trimmed.startsWith("[")) {
            try {
                return JSON.parse(trimmed);
            } catch {
                return value;
            }
        }
        return value;
    }

    object(key: string, value: unknown, allowed: readonly string[], required = true): Record<string, unknown> | undefined {
        const decoded = this.decode(value);
        if (decoded === undefined) return required ? this.fail(key, `is required (an object with ${allowed.join(", ")})`) : undefined;
        if (typeof decoded !== "object" || decoded === null || Array.isArray(decoded)) {
            return this.fail(key, `must be an object with ${allowed.join(", ")}`);
        }
        for (const field of Object.keys(decoded)) {
            if (!allowed.includes(field)) this.fail(`${key}.${field}`, `is not a known setting; allowed: ${allowed.join(", ")}`);
        }
        return decoded as Record<string, unknown>;
    }

    number(key: string, value: unknown, range: { min: number; max: number; step?: number; integer?: boolean }, fallback?: number): number | undefined {
        const decoded = this.decode(value);
        if (decoded === undefined || decoded === "") {
            return fallback !== undefined ? fallback : this.fail(key, `is required (${describeRange(range)})`);
        }
        const number = typeof decoded === "string" && decoded.trim() !== "" ? Number(decoded) : decoded;
        const stepOk = range.step === undefined || Number.isInteger(Number(number) / range.step);
        if (typeof number !== "number" || !Number.isFinite(number) || number < range.min || number > range.max || (range.integer && !Number.isInteger(number)) || !stepOk) {
            return this.fail(key, `${show(decoded)} is not allowed; use ${describeRange(range)}`);
        }
        return number;
    }

    oneOf<T extends string | number>(key: string, value: unknown, allowed: readonly T[], fallback?: T): T | undefined {
        const decoded = this.decode(value);
        if (decoded === undefined || decoded === "") {
            return fallback !== undefined ? fallback : this.fail(key, `is required; one of ${allowed.join(", ")}`);
        }
        const match = allowed.find((option) => String(option) === String(decoded));
        return match !== undefined ? match : this.fail(key, `${show(decoded)} is not allowed; use one of ${allowed.join(", ")}`);
    }

    boolean(key: string, value: unknown, fallback?: boolean): boolean | undefined {
        const decoded = this.decode(value);
        if (decoded === undefined || decoded === "") return fallback !== undefined ? fallback : this.fail(key, "is required (true or false)");
        if (decoded === true || decoded === "true") return true;
        if (decoded === false || decoded === "false") return false;
        return this.fail(key, `${show(decoded)} is not allowed; use true or false`);
    }

    string(key: string, value: unknown, pattern: RegExp, description: string, fallback?: string): string | undefined {
        const decoded = this.decode(value);
        if (decoded === undefined || decoded === "") return fallback !== undefined ? fallback : this.fail(key, `is required (${description})`);
        if (typeof decoded !== "string" || !pattern.test(decoded)) return this.fail(key, `${show(decoded)} is not allowed; use ${description}`);
        return decoded;
    }

    stringList(key: string, value: unknown, pattern: RegExp, description: string, fallback: string[]): string[] | undefined {
        const decoded = this.decode(value);
        if (decoded === undefined) return fallback;
        if (!Array.isArray(decoded) || decoded.some((item) => typeof item !== "string" || !pattern.test(item))) {
            return this.fail(key, `must be a list of ${description}`);
        }
        return decoded as string[];
    }
}

/** How a rejected value is quoted back: as the user wrote it in YAML (Pulumi turns `10` into "10"). */
function show(value: unknown): string {
    return typeof value === "string" && /^-?[\d.]+$|^(true|false)$/.test(value) ? value : JSON.stringify(value);
}

function describeRange(range: { min: number; max: number; step?: number; integer?: boolean }): string {
    const kind = range.integer ? "an integer" : range.step ? `a multiple of ${range.step}` : "a number";
    return `${kind} from ${range.min} to ${range.max}`;
}

const TOP_LEVEL_KEYS = ["layout", "logRetentionDays", "logLevel", "functionDefaults", "api", "network", "database", "auth", "domain", "monitoring", "concurrency", "release", "events"] as const;
const REGION = /^[a-z]{2}(-[a-z]+)+-\d$/;
const CIDR = /^(\d{1,3}\.){3}\d{1,3}\/(1[6-9]|2[0-4])$/;
const HTTP_METHOD_OR_STAR = /^(\*|GET|POST|PUT|PATCH|DELETE|HEAD|OPTIONS)$/;
/** One address, no display name: what an SNS email subscription's endpoint takes. */
const EMAIL = /^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*\.[A-Za-z]{2,}$/;

/**
 * Validates a stack's raw configuration: `values` maps `namespace:key` (as `pulumi config` and
 * `pulumi.runtime.allConfig()` present it) to strings or already-decoded values.
 */
export function parseStackConfig(stack: string, values: Readonly<Record<string, unknown>>): StackConfig {
    const read = new Reader(stack);
    const key = (name: string) => `${PROJECT}:${name}`;
    const project: Record<string, unknown> = {};
    for (const [fullKey, value] of Object.entries(values)) {
        const [namespace, name] = fullKey.includes(":") ? fullKey.split(":", 2) : [PROJECT, fullKey];
        if (namespace !== PROJECT) continue;
        if (!(TOP_LEVEL_KEYS as readonly string[]).includes(name)) {
            read.problems.push(`${key(name)}: is not a known setting; allowed: ${TOP_LEVEL_KEYS.join(", ")}`);
            continue;
        }
        project[name] = value;
    }

    const layout = read.oneOf(key("layout"), project.layout, STACK_LAYOUTS, "one-stack");
    if (layout === "stack-per-service" && !ENVIRONMENT_NAME.pattern.test(stack)) {
        read.problems.push(`${key("layout")}: an environment deployed as a stack per service needs a name of ${ENVIRONMENT_NAME.text}; "${stack}" is not one`);
    }
    const region = read.string("aws:region", values["aws:region"], REGION, "an AWS region such as us-east-1");
    const logRetentionDays = read.oneOf(key("logRetentionDays"), project.logRetentionDays, LOG_RETENTION_DAYS);
    const logLevel = read.oneOf(key("logLevel"), project.logLevel, LOG_LEVELS, STACK_DEFAULTS.logLevel);

    const fd = read.object(key("functionDefaults"), project.functionDefaults, ["memoryMb", "timeoutSeconds"]) ?? {};
    const functionDefaults = {
        memoryMb: read.number(key("functionDefaults.memoryMb"), fd.memoryMb, { ...LAMBDA.memoryMb, integer: true }),
        timeoutSeconds: read.number(key("functionDefaults.timeoutSeconds"), fd.timeoutSeconds, { ...ROUTE_FUNCTION.timeoutSeconds, integer: true }),
    };

    const apiRaw = read.object(key("api"), project.api, ["throttlingRateLimit", "throttlingBurstLimit", "cors"]) ?? {};
    const corsKeys = ["allowOrigins", "allowMethods", "allowHeaders", "exposeHeaders", "allowCredentials", "maxAgeSeconds"];
    const corsRaw = read.object(key("api.cors"), apiRaw.cors, corsKeys, false);
    const corsDefaults = STACK_DEFAULTS.cors;
    const cors: CorsConfig | undefined = corsRaw && {
        allowOrigins: read.stringList(key("api.cors.allowOrigins"), corsRaw.allowOrigins, /^(\*|https?:\/\/[^\s/]+)$/, 'origins such as "https://app.example.com" or "*"', [...corsDefaults.allowOrigins]) ?? [],
        allowMethods: read.stringList(key("api.cors.allowMethods"), corsRaw.allowMethods, HTTP_METHOD_OR_STAR, "HTTP methods or *", [...corsDefaults.allowMethods]) ?? [],
        allowHeaders: read.stringList(key("api.cors.allowHeaders"), corsRaw.allowHeaders, /^[\w*-]+$/, "header names", [...corsDefaults.allowHeaders]) ?? [],
        exposeHeaders: read.stringList(key("api.cors.exposeHeaders"), corsRaw.exposeHeaders, /^[\w-]+$/, "header names", [...corsDefaults.exposeHeaders]) ?? [],
        allowCredentials: read.boolean(key("api.cors.allowCredentials"), corsRaw.allowCredentials, corsDefaults.allowCredentials) ?? false,
        maxAgeSeconds: read.number(key("api.cors.maxAgeSeconds"), corsRaw.maxAgeSeconds, { ...HTTP_API.corsMaxAgeSeconds, integer: true }, corsDefaults.maxAgeSeconds) ?? 0,
    };
    if (cors && cors.allowCredentials && cors.allowOrigins.includes("*")) {
        read.problems.push(`${key("api.cors.allowCredentials")}: cannot be true while allowOrigins contains "*" (browsers refuse it); list the origins`);
    }
    const api = {
        throttlingRateLimit: read.number(key("api.throttlingRateLimit"), apiRaw.throttlingRateLimit, { min: 1, max: HTTP_API.throttle.rateLimit.max }),
        throttlingBurstLimit: read.number(key("api.throttlingBurstLimit"), apiRaw.throttlingBurstLimit, { min: 1, max: HTTP_API.throttle.burstLimit.max, integer: true }),
        cors,
    };

    const netRaw =
        read.object(key("network"), project.network, ["cidrBlock", "availabilityZones", "natGateways", "endpointZones", "xrayEndpoint"], true) ?? {};
    const network = {
        cidrBlock: read.string(key("network.cidrBlock"), netRaw.cidrBlock, CIDR, "an IPv4 CIDR block from /16 to /24 such as 10.0.0.0/16", STACK_DEFAULTS.network.cidrBlock),
        availabilityZones: read.number(key("network.availabilityZones"), netRaw.availabilityZones, { min: 2, max: 3, integer: true }, STACK_DEFAULTS.network.availabilityZones),
        natGateways: read.oneOf(key("network.natGateways"), netRaw.natGateways, NAT_GATEWAY_STRATEGIES, STACK_DEFAULTS.network.natGateways),
        endpointZones: read.number(key("network.endpointZones"), netRaw.endpointZones, { min: 1, max: 3, integer: true }, STACK_DEFAULTS.network.endpointZones),
        xrayEndpoint: read.boolean(key("network.xrayEndpoint"), netRaw.xrayEndpoint, STACK_DEFAULTS.network.xrayEndpoint),
    };
    if (network.endpointZones !== undefined && network.availabilityZones !== undefined && network.endpointZones > network.availabilityZones) {
        read.problems.push(`${key("network.endpointZones")}: ${network.endpointZones} is more than network.availabilityZones (${network.availabilityZones})`);
    }

    const dbKeys = ["engineVersion", "databaseName", "minCapacity", "maxCapacity", "autoPauseSeconds", "readers", "backupRetentionDays", "deletionProtection", "finalSnapshot", "protect", "connectionsPerFunction"];
    const dbRaw = read.object(key("database"), project.database, dbKeys) ?? {};
    const database = {
        engineVersion: read.string(key("database.engineVersion"), dbRaw.engineVersion, /^17\.\d+$/, "an Aurora PostgreSQL 17 version such as 17.5", STACK_DEFAULTS.database.engineVersion),
        databaseName: read.string(key("database.databaseName"), dbRaw.databaseName, /^[a-z][a-z0-9_]{0,62}$/, "a lower-case identifier such as app", STACK_DEFAULTS.database.databaseName),
        minCapacity: read.number(key("database.minCapacity"), dbRaw.minCapacity, AURORA_SERVERLESS_V2.minCapacityAcu),
        maxCapacity: read.number(key("database.maxCapacity"), dbRaw.maxCapacity, AURORA_SERVERLESS_V2.maxCapacityAcu),
        autoPauseSeconds: dbRaw.autoPauseSeconds === undefined ? undefined : read.number(key("database.autoPauseSeconds"), dbRaw.autoPauseSeconds, { ...AURORA_SERVERLESS_V2.autoPauseSeconds, integer: true }),
        readers: read.number(key("database.readers"), dbRaw.readers, { min: 0, max: 2, integer: true }, STACK_DEFAULTS.database.readers),
        backupRetentionDays: read.number(key("database.backupRetentionDays"), dbRaw.backupRetentionDays, { ...AURORA_SERVERLESS_V2.backupRetentionDays, integer: true }),
        deletionProtection: read.boolean(key("database.deletionProtection"), dbRaw.deletionProtection),
        finalSnapshot: read.boolean(key("database.finalSnapshot"), dbRaw.finalSnapshot),
        protect: read.boolean(key("database.protect"), dbRaw.protect, STACK_DEFAULTS.database.protect),
        connectionsPerFunction: read.number(
            key("database.connectionsPerFunction"),
            dbRaw.connectionsPerFunction,
            { ...LAMBDA.reservedConcurrency, integer: true },
            STACK_DEFAULTS.database.connectionsPerFunction,
        ),
    };
    if (database.minCapacity !== undefined && database.maxCapacity !== undefined && database.minCapacity > database.maxCapacity) {
        read.problems.push(`${key("database.minCapacity")}: ${database.minCapacity} is above database.maxCapacity (${database.maxCapacity})`);
    }
    if (database.minCapacity === 0 && database.autoPauseSeconds === undefined) {
        read.problems.push(`${key("database.autoPauseSeconds")}: is required when database.minCapacity is 0 (${describeRange(AURORA_SERVERLESS_V2.autoPauseSeconds)} seconds)`);
    }
    if (database.minCapacity !== undefined && database.minCapacity > 0 && dbRaw.autoPauseSeconds !== undefined) {
        read.problems.push(`${key("database.autoPauseSeconds")}: only applies when database.minCapacity is 0 (it is ${database.minCapacity}); remove it`);
    }
    if (database.readers !== undefined && network.availabilityZones !== undefined && database.readers >= network.availabilityZones) {
        read.problems.push(`${key("database.readers")}: ${database.readers} readers need more than network.availabilityZones (${network.availabilityZones}) zones for the writer and each reader to sit apart`);
    }

    const authRaw = read.object(key("auth"), project.auth, ["jwt"], false) ?? {};
    const jwtRaw = read.object(key("auth.jwt"), authRaw.jwt, ["issuer", "audience"], false);
    const auth: StackConfig["auth"] = {
        jwt: jwtRaw && {
            issuer: read.string(key("auth.jwt.issuer"), jwtRaw.issuer, /^https:\/\/[^\s]+$/, "the issuer URL, https://... (e.g. https://cognito-idp.us-east-1.amazonaws.com/us-east-1_AbCdEf)") ?? "",
            audience: read.stringList(key("auth.jwt.audience"), jwtRaw.audience ?? [], /^\S{1,256}$/, "audiences (client ids)", []) ?? [],
        },
    };
    if (auth.jwt && jwtRaw?.audience !== undefined && auth.jwt.audience.length === 0) {
        read.problems.push(`${key("auth.jwt.audience")}: must list at least one audience (the app client ids tokens are issued to)`);
    } else if (jwtRaw && jwtRaw.audience === undefined) {
        read.problems.push(`${key("auth.jwt.audience")}: is required (a list of audiences, the app client ids tokens are issued to)`);
    }
    const domainRaw = read.object(key("domain"), project.domain, ["name", "certificateArn", "hostedZoneId"], false);
    const domain: StackConfig["domain"] = domainRaw && {
        name: read.string(key("domain.name"), domainRaw.name, /^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/, "a lower-case DNS name such as api.example.com") ?? "",
        certificateArn: read.string(key("domain.certificateArn"), domainRaw.certificateArn, /^arn:aws[\w-]*:acm:[a-z0-9-]+:\d{12}:certificate\/[\w-]+$/, "an ACM certificate ARN (arn:aws:acm:<region>:<account>:certificate/<id>)") ?? "",
        hostedZoneId: domainRaw.hostedZoneId === undefined ? undefined : read.string(key("domain.hostedZoneId"), domainRaw.hostedZoneId, /^Z[A-Z0-9]{1,31}$/, "a Route 53 hosted zone id such as Z0123456789ABC"),
    };
    if (domain?.certificateArn && region && !domain.certificateArn.startsWith(`arn:aws:acm:${region}:`) && /^arn:aws:acm:/.test(domain.certificateArn)) {
        read.problems.push(`${key("domain.certificateArn")}: the certificate must be in the stack's region (${region}) for a regional API domain`);
    }
    const monitoring = readMonitoring(read, key, project.monitoring);
    const concurrencyRaw = read.object(key("concurrency"), project.concurrency, ["reservations", "accountLimit"], false) ?? {};
    const concurrency = {
        reservations: read.oneOf(key("concurrency.reservations"), concurrencyRaw.reservations, RESERVATION_MODES, STACK_DEFAULTS.concurrency.reservations),
        ...(concurrencyRaw.accountLimit !== undefined
            ? { accountLimit: read.number(key("concurrency.accountLimit"), concurrencyRaw.accountLimit, { min: 1, max: 1_000_000, integer: true }) }
            : {}),
    };

    const release = readRelease(read, key, project.release, monitoring);
    const eventsRaw = read.object(key("events"), project.events, ["delivery", "relayWake"], false) ?? {};
    const events = {
        delivery: read.oneOf(key("events.delivery"), eventsRaw.delivery, EVENT_DELIVERY_MODES, STACK_DEFAULTS.events.delivery),
        relayWake: read.oneOf(key("events.relayWake"), eventsRaw.relayWake, RELAY_WAKE_MODES, STACK_DEFAULTS.events.relayWake),
    };
    // The alarm reads an INFO line (the outbox write marker), which Lambda drops below the functions' log level.
    if (events.relayWake === "on-alarm" && (logLevel === "WARN" || logLevel === "ERROR")) {
        read.problems.push(`${key("events.relayWake")}: on-alarm wakes the outbox relays from an INFO log line, which logLevel ${logLevel} drops; set logLevel to INFO or DEBUG, or relayWake to every-minute`);
    }

    if (read.problems.length > 0) throw new ConfigError(stack, read.problems);
    // Every field was checked above; the problems list being empty means none is undefined.
    return { stack, layout, region, logRetentionDays, logLevel, functionDefaults, api, network, database, auth, domain, monitoring, concurrency, release, events } as StackConfig;
}

/**
 * `monitoring: {enabled, dashboard, email, thresholds}`. Optional as a whole (absent: no alarms and no
 * dashboard); once present, `enabled` must be said explicitly so turning alarms off is a decision.
 */
function readMonitoring(read: Reader, key: (name: string) => string, value: unknown): StackConfig["monitoring"] {
    const raw = read.object(key("monitoring"), value, ["enabled", "dashboard", "email", "thresholds"], false);
    if (!raw) return { enabled: STACK_DEFAULTS.monitoring.enabled, dashboard: STACK_DEFAULTS.monitoring.enabled, thresholds: {} };
    const enabled = read.boolean(key("monitoring.enabled"), raw.enabled) ?? false;
    const dashboard = read.boolean(key("monitoring.dashboard"), raw.dashboard, enabled) ?? false;
    const email = raw.email === undefined ? undefined : read.string(key("monitoring.email"), raw.email, EMAIL, "one email address such as ops@example.com");
    const names = Object.keys(MONITORING_THRESHOLD_RANGES) as (keyof MonitoringThresholds)[];
    const thresholdsRaw = read.object(key("monitoring.thresholds"), raw.thresholds, names, false) ?? {};
    const thresholds: Partial<MonitoringThresholds> = {};
    for (const name of names) {
        if (thresholdsRaw[name] === undefined) continue;
        const number = read.number(key(`monitoring.thresholds.${name}`), thresholdsRaw[name], MONITORING_THRESHOLD_RANGES[name]);
        if (number !== undefined) thresholds[name] = number;
    }
    return { enabled, dashboard, ...(email !== undefined ? { email } : {}), thresholds };
}

/**
 * `release: {strategy, intervalMinutes, keepVersions}`, optional as a whole. A gradual strategy
 * needs the stack's alarms: they are what rolls a bad version back.
 */
function readRelease(read: Reader, key: (name: string) => string, value: unknown, monitoring: StackConfig["monitoring"]): ReleaseConfig {
    const defaults = STACK_DEFAULTS.release;
    const raw = read.object(key("release"), value, ["strategy", "intervalMinutes", "keepVersions"], false) ?? {};
    const strategy = read.oneOf(key("release.strategy"), raw.strategy, RELEASE_STRATEGIES, defaults.strategy) ?? defaults.strategy;
    const keepVersions = read.number(key("release.keepVersions"), raw.keepVersions, { min: 1, max: 100, integer: true }, defaults.keepVersions) ?? defaults.keepVersions;
    if (strategy === "all-at-once") {
        if (raw.intervalMinutes !== undefined) read.problems.push(`${key("release.intervalMinutes")}: only applies to a canary or linear release (the strategy is all-at-once); remove it`);
        return { strategy, keepVersions };
    }
    const intervals = releaseIntervals(strategy);
    const intervalMinutes = read.oneOf(key("release.intervalMinutes"), raw.intervalMinutes, intervals, defaults.intervalMinutes[strategy]);
    if (!monitoring.enabled) {
        read.problems.push(`${key("release.strategy")}: "${strategy}" needs monitoring.enabled: true (its alarms decide a rollback); enable monitoring or use "all-at-once"`);
    }
    return { strategy, intervalMinutes, keepVersions };
}
