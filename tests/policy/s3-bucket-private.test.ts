/**
 * `s3-bucket-private` over hand-made stacks (a bucket with each of its guards, then each one
 * missing or weakened) and over the dev stack the program builds, whose event buckets pass it.
 */
import { strict as assert } from "assert";
import { Types } from "../../policy/lib/types";
import { runProgramOffline } from "../../tools/offline";
import { loadPackConfig, PACK_DIR, runPolicies } from "../../tools/policy-engine";
import { policies } from "../../policy/policies";
import { eventRegistry } from "../../testing/fixtures/event-services";
import { validateStack, type Props, type StackSpec } from "./harness";
import * as path from "node:path";

const ARN = "arn:aws:s3:::events-1a2b3c4";
const TLS_ONLY = JSON.stringify({
    Version: "2012-10-17",
    Statement: [{ Sid: "TlsOnly", Effect: "Deny", Principal: "*", Action: "s3:*", Resource: [ARN, `${ARN}/*`], Condition: { Bool: { "aws:SecureTransport": "false" } } }],
});

/** A bucket and its guards, each linked to it by its `bucket` input; `change` replaces or drops (undefined) one. */
function bucketStack(change: { block?: Props | undefined; encryption?: Props | undefined; policy?: string | undefined } = {}): StackSpec[] {
    const linkedTo = { bucket: ["events"] };
    const block = "block" in change ? change.block : { bucket: "events-1a2b3c4", blockPublicAcls: true, blockPublicPolicy: true, ignorePublicAcls: true, restrictPublicBuckets: true };
    const encryption = "encryption" in change ? change.encryption : { bucket: "events-1a2b3c4", rules: [{ applyServerSideEncryptionByDefault: { sseAlgorithm: "AES256" } }] };
    const policy = "policy" in change ? change.policy : TLS_ONLY;
    return [
        { type: Types.s3Bucket, name: "events", props: { bucket: "events-1a2b3c4", arn: ARN } },
        ...(block ? [{ type: Types.s3BucketPublicAccessBlock, name: "events-block", props: block, propertyDependencies: linkedTo }] : []),
        ...(encryption ? [{ type: "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration", name: "events-sse", props: encryption, propertyDependencies: linkedTo }] : []),
        ...(policy ? [{ type: Types.s3BucketPolicy, name: "events-policy", props: { bucket: "events-1a2b3c4", policy }, propertyDependencies: linkedTo }] : []),
    ];
}

describe("s3-bucket-private", () => {
    it("accepts a bucket that blocks public access, encrypts by default and denies requests without TLS", async () => {
        assert.deepEqual(await validateStack("s3-bucket-private", bucketStack()), []);
    });

    it("reports a bucket without a public access block, and one with a setting left off, naming the settings", async () => {
        const none = await validateStack("s3-bucket-private", bucketStack({ block: undefined }));
        const partly = await validateStack("s3-bucket-private", bucketStack({ block: { bucket: "events-1a2b3c4", blockPublicAcls: true, blockPublicPolicy: false, ignorePublicAcls: true, restrictPublicBuckets: true } }));
        assert.deepEqual(none, [{ resource: "events", message: "Bucket does not block public access: blockPublicAcls, blockPublicPolicy, ignorePublicAcls, restrictPublicBuckets are not on. Add an aws.s3.BucketPublicAccessBlock with all four true." }]);
        assert.deepEqual(partly, [{ resource: "events", message: "Bucket does not block public access: blockPublicPolicy is not on. Add an aws.s3.BucketPublicAccessBlock with all four true." }]);
    });

    it("reports a bucket without default encryption", async () => {
        assert.deepEqual(await validateStack("s3-bucket-private", bucketStack({ encryption: undefined })), [
            { resource: "events", message: "Bucket has no default encryption. Add an aws.s3.BucketServerSideEncryptionConfiguration (AES256 or aws:kms)." },
        ]);
    });

    it("reports a bucket with no policy, and one whose policy allows plain HTTP or guards only the bucket and not its objects", async () => {
        const message = 'Bucket accepts requests without TLS. Add a bucket policy that denies s3:* on the bucket and its objects when "aws:SecureTransport" is "false".';
        const allowOnly = JSON.stringify({ Statement: [{ Effect: "Allow", Principal: { AWS: "arn:aws:iam::123456789012:root" }, Action: "s3:GetObject", Resource: `${ARN}/*` }] });
        const bucketOnly = JSON.stringify({ Statement: [{ Effect: "Deny", Principal: "*", Action: "s3:*", Resource: ARN, Condition: { Bool: { "aws:SecureTransport": "false" } } }] });
        for (const policy of [undefined, allowOnly, bucketOnly]) {
            assert.deepEqual(await validateStack("s3-bucket-private", bucketStack({ policy })), [{ resource: "events", message }], String(policy));
        }
    });

    it("ties a guard to its bucket by value when no dependency says so, and not to another bucket", async () => {
        // Prepare: the guards name the bucket by value only; a second bucket has none.
        const specs: StackSpec[] = bucketStack().map((spec) => ({ ...spec, propertyDependencies: undefined }));
        specs.push({ type: Types.s3Bucket, name: "other", props: { bucket: "other-9z8y7x6", arn: "arn:aws:s3:::other-9z8y7x6" } });
        // Act
        const reported = await validateStack("s3-bucket-private", specs);
        // Assess
        assert.deepEqual(reported.map((finding) => finding.resource), ["other", "other", "other"]);
    });

    it("passes over the dev stack's event buckets as the program builds them", async function () {
        this.timeout(120_000);
        const run = await runProgramOffline({ stack: "dev", services: eventRegistry });
        assert.ok(run.resources.some((resource) => resource.type === Types.s3Bucket), "the dev stack has a bucket to check");
        const result = await runPolicies(run.resources, loadPackConfig(path.join(PACK_DIR, "config.dev.json")), policies.filter((policy) => policy.name === "s3-bucket-private"));
        assert.equal(result.policiesRun, 1);
        assert.deepEqual(result.violations, []);
    });
});
