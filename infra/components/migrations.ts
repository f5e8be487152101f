import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { SERVICE_EVENT_TABLES_SQL } from "../../functions/runtime/data/provisioning";
import { MIGRATION_LAUNCHER_EXTRA_SECONDS, MIGRATION_TIMEOUT_SECONDS, sha256, type ServiceMigrationRequest } from "../../functions/runtime/data/migrations";
import { lambdaMigrationLauncherCode, lambdaMigrationWorkerCode } from "../../functions/runtime/entry/lambda";
import { identifiedCode } from "../function-packaging";
import { ENVIRONMENT } from "../../functions/runtime/environment";
import { LAMBDA } from "../../policy/lib/limits";
import { ComponentTypes } from "../../policy/lib/types";
import { deferredResource, Function } from "./function";
import { functionRolePolicy, lambdaAssumeRolePolicy, type DatabaseConnection, type FunctionSettings } from "./function-settings";

/** What the MigrationRunner needs. Fields without a default are required. */
export interface MigrationRunnerArgs {
    /** The cluster and the private subnets the worker runs in; it signs in as the master user with what the launcher passes it. */
    database: Omit<DatabaseConnection, "signIn">;
    /** The cluster's RDS-managed master secret: the launcher's role alone may read it. */
    masterSecretArn: pulumi.Input<string>;
    settings: FunctionSettings;
    /**
     * What the worker reserves of the account's concurrency: one run per database service at once
     * where the stack reserves concurrency (`Reservations.migrationFunction`). The launcher reserves
     * none: it holds no database connection, and a throttled invocation of it is retried by the
     * provider. @default none
     */
    reservedConcurrency?: number;
    /**
     * How long one run of the worker may take; the launcher's timeout is this plus
     * `MIGRATION_LAUNCHER_EXTRA_SECONDS`, within Lambda's 900 s. Not behind the API, so the timeout
     * cap of route functions does not apply; a long migration should still be split up.
     * @default MIGRATION_TIMEOUT_SECONDS (functions/runtime/data/migrations.ts)
     */
    timeoutSeconds?: number;
}

const DEFAULTS = { timeoutSeconds: MIGRATION_TIMEOUT_SECONDS, memoryMb: 256 } as const;

/** The launcher's timeout for a worker's: the worker's plus `MIGRATION_LAUNCHER_EXTRA_SECONDS`, refused past Lambda's limit. */
export function launcherTimeoutFor(name: string, workerTimeoutSeconds: number): number {
    const launcherTimeoutSeconds = workerTimeoutSeconds + MIGRATION_LAUNCHER_EXTRA_SECONDS;
    if (!Number.isInteger(workerTimeoutSeconds) || workerTimeoutSeconds < LAMBDA.timeoutSeconds.min || launcherTimeoutSeconds > LAMBDA.timeoutSeconds.max) {
        throw new Error(
            `MigrationRunner "${name}": timeoutSeconds ${workerTimeoutSeconds} must be a whole number from ${LAMBDA.timeoutSeconds.min} to ${LAMBDA.timeoutSeconds.max - MIGRATION_LAUNCHER_EXTRA_SECONDS}: ` +
                `the launcher waits for the worker plus ${MIGRATION_LAUNCHER_EXTRA_SECONDS} s, within Lambda's ${LAMBDA.timeoutSeconds.max} s.`,
        );
    }
    return launcherTimeoutSeconds;
}

/**
 * The platform's migration functions; they hold no service's SQL. Each database service invokes
 * the **launcher** with its own `ServiceMigrationRequest` (`ServiceMigration`). The launcher runs
 * outside the VPC: it reads the cluster's master secret from Secrets Manager over the public
 * endpoint (no interface endpoint to pay for) and invokes the **worker** synchronously with the
 * request and the credentials. The worker, in the private subnets beside the database, creates and
 * updates that service's schema, roles and the platform's tables in it, then applies the service's
 * pending migrations. The worker is the only function that signs in as the master user, and its
 * role reads no secret; the launcher's role reads that one secret and invokes that one function.
 */
export class MigrationRunner extends pulumi.ComponentResource {
    /** The worker's timeout: what its duration alarm is measured against. */
    readonly timeoutSeconds: number;
    /** The launcher's timeout: the worker's, one refused sign-in before it and the secret reads. */
    readonly launcherTimeoutSeconds: number;
    /** What each service's invocation names: the launcher's name. */
    readonly functionName: pulumi.Output<string>;
    /** The worker's name, for its alarms. */
    readonly workerFunctionName: pulumi.Output<string>;
    /** The SHA-256 over the launcher's and the worker's code: a service's invocation is keyed on it, so new code in either re-runs every service's. */
    readonly codeHash: pulumi.Output<string>;

    constructor(name: string, args: MigrationRunnerArgs, opts?: pulumi.ComponentResourceOptions) {
        // Checked before anything is registered.
        const timeoutSeconds = args.timeoutSeconds ?? DEFAULTS.timeoutSeconds;
        const launcherTimeoutSeconds = launcherTimeoutFor(name, timeoutSeconds);
        // The type token and the worker's names are part of deployed URNs: changing them would replace the function.
        super(ComponentTypes.migrations, name, {}, opts);
        this.timeoutSeconds = timeoutSeconds;
        this.launcherTimeoutSeconds = launcherTimeoutSeconds;
        const { settings } = args;

        const role = new aws.iam.Role(
            `${name}-role`,
            { description: "The database migration worker", assumeRolePolicy: lambdaAssumeRolePolicy(), tags: settings.tags },
            { parent: this },
        );
        const permissions = deferredResource<aws.iam.RolePolicy>();
        const database: DatabaseConnection = { ...args.database, signIn: { masterCredentials: "from-invocation" } };
        // Runs outside the HTTP API during `pulumi up`: the policy pack classifies it by its trigger
        // (an invocation), so the route functions' 29 s bound does not apply to it.
        const worker = new Function(
            `${name}-function`,
            {
                service: "platform",
                functionId: name,
                description: "Applies a service's SQL migrations, given in the invocation's input with the master user's sign-in (from the migration launcher)",
                code: identifiedCode(lambdaMigrationWorkerCode(), lambdaMigrationWorkerCode),
                role,
                // The endpoints it calls must exist before its first run (Function waits for them).
                permissions: permissions.resource,
                memoryMb: DEFAULTS.memoryMb,
                timeoutSeconds,
                reservedConcurrency: args.reservedConcurrency,
                database,
                settings,
                resourceNames: { logGroup: `${name}-logs`, function: `${name}-function` },
                // Off the alias: `up` invokes the code it just deployed ($LATEST), never a version a
                // gradual release of the other functions holds back.
                alias: false,
            },
            { parent: this },
        );
        permissions.resolve(new aws.iam.RolePolicy(`${name}-permissions`, { role: role.id, policy: functionRolePolicy([worker.logGroup.arn], database) }, { parent: this }));

        const launcherRole = new aws.iam.Role(
            `${name}-launcher-role`,
            { description: "The database migration launcher: reads the master secret, invokes the worker", assumeRolePolicy: lambdaAssumeRolePolicy(), tags: settings.tags },
            { parent: this },
        );
        const launcherPermissions = deferredResource<aws.iam.RolePolicy>();
        const launcher = new Function(
            `${name}-launcher`,
            {
                service: "platform",
                functionId: `${name}-launcher`,
                description: "Reads the cluster's master secret and has the migration worker apply the invocation's service migrations",
                code: identifiedCode(lambdaMigrationLauncherCode(), lambdaMigrationLauncherCode),
                role: launcherRole,
                permissions: launcherPermissions.resource,
                memoryMb: DEFAULTS.memoryMb,
                timeoutSeconds: launcherTimeoutSeconds,
                // Names, never values: the secret's ARN and the worker's name.
                environment: { [ENVIRONMENT.databaseSecretArn]: args.masterSecretArn, [ENVIRONMENT.migrationWorkerFunction]: worker.name },
                settings,
                alias: false,
            },
            { parent: this },
        );
        const launcherStatements = [
            pulumi.output(args.masterSecretArn).apply((arn) => ({ Sid: "MasterSecret", Effect: "Allow", Action: ["secretsmanager:GetSecretValue"], Resource: arn })),
            // The unqualified ARN: the launcher invokes $LATEST, what the last `up` deployed.
            worker.arn.apply((arn) => ({ Sid: "InvokeMigrationWorker", Effect: "Allow", Action: ["lambda:InvokeFunction"], Resource: arn })),
        ];
        launcherPermissions.resolve(
            new aws.iam.RolePolicy(`${name}-launcher-permissions`, { role: launcherRole.id, policy: functionRolePolicy([launcher.logGroup.arn], undefined, launcherStatements) }, { parent: this }),
        );

        this.functionName = launcher.name;
        this.workerFunctionName = worker.name;
        // Carries both functions as dependencies: an invocation keyed on it waits for the new code of either.
        this.codeHash = pulumi.all([launcher.name, worker.name, launcher.codeHash, worker.codeHash]).apply(([, , launcherHash, workerHash]) => sha256(`${launcherHash}\n${workerHash}`));
        this.registerOutputs({ functionName: this.functionName, workerFunctionName: this.workerFunctionName, codeHash: this.codeHash });
    }
}

/** What one service's migrations need: its request and the platform's runner, as plain inputs (a StackReference's outputs in the per-service layout). */
export interface ServiceMigrationArgs {
    /** The service's request (`serviceMigrationRequests`, platform/data-plan.ts): its schema, roles, limits and migrations. */
    request: ServiceMigrationRequest;
    /** The runner's launcher, by name (`MigrationRunner.functionName`). */
    functionName: pulumi.Input<string>;
    /** The runner's code hash (`MigrationRunner.codeHash`): new runner code re-runs this service's migrations too. */
    runnerCodeHash: pulumi.Input<string>;
}

/**
 * One database service's migrations, applied during `pulumi up` of the stack that holds the
 * service: one invocation of the platform's runner (its launcher) whose input is the service's
 * request alone (the master user's credentials never enter it, nor Pulumi's state), keyed
 * on the service's migration hash and data settings, the platform's tables and the runner's code.
 * Its functions (or tasks) take `appliedMigrationSet` as an input, so a failing migration stops
 * that service's `up` before its new code goes live and leaves every other service alone. Code
 * already running meets the new schema, so migrations must stay backward compatible with it
 * (expand, then contract).
 */
export class ServiceMigration extends pulumi.ComponentResource {
    /** Hash of the service's migrations; a change re-runs the invocation. */
    readonly migrationSetHash: string;
    /** The service's migration hash, known once its run succeeded: its functions take it as input. */
    readonly appliedMigrationSet: pulumi.Output<string>;
    /** What the last run reported (`{"applied": [...], "alreadyApplied": n}`). */
    readonly result: pulumi.Output<string>;

    constructor(name: string, args: ServiceMigrationArgs, opts?: pulumi.ComponentResourceOptions) {
        super(ComponentTypes.serviceMigration, name, {}, opts);
        const { request } = args;
        this.migrationSetHash = request.migrationSetHash;
        const invocation = new aws.lambda.Invocation(
            `${name}-migrations`,
            {
                functionName: args.functionName,
                input: JSON.stringify(request),
                triggers: {
                    migrationSetHash: request.migrationSetHash,
                    serviceData: sha256(JSON.stringify(request.service)),
                    // The platform's own tables in the service's schema: a stack deployed before them gets them at its next `up`.
                    platformTables: sha256(SERVICE_EVENT_TABLES_SQL.join("\n")),
                    runnerCode: args.runnerCodeHash,
                },
            },
            { parent: this },
        );
        this.result = invocation.result;
        const hash = this.migrationSetHash;
        this.appliedMigrationSet = invocation.result.apply(() => hash);
        this.registerOutputs({ migrationSetHash: this.migrationSetHash, appliedMigrationSet: this.appliedMigrationSet });
    }
}
