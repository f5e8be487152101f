import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { SERVICE_EVENT_TABLES_SQL } from "../../functions/runtime/data/provisioning";
import { MIGRATION_TIMEOUT_SECONDS, sha256, type Migration, type MigrationRunRequest } from "../../functions/runtime/data/migrations";
import { lambdaMigrationCode } from "../../functions/runtime/entry/lambda";
import { ComponentTypes } from "../../policy/lib/types";
import { deferredResource, Function } from "./function";
import { functionRolePolicy, lambdaAssumeRolePolicy, type DatabaseConnection, type FunctionSettings } from "./function-settings";

/** What the Migrations component needs. Fields without a default are required. */
export interface MigrationsArgs {
    /** Every service's migrations, as `resolveRegistry` read them from `functions/<service>/migrations/`. */
    migrations: Migration[];
    /**
     * The run's request (`migrationRunRequest`, platform/data-plan.ts): the migrations' hash, as
     * `resolveRegistry` computed it, and every database service's schema, roles and limits. It is
     * the invocation's input, so a new migration or a changed limit runs the function again and
     * shows in the preview.
     */
    request: MigrationRunRequest;
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
     * @default MIGRATION_TIMEOUT_SECONDS (functions/runtime/migrations.ts)
     */
    timeoutSeconds?: number;
}

const DEFAULTS = { timeoutSeconds: MIGRATION_TIMEOUT_SECONDS, memoryMb: 256 } as const;

/**
 * Applies pending migrations during `pulumi up`: a function holding the SQL, invoked by the program
 * whenever the set of migrations or a service's data settings change (the invocation is keyed on
 * both). Before any service migration it creates and updates every database service's schema and
 * roles. Database functions take `appliedMigrationSet` as an input, so a failing migration stops
 * `pulumi up` before new code goes live, and a new service's role exists before its functions do.
 * Code already running meets the new schema, so migrations must stay backward compatible with it
 * (expand, then contract). It is the only function that signs in as the master user.
 */
export class Migrations extends pulumi.ComponentResource {
    /** The function's timeout: what its duration alarm is measured against. */
    readonly timeoutSeconds: number;
    /** Hash of the applied migration set; changes re-run the function. */
    readonly migrationSetHash: string;
    readonly functionName: pulumi.Output<string>;
    /** The migration set hash, known once the run succeeded: database functions take it as input. */
    readonly appliedMigrationSet: pulumi.Output<string>;
    /** What the last run reported (`{"applied": [...], "alreadyApplied": n}`). */
    readonly result: pulumi.Output<string>;

    constructor(name: string, args: MigrationsArgs, opts?: pulumi.ComponentResourceOptions) {
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
                description: "Applies the services' SQL migrations",
                // The SQL is captured by value; what to do for each service comes in the invocation's input.
                code: lambdaMigrationCode(args.migrations),
                role,
                // The endpoints it reads the secret through must exist before its first run (Function waits for them).
                permissions: permissions.resource,
                memoryMb: DEFAULTS.memoryMb,
                timeoutSeconds,
                reservedConcurrency: args.reservedConcurrency,
                database: args.database,
                settings,
                resourceNames: { logGroup: `${name}-logs`, function: `${name}-function` },
                // Off the alias: `up` invokes the code it just deployed ($LATEST, holding the new SQL),
                // never a version a gradual release of the other functions holds back.
                alias: false,
            },
            { parent: this },
        );
        permissions.resolve(new aws.iam.RolePolicy(`${name}-permissions`, { role: role.id, policy: functionRolePolicy([fn.logGroup.arn], args.database) }, { parent: this }));

        this.migrationSetHash = args.request.migrationSetHash;
        const input = JSON.stringify(args.request);
        const invocation = new aws.lambda.Invocation(
            `${name}-run`,
            {
                functionName: fn.name,
                input,
                // The platform's own tables in each service's schema too: a stack deployed before them gets them at its next `up`.
                triggers: { migrationSetHash: this.migrationSetHash, serviceData: sha256(JSON.stringify(args.request.services)), platformTables: sha256(SERVICE_EVENT_TABLES_SQL.join("\n")) },
            },
            { parent: this },
        );

        this.functionName = fn.name;
        this.result = invocation.result;
        const hash = this.migrationSetHash;
        this.appliedMigrationSet = invocation.result.apply(() => hash);
        this.registerOutputs({ functionName: this.functionName, migrationSetHash: this.migrationSetHash });
    }
}
