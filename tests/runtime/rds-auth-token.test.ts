/**
 * The IAM authentication token a route function signs is the one `@aws-sdk/rds-signer` (AWS's own
 * signer, a devDependency here) makes for the same credentials, endpoint, user and clock: a real
 * IAM login cannot be made here, so the token is pinned against the reference byte for byte.
 */
import * as assert from "node:assert/strict";
import { Signer } from "@aws-sdk/rds-signer";
import { AUTH_TOKEN_LIFETIME_SECONDS, AUTH_TOKEN_REUSE_SECONDS, authTokenCache, credentialsFromEnvironment, rdsAuthToken, type AuthTokenRequest } from "../../functions/runtime/data/rds-auth-token";

const SIGNED_AT = new Date("2026-12-01T10:20:30.456Z");

/** What `Signer` returns with the clock stopped at `at` (it reads `new Date()` when it signs). */
async function referenceToken(request: Omit<AuthTokenRequest, "signedAt">, at: Date): Promise<string> {
    const RealDate = Date;
    class FixedDate extends RealDate {
        constructor(...args: unknown[]) {
            if (args.length === 0) super(at.getTime());
            else super(...(args as [number]));
        }
        static now() {
            return at.getTime();
        }
    }
    globalThis.Date = FixedDate as DateConstructor;
    try {
        return await new Signer({ hostname: request.hostname, port: request.port, username: request.username, region: request.region, credentials: request.credentials }).getAuthToken();
    } finally {
        globalThis.Date = RealDate;
    }
}

describe("IAM database authentication tokens", () => {
    const cases: Array<[string, Omit<AuthTokenRequest, "signedAt">]> = [
        [
            "a Lambda role's temporary credentials (with a session token)",
            {
                hostname: "database-cluster-1a2b3c4.cluster-abcdefghijkl.us-east-1.rds.amazonaws.com",
                port: 5432,
                username: "users_app",
                region: "us-east-1",
                credentials: { accessKeyId: "ASIAEXAMPLEEXAMPLE01", secretAccessKey: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", sessionToken: "IQoJb3JpZ2luX2VjEJr//////////wEaCXVzLWVhc3QtMSJHMEUCIQD+example=" },
            },
        ],
        [
            "long-lived keys, another region, port and user",
            {
                hostname: "prod.cluster-zyxwvutsrqpo.eu-west-1.rds.amazonaws.com",
                port: 6543,
                username: "order_history_app",
                region: "eu-west-1",
                credentials: { accessKeyId: "AKIAEXAMPLEEXAMPLE02", secretAccessKey: "a+b/c=d" },
            },
        ],
    ];
    for (const [what, request] of cases) {
        it(`signs what @aws-sdk/rds-signer signs for ${what}`, async () => {
            // Prepare
            const expected = await referenceToken(request, SIGNED_AT);
            // Act
            const token = rdsAuthToken({ ...request, signedAt: SIGNED_AT });
            // Assess
            assert.equal(token, expected);
        });
    }

    it("is a presigned connect request for the user, valid 15 minutes from when it was signed", () => {
        // Prepare
        const [, request] = cases[0];
        // Act
        const token = rdsAuthToken({ ...request, signedAt: SIGNED_AT });
        // Assess
        const url = new URL(`https://${token}`);
        assert.equal(url.host, `${request.hostname}:${request.port}`);
        assert.equal(url.searchParams.get("Action"), "connect");
        assert.equal(url.searchParams.get("DBUser"), "users_app");
        assert.equal(url.searchParams.get("X-Amz-Date"), "20261201T102030Z");
        assert.equal(url.searchParams.get("X-Amz-Expires"), String(AUTH_TOKEN_LIFETIME_SECONDS));
        assert.equal(AUTH_TOKEN_LIFETIME_SECONDS, 900);
        assert.equal(url.searchParams.get("X-Amz-Credential"), "ASIAEXAMPLEEXAMPLE01/20261201/us-east-1/rds-db/aws4_request");
    });

    it("changes with the clock: a token signed a second later is another token", () => {
        // Prepare
        const [, request] = cases[0];
        // Act
        const first = rdsAuthToken({ ...request, signedAt: SIGNED_AT });
        const later = rdsAuthToken({ ...request, signedAt: new Date(SIGNED_AT.getTime() + 1000) });
        // Assess
        assert.notEqual(first, later);
    });

    describe("a container's token, reused while it is valid", () => {
        const [, request] = cases[0];
        const clock = (start: number) => {
            const state = { at: start };
            return { now: () => state.at, advance: (seconds: number) => (state.at += seconds * 1000) };
        };

        it("reuses the token for new connections until a minute before it expires, then signs another", () => {
            // Prepare
            const time = clock(SIGNED_AT.getTime());
            const cache = authTokenCache(time.now);
            // Act
            const first = cache.token(request);
            time.advance(AUTH_TOKEN_REUSE_SECONDS - 1);
            const stillValid = cache.token(request);
            time.advance(1);
            const renewed = cache.token(request);
            // Assess
            assert.equal(AUTH_TOKEN_REUSE_SECONDS, 840);
            assert.equal(first, rdsAuthToken({ ...request, signedAt: SIGNED_AT }));
            assert.equal(stillValid, first);
            assert.notEqual(renewed, first);
            assert.equal(renewed, rdsAuthToken({ ...request, signedAt: new Date(SIGNED_AT.getTime() + AUTH_TOKEN_REUSE_SECONDS * 1000) }));
        });

        it("signs another token once the server refused the one it holds, or for other credentials", () => {
            // Prepare
            const time = clock(SIGNED_AT.getTime());
            const cache = authTokenCache(time.now);
            const first = cache.token(request);
            time.advance(1);
            // Act
            cache.forget();
            const afterRefusal = cache.token(request);
            time.advance(1);
            const otherCredentials = cache.token({ ...request, credentials: { ...request.credentials, accessKeyId: "ASIAOTHEROTHEROTHER1" } });
            // Assess
            assert.notEqual(afterRefusal, first);
            assert.notEqual(otherCredentials, afterRefusal);
            assert.match(otherCredentials, /X-Amz-Credential=ASIAOTHEROTHEROTHER1/);
        });
    });

    it("reads the role's credentials from the environment Lambda sets, and names what is missing", () => {
        // Prepare
        const env = { AWS_ACCESS_KEY_ID: "ASIA1", AWS_SECRET_ACCESS_KEY: "s", AWS_SESSION_TOKEN: "t" };
        // Act
        const credentials = credentialsFromEnvironment(env);
        // Assess
        assert.deepEqual(credentials, { accessKeyId: "ASIA1", secretAccessKey: "s", sessionToken: "t" });
        assert.deepEqual(credentialsFromEnvironment({ AWS_ACCESS_KEY_ID: "AKIA1", AWS_SECRET_ACCESS_KEY: "s" }), { accessKeyId: "AKIA1", secretAccessKey: "s", sessionToken: undefined });
        assert.throws(() => credentialsFromEnvironment({ AWS_ACCESS_KEY_ID: "AKIA1" }), /AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY are not set/);
    });
});
