/**
 * IAM database authentication tokens for Aurora PostgreSQL: a SigV4 presigned `connect` request
 * for one database user, valid 15 minutes and checked only when a connection is opened. A
 * container keeps the token it signed and uses it for every new connection until shortly before
 * it expires (`authTokenCache`): AWS throttles IAM authentication at about 200 new connections a
 * second, a token reused is not counted again, and a reconnect costs no signing.
 *
 * Signing is local work (an HMAC chain over node:crypto): no network call and no AWS SDK on a
 * cold start. The token is byte for byte what `@aws-sdk/rds-signer` makes for the same inputs
 * (tests/runtime/rds-auth-token.test.ts pins it). That package is not bundled: its constructor
 * loads the SDK's whole default credential chain (about 156 KB zipped in a bundle, four times a
 * database function), and even `@smithy/signature-v4` alone brings 44 KB of the SDK's core, while
 * the function has its credentials in its environment already.
 */
import type * as nodeCrypto from "node:crypto";

// Loaded at the first signing, not when the module loads: a cold start that never connects pays nothing.
const crypto = (): typeof nodeCrypto => require("node:crypto");

/** The function role's credentials, as Lambda puts them in the environment. */
export interface AwsCredentials {
    accessKeyId: string;
    secretAccessKey: string;
    sessionToken?: string;
}

export interface AuthTokenRequest {
    /** The cluster endpoint the connection goes to. */
    hostname: string;
    port: number;
    /** The database user (a role granted `rds_iam`). */
    username: string;
    region: string;
    credentials: AwsCredentials;
    /** @default now */
    signedAt?: Date;
}

/** How long RDS accepts a token, in seconds: the most it allows. */
export const AUTH_TOKEN_LIFETIME_SECONDS = 900;
/** How long a container reuses a token it signed: a minute less than its lifetime, so no connect meets an expired one. */
export const AUTH_TOKEN_REUSE_SECONDS = AUTH_TOKEN_LIFETIME_SECONDS - 60;

const ALGORITHM = "AWS4-HMAC-SHA256";
const SERVICE = "rds-db";
/** SHA-256 of the empty body a `connect` request has. */
const EMPTY_PAYLOAD_SHA256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

/** RFC 3986 encoding, as SigV4 wants it: encodeURIComponent leaves `!'()*` alone. */
function escape(value: string): string {
    return encodeURIComponent(value).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

const hmac = (key: string | Buffer, data: string) => crypto().createHmac("sha256", key).update(data).digest();

/** `<host>:<port>/?Action=connect&DBUser=...&X-Amz-...`: the password for an IAM-authenticated connection. */
export function rdsAuthToken(request: AuthTokenRequest): string {
    const { hostname, port, username, region, credentials } = request;
    const longDate = (request.signedAt ?? new Date()).toISOString().replace(/\.\d{3}Z$/, "Z").replace(/[-:]/g, "");
    const shortDate = longDate.slice(0, 8);
    const scope = `${shortDate}/${region}/${SERVICE}/aws4_request`;
    const query: Record<string, string> = {
        Action: "connect",
        DBUser: username,
        "X-Amz-Algorithm": ALGORITHM,
        "X-Amz-Credential": `${credentials.accessKeyId}/${scope}`,
        "X-Amz-Date": longDate,
        "X-Amz-Expires": String(AUTH_TOKEN_LIFETIME_SECONDS),
        ...(credentials.sessionToken ? { "X-Amz-Security-Token": credentials.sessionToken } : {}),
        "X-Amz-SignedHeaders": "host",
    };
    const encode = (q: Record<string, string>) =>
        Object.keys(q)
            .sort()
            .map((key) => `${escape(key)}=${escape(q[key])}`)
            .join("&");
    const canonicalRequest = ["GET", "/", encode(query), `host:${hostname}:${port}`, "", "host", EMPTY_PAYLOAD_SHA256].join("\n");
    const stringToSign = [ALGORITHM, longDate, scope, crypto().createHash("sha256").update(canonicalRequest).digest("hex")].join("\n");
    let key: string | Buffer = `AWS4${credentials.secretAccessKey}`;
    for (const part of [shortDate, region, SERVICE, "aws4_request"]) key = hmac(key, part);
    const signature = crypto().createHmac("sha256", key).update(stringToSign).digest("hex");
    return `${hostname}:${port}/?${encode({ ...query, "X-Amz-Signature": signature })}`;
}

/**
 * One container's token: signed at the first connection, then reused for `AUTH_TOKEN_REUSE_SECONDS`,
 * as long as the request is the same (the same endpoint, user and role credentials); `forget`
 * drops it (the server refused it).
 */
export function authTokenCache(now: () => number = Date.now) {
    let held: { token: string; request: string; signedAt: number } | undefined;
    return {
        token(request: Omit<AuthTokenRequest, "signedAt">): string {
            const { hostname, port, username, region, credentials } = request;
            const identity = JSON.stringify([hostname, port, username, region, credentials.accessKeyId, credentials.secretAccessKey, credentials.sessionToken ?? ""]);
            const at = now();
            if (held && held.request === identity && at - held.signedAt < AUTH_TOKEN_REUSE_SECONDS * 1000) return held.token;
            held = { token: rdsAuthToken({ ...request, signedAt: new Date(at) }), request: identity, signedAt: at };
            return held.token;
        },
        forget(): void {
            held = undefined;
        },
    };
}

/** Reads the credentials Lambda sets for the function's role; read at each signing, so a refreshed set is used. */
export function credentialsFromEnvironment(env: Readonly<Record<string, string | undefined>> = process.env): AwsCredentials {
    const accessKeyId = env.AWS_ACCESS_KEY_ID;
    const secretAccessKey = env.AWS_SECRET_ACCESS_KEY;
    if (!accessKeyId || !secretAccessKey) {
        throw new Error("AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY are not set: IAM database authentication signs with the function role's credentials.");
    }
    return { accessKeyId, secretAccessKey, sessionToken: env.AWS_SESSION_TOKEN || undefined };
}
