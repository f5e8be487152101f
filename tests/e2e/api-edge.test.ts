/**
 * The API edge over real HTTP: the local JWT authorizer (every 401 and 403 API Gateway gives, the
 * verified claims reaching the handler), CORS preflights of protected routes, per-route throttling
 * with its 429 and refill, and trusting a real issuer through its JWKS URL. Over test registries: the
 * fixture `notes` service (a protected write, a delete that needs a scope, public reads, a throttled
 * write, all against PostgreSQL) and the edge probe routes.
 */
import * as assert from "node:assert/strict";
import * as http from "node:http";
import type { AddressInfo } from "node:net";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { exportJWK, generateKeyPair, SignJWT, type JWK } from "jose";
import { resolveRegistry } from "../../platform/registry/resolution";
import { authSettingsFromEnv, createAuthorizerFor, type JwtAuthorizer } from "../../local/authorizer";
import { jwtDirFromEnv, LOCAL_AUDIENCE, LOCAL_ISSUER, loadOrCreateSigningKey, mintLocalToken, type LocalSigningKey } from "../../local/issuer";
import { createLocalServer, type LocalServer } from "../../local/server";
import { createTokenBucket, throttlingFromEnv } from "../../local/throttle";
import notes from "../../testing/fixtures/services/notes/service";
import { edgeProbeService } from "./probe-service";
import { request, snapshotRows, startTestRuntime, type TestResponse, type TestRuntime } from "../../testing/local-runtime";

const UNAUTHORIZED = { message: "Unauthorized" };
const FORBIDDEN = { message: "Forbidden" };
const TOO_MANY = { message: "Too Many Requests" };
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const inSeconds = (seconds: number) => new Date(Date.now() + seconds * 1000);
const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

function decodePart(token: string, index: 0 | 1): Record<string, unknown> {
    return JSON.parse(Buffer.from(token.split(".")[index], "base64url").toString("utf8")) as Record<string, unknown>;
}

function encodePart(value: object): string {
    return Buffer.from(JSON.stringify(value)).toString("base64url");
}

const temporaryDirectories: string[] = [];
function temporaryDirectory(): string {
    const directory = fs.mkdtempSync(path.join(os.tmpdir(), "api-edge-"));
    temporaryDirectories.push(directory);
    return directory;
}

function assertUnauthorized(response: TestResponse, label: string, description?: RegExp): void {
    assert.equal(response.status, 401, `${label}: ${response.status} ${response.text}`);
    assert.deepEqual(response.json, UNAUTHORIZED, label);
    assert.equal(response.text, '{"message":"Unauthorized"}', label);
    assert.match(String(response.headers["content-type"]), /^application\/json/, label);
    assert.match(String(response.headers["www-authenticate"]), /^Bearer/, label);
    if (description) assert.match(String(response.headers["www-authenticate"]), description, label);
}

/** A JWKS server standing in for a real issuer (Cognito, Auth0...): serves `keys` at /jwks.json. */
async function startJwksServer(keys: JWK[]): Promise<{ url: string; requests: () => number; close(): Promise<void> }> {
    let count = 0;
    const server = http.createServer((req, res) => {
        count++;
        if (req.url === "/jwks.json") {
            res.writeHead(200, { "content-type": "application/json" });
            res.end(JSON.stringify({ keys }));
        } else {
            res.writeHead(404).end();
        }
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const { port } = server.address() as AddressInfo;
    return {
        url: `http://127.0.0.1:${port}/jwks.json`,
        requests: () => count,
        close: () => new Promise((resolve) => server.close(() => resolve())),
    };
}

/** A local server with only the edge probe routes (no database) and the given authorizer. */
async function startProbeServer(authorizer: JwtAuthorizer, throttling: false | undefined = undefined): Promise<{ url: string; server: LocalServer }> {
    const { routes } = resolveRegistry([edgeProbeService], { memoryMb: 256, timeoutSeconds: 10 });
    const server = createLocalServer({ routes, authorizer, throttling, writeLog: () => undefined });
    return { url: await server.listen(0), server };
}

describe("e2e: API edge (JWT authorization, CORS, throttling)", () => {
    let t: TestRuntime;
    let key: LocalSigningKey;
    let writer: Record<string, string>;

    before(async () => {
        t = await startTestRuntime([notes, edgeProbeService], { throttling: true });
        key = await loadOrCreateSigningKey(t.jwtDir);
        writer = bearer(await t.token({ sub: "writer" }));
    });
    after(async () => {
        await t?.stop();
        for (const directory of temporaryDirectories) fs.rmSync(directory, { recursive: true, force: true });
    });

    const eventsFor = (routeKey: string) => t.events.filter((event) => event.routeKey === routeKey).length;
    const snapshotNotes = () => snapshotRows(t.sql, "notes", "notes");
    let noteCount = 0;
    /** A body POST /notes accepts, with a title never used before. */
    const newNote = (label = "note") => ({ title: `${label} ${++noteCount}`, body: "Written by the API edge tests" });

    describe("protected routes", () => {
        it("a minted token opens POST /notes; the reads stay public", async () => {
            const created = await request(t.url, { method: "POST", path: "/notes", body: newNote("token"), headers: writer });
            assert.equal(created.status, 201, created.text);
            assert.equal((await request(t.url, { path: `/notes/${created.json.id}` })).status, 200);
            assert.equal((await request(t.url, { path: "/notes" })).status, 200);
        });

        it("POST and DELETE without a token get 401 {\"message\":\"Unauthorized\"}, reach no function and change nothing", async () => {
            const id = (await request(t.url, { method: "POST", path: "/notes", body: newNote("untouched"), headers: writer })).json.id;
            const before = await snapshotNotes();
            const eventsBefore = t.events.length;
            assertUnauthorized(await request(t.url, { method: "POST", path: "/notes", body: newNote("anon") }), "POST");
            assertUnauthorized(await request(t.url, { method: "DELETE", path: `/notes/${id}` }), "DELETE");
            assert.equal(t.events.length, eventsBefore, "no function ran");
            assert.deepEqual(await snapshotNotes(), before);
        });

        it("DELETE /notes/{id} needs notes:delete: 403 {\"message\":\"Forbidden\"} without it, 204 with it", async () => {
            const id = (await request(t.url, { method: "POST", path: "/notes", body: newNote("doomed"), headers: writer })).json.id;
            for (const scopes of [[], ["notes:write"], ["notes:deleted", "delete"]]) {
                const response = await request(t.url, { method: "DELETE", path: `/notes/${id}`, headers: bearer(await t.token({ scopes })) });
                assert.equal(response.status, 403, `${scopes.join(" ")}: ${response.text}`);
                assert.equal(response.text, '{"message":"Forbidden"}');
                assert.match(String(response.headers["www-authenticate"]), /error="insufficient_scope"/);
            }
            assert.equal((await request(t.url, { path: `/notes/${id}` })).status, 200, "still there");
            const deleted = await request(t.url, { method: "DELETE", path: `/notes/${id}`, headers: bearer(await t.token({ scopes: ["profile", "notes:delete"] })) });
            assert.equal(deleted.status, 204, deleted.text);
            assert.equal((await request(t.url, { path: `/notes/${id}` })).status, 404);
        });
    });

    describe("the token", () => {
        it("is read from `Authorization: Bearer <token>`, any case of Bearer, or the bare token (API Gateway takes both)", async () => {
            const token = await t.token();
            for (const authorization of [`Bearer ${token}`, `bearer ${token}`, `BEARER   ${token}`, token]) {
                const response = await request(t.url, { path: "/probe/whoami", headers: { authorization } });
                assert.equal(response.status, 200, `${authorization.slice(0, 12)}: ${response.text}`);
            }
        });

        it("hands the function the verified claims as API Gateway does: strings, arrays as [a b], null claims left out", async () => {
            const token = await t.token({
                sub: "user-123",
                claims: { email: "ada@example.com", "cognito:groups": ["admins", "editors"], age: 36, verified: true, nothing: null, profile: { a: 1 } },
            });
            const response = await request(t.url, { path: "/probe/whoami", headers: bearer(token) });
            assert.equal(response.status, 200, response.text);
            const claims = response.json.claims;
            const payload = decodePart(token, 1);
            assert.equal(claims.sub, "user-123");
            assert.equal(claims.iss, LOCAL_ISSUER);
            assert.equal(claims.aud, LOCAL_AUDIENCE);
            assert.equal(claims.email, "ada@example.com");
            assert.equal(claims["cognito:groups"], "[admins editors]");
            assert.equal(claims.age, "36");
            assert.equal(claims.verified, "true");
            assert.equal(claims.profile, '{"a":1}');
            assert.equal(claims.exp, String(payload.exp));
            assert.equal(claims.iat, String(payload.iat));
            assert.equal("nothing" in claims, false);
            const event = t.events[t.events.length - 1];
            assert.deepEqual(event.requestContext.authorizer?.jwt?.claims, claims);
            // A route that requires no scope gets "scopes": null, as from API Gateway.
            assert.equal(event.requestContext.authorizer?.jwt?.scopes, null);
            assert.equal(event.headers.authorization, `Bearer ${token}`, "the header is passed on");
        });

        it("a public route gets no authorizer context, even when a token is sent", async () => {
            const response = await request(t.url, { path: "/probe/public", headers: bearer(await t.token()) });
            assert.equal(response.status, 200);
            assert.deepEqual(response.json, { claims: null });
            assert.equal(t.events[t.events.length - 1].requestContext.authorizer, undefined);
            // ...and an invalid one is not checked there.
            assert.equal((await request(t.url, { path: "/probe/public", headers: { authorization: "Bearer junk" } })).status, 200);
        });

        it("needs one of the route's scopes, from `scope` (space-separated) or `scp` (a list); the event carries the token's scopes", async () => {
            const ok = async (claims: Record<string, unknown>, scopes?: string[]) => request(t.url, { path: "/probe/admin", headers: bearer(await t.token({ claims, scopes })) });
            let response = await ok({}, ["probe:root", "other"]);
            assert.equal(response.status, 200, response.text);
            assert.deepEqual(t.events[t.events.length - 1].requestContext.authorizer?.jwt?.scopes, ["probe:root", "other"]);
            response = await ok({ scp: ["x", "probe:admin"] });
            assert.equal(response.status, 200, response.text);
            assert.deepEqual(t.events[t.events.length - 1].requestContext.authorizer?.jwt?.scopes, ["x", "probe:admin"]);
            for (const [label, claims, scopes] of [
                ["no scope at all", {}, undefined],
                ["other scopes", {}, ["probe:read", "probe:adminx"]],
                ["a scope that only contains one", {}, ["probe:admin:read"]],
                ["scp without them", { scp: ["probe"] }, undefined],
            ] as const) {
                response = await ok(claims, scopes ? [...scopes] : undefined);
                assert.equal(response.status, 403, `${label}: ${response.text}`);
                assert.deepEqual(response.json, FORBIDDEN, label);
                assert.equal(response.headers["www-authenticate"], 'Bearer scope="probe:admin probe:root" error="insufficient_scope" error_description="expected scopes: [probe:admin probe:root]"');
            }
        });

        it("a Cognito access token (client_id, no aud) is accepted when client_id is an audience; aud wins when both are present", async () => {
            const accessToken = async (claims: Record<string, unknown>, audience?: string) => {
                // mintLocalToken always sets aud; build the Cognito shape by hand with the same key.
                const jwt = new SignJWT(claims).setProtectedHeader({ alg: "RS256", kid: key.kid }).setSubject("cognito-user").setIssuer(LOCAL_ISSUER).setIssuedAt().setExpirationTime("5m");
                if (audience) jwt.setAudience(audience);
                return jwt.sign(key.privateKey);
            };
            assert.equal((await request(t.url, { path: "/probe/whoami", headers: bearer(await accessToken({ client_id: LOCAL_AUDIENCE, token_use: "access" })) })).status, 200);
            assertUnauthorized(await request(t.url, { path: "/probe/whoami", headers: bearer(await accessToken({ client_id: "another-client" })) }), "wrong client_id", /valid audience/);
            assertUnauthorized(await request(t.url, { path: "/probe/whoami", headers: bearer(await accessToken({})) }), "neither aud nor client_id", /valid audience/);
            assertUnauthorized(await request(t.url, { path: "/probe/whoami", headers: bearer(await accessToken({ client_id: LOCAL_AUDIENCE }, "someone-else")) }), "aud wins", /valid audience/);
        });

        it("any of the token's audiences may match", async () => {
            const token = await t.token({ audience: ["someone-else", LOCAL_AUDIENCE] });
            assert.equal((await request(t.url, { path: "/probe/whoami", headers: bearer(token) })).status, 200);
        });
    });

    describe("every bad token gets 401 {\"message\":\"Unauthorized\"} and reaches no function", () => {
        const cases: Array<[string, () => Promise<Record<string, string>>, RegExp?]> = [
            ["no Authorization header", async () => ({})],
            ["an empty Authorization header", async () => ({ authorization: "" })],
            ["`Bearer` and nothing else", async () => ({ authorization: "Bearer " })],
            ["a malformed token", async () => ({ authorization: "Bearer not-a-jwt" })],
            ["three segments of garbage", async () => ({ authorization: "Bearer a.b.c" })],
            ["another scheme", async () => ({ authorization: `Basic ${Buffer.from("user:pass").toString("base64")}` })],
            [
                "a tampered payload (signature mismatch)",
                async () => {
                    const [header, payload, signature] = (await t.token({ sub: "mallory" })).split(".");
                    const forged = encodePart({ ...JSON.parse(Buffer.from(payload, "base64url").toString()), sub: "admin", scope: "notes:delete" });
                    return bearer(`${header}.${forged}.${signature}`);
                },
                /signature/,
            ],
            ["an expired token", async () => bearer(await t.token({ issuedAt: inSeconds(-7200), expiresAt: inSeconds(-60) })), /expired/],
            ["a token not valid yet (nbf)", async () => bearer(await t.token({ notBefore: inSeconds(600) })), /not valid yet/],
            ["a token issued in the future (iat)", async () => bearer(await t.token({ issuedAt: inSeconds(600), expiresAt: inSeconds(3600) })), /future/],
            ["the wrong audience", async () => bearer(await t.token({ audience: "another-app" })), /error_description="the token does not have a valid audience"/],
            ["the wrong issuer", async () => bearer(await t.token({ issuer: "https://evil.example" })), /issuer/],
            [
                "a token signed by another key (its own kid)",
                async () => bearer(await mintLocalToken({ sub: "e2e-user", key: await loadOrCreateSigningKey(path.join(temporaryDirectory(), "jwt")) })),
                /kid/,
            ],
            [
                "a token signed by another key claiming the issuer's kid",
                async () => {
                    const other = await loadOrCreateSigningKey(path.join(temporaryDirectory(), "jwt"));
                    return bearer(await mintLocalToken({ sub: "e2e-user", key: { ...other, kid: key.kid } }));
                },
                /signature/,
            ],
            [
                "an unsigned token (alg none)",
                async () => {
                    const payload = decodePart(await t.token(), 1);
                    return bearer(`${encodePart({ alg: "none", kid: key.kid })}.${encodePart(payload)}.`);
                },
            ],
            [
                "an HS256 token (only RSA is accepted)",
                async () => bearer(await new SignJWT({}).setProtectedHeader({ alg: "HS256", kid: key.kid }).setSubject("x").setIssuer(LOCAL_ISSUER).setAudience(LOCAL_AUDIENCE).setExpirationTime("5m").sign(Buffer.alloc(32, 1))),
            ],
            [
                "an ES256 token (only RSA is accepted)",
                async () => {
                    const { privateKey } = await generateKeyPair("ES256");
                    return bearer(await new SignJWT({}).setProtectedHeader({ alg: "ES256", kid: key.kid }).setSubject("x").setIssuer(LOCAL_ISSUER).setAudience(LOCAL_AUDIENCE).setExpirationTime("5m").sign(privateKey));
                },
            ],
            [
                "a token without a kid header",
                async () => bearer(await new SignJWT({}).setProtectedHeader({ alg: "RS256" }).setSubject("x").setIssuer(LOCAL_ISSUER).setAudience(LOCAL_AUDIENCE).setExpirationTime("5m").sign(key.privateKey)),
                /kid/,
            ],
            [
                "a token without exp",
                async () => bearer(await new SignJWT({}).setProtectedHeader({ alg: "RS256", kid: key.kid }).setSubject("x").setIssuer(LOCAL_ISSUER).setAudience(LOCAL_AUDIENCE).sign(key.privateKey)),
            ],
        ];

        for (const [label, headers, description] of cases) {
            it(label, async () => {
                const eventsBefore = t.events.length;
                assertUnauthorized(await request(t.url, { path: "/probe/whoami", headers: await headers() }), label, description);
                assert.equal(t.events.length, eventsBefore, "no function ran");
            });
        }

        it("the same tokens are refused on POST /notes, which stores nothing", async () => {
            const before = await snapshotNotes();
            for (const [label, headers] of cases) {
                const response = await request(t.url, { method: "POST", path: "/notes", body: newNote("bad token"), headers: await headers() });
                assertUnauthorized(response, `POST /notes with ${label}`);
            }
            assert.deepEqual(await snapshotNotes(), before);
        });
    });

    describe("CORS", () => {
        const origin = "http://localhost:5173";

        for (const [method, routePath] of [
            ["POST", "/notes"],
            ["DELETE", "/notes/00000000-0000-4000-8000-000000000000"],
        ] as const) {
            it(`answers the preflight of protected ${method} ${routePath.replace(/\/0.*$/, "/{id}")} without a token`, async () => {
                const eventsBefore = t.events.length;
                const response = await request(t.url, {
                    method: "OPTIONS",
                    path: routePath,
                    headers: { origin, "access-control-request-method": method, "access-control-request-headers": "authorization,content-type" },
                });
                assert.equal(response.status, 204);
                assert.equal(response.headers["access-control-allow-origin"], origin);
                assert.match(String(response.headers["access-control-allow-methods"]), new RegExp(method));
                assert.match(String(response.headers["access-control-allow-headers"]), /authorization/);
                assert.equal(response.headers["www-authenticate"], undefined);
                assert.equal(t.events.length, eventsBefore, "no function sees a preflight");
            });
        }

        it("the actual cross-origin request still needs its token", async () => {
            const response = await request(t.url, { method: "POST", path: "/notes", body: newNote("cors"), headers: { origin } });
            assertUnauthorized(response, "cross-origin POST without a token");
            const allowed = await request(t.url, { method: "POST", path: "/notes", body: newNote("cors"), headers: { origin, ...writer } });
            assert.equal(allowed.status, 201, allowed.text);
            assert.equal(allowed.headers["access-control-allow-origin"], origin);
        });
    });

    describe("throttling", () => {
        /** Sends `count` requests at once; resolves with their statuses. */
        const burst = async (count: number, make: (index: number) => Parameters<typeof request>[1]) =>
            (await Promise.all(Array.from({ length: count }, (_, index) => request(t.url, make(index))))).map((response) => {
                if (response.status === 429) assert.equal(response.text, JSON.stringify(TOO_MANY));
                return response.status;
            });
        const count = (statuses: number[], status: number) => statuses.filter((value) => value === status).length;

        it("a route's own limit (1/s, burst 2): a burst gets 2 answers and 429 {\"message\":\"Too Many Requests\"} for the rest, then the bucket refills", async () => {
            const eventsBefore = eventsFor("GET /probe/limited");
            const statuses = await burst(6, () => ({ path: "/probe/limited" }));
            assert.equal(count(statuses, 200), 2, statuses.join(","));
            assert.equal(count(statuses, 429), 4, statuses.join(","));
            assert.equal(eventsFor("GET /probe/limited"), eventsBefore + 2, "throttled requests reach no function");

            const throttled = await request(t.url, { path: "/probe/limited" });
            assert.equal(throttled.status, 429);
            assert.deepEqual(throttled.json, TOO_MANY);
            assert.match(String(throttled.headers["content-type"]), /^application\/json/);

            await sleep(1100); // one request's worth at 1/s
            assert.equal((await request(t.url, { path: "/probe/limited" })).status, 200);
            assert.equal((await request(t.url, { path: "/probe/limited" })).status, 429);
            await sleep(2100); // refilled, but never past the burst
            const again = await burst(4, () => ({ path: "/probe/limited" }));
            assert.equal(count(again, 200), 2, again.join(","));
        });

        it("a route without its own limit gets the stack's (Pulumi.dev.yaml: 50/s, burst 100)", async () => {
            const started = Date.now();
            const statuses = await burst(130, () => ({ path: "/probe/public" }));
            const refill = Math.ceil(((Date.now() - started) / 1000) * 50) + 1;
            const ok = count(statuses, 200);
            assert.ok(ok >= 100 && ok <= 100 + refill, `${ok} answered (refill allowance ${refill})`);
            assert.equal(count(statuses, 429), 130 - ok);
        });

        it("POST /notes (20/s, burst 40): a burst of 60 signed creates gets about 40 201s and 429s for the rest; only the 201s are stored", async () => {
            await sleep(2100); // let earlier tests' creates refill the bucket
            const before = (await snapshotNotes()).length;
            const started = Date.now();
            const statuses = await burst(60, () => ({ method: "POST", path: "/notes", body: newNote("burst"), headers: writer }));
            const refill = Math.ceil(((Date.now() - started) / 1000) * 20) + 1;
            const created = count(statuses, 201);
            assert.ok(created >= 40 && created <= 40 + refill, `${created} created (refill allowance ${refill}): ${statuses.join(",")}`);
            assert.equal(count(statuses, 429), 60 - created);
            assert.equal((await snapshotNotes()).length, before + created);
        });

        it("buckets are per route: a throttled route leaves the others answering", async () => {
            await burst(5, () => ({ path: "/probe/limited" }));
            assert.equal((await request(t.url, { path: "/probe/limited" })).status, 429);
            assert.equal((await request(t.url, { path: "/probe/whoami", headers: writer })).status, 200);
        });

        it("LOCAL_THROTTLING=off turns local throttling off", async () => {
            assert.equal(throttlingFromEnv({ LOCAL_THROTTLING: "off" }), false);
            assert.equal(throttlingFromEnv({ LOCAL_THROTTLING: "false" }), false);
            assert.equal(throttlingFromEnv({}), true);
            assert.throws(() => throttlingFromEnv({ LOCAL_THROTTLING: "maybe" }), /LOCAL_THROTTLING="maybe"/);
            const probe = await startProbeServer(t.runtime.authorizer, false);
            try {
                const statuses = await Promise.all(Array.from({ length: 10 }, () => request(probe.url, { path: "/probe/limited" })));
                assert.deepEqual(statuses.map((response) => response.status), Array(10).fill(200));
            } finally {
                await probe.server.close();
            }
        });

        it("the token bucket: full at the start, refills at the rate, never past the burst", () => {
            let now = 0;
            const bucket = createTokenBucket({ rateLimit: 2, burstLimit: 3 }, () => now);
            assert.deepEqual([bucket.take(), bucket.take(), bucket.take(), bucket.take()], [true, true, true, false]);
            now = 499;
            assert.equal(bucket.take(), false);
            now = 500;
            assert.equal(bucket.take(), true);
            now = 60_000;
            assert.deepEqual([bucket.take(), bucket.take(), bucket.take(), bucket.take()], [true, true, true, false]);
        });
    });

    describe("the local issuer", () => {
        it("publishes its public key at /.well-known/jwks.json (no private members), not as a registry route", async () => {
            const response = await request(t.url, { path: "/.well-known/jwks.json" });
            assert.equal(response.status, 200);
            assert.equal(response.json.keys.length, 1);
            const [jwk] = response.json.keys;
            assert.equal(jwk.kid, key.kid);
            assert.equal(jwk.kty, "RSA");
            assert.equal(jwk.alg, "RS256");
            for (const member of ["d", "p", "q", "dp", "dq", "qi"]) assert.equal(member in jwk, false, member);
            assert.equal(decodePart(await t.token(), 0).kid, key.kid);
        });

        it("keeps one key in its directory (mode 0600), the same across loads and concurrent first starts", async () => {
            const dir = path.join(temporaryDirectory(), "jwt");
            const keys = await Promise.all([1, 2, 3].map(() => loadOrCreateSigningKey(dir)));
            assert.equal(new Set(keys.map((loaded) => loaded.kid)).size, 1);
            assert.equal((await loadOrCreateSigningKey(dir)).kid, keys[0].kid);
            assert.deepEqual(fs.readdirSync(dir), ["signing-key.jwk.json"]);
            assert.equal(fs.statSync(path.join(dir, "signing-key.jwk.json")).mode & 0o777, 0o600);
        });
    });

    describe("a real issuer through its JWKS URL (JWT_ISSUER, JWT_AUDIENCE, JWT_JWKS_URL)", () => {
        const issuer = "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_Example";
        let signing: Awaited<ReturnType<typeof generateKeyPair>>;
        let kid: string;
        let jwks: Awaited<ReturnType<typeof startJwksServer>>;
        let probe: { url: string; server: LocalServer };

        const issue = (claims: Record<string, unknown>, options: { audience?: string; issuer?: string; kid?: string } = {}) =>
            new SignJWT(claims)
                .setProtectedHeader({ alg: "RS256", kid: options.kid ?? kid })
                .setSubject("real-user")
                .setIssuer(options.issuer ?? issuer)
                .setAudience(options.audience ?? "client-b")
                .setIssuedAt()
                .setExpirationTime("5m")
                .sign(signing.privateKey);

        before(async () => {
            signing = await generateKeyPair("RS256", { extractable: true });
            kid = "real-key-1";
            jwks = await startJwksServer([{ ...(await exportJWK(signing.publicKey)), kid, alg: "RS256", use: "sig" }]);
            const settings = authSettingsFromEnv({ JWT_ISSUER: issuer, JWT_AUDIENCE: "client-a, client-b", JWT_JWKS_URL: jwks.url });
            assert.deepEqual(settings, { kind: "remote", issuer, audience: ["client-a", "client-b"], jwksUrl: jwks.url });
            probe = await startProbeServer(await createAuthorizerFor(settings));
        });
        after(async () => {
            await probe?.server.close();
            await jwks?.close();
        });

        it("accepts the issuer's tokens, fetching its keys from the JWKS URL, and hands on their claims", async () => {
            const response = await request(probe.url, { path: "/probe/whoami", headers: bearer(await issue({ email: "real@example.com" })) });
            assert.equal(response.status, 200, response.text);
            assert.equal(response.json.claims.sub, "real-user");
            assert.equal(response.json.claims.iss, issuer);
            assert.equal(response.json.claims.email, "real@example.com");
            assert.ok(jwks.requests() >= 1);
            const scoped = await request(probe.url, { path: "/probe/admin", headers: bearer(await issue({ scope: "probe:admin" })) });
            assert.equal(scoped.status, 200, scoped.text);
            assert.equal((await request(probe.url, { path: "/probe/admin", headers: bearer(await issue({})) })).status, 403);
        });

        it("refuses the local issuer's tokens, other issuers, other audiences and unknown keys", async () => {
            assertUnauthorized(await request(probe.url, { path: "/probe/whoami", headers: bearer(await t.token()) }), "local token");
            assertUnauthorized(await request(probe.url, { path: "/probe/whoami", headers: bearer(await issue({}, { issuer: "https://other.example" })) }), "issuer", /issuer/);
            assertUnauthorized(await request(probe.url, { path: "/probe/whoami", headers: bearer(await issue({}, { audience: "client-c" })) }), "audience", /audience/);
            assertUnauthorized(await request(probe.url, { path: "/probe/whoami", headers: bearer(await issue({}, { kid: "rotated-away" })) }), "kid", /kid/);
        });

        it("answers 401 when the issuer's keys cannot be fetched", async () => {
            const settings = authSettingsFromEnv({ JWT_ISSUER: issuer, JWT_AUDIENCE: "client-b", JWT_JWKS_URL: "http://127.0.0.1:9/jwks.json" });
            const unreachable = await startProbeServer(await createAuthorizerFor(settings));
            try {
                assertUnauthorized(await request(unreachable.url, { path: "/probe/whoami", headers: bearer(await issue({})) }), "unreachable JWKS", /keys could not be fetched/);
            } finally {
                await unreachable.server.close();
            }
        });

        it("can point at another local runtime's issuer: its /.well-known/jwks.json verifies its tokens", async () => {
            const settings = authSettingsFromEnv({ JWT_ISSUER: LOCAL_ISSUER, JWT_AUDIENCE: LOCAL_AUDIENCE, JWT_JWKS_URL: `${t.url}/.well-known/jwks.json` });
            const chained = await startProbeServer(await createAuthorizerFor(settings));
            try {
                const response = await request(chained.url, { path: "/probe/whoami", headers: bearer(await t.token({ sub: "chained" })) });
                assert.equal(response.status, 200, response.text);
                assert.equal(response.json.claims.sub, "chained");
            } finally {
                await chained.server.close();
            }
        });

        it("reads its settings from the environment, with clear errors", () => {
            assert.deepEqual(authSettingsFromEnv({ LOCAL_JWT_DIR: "/tmp/keys" }), { kind: "local", dir: "/tmp/keys" });
            assert.equal(jwtDirFromEnv({}), path.resolve(__dirname, "../../.data/jwt"));
            assert.deepEqual(authSettingsFromEnv({ JWT_ISSUER: "https://tenant.auth0.com/", JWT_AUDIENCE: "api" }), {
                kind: "remote",
                issuer: "https://tenant.auth0.com/",
                audience: ["api"],
                jwksUrl: "https://tenant.auth0.com/.well-known/jwks.json",
            });
            assert.throws(() => authSettingsFromEnv({ JWT_ISSUER: issuer }), /needs JWT_AUDIENCE/);
            assert.throws(() => authSettingsFromEnv({ JWT_AUDIENCE: "x" }), /need JWT_ISSUER/);
            assert.throws(() => authSettingsFromEnv({ JWT_ISSUER: issuer, JWT_AUDIENCE: "x", JWT_JWKS_URL: "file:///etc/passwd" }), /not an http\(s\) URL/);
        });
    });
});
