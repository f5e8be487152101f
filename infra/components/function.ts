/**
 * One Lambda function of the platform, whatever triggers it (an HTTP route, a subscription's queue,
 * a schedule's queue, the migration run): its log group with the stack's retention, and the
 * function made from its handler's closure (serialized and bundled, `infra/function-packaging.ts`)
 * with the platform's settings (`function-settings.ts`), running as the role it is given; each
 * change publishes a version, and the `live` alias is what every trigger invokes (`targetArn`),
 * never `$LATEST`. A trigger's component adds only the trigger's own resources around it.
 *
 * Who moves the alias depends on the stack's release strategy (`FunctionSettings.gradualRelease`):
 * all at once, the program points it at the version it just published; gradually, the program
 * creates it at the first version and never moves it again (`ignoreChanges`), and the release step
 * (`tools/release.ts`) shifts it through CodeDeploy, so `pulumi up` and a release never fight.
 */
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { ENVIRONMENT } from "../../functions/runtime/environment";
import { ComponentTypes } from "../../policy/lib/types";
import { functionCode } from "../function-packaging";
import { functionSettings, type DatabaseConnection, type FunctionSettings } from "./function-settings";

/** What a Function needs. Fields without a default are required. */
export interface FunctionArgs {
    /** The service the function belongs to (`platform` for the migration function): its log group lives under it. */
    service: string;
    /** The function's id in its service: a route id (`get-users-id`), `subscription-<name>`, `schedule-<name>`, `migrations`. */
    functionId: string;
    /** Shown on the function; cut to Lambda's 256 characters. */
    description: string;
    /** The code: a factory run once per container that returns the handler. Only this closure is serialized. */
    code: () => (...args: any[]) => unknown;
    /** The role the function runs as (its service's). */
    role: aws.iam.Role;
    /**
     * The role's permissions, which the function is created after: Lambda checks them when it creates
     * a VPC function's network interfaces. May resolve later (a promise), once the policy exists.
     */
    permissions: pulumi.Input<pulumi.Resource>;
    memoryMb: number;
    timeoutSeconds: number;
    /** @default none */
    reservedConcurrency?: number;
    /** The database and its network, for a function that uses it. @default none */
    database?: DatabaseConnection;
    /** Variables beside the platform's (labels, the event bus). @default none */
    environment?: Record<string, pulumi.Input<string>>;
    /** The service's secret (`ServiceSecret`), for a service that declares secrets: its ARN reaches the function's environment. @default none */
    secretArn?: pulumi.Input<string>;
    /** Tags beside the stack's. @default none */
    tags?: Record<string, string>;
    settings: FunctionSettings;
    /** The logical names of the log group and the function. @default the component's name */
    resourceNames?: { logGroup: string; function: string };
    /**
     * Whether the function publishes versions behind the `live` alias. Only the migration function
     * says no: the program invokes its newest code itself during `up`, which must run the new SQL
     * whatever a gradual release of the other functions is doing. @default true
     */
    alias?: boolean;
}

/** The alias every trigger invokes, and the release step moves in a gradual stack. */
export const LIVE_ALIAS = "live";

export class Function extends pulumi.ComponentResource {
    readonly function: aws.lambda.Function;
    readonly logGroup: aws.cloudwatch.LogGroup;
    /** The log group's name, known before deployment. */
    readonly logGroupName: string;
    readonly name: pulumi.Output<string>;
    /** The unqualified ARN: for permissions on the function itself, never as a trigger's target. */
    readonly arn: pulumi.Output<string>;
    /** The `live` alias; absent for a function published without one (the migration function). */
    readonly alias?: aws.lambda.Alias;
    /** What triggers invoke: the alias's ARN (`...:function:<name>:live`), or the function's without an alias. */
    readonly targetArn: pulumi.Output<string>;
    /** The SHA-256 of the function's bundled code, known before deployment: changes whenever the code does. */
    readonly codeHash: Promise<string>;

    constructor(name: string, args: FunctionArgs, opts?: pulumi.ComponentResourceOptions) {
        super(ComponentTypes.function, name, {}, opts);
        const { settings, database } = args;
        const names = args.resourceNames ?? { logGroup: name, function: name };
        const withAlias = args.alias ?? true;
        this.logGroupName = settings.logGroupName(args.service, args.functionId);
        const { code, handler, sourceSha256 } = functionCode(names.function, args.code);
        this.codeHash = sourceSha256;

        this.logGroup = new aws.cloudwatch.LogGroup(
            names.logGroup,
            { name: this.logGroupName, retentionInDays: settings.logRetentionDays, tags: settings.tags },
            { parent: this },
        );
        this.function = new aws.lambda.Function(
            names.function,
            {
                description: args.description.slice(0, 256),
                publish: withAlias,
                code,
                handler,
                ...functionSettings(settings, {
                    role: args.role,
                    memoryMb: args.memoryMb,
                    timeoutSeconds: args.timeoutSeconds,
                    reservedConcurrency: args.reservedConcurrency,
                    logGroup: this.logGroup,
                    database,
                    environment: args.secretArn ? { ...args.environment, [ENVIRONMENT.serviceSecretArn]: args.secretArn } : args.environment,
                    tags: args.tags,
                }),
            },
            // The endpoints it calls must exist first: a function created before their private DNS fails its first calls.
            { parent: this, dependsOn: [args.permissions, ...(database?.endpoints ?? [])] },
        );
        this.name = this.function.name;
        this.arn = this.function.arn;
        if (withAlias) {
            this.alias = new aws.lambda.Alias(
                names.function,
                {
                    name: LIVE_ALIAS,
                    description: settings.gradualRelease ? "Moved by the release step (CodeDeploy)" : "The version the last pulumi up published",
                    functionName: this.function.name,
                    functionVersion: this.function.version,
                },
                // Gradually released, the alias is CodeDeploy's once created: an `up` resetting it would undo a shift or a rollback.
                { parent: this, ...(settings.gradualRelease ? { ignoreChanges: ["functionVersion", "routingConfig"] } : {}) },
            );
        }
        this.targetArn = this.alias?.arn ?? this.function.arn;
        this.registerOutputs({ name: this.name, arn: this.arn, targetArn: this.targetArn });
    }
}

/** A promise of a resource made later, and the call that makes it known: a function's `permissions` before the role policy exists. */
export function deferredResource<T extends pulumi.Resource>(): { resource: Promise<T>; resolve(resource: T): void } {
    let resolve!: (resource: T) => void;
    const resource = new Promise<T>((done) => (resolve = done));
    return { resource, resolve };
}
