import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { createLocalJWKSet, type JWTVerifyGetKey } from "jose";
import { createJwtAuthorizer, VERIFIED_TOKEN_TTL_MS, type JwtAuthorizer } from "../../local/authorizer";
import { jwksOf, LOCAL_AUDIENCE, LOCAL_ISSUER, loadOrCreateSigningKey, mintLocalToken, type LocalSigningKey } from "../../local/issuer";

describe("the local JWT authorizer's memory of verified tokens", () => {
    let dir: string;
    let key: LocalSigningKey;
    let clock: number;
    let keyLookups: number;
    let authorizer: JwtAuthorizer;

    before(async () => {
        dir = fs.mkdtempSync(path.join(os.tmpdir(), "authorizer-cache-"));
        key = await loadOrCreateSigningKey(dir);
    });
    after(() => fs.rmSync(dir, { recursive: true, force: true }));

    beforeEach(() => {
        clock = Date.now();
        keyLookups = 0;
        // jose asks for the key once per signature it checks.
        const keySet = createLocalJWKSet(jwksOf(key));
        const keys: JWTVerifyGetKey = (header, token) => {
            keyLookups++;
            return keySet(header, token);
        };
        authorizer = createJwtAuthorizer({ issuer: LOCAL_ISSUER, audience: [LOCAL_AUDIENCE], keys, keySource: "test", now: () => clock });
    });

    it("checks a token's signature once, then takes it again without checking it", async () => {
        // Prepare
        const token = await mintLocalToken({ key, sub: "ada" });
        // Act
        const first = await authorizer.authorize(`Bearer ${token}`, []);
        const second = await authorizer.authorize(`Bearer ${token}`, []);
        // Assess
        assert.ok(first.ok && second.ok);
        assert.equal(second.claims.sub, "ada");
        assert.equal(keyLookups, 1);
    });

    it("hands each request its own copy of the remembered claims and scopes: a change to one reaches no other", async () => {
        // Prepare
        const token = await mintLocalToken({ key, sub: "ada", scopes: ["users:read"] });
        const first = await authorizer.authorize(token, []);
        assert.ok(first.ok);
        // Act: what a handler might do to what it was handed
        first.claims.sub = "mallory";
        first.scopes.push("users:admin");
        const second = await authorizer.authorize(token, ["users:admin"]);
        const third = await authorizer.authorize(token, []);
        // Assess
        assert.equal(second.ok, false, "a scope pushed into one request's list is no scope of the token");
        assert.ok(third.ok);
        assert.equal(third.claims.sub, "ada");
        assert.deepEqual(third.scopes, ["users:read"]);
        assert.equal(keyLookups, 1);
    });

    it("checks it again after its time in memory", async () => {
        const token = await mintLocalToken({ key, sub: "ada" });
        await authorizer.authorize(token, []);
        clock += VERIFIED_TOKEN_TTL_MS + 1;
        assert.equal((await authorizer.authorize(token, [])).ok, true);
        assert.equal(keyLookups, 2);
    });

    it("refuses a remembered token once it has expired", async () => {
        // Prepare: it expires before its time in memory would end.
        const token = await mintLocalToken({ key, sub: "ada", expiresAt: new Date(clock + 20_000) });
        assert.equal((await authorizer.authorize(token, [])).ok, true);
        // Act
        clock += 21_000;
        const decision = await authorizer.authorize(token, []);
        // Assess
        assert.equal(decision.ok, false);
        assert.equal(!decision.ok && decision.response.statusCode, 401);
        assert.match(!decision.ok ? String(decision.response.headers["www-authenticate"]) : "", /the token has expired/);
    });

    it("never remembers a refused token: each attempt is checked", async () => {
        const [header, payload] = (await mintLocalToken({ key, sub: "mallory" })).split(".");
        const forged = `${header}.${payload}.${Buffer.from("not a signature").toString("base64url")}`;
        for (let attempt = 1; attempt <= 3; attempt++) {
            const decision = await authorizer.authorize(forged, []);
            assert.equal(!decision.ok && decision.response.statusCode, 401);
        }
        assert.equal(keyLookups, 3);
    });

    it("checks each route's scopes against a remembered token", async () => {
        const token = await mintLocalToken({ key, sub: "ada", scopes: ["notes:read"] });
        assert.equal((await authorizer.authorize(token, [])).ok, true);
        const decision = await authorizer.authorize(token, ["notes:delete"]);
        assert.equal(!decision.ok && decision.response.statusCode, 403);
        assert.equal((await authorizer.authorize(token, ["notes:read"])).ok, true);
        assert.equal(keyLookups, 1);
    });
});
