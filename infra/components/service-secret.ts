/**
 * A service's secret: one Secrets Manager secret per service and stack, holding that service's
 * declared values as one JSON object (`{"STRIPE_API_KEY": "...", ...}`), readable by that service's
 * roles alone. The program creates the secret and never a value (no `SecretVersion`): values are put
 * in out of band (`aws secretsmanager put-secret-value`, docs/secrets.md), so they are never in
 * the repository, a stack file or Pulumi's state, and a deploy never overwrites them.
 */
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { SECRETS_MANAGER } from "../../policy/lib/limits";
import { ComponentTypes } from "../../policy/lib/types";

export const READ_SECRET_ACTION = "secretsmanager:GetSecretValue";

const DESCRIPTION = /^Secrets of the (\S+) service: a JSON object with (.*)$/;

/** The secret's description, which says what its value must hold (and which the plan reads back, `describedSecret`). */
export function secretDescription(service: string, declared: readonly string[]): string {
    return `Secrets of the ${service} service: a JSON object with ${declared.join(", ")}`;
}

/** A service secret's service and declared names, from its description; undefined for any other secret. */
export function describedSecret(description: unknown): { service: string; declared: string[] } | undefined {
    const match = typeof description === "string" ? DESCRIPTION.exec(description) : null;
    return match ? { service: match[1], declared: match[2].split(", ") } : undefined;
}

/**
 * How long a stack's deleted secrets stay restorable: a stack that protects its data (its database's
 * `deletionProtection`) keeps them for the most Secrets Manager allows; any other (dev) deletes
 * them at once, so a destroyed stack can be created again the same day (its values are set again).
 */
export function secretRecoveryWindowDays(protectsData: boolean): number {
    return protectsData ? SECRETS_MANAGER.recoveryWindowDays.max : SECRETS_MANAGER.recoveryWindowDays.immediately;
}

/** What a ServiceSecret needs. Fields without a default are required. */
export interface ServiceSecretArgs {
    /** The service whose values it holds. */
    service: string;
    /** The secret's name, known before deployment (`serviceSecretName`): what `put-secret-value --secret-id` takes. */
    secretName: string;
    /** The names the service declares: the keys its value must hold. */
    declared: readonly string[];
    /**
     * The ARNs of the roles that may read it: the service's function role, or its container
     * service's task execution role (ECS reads it when a task starts). Its resource policy denies
     * every other principal, whatever their IAM policies allow.
     */
    readerRoleArns: pulumi.Input<string>[];
    /**
     * A customer-managed KMS key to encrypt it with. Readers need `kms:Decrypt` on that key (through
     * Secrets Manager), which `readStatements` grants.
     * @default Secrets Manager's AWS-managed key (`aws/secretsmanager`), which every role of the account may use through Secrets Manager
     */
    kmsKeyArn?: pulumi.Input<string>;
    /**
     * Days a deleted secret can be restored in: its values survive a mistaken `pulumi destroy` for
     * that long, and its name stays taken, so the same stack cannot be created again until then.
     * 0 deletes it at once (`secretRecoveryWindowDays` decides per stack).
     * @default 30 (the most Secrets Manager allows)
     */
    recoveryWindowInDays?: number;
    /** @default none */
    tags?: Record<string, string>;
}

export class ServiceSecret extends pulumi.ComponentResource {
    readonly secret: aws.secretsmanager.Secret;
    readonly arn: pulumi.Output<string>;
    private readonly kmsKeyArn?: pulumi.Input<string>;

    constructor(name: string, args: ServiceSecretArgs, opts?: pulumi.ComponentResourceOptions) {
        super(ComponentTypes.serviceSecret, name, {}, opts);
        this.kmsKeyArn = args.kmsKeyArn;
        this.secret = new aws.secretsmanager.Secret(
            name,
            {
                name: args.secretName,
                description: secretDescription(args.service, args.declared),
                kmsKeyId: args.kmsKeyArn,
                recoveryWindowInDays: args.recoveryWindowInDays ?? SECRETS_MANAGER.recoveryWindowDays.max,
                tags: args.tags,
            },
            { parent: this },
        );
        this.arn = this.secret.arn;
        new aws.secretsmanager.SecretPolicy(
            name,
            { secretArn: this.secret.arn, policy: onlyReadersPolicy(this.secret.arn, args.readerRoleArns), blockPublicPolicy: true },
            { parent: this },
        );
        this.registerOutputs({ arn: this.arn });
    }

    /** The statements a reader role needs: `GetSecretValue` on this secret alone (and `kms:Decrypt` through Secrets Manager with a customer key). */
    readStatements(): pulumi.Output<object>[] {
        const read = this.secret.arn.apply((arn) => ({ Sid: "OwnSecret", Effect: "Allow", Action: [READ_SECRET_ACTION], Resource: arn }));
        if (this.kmsKeyArn === undefined) return [read];
        const decrypt = pulumi.output(this.kmsKeyArn).apply((key) => ({
            Sid: "OwnSecretKey",
            Effect: "Allow",
            Action: ["kms:Decrypt"],
            Resource: key,
            Condition: { StringLike: { "kms:ViaService": "secretsmanager.*.amazonaws.com" } },
        }));
        return [read, decrypt];
    }
}

/**
 * The secret's resource policy: nobody but `readers` may read its value, whatever their own IAM
 * policies allow (an administrator's `secretsmanager:*` included). Writing a value stays with IAM,
 * so whoever may administer the account's secrets can still set and rotate it.
 */
export function onlyReadersPolicy(secretArn: pulumi.Input<string>, readers: pulumi.Input<string>[]): pulumi.Output<string> {
    return pulumi.all([secretArn, pulumi.all(readers)]).apply(([arn, roleArns]) =>
        JSON.stringify({
            Version: "2012-10-17",
            Statement: [
                {
                    Sid: "OnlyItsServiceReads",
                    Effect: "Deny",
                    Principal: "*",
                    Action: READ_SECRET_ACTION,
                    Resource: arn,
                    Condition: { ArnNotEquals: { "aws:PrincipalArn": [...roleArns].sort() } },
                },
            ],
        }),
    );
}
