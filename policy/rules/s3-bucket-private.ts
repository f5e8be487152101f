import { ruleConfig } from "../config";
import { isKnown } from "../lib/checks";
import { linked, ofType, type Linkable } from "../lib/links";
import { Finding, stackPolicy } from "../lib/rule";
import { Types } from "../lib/types";
import { isUnknown } from "../lib/unknown";

const ENCRYPTION = "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration";
const PUBLIC_ACCESS_SETTINGS = ["blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets"] as const;

/** A statement that denies every request made without TLS on the bucket and its objects. */
function deniesPlainHttp(policy: unknown): boolean {
    let document: { Statement?: unknown } | undefined;
    try {
        document = typeof policy === "string" ? JSON.parse(policy) : (policy as typeof document);
    } catch {
        return false;
    }
    const statements = Array.isArray(document?.Statement) ? document.Statement : [document?.Statement];
    return statements.some((statement: any) => {
        const resources = [statement?.Resource].flat().map(String);
        return (
            statement?.Effect === "Deny" &&
            (statement.Principal === "*" || statement.Principal?.AWS === "*") &&
            [statement.Action].flat().some((action: unknown) => action === "s3:*") &&
            String(statement.Condition?.Bool?.["aws:SecureTransport"]) === "false" &&
            resources.some((arn) => !arn.endsWith("/*")) &&
            resources.some((arn) => arn.endsWith("/*"))
        );
    });
}

/**
 * Every bucket the stack creates is private and encrypted: a public access block with all four
 * settings on, default encryption at rest, and a bucket policy that refuses requests made without
 * TLS. The platform's buckets hold events between a service and its forwarder; nothing outside the
 * account ever needs to read them.
 */
export const s3BucketPrivate = stackPolicy({
    name: "s3-bucket-private",
    description: "S3 buckets block every public access, encrypt at rest by default, and deny requests without TLS (aws:SecureTransport).",
    enforcementLevel: "mandatory",
    config: ruleConfig["s3-bucket-private"],
    remediationSteps:
        "Give the bucket an aws.s3.BucketPublicAccessBlock with blockPublicAcls, blockPublicPolicy, ignorePublicAcls and restrictPublicBuckets true, an aws.s3.BucketServerSideEncryptionConfiguration, and a bucket policy denying s3:* on the bucket and its objects when aws:SecureTransport is false.",
    check: (resources) => {
        const findings: Finding[] = [];
        const buckets = ofType(resources, Types.s3Bucket);
        const sameBucket = (bucket: Linkable, value: unknown) => isKnown(value) && (value === bucket.props.bucket || value === bucket.props.id);
        const of = (type: string, bucket: Linkable): Linkable[] => ofType(resources, type).filter((resource) => linked(resource, "bucket", [bucket], sameBucket).length > 0);
        for (const bucket of buckets) {
            const blocks = of(Types.s3BucketPublicAccessBlock, bucket);
            const open = blocks.length === 0 ? [...PUBLIC_ACCESS_SETTINGS] : PUBLIC_ACCESS_SETTINGS.filter((setting) => !blocks.some((block) => block.props[setting] === true || isUnknown(block.props[setting])));
            if (open.length > 0) findings.push({ urn: bucket.urn, message: `Bucket does not block public access: ${open.join(", ")} ${open.length === 1 ? "is" : "are"} not on. Add an aws.s3.BucketPublicAccessBlock with all four true.` });
            if (of(ENCRYPTION, bucket).length === 0) findings.push({ urn: bucket.urn, message: "Bucket has no default encryption. Add an aws.s3.BucketServerSideEncryptionConfiguration (AES256 or aws:kms)." });
            const policies = of(Types.s3BucketPolicy, bucket);
            if (!policies.some((policy) => isUnknown(policy.props.policy) || deniesPlainHttp(policy.props.policy))) {
                findings.push({ urn: bucket.urn, message: 'Bucket accepts requests without TLS. Add a bucket policy that denies s3:* on the bucket and its objects when "aws:SecureTransport" is "false".' });
            }
        }
        return findings;
    },
});
