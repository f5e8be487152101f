/**
 * The event handover's cloud resources under mocks (`events.delivery`), over the event fixture
 * registry (`accounts` publishes from its database; `ledger` keeps data and publishes nothing;
 * `mailer` has no database): dev hands a publishing database service's events to a private bucket
 * of its own, through the free S3 gateway endpoint, and a forwarder outside the VPC puts them on
 * the bus; prod keeps the EventBridge interface endpoint and creates none of it.
 */
import * as assert from "node:assert/strict";
import { ENVIRONMENT } from "../../functions/runtime/environment";
import { EVENT_FORWARDER_DEFAULTS, EVENT_HANDOVER_BUCKET } from "../../infra/components/event-handover";
import { PROJECT } from "../../platform/config/stack-config";
import { Types } from "../../policy/lib/types";
import { readStackConfig, runProgramOffline, type OfflineRun } from "../../tools/offline";
import { eventRegistry } from "../../testing/fixtures/event-services";
import { ofType, one } from "../../testing/graph";

type PolicyDocument = { Statement: { Sid: string; Effect: string; Action: string | string[]; Resource: string | string[]; Condition?: unknown; Principal?: unknown }[] };
const policyOf = (run: OfflineRun, name: string) => JSON.parse(one(run, Types.iamRolePolicy, name).inputs.policy) as PolicyDocument;
const statementOf = (document: PolicyDocument, sid: string) => document.Statement.find((statement) => statement.Sid === sid);
const BUCKET = "accounts-events-bucket";
const FORWARDER = "accounts-events-forwarder";

describe("the event handover under mocks", function () {
    this.timeout(120_000);
    let dev: OfflineRun;
    let prod: OfflineRun;
    before(async () => {
        dev = await runProgramOffline({ stack: "dev", services: eventRegistry });
        prod = await runProgramOffline({ stack: "prod", services: eventRegistry });
    });
    const bucketName = () => one(dev, Types.s3Bucket, BUCKET).outputs.bucket as string;
    const bucketArn = () => one(dev, Types.s3Bucket, BUCKET).outputs.arn as string;

    it("gives dev one bucket and forwarder per publishing database service and no other, and prod none", () => {
        assert.deepEqual(ofType(dev, Types.s3Bucket).map((bucket) => bucket.name), [BUCKET]);
        assert.deepEqual(ofType(dev, Types.lambdaFunction).filter((fn) => /forwarder/.test(fn.name)).map((fn) => fn.name), [FORWARDER]);
        assert.deepEqual([ofType(prod, Types.s3Bucket).length, ofType(prod, Types.lambdaFunction).filter((fn) => /forwarder/.test(fn.name)).length], [0, 0]);
    });

    it("keeps the bucket private: every public access blocked, owner-enforced objects, encrypted at rest, nothing but TLS", () => {
        const publicAccess = one(dev, Types.s3BucketPublicAccessBlock, BUCKET).inputs;
        assert.deepEqual([publicAccess.blockPublicAcls, publicAccess.blockPublicPolicy, publicAccess.ignorePublicAcls, publicAccess.restrictPublicBuckets], [true, true, true, true]);
        assert.equal(one(dev, "aws:s3/bucketOwnershipControls:BucketOwnershipControls", BUCKET).inputs.rule.objectOwnership, "BucketOwnerEnforced");
        assert.equal(one(dev, "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration", BUCKET).inputs.rules[0].applyServerSideEncryptionByDefault.sseAlgorithm, "AES256");
        const policy = JSON.parse(one(dev, Types.s3BucketPolicy, BUCKET).inputs.policy) as PolicyDocument;
        assert.deepEqual(policy.Statement, [
            { Sid: "TlsOnly", Effect: "Deny", Principal: "*", Action: "s3:*", Resource: [bucketArn(), `${bucketArn()}/*`], Condition: { Bool: { "aws:SecureTransport": "false" } } },
        ]);
    });

    it("keeps what is deleted or overwritten in the bucket restorable for a week, then lets it go: versioning on, earlier versions and bare delete markers expired, unfinished uploads aborted", () => {
        assert.deepEqual(one(dev, "aws:s3/bucketVersioning:BucketVersioning", BUCKET).inputs.versioningConfiguration, { status: "Enabled" });
        const lifecycle = one(dev, "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration", BUCKET);
        assert.equal(lifecycle.inputs.bucket, bucketName());
        // One rule, and no expiry of current objects: events not yet forwarded, or refused ones, stay.
        assert.deepEqual(lifecycle.inputs.rules, [
            {
                id: "earlier-versions",
                status: "Enabled",
                filter: {},
                noncurrentVersionExpiration: { noncurrentDays: EVENT_HANDOVER_BUCKET.earlierVersionDays },
                expiration: { expiredObjectDeleteMarker: true },
                abortIncompleteMultipartUpload: { daysAfterInitiation: 1 },
            },
        ]);
        assert.ok(lifecycle.dependencies?.some((urn: string) => urn.includes("bucketVersioning:BucketVersioning")), "the lifecycle rules wait for versioning");
    });

    it("lets destroy empty the bucket only where the stack's data is not protected", async () => {
        assert.equal(one(dev, Types.s3Bucket, BUCKET).inputs.forceDestroy, true);
        const config = readStackConfig("dev");
        const protectedDev = await runProgramOffline({
            stack: "dev",
            services: eventRegistry,
            config: { ...config, [`${PROJECT}:database`]: { ...(config[`${PROJECT}:database`] as object), deletionProtection: true } },
        });
        assert.equal(one(protectedDev, Types.s3Bucket, BUCKET).inputs.forceDestroy, false);
    });

    it("runs the forwarder from the bucket's notification of new objects under pending/, through its live alias, which only S3 for this bucket in this account may invoke", () => {
        const forwarder = one(dev, Types.lambdaFunction, FORWARDER);
        const alias = one(dev, Types.lambdaAlias, FORWARDER);
        const notification = one(dev, Types.s3BucketNotification, BUCKET);
        assert.deepEqual(notification.inputs.lambdaFunctions, [{ lambdaFunctionArn: alias.outputs.arn, events: ["s3:ObjectCreated:*"], filterPrefix: "pending/" }]);
        const permission = one(dev, Types.lambdaPermission, FORWARDER);
        assert.deepEqual(
            [permission.inputs.principal, permission.inputs.function, permission.inputs.qualifier, permission.inputs.sourceArn, permission.inputs.sourceAccount],
            ["s3.amazonaws.com", forwarder.outputs.name, "live", bucketArn(), "123456789012"],
        );
        assert.ok(notification.dependencies.includes(permission.urn), "S3 checks the permission when the notification is set");
        const invokeConfig = one(dev, "aws:lambda/functionEventInvokeConfig:FunctionEventInvokeConfig", FORWARDER).inputs;
        assert.deepEqual([invokeConfig.qualifier, invokeConfig.maximumRetryAttempts], ["live", EVENT_FORWARDER_DEFAULTS.retryAttempts]);
    });

    it("runs the forwarder outside the VPC with no database, its bucket in its environment, on a role that may only read and delete pending objects, keep refused ones, list pending ones and publish the service's own events", () => {
        // Prepare
        const forwarder = one(dev, Types.lambdaFunction, FORWARDER);
        const document = policyOf(dev, `${FORWARDER}-permissions`);
        // Assess
        assert.equal(forwarder.inputs.vpcConfig, undefined);
        assert.equal(forwarder.inputs.environment.variables[ENVIRONMENT.eventHandoverBucket], bucketName());
        assert.equal(forwarder.inputs.environment.variables[ENVIRONMENT.databaseUser], undefined);
        assert.deepEqual(
            document.Statement.map((statement) => statement.Sid),
            ["OwnLogGroups", "Tracing", "ForwardHandedOverEvents", "KeepWhatIsLeftAndRefused", "SweepLeftOvers", "PublishOwnEvents"],
        );
        assert.deepEqual(statementOf(document, "ForwardHandedOverEvents")!.Resource, `${bucketArn()}/pending/*`);
        assert.deepEqual(statementOf(document, "KeepWhatIsLeftAndRefused")!.Resource, [`${bucketArn()}/pending/*`, `${bucketArn()}/refused/*`]);
        assert.deepEqual(statementOf(document, "SweepLeftOvers")!.Condition, { StringLike: { "s3:prefix": "pending/*" } });
        assert.deepEqual(statementOf(document, "PublishOwnEvents")!.Condition, { StringEquals: { "events:source": "accounts" } });
    });

    it("names the bucket to the service's functions that publish (routes, consumers, the relay) and to no other, and lets its role only write pending objects, not call EventBridge", () => {
        // Prepare
        const accounts = ofType(dev, Types.lambdaFunction).filter((fn) => fn.inputs.environment?.variables?.[ENVIRONMENT.serviceName] === "accounts" && fn.name !== FORWARDER && !fn.name.endsWith("-check"));
        const document = policyOf(dev, "accounts-permissions");
        // Assess: every function that names the bus names the bucket, and only those.
        assert.ok(accounts.length > 1);
        for (const fn of accounts) {
            const variables = fn.inputs.environment.variables;
            assert.equal(variables[ENVIRONMENT.eventHandoverBucket], variables[ENVIRONMENT.eventBusName] === undefined ? undefined : bucketName(), fn.name);
        }
        assert.ok(accounts.some((fn) => fn.name === "accounts-outbox-relay" && fn.inputs.environment.variables[ENVIRONMENT.eventHandoverBucket] === bucketName()));
        assert.equal(statementOf(document, "PublishOwnEvents"), undefined);
        assert.deepEqual(statementOf(document, "HandOverOwnEvents"), { Sid: "HandOverOwnEvents", Effect: "Allow", Action: "s3:PutObject", Resource: `${bucketArn()}/pending/*` });
        // Prod's functions call EventBridge, and name no bucket.
        assert.ok(ofType(prod, Types.lambdaFunction).every((fn) => fn.inputs.environment?.variables?.[ENVIRONMENT.eventHandoverBucket] === undefined));
        assert.deepEqual(statementOf(policyOf(prod, "accounts-permissions"), "PublishOwnEvents")!.Condition, { StringEquals: { "events:source": "accounts" } });
    });

    it("reaches S3 through the free gateway endpoint in dev, the functions' group sending HTTPS to its prefix list, where prod keeps the EventBridge interface endpoint", () => {
        const endpointsOf = (run: OfflineRun) => ofType(run, Types.vpcEndpoint).map((endpoint) => `${endpoint.inputs.vpcEndpointType} ${String(endpoint.inputs.serviceName).split(".").pop()}`).sort();
        assert.ok(endpointsOf(dev).includes("Gateway s3"));
        assert.ok(!endpointsOf(dev).includes("Interface events"));
        assert.ok(endpointsOf(prod).includes("Interface events"));
        const s3Endpoint = ofType(dev, Types.vpcEndpoint).find((endpoint) => endpoint.inputs.vpcEndpointType === "Gateway")!;
        const egress = one(dev, Types.securityGroupEgressRule, "network-functions-s3").inputs;
        assert.deepEqual([egress.ipProtocol, egress.fromPort, egress.toPort, egress.prefixListId], ["tcp", 443, 443, s3Endpoint.outputs.prefixListId]);
        assert.equal(ofType(prod, Types.securityGroupEgressRule).filter((rule) => rule.name === "network-functions-s3").length, 0);
    });

    it("has the wake alarm run the forwarder beside the relay, and count the marker the forwarder logs for what it leaves in the bucket", () => {
        // Prepare
        const forwarderAlias = one(dev, Types.lambdaAlias, FORWARDER).outputs.arn;
        const rule = ofType(dev, Types.eventRule).find((candidate) => candidate.name.startsWith("accounts-outbox-relay-wake"))!;
        // Assess: the forwarder is a target of the wake rule, through its live alias, with a permission for that rule alone.
        const target = ofType(dev, Types.eventTarget).find((candidate) => candidate.inputs.arn === forwarderAlias);
        assert.ok(target, "the wake rule targets the forwarder");
        assert.equal(target.inputs.rule, rule.outputs.name);
        assert.ok(target.inputs.deadLetterConfig?.arn, "with the wake's dead-letter queue");
        const forwarderArn = one(dev, Types.lambdaFunction, FORWARDER).outputs.arn;
        const permission = ofType(dev, Types.lambdaPermission).find((candidate) => candidate.inputs.principal === "events.amazonaws.com" && candidate.inputs.function === forwarderArn && candidate.inputs.qualifier === "live");
        assert.equal(permission?.inputs.sourceArn, rule.outputs.arn);
        const filter = ofType(dev, "aws:cloudwatch/logMetricFilter:LogMetricFilter").find((candidate) => candidate.inputs.logGroupName === one(dev, Types.lambdaFunction, FORWARDER).inputs.loggingConfig.logGroup);
        assert.equal(filter?.name, "accounts-outbox-relay-wake-writes-event-forwarder");
        assert.equal(filter?.inputs.metricTransformation.name, "OutboxWrites");
    });

    it("reaches EventBridge through its interface endpoint in a dev that asks for it, with no bucket", async () => {
        const config = readStackConfig("dev");
        const run = await runProgramOffline({ stack: "dev", services: eventRegistry, config: { ...config, [`${PROJECT}:events`]: { delivery: "interface-endpoint", relayWake: "every-minute" } } });
        assert.equal(ofType(run, Types.s3Bucket).length, 0);
        assert.ok(ofType(run, Types.vpcEndpoint).some((endpoint) => String(endpoint.inputs.serviceName).endsWith(".events")));
    });
});
