import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { SERVICE_EVENT_TABLES_SQL } from "../../functions/runtime/data/provisioning";
import { MIGRATION_TIMEOUT_SECONDS, sha256, type ServiceMigrationRequest } from "../../functions/runtime/data/migrations";
import { lambdaMigrationCode } from "../../functions/runtime/entry/lambda";
import { ComponentTypes } from "../../policy/lib/types";
import { deferredResource, Function } from "./function";
import { functionRolePolicy, lambdaAssumeRolePolicy, type DatabaseConnection, type FunctionSettings } from "./function-settings";

/** What the MigrationRunner needs. Fields without a default are required. */
export interface MigrationRunnerArgs {
    /** The cluster, signed in to as the master user: the only function that reads its secret. */
    database: DatabaseConnection;
    settings: FunctionSettings;
    /**
     * What the function reserves of the account's concurrency: one run at a time where the stack
     * reserves concurrency (`Reservations.migrationFunction`). @default none
     */
    reservedConcurrency?: number;
    /**
     * How long one run may take. Not behind the API, so the timeout cap of route functions does not
     * apply; a long migration should still be split up.
     * @default MIGRATION_TIMEOUT_SECONDS (functions/runtime/data/migrations.ts)
     */
    timeoutSeconds?: number;
}

const DEFAULTS = { timeoutSeconds: MIGRATION_TIMEOUT_SECONDS, memoryMb: 256 } as const;

/**
 * The platform's migration function: it holds no service's SQL. Each database service invokes it
 * with its own `ServiceMigrationRequest` (`ServiceMigration`), and it creates and updates that
 * service's schema, roles and the platform's tables in it, then applies that service's pending
 * migrations. It is the only function that signs in as the master user.
 */
export class MigrationRunner extends pulumi.ComponentResource {
    /** The function's timeout: what its duration alarm is measured against. */
    readonly timeoutSeconds: number;
    /** What each service's invocation names: the function's name. */
    readonly functionName: pulumi.Output<string>;
    /** The SHA-256 of the runner's code: a service's invocation is keyed on it, so new runner code re-runs every service's. */
    readonly codeHash: pulumi.Output<string>;

    constructor(name: string, args: MigrationRunnerArgs, opts?: pulumi.ComponentResourceOptions) {
        // The type token and the children's names are part of deployed URNs: changing them would replace the function.
        super(ComponentTypes.migrations, name, {}, opts);
        const timeoutSeconds = args.timeoutSeconds ?? DEFAULTS.timeoutSeconds;
        this.timeoutSeconds = timeoutSeconds;
        const { settings } = args;

        const role = new aws.iam.Role(
            `${name}-role`,
            { description: "The database migration function", assumeRolePolicy: lambdaAssumeRolePolicy(), tags: settings.tags },
            { parent: this },
        );
        const permissions = deferredResource<aws.iam.RolePolicy>();
        // Runs outside the HTTP API during `pulumi up`: the policy pack classifies it by its trigger
        // (an invocation), so the route functions' 29 s bound does not apply to it.
        const fn = new Function(
            `${name}-function`,
            {
                service: "platform",
                functionId: name,
                description: "Applies a service's SQL migrations, given in the invocation's input",
                code: lambdaMigrationCode(),
                role,
                // The endpoints it reads the secret through must exist before its first run (Function waits for them).
                permissions: permissions.resource,
                memoryMb: DEFAULTS.memoryMb,
                timeoutSeconds,
                reservedConcurrency: args.reservedConcurrency,
                database: args.database,
                settings,
                resourceNames: { logGroup: `${name}-logs`, function: `${name}-function` },
                // Off the alias: `up` invokes the code it just deployed ($LATEST), never a version a
                // gradual release of the other functions holds back.
                alias: false,
            },
            { parent: this },
        );
        permissions.resolve(new aws.iam.RolePolicy(`${name}-permissions`, { role: role.id, policy: functionRolePolicy([fn.logGroup.arn], args.database) }, { parent: this }));

        this.functionName = fn.name;
        // Carries the function as a dependency: an invocation keyed on it waits for the new code.
        this.codeHash = pulumi.all([fn.name, fn.codeHash]).apply(([, hash]) => hash);
        this.registerOutputs({ functionName: this.functionName, codeHash: this.codeHash });
    }
}

/** What one service's migrations need: its request and the platform's runner, as plain inputs (a StackReference's outputs in the per-service layout). */
export interface ServiceMigrationArgs {
    /** The service's request (`serviceMigrationRequests`, platform/data-plan.ts): its schema, roles, limits and migrations. */
    request: ServiceMigrationRequest;
    /** The runner's function name (`MigrationRunner.functionName`). */
    functionName: pulumi.Input<string>;
    /** The runner's code hash (`MigrationRunner.codeHash`): new runner code re-runs this service's migrations too. */
    runnerCodeHash: pulumi.Input<string>;
}

/**
 * One database service's migrations, applied during `pulumi up` of the stack that holds the
 * service: one invocation of the platform's runner whose input is the service's request, keyed
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
