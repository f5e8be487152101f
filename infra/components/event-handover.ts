/**
 * A publishing database service's event handover (`events.delivery: bucket-handover`,
 * `functions/runtime/outbox/bucket-handover.ts`): its functions, in private subnets without an
 * EventBridge endpoint, write each batch of events to the service's own bucket through the free S3
 * gateway endpoint, and a forwarder outside the VPC, run by the bucket's notification, puts them on
 * the bus and deletes the object. It costs nothing while idle, where an interface endpoint costs
 * ~$7.30 a month per zone; an event takes about a second more to reach the bus.
 *
 * The bucket is private, encrypted and versioned (earlier versions kept a week), refuses anything but TLS, and takes writes under `pending/`
 * only from the service's role; the forwarder reads, deletes and moves refused entries to
 * `refused/`, and may publish only the service's own events, as the service's role may.
 */
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { lambdaForwarderCode } from "../../functions/runtime/entry/lambda";
import { identifiedCode } from "../function-packaging";
import { ENVIRONMENT } from "../../functions/runtime/environment";
import { HANDOVER_PREFIXES } from "../../functions/runtime/outbox/bucket-handover";
import { NAME_RULES } from "../../policy/lib/limits";
import { ComponentTypes } from "../../policy/lib/types";
import { fitName } from "../../platform/naming";
import { deferredResource, Function, LIVE_ALIAS } from "./function";
import { functionRolePolicy, lambdaAssumeRolePolicy, publishStatement, type FunctionSettings } from "./function-settings";

/** What an EventHandover needs. Fields without a default are required. */
export interface EventHandoverArgs {
    /** The publishing database service. */
    service: string;
    /** The stack's bus, where the forwarder puts the events. */
    eventBus: { name: pulumi.Input<string>; arn: pulumi.Input<string> };
    settings: FunctionSettings;
    /**
     * Whether `pulumi destroy` may delete a bucket that still holds objects (events not yet
     * forwarded, or refused ones). @default false: destroying waits for an empty bucket
     */
    forceDestroy?: boolean;
}

/**
 * The forwarder's settings: small and short, it only moves a few kilobytes. Its trigger (a bucket
 * notification) is none the policy pack bounds by kind, so its timeout stays within a route's bound.
 */
export const EVENT_FORWARDER_DEFAULTS = {
    memoryMb: 256,
    timeoutSeconds: 25,
    /** Lambda's retries of a notification the forwarder failed; the sweep of later runs covers what is left after them. */
    retryAttempts: 2,
} as const;

/** The handover bucket's retention: how long an object deleted or overwritten can still be restored. */
export const EVENT_HANDOVER_BUCKET = {
    earlierVersionDays: 7,
} as const;

export class EventHandover extends pulumi.ComponentResource {
    readonly bucketName: pulumi.Output<string>;
    readonly bucketArn: pulumi.Output<string>;
    readonly forwarder: Function;
    readonly forwarderTimeoutSeconds = EVENT_FORWARDER_DEFAULTS.timeoutSeconds;

    constructor(name: string, args: EventHandoverArgs, opts?: pulumi.ComponentResourceOptions) {
        super(ComponentTypes.eventHandover, name, {}, opts);
        const { service, settings } = args;
        const tags = settings.tags;

        const bucket = new aws.s3.Bucket(`${name}-bucket`, { forceDestroy: args.forceDestroy ?? false, tags }, { parent: this });
        const publicAccess = new aws.s3.BucketPublicAccessBlock(
            `${name}-bucket`,
            { bucket: bucket.id, blockPublicAcls: true, blockPublicPolicy: true, ignorePublicAcls: true, restrictPublicBuckets: true },
            { parent: this },
        );
        new aws.s3.BucketOwnershipControls(`${name}-bucket`, { bucket: bucket.id, rule: { objectOwnership: "BucketOwnerEnforced" } }, { parent: this });
        new aws.s3.BucketServerSideEncryptionConfiguration(
            `${name}-bucket`,
            { bucket: bucket.id, rules: [{ applyServerSideEncryptionByDefault: { sseAlgorithm: "AES256" } }] },
            { parent: this },
        );
        // Versioned: an object deleted or overwritten by mistake (a forwarder bug, a hand in the
        // console) is an event batch that can still be restored for a while. What versioning keeps
        // is bounded: earlier versions go after a few days, then their bare delete markers.
        const versioning = new aws.s3.BucketVersioning(`${name}-bucket`, { bucket: bucket.id, versioningConfiguration: { status: "Enabled" } }, { parent: this });
        new aws.s3.BucketLifecycleConfiguration(
            `${name}-bucket`,
            {
                bucket: bucket.id,
                rules: [
                    {
                        id: "earlier-versions",
                        status: "Enabled",
                        filter: {},
                        noncurrentVersionExpiration: { noncurrentDays: EVENT_HANDOVER_BUCKET.earlierVersionDays },
                        expiration: { expiredObjectDeleteMarker: true },
                        abortIncompleteMultipartUpload: { daysAfterInitiation: 1 },
                    },
                ],
            },
            // S3 applies version rules only to a bucket whose versioning is set.
            { parent: this, dependsOn: [versioning] },
        );
        new aws.s3.BucketPolicy(
            `${name}-bucket`,
            {
                bucket: bucket.id,
                policy: bucket.arn.apply((arn) =>
                    JSON.stringify({
                        Version: "2012-10-17",
                        Statement: [
                            {
                                Sid: "TlsOnly",
                                Effect: "Deny",
                                Principal: "*",
                                Action: "s3:*",
                                Resource: [arn, `${arn}/*`],
                                Condition: { Bool: { "aws:SecureTransport": "false" } },
                            },
                        ],
                    }),
                ),
            },
            // S3 refuses a policy while the public access block is being set.
            { parent: this, dependsOn: [publicAccess] },
        );

        const role = new aws.iam.Role(
            fitName(`${name}-forwarder`, NAME_RULES.iamRole),
            { description: `Event forwarder of ${service}`, assumeRolePolicy: lambdaAssumeRolePolicy(), tags },
            { parent: this },
        );
        // Made after the forwarder (it names its log group); the forwarder waits for it.
        const permissions = deferredResource<aws.iam.RolePolicy>();
        this.forwarder = new Function(
            `${name}-forwarder`,
            {
                service,
                functionId: "event-forwarder",
                description: `Event forwarder of ${service}: puts the events its functions handed to its bucket on the bus`,
                code: identifiedCode(lambdaForwarderCode(), lambdaForwarderCode),
                role,
                permissions: permissions.resource,
                memoryMb: EVENT_FORWARDER_DEFAULTS.memoryMb,
                timeoutSeconds: EVENT_FORWARDER_DEFAULTS.timeoutSeconds,
                environment: { [ENVIRONMENT.serviceName]: service, [ENVIRONMENT.eventHandoverBucket]: bucket.bucket },
                settings,
            },
            { parent: this },
        );
        permissions.resolve(
            new aws.iam.RolePolicy(
                `${name}-forwarder-permissions`,
                {
                    role: role.id,
                    policy: functionRolePolicy([this.forwarder.logGroup.arn], undefined, [
                        bucket.arn.apply((arn) => ({
                            Sid: "ForwardHandedOverEvents",
                            Effect: "Allow",
                            Action: ["s3:GetObject", "s3:DeleteObject"],
                            Resource: `${arn}/${HANDOVER_PREFIXES.pending}*`,
                        })),
                        bucket.arn.apply((arn) => ({
                            Sid: "KeepWhatIsLeftAndRefused",
                            Effect: "Allow",
                            Action: "s3:PutObject",
                            Resource: [`${arn}/${HANDOVER_PREFIXES.pending}*`, `${arn}/${HANDOVER_PREFIXES.refused}*`],
                        })),
                        bucket.arn.apply((arn) => ({
                            Sid: "SweepLeftOvers",
                            Effect: "Allow",
                            Action: "s3:ListBucket",
                            Resource: arn,
                            Condition: { StringLike: { "s3:prefix": `${HANDOVER_PREFIXES.pending}*` } },
                        })),
                        publishStatement(service, args.eventBus.arn),
                    ]),
                },
                { parent: this },
            ),
        );

        // Objects stay in the bucket until forwarded: after Lambda's retries, a later run's sweep takes them.
        new aws.lambda.FunctionEventInvokeConfig(
            `${name}-forwarder`,
            { functionName: this.forwarder.name, qualifier: LIVE_ALIAS, maximumRetryAttempts: EVENT_FORWARDER_DEFAULTS.retryAttempts },
            { parent: this, dependsOn: this.forwarder.alias ? [this.forwarder.alias] : [] },
        );
        const caller = aws.getCallerIdentityOutput({}, { parent: this });
        const invokeFromBucket = new aws.lambda.Permission(
            `${name}-forwarder`,
            {
                action: "lambda:InvokeFunction",
                function: this.forwarder.name,
                qualifier: this.forwarder.alias?.name,
                principal: "s3.amazonaws.com",
                sourceArn: bucket.arn,
                // A bucket's ARN names no account: without this, a bucket of that name in another account would qualify.
                sourceAccount: caller.accountId,
            },
            { parent: this },
        );
        new aws.s3.BucketNotification(
            `${name}-bucket`,
            {
                bucket: bucket.id,
                lambdaFunctions: [{ lambdaFunctionArn: this.forwarder.targetArn, events: ["s3:ObjectCreated:*"], filterPrefix: HANDOVER_PREFIXES.pending }],
            },
            { parent: this, dependsOn: [invokeFromBucket] },
        );

        this.bucketName = bucket.bucket;
        this.bucketArn = bucket.arn;
        this.registerOutputs({ bucketName: this.bucketName, forwarderFunctionName: this.forwarder.name });
    }

    /** What a service's role needs to hand its events over: writing new objects under `pending/`, nothing else. */
    handOverStatement(): pulumi.Output<object> {
        return this.bucketArn.apply((arn) => ({ Sid: "HandOverOwnEvents", Effect: "Allow", Action: "s3:PutObject", Resource: `${arn}/${HANDOVER_PREFIXES.pending}*` }));
    }
}
