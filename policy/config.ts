/**
 * The default configuration of every rule, in code.
 *
 * The CLI fills a policy's `configSchema` defaults in before it calls the pack, but the SDK does
 * not, and neither do our tests or the offline run. So each rule reads its config through
 * `withDefaults`, and the schema the CLI sees is generated from the same knob list: one source.
 *
 * Per-stack values live in `config.<stack>.json` beside this file.
 */
import { AURORA_SERVERLESS_V2, FARGATE, HTTP_API, LAMBDA, LOG_RETENTION_DAYS, PACK_FUNCTION_DEFAULTS, ROUTE_FUNCTION, SQS } from "./lib/limits";
import type { PolicyConfigSchema } from "./lib/sdk";

type JsonSchema = PolicyConfigSchema["properties"][string];

/** One knob: its JSON schema (checked by the CLI), its default and what it is for. */
type Knobs<C> = { [K in keyof C]: JsonSchema & { default: C[K]; description: string } };

/** A rule's defaults and the `configSchema` that documents them. */
export interface RuleConfig<C extends object> {
    defaults: Readonly<C>;
    schema: PolicyConfigSchema;
}

function knobs<C extends object>(spec: Knobs<C>): RuleConfig<C> {
    const defaults = {} as C;
    const properties: PolicyConfigSchema["properties"] = {};
    for (const key of Object.keys(spec) as (keyof C & string)[]) {
        defaults[key] = spec[key].default;
        properties[key] = spec[key] as JsonSchema;
    }
    return { defaults: Object.freeze(defaults), schema: { properties } };
}

/** A rule's effective config: the configured value of each knob, else its default. */
export function withDefaults<C extends object>(defaults: Readonly<C>, configured: object | undefined): C {
    const merged = { ...defaults } as C;
    const given = (configured ?? {}) as Record<string, unknown>;
    for (const key of Object.keys(defaults) as (keyof C & string)[]) {
        if (given[key] !== undefined) {
            merged[key] = given[key] as C[typeof key];
        }
    }
    return merged;
}

export interface TimeoutBoundsConfig { minSeconds: number; maxSeconds: number; queueMaxSeconds: number; deploymentMaxSeconds: number }
export interface ApiTimeoutBudgetConfig { maxIntegrationTimeoutMs: number }
export interface MemoryBoundsConfig { minMb: number; maxMb: number }
export interface RetentionConfig { minRetentionDays: number; maxRetentionDays: number }
export interface BackupRetentionConfig { minDays: number }
export interface DeletionProtectionConfig { requireDeletionProtection: boolean }
export interface LogExportsConfig { requiredLogExports: string[] }
export interface ManagedPoliciesConfig { allowedPolicyArns: string[] }
export interface WildcardActionsConfig { forbidServiceWildcards: boolean }
export interface ConnectionBudgetConfig { maxConnections: number; headroomConnections: number }
export interface MasterSecretConfig { managedPoliciesReadingSecrets: string[] }
export interface PlaintextEnvironmentConfig { ignoredNames: string[]; minEntropyLength: number; minEntropyBitsPerCharacter: number }
export interface RouteAuthorizationConfig { publicRoutes: string[] }
export interface TaskSizeConfig { minCpu: number; maxCpu: number; maxMemoryMb: number }
export interface ReceiveCountConfig { minReceiveCount: number; maxReceiveCount: number }
export interface ReleaseRollbackConfig { platformAlarmNames: string[] }
export interface VisibilityTimeoutConfig { timeoutFactor: number }
export interface ServicePrincipalsConfig { servicePrincipals: string[] }
export type NoConfig = Record<string, never>;

const none = knobs<NoConfig>({});

/** AWS-managed policies that read every secret: no role may have them where a secret is kept to its readers. */
const MANAGED_POLICIES_READING_SECRETS: { type: "array"; items: { type: "string" }; default: string[] } = {
    type: "array",
    items: { type: "string" },
    default: ["AdministratorAccess", "PowerUserAccess", "SecretsManagerReadWrite"],
};

/** A limit as the bounds of a JSON schema. */
function schemaRange(range: { min: number; max: number }): { minimum: number; maximum: number } {
    return { minimum: range.min, maximum: range.max };
}

const RETENTION_DAYS = { min: LOG_RETENTION_DAYS[0], max: LOG_RETENTION_DAYS[LOG_RETENTION_DAYS.length - 1] };

export const ruleConfig = {
    "lambda-timeout-bounds": knobs<TimeoutBoundsConfig>({
        minSeconds: { type: "integer", ...schemaRange(LAMBDA.timeoutSeconds), default: LAMBDA.timeoutSeconds.min, description: "Smallest allowed function timeout, in seconds." },
        maxSeconds: {
            type: "integer",
            ...schemaRange(LAMBDA.timeoutSeconds),
            default: ROUTE_FUNCTION.timeoutSeconds.max,
            description: `Largest allowed timeout of a function behind the HTTP API (or of one no trigger reaches), in seconds. ${ROUTE_FUNCTION.timeoutSeconds.max} keeps it under the API's ${HTTP_API.integrationTimeoutMs.max / 1000} s cut-off.`,
        },
        queueMaxSeconds: {
            type: "integer",
            ...schemaRange(LAMBDA.timeoutSeconds),
            default: LAMBDA.timeoutSeconds.max,
            description: "Largest allowed timeout of a function an SQS event source mapping feeds (a subscription's, a schedule's), in seconds.",
        },
        deploymentMaxSeconds: {
            type: "integer",
            ...schemaRange(LAMBDA.timeoutSeconds),
            default: LAMBDA.timeoutSeconds.max,
            description: "Largest allowed timeout of a function the deployment invokes (the migration run), in seconds.",
        },
    }),
    "api-timeout-budget": knobs<ApiTimeoutBudgetConfig>({
        maxIntegrationTimeoutMs: {
            type: "integer",
            ...schemaRange(HTTP_API.integrationTimeoutMs),
            default: HTTP_API.integrationTimeoutMs.max,
            description: `The longest an HTTP API integration may wait, in milliseconds (API Gateway's hard limit is ${HTTP_API.integrationTimeoutMs.max}).`,
        },
    }),
    "lambda-memory-bounds": knobs<MemoryBoundsConfig>({
        minMb: { type: "integer", ...schemaRange(LAMBDA.memoryMb), default: PACK_FUNCTION_DEFAULTS.memoryMb.min, description: "Smallest allowed memory size, in MB." },
        maxMb: { type: "integer", ...schemaRange(LAMBDA.memoryMb), default: PACK_FUNCTION_DEFAULTS.memoryMb.max, description: "Largest allowed memory size, in MB." },
    }),
    "lambda-json-logging": none,
    "lambda-log-group-in-stack": none,
    "lambda-tracing-active": none,
    "lambda-error-alarm": none,
    "lambda-trigger-alias": none,
    "lambda-permission-source": none,
    "lambda-release-rollback": knobs<ReleaseRollbackConfig>({
        platformAlarmNames: {
            type: "array",
            items: { type: "string" },
            default: [],
            description: "Alarms another stack creates that a deployment group may name: a service stack's route groups watch the API's alarms, which the platform stack of the per-service layout owns.",
        },
    }),
    "log-group-retention": knobs<RetentionConfig>({
        minRetentionDays: { type: "integer", ...schemaRange(RETENTION_DAYS), default: RETENTION_DAYS.min, description: "Shortest allowed log retention, in days (prod: 30)." },
        maxRetentionDays: { type: "integer", ...schemaRange(RETENTION_DAYS), default: RETENTION_DAYS.max, description: "Longest allowed log retention, in days." },
    }),
    "api-stage-access-logs": none,
    "rds-storage-encrypted": none,
    "rds-not-publicly-accessible": none,
    "rds-managed-master-password": none,
    "rds-backup-retention": knobs<BackupRetentionConfig>({
        minDays: { type: "integer", ...schemaRange(AURORA_SERVERLESS_V2.backupRetentionDays), default: 7, description: "Shortest allowed automated backup retention, in days." },
    }),
    "rds-deletion-protection": knobs<DeletionProtectionConfig>({
        requireDeletionProtection: { type: "boolean", default: false, description: "Whether clusters must have deletion protection (true for prod)." },
    }),
    "rds-log-exports": knobs<LogExportsConfig>({
        requiredLogExports: { type: "array", items: { type: "string" }, default: ["postgresql"], description: "Log types every cluster must export to CloudWatch Logs." },
    }),
    "iam-no-broad-managed-policies": knobs<ManagedPoliciesConfig>({
        allowedPolicyArns: { type: "array", items: { type: "string" }, default: [], description: "AWS-managed policy ARNs to allow despite their name (an explicit, reviewed exception)." },
    }),
    "iam-no-wildcard-actions": knobs<WildcardActionsConfig>({
        forbidServiceWildcards: { type: "boolean", default: true, description: "Also reject service-wide wildcards such as \"s3:*\", not only a bare \"*\"." },
    }),
    "iam-service-principal-source": knobs<ServicePrincipalsConfig>({
        servicePrincipals: {
            type: "array",
            items: { type: "string" },
            default: ["scheduler.amazonaws.com", "cloudwatch.amazonaws.com", "events.amazonaws.com"],
            description: "Service principals that act for a resource of some account (a schedule, an alarm, a rule) and whose trust or key policy statements must name that account (aws:SourceAccount) or resource (aws:SourceArn).",
        },
    }),
    "iam-network-interfaces-scoped": none,
    "security-group-egress-scoped": none,
    "rds-log-statement-ddl": none,
    "db-connection-budget": knobs<ConnectionBudgetConfig>({
        maxConnections: {
            type: "integer",
            minimum: 0,
            default: 0,
            description: "The cluster's max_connections; 0 (the default) estimates it from the cluster's maximum capacity, the figure Aurora derives it from.",
        },
        headroomConnections: {
            type: "integer",
            minimum: 0,
            default: 10,
            description: "Connections kept free of the services' role limits: the migration function, a person's psql session, RDS's own reserved connections.",
        },
    }),
    "db-master-secret-migration-only": knobs<MasterSecretConfig>({
        managedPoliciesReadingSecrets: {
            ...MANAGED_POLICIES_READING_SECRETS,
            description: "AWS-managed policies (by name) that read every secret, so no role but the migration function's may have them.",
        },
    }),
    "secret-own-service-only": knobs<MasterSecretConfig>({
        managedPoliciesReadingSecrets: {
            ...MANAGED_POLICIES_READING_SECRETS,
            description: "AWS-managed policies (by name) that read every secret, so no role but a secret's own readers may have them.",
        },
    }),
    "secret-no-plaintext-environment": knobs<PlaintextEnvironmentConfig>({
        ignoredNames: {
            type: "array",
            items: { type: "string" },
            // The platform's route label: "GET /users/{id}" is named like a key but is none.
            default: ["ROUTE_KEY"],
            description: "Variables whose names look like a secret's but whose values are not (checked by shape still).",
        },
        minEntropyLength: { type: "integer", minimum: 16, maximum: 1024, default: 32, description: "Shortest token-like value (letters, digits, + / = _ - .) checked for randomness." },
        minEntropyBitsPerCharacter: {
            type: "number",
            minimum: 3,
            maximum: 6,
            // Random base64 is about 5.5 bits a character over 32; words, paths and hex hashes stay at or under 4.
            default: 4.5,
            description: "Shannon entropy, in bits per character, from which a token-like value counts as a generated secret.",
        },
    }),
    "api-route-authorization": knobs<RouteAuthorizationConfig>({
        publicRoutes: { type: "array", items: { type: "string" }, default: [], description: 'Route keys ("METHOD /path") that are public on purpose; any other route without an authorizer is reported.' },
    }),
    "ecs-task-size": knobs<TaskSizeConfig>({
        minCpu: { type: "integer", minimum: FARGATE.taskSizes[0].cpu, maximum: FARGATE.taskSizes[FARGATE.taskSizes.length - 1].cpu, default: FARGATE.taskSizes[0].cpu, description: "Smallest allowed task CPU, in CPU units (1024 = 1 vCPU)." },
        // The pack's ceiling, well under Fargate's: a stack that needs bigger tasks raises it in its own config.
        maxCpu: { type: "integer", minimum: FARGATE.taskSizes[0].cpu, maximum: FARGATE.taskSizes[FARGATE.taskSizes.length - 1].cpu, default: 4096, description: "Largest allowed task CPU, in CPU units." },
        maxMemoryMb: { type: "integer", minimum: 512, maximum: 122_880, default: 16_384, description: "Largest allowed task memory, in MiB." },
    }),
    "ecs-container-logging": none,
    "ecs-container-health-check": none,
    "ecs-no-public-ip": none,
    "ecs-not-privileged": none,
    "api-private-integration-timeout": knobs<ApiTimeoutBudgetConfig>({
        maxIntegrationTimeoutMs: {
            type: "integer",
            ...schemaRange(HTTP_API.integrationTimeoutMs),
            default: HTTP_API.integrationTimeoutMs.max,
            description: `The longest a private integration may wait, in milliseconds (API Gateway's hard limit is ${HTTP_API.integrationTimeoutMs.max}).`,
        },
    }),
    "sqs-consumer-dead-letter-queue": knobs<ReceiveCountConfig>({
        minReceiveCount: { type: "integer", ...schemaRange(SQS.maxReceiveCount), default: 1, description: "Fewest deliveries before a message moves to the dead-letter queue." },
        // Past this a poison message costs more invocations than it could ever be worth.
        maxReceiveCount: { type: "integer", ...schemaRange(SQS.maxReceiveCount), default: 100, description: "Most deliveries before a message moves to the dead-letter queue (SQS allows 1000)." },
    }),
    "sqs-visibility-timeout": knobs<VisibilityTimeoutConfig>({
        timeoutFactor: {
            type: "integer",
            minimum: 1,
            maximum: 100,
            default: SQS.visibilityTimeoutFactor,
            description: "How many times the consumer's timeout (plus its batching window) the queue's visibility timeout must be at least (AWS asks for 6).",
        },
    }),
    "lambda-sqs-batch-item-failures": none,
    "sqs-queue-encryption": none,
    "s3-bucket-private": none,
    "scheduler-retry-dead-letter": none,
    "eventbridge-target-dead-letter": none,
    "policy-suppression-reason": none,
} as const;

export type RuleName = keyof typeof ruleConfig;
