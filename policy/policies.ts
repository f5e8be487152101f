/**
 * The pack's policies, in catalogue order. `index.ts` hands this list to `PolicyPack`; tests and
 * `tools/policy-run.ts` import it from here (never `index.ts`, which starts a gRPC server).
 */
import type { Policies } from "./lib/sdk";
import { apiPrivateIntegrationTimeout } from "./rules/api-private-integration-timeout";
import { apiRouteAuthorization } from "./rules/api-route-authorization";
import { apiStageAccessLogs } from "./rules/api-stage-access-logs";
import { apiTimeoutBudget } from "./rules/api-timeout-budget";
import { dbConnectionBudget } from "./rules/db-connection-budget";
import { ecsContainerHealthCheck } from "./rules/ecs-container-health-check";
import { ecsContainerLogging } from "./rules/ecs-container-logging";
import { ecsNoPublicIp } from "./rules/ecs-no-public-ip";
import { ecsNotPrivileged } from "./rules/ecs-not-privileged";
import { ecsTaskSize } from "./rules/ecs-task-size";
import { dbMasterSecretMigrationOnly } from "./rules/db-master-secret-migration-only";
import { iamNoBroadManagedPolicies } from "./rules/iam-no-broad-managed-policies";
import { iamNetworkInterfacesScoped } from "./rules/iam-network-interfaces-scoped";
import { iamNoWildcardActions } from "./rules/iam-no-wildcard-actions";
import { iamServicePrincipalSource } from "./rules/iam-service-principal-source";
import { lambdaErrorAlarm } from "./rules/lambda-error-alarm";
import { lambdaJsonLogging } from "./rules/lambda-json-logging";
import { lambdaLogGroupInStack } from "./rules/lambda-log-group-in-stack";
import { lambdaMemoryBounds } from "./rules/lambda-memory-bounds";
import { lambdaTimeoutBounds } from "./rules/lambda-timeout-bounds";
import { lambdaTriggerAlias } from "./rules/lambda-trigger-alias";
import { lambdaPermissionSource } from "./rules/lambda-permission-source";
import { lambdaReleaseRollback } from "./rules/lambda-release-rollback";
import { lambdaTracingActive } from "./rules/lambda-tracing-active";
import { logGroupRetention } from "./rules/log-group-retention";
import { policySuppressionReason } from "./rules/policy-suppression-reason";
import { rdsBackupRetention } from "./rules/rds-backup-retention";
import { rdsDeletionProtection } from "./rules/rds-deletion-protection";
import { rdsLogExports } from "./rules/rds-log-exports";
import { rdsLogStatementDdl } from "./rules/rds-log-statement-ddl";
import { rdsManagedMasterPassword } from "./rules/rds-managed-master-password";
import { rdsNotPubliclyAccessible } from "./rules/rds-not-publicly-accessible";
import { rdsStorageEncrypted } from "./rules/rds-storage-encrypted";
import { eventbridgeTargetDeadLetter } from "./rules/eventbridge-target-dead-letter";
import { lambdaSqsBatchItemFailures } from "./rules/lambda-sqs-batch-item-failures";
import { schedulerRetryDeadLetter } from "./rules/scheduler-retry-dead-letter";
import { secretNoPlaintextEnvironment } from "./rules/secret-no-plaintext-environment";
import { secretOwnServiceOnly } from "./rules/secret-own-service-only";
import { securityGroupEgressScoped } from "./rules/security-group-egress-scoped";
import { sqsConsumerDeadLetterQueue } from "./rules/sqs-consumer-dead-letter-queue";
import { sqsQueueEncryption } from "./rules/sqs-queue-encryption";
import { s3BucketPrivate } from "./rules/s3-bucket-private";
import { sqsVisibilityTimeout } from "./rules/sqs-visibility-timeout";

/** The name the pack registers under (`pulumi preview` prints it with every violation). */
export const PACK_NAME = "serverless-microservices";

export const policies: Policies = [
    // Timeouts
    lambdaTimeoutBounds,
    apiTimeoutBudget,
    // Memory
    lambdaMemoryBounds,
    // Logging and tracing
    lambdaJsonLogging,
    lambdaLogGroupInStack,
    logGroupRetention,
    apiStageAccessLogs,
    lambdaTracingActive,
    // Alarms
    lambdaErrorAlarm,
    // Releases
    lambdaTriggerAlias,
    lambdaReleaseRollback,
    // Access
    apiRouteAuthorization,
    // Database
    rdsStorageEncrypted,
    rdsNotPubliclyAccessible,
    rdsManagedMasterPassword,
    rdsBackupRetention,
    rdsDeletionProtection,
    rdsLogExports,
    rdsLogStatementDdl,
    dbMasterSecretMigrationOnly,
    // IAM
    iamNoBroadManagedPolicies,
    iamNoWildcardActions,
    iamNetworkInterfacesScoped,
    iamServicePrincipalSource,
    lambdaPermissionSource,
    // Secrets
    secretOwnServiceOnly,
    secretNoPlaintextEnvironment,
    // Network
    securityGroupEgressScoped,
    // Capacity
    dbConnectionBudget,
    // Containers
    ecsTaskSize,
    ecsContainerLogging,
    ecsContainerHealthCheck,
    ecsNoPublicIp,
    ecsNotPrivileged,
    apiPrivateIntegrationTimeout,
    // Events, queues and schedules
    sqsConsumerDeadLetterQueue,
    sqsVisibilityTimeout,
    lambdaSqsBatchItemFailures,
    sqsQueueEncryption,
    s3BucketPrivate,
    schedulerRetryDeadLetter,
    eventbridgeTargetDeadLetter,
    // Suppressions
    policySuppressionReason,
];
