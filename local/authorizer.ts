/**
 * The HTTP API JWT authorizer, locally. For a route with `auth: "jwt"` it does what API Gateway
 * does before a function runs:
 *
 * 1. takes the token from the `Authorization` header, `Bearer <token>` or the bare token;
 * 2. checks the signature with the issuer's key set (RSA algorithms only, as API Gateway), the
 *    header's `kid` naming a key of the set;
 * 3. checks `iss` (equal to the issuer), `aud` (one of the audiences; `client_id` when the token
 *    has no `aud`, as Cognito access tokens), `exp` (after now), `nbf` and `iat` (before now);
 * 4. checks the route's scopes: the token's `scp` (or space-separated `scope`) must hold one.
 *
 * A failure in 1-3 is API Gateway's 401 `{"message":"Unauthorized"}` with a `www-authenticate`
 * header saying why; a failure in 4 is its 403 `{"message":"Forbidden"}`. A pass hands the
 * function the claims as API Gateway does: every value a string (numbers and booleans as text,
 * arrays as `[a b]`, objects as JSON, null claims left out).
 */
import { createLocalJWKSet, createRemoteJWKSet, errors, jwtVerify, type JWTPayload, type JWTVerifyGetKey } from "jose";
import { jwksOf, jwtDirFromEnv, LOCAL_AUDIENCE, LOCAL_ISSUER, loadOrCreateSigningKey, type LocalSigningKey } from "./issuer";
import type { GatewayResponse } from "./response";

/** The algorithms the HTTP API JWT authorizer verifies ("only RSA-based algorithms are supported"). */
export const ACCEPTED_ALGORITHMS = ["RS256", "RS384", "RS512"];

/** Which issuer the local runtime trusts. */
export type LocalAuthSettings =
    | {
          /** The local issuer: keys in `dir` (created on first use), `iss` "local-issuer", `aud` "local". */
          kind: "local";
          dir: string;
      }
    | {
          /** A real issuer (Cognito, Auth0, any OIDC issuer): its keys are fetched from `jwksUrl`. */
          kind: "remote";
          issuer: string;
          audience: string[];
          jwksUrl: string;
      };

/**
 * The settings from the environment: `JWT_ISSUER` with `JWT_AUDIENCE` (comma-separated) and
 * optionally `JWT_JWKS_URL` (default `<issuer>/.well-known/jwks.json`) select a real issuer;
 * without them the local issuer is used, its keys in `LOCAL_JWT_DIR` (default `.data/jwt`).
 */
export function authSettingsFromEnv(env: NodeJS.ProcessEnv = process.env): LocalAuthSettings {
    const issuer = env.JWT_ISSUER?.trim();
    const audience = (env.JWT_AUDIENCE ?? "").split(",").map((value) => value.trim()).filter((value) => value !== "");
    const jwksUrl = env.JWT_JWKS_URL?.trim();
    if (!issuer) {
        if (audience.length > 0 || jwksUrl) throw new Error("JWT_AUDIENCE and JWT_JWKS_URL need JWT_ISSUER: set the issuer too, or unset them to use the local issuer.");
        return { kind: "local", dir: jwtDirFromEnv(env) };
    }
    if (audience.length === 0) throw new Error(`JWT_ISSUER=${issuer} needs JWT_AUDIENCE: the audiences (app client ids) tokens must be issued to, comma-separated.`);
    const url = jwksUrl || `${issuer.replace(/\/+$/, "")}/.well-known/jwks.json`;
    try {
        const parsed = new URL(url);
        if (parsed.protocol !== "https:" && parsed.protocol !== "http:") throw new Error("not http(s)");
    } catch {
        throw new Error(`The JWKS URL ${JSON.stringify(url)} is not an http(s) URL; set JWT_JWKS_URL to the issuer's key set.`);
    }
    return { kind: "remote", issuer, audience, jwksUrl: url };
}

export type AuthorizerDecision =
    | { ok: true; claims: Record<string, string>; scopes: string[] }
    | { ok: false; response: GatewayResponse };

export interface JwtAuthorizer {
    /** Who this authorizer trusts, for the start banner. */
    readonly issuer: string;
    readonly audience: readonly string[];
    /** Where its keys come from (a URL, or the local key file). */
    readonly keySource: string;
    /** The local issuer's key set, served at `/.well-known/jwks.json`; absent for a real issuer. */
    readonly publicJwks?: { keys: object[] };
    /** Decides a request to a route needing one of `routeScopes` (none: any valid token). */
    authorize(authorization: string | undefined, routeScopes: readonly string[]): Promise<AuthorizerDecision>;
}

function gatewayAnswer(statusCode: number, message: string, wwwAuthenticate: string): GatewayResponse {
    return {
        statusCode,
        headers: { "content-type": "application/json", "www-authenticate": wwwAuthenticate },
        body: Buffer.from(JSON.stringify({ message })),
    };
}

/** 401 as API Gateway sends it, e.g. `Bearer scope="" error="invalid_token" error_description="the token does not have a valid audience"`. */
export function unauthorized(description: string | undefined): GatewayResponse {
    const challenge = description === undefined ? "Bearer" : `Bearer scope="" error="invalid_token" error_description="${description.replace(/"/g, "'")}"`;
    return gatewayAnswer(401, "Unauthorized", challenge);
}

export function forbidden(routeScopes: readonly string[]): GatewayResponse {
    const scopes = routeScopes.join(" ");
    return gatewayAnswer(403, "Forbidden", `Bearer scope="${scopes}" error="insufficient_scope" error_description="expected scopes: [${scopes}]"`);
}

/** The token from the header: `Bearer <token>` or the token alone, as API Gateway accepts both. */
export function tokenFromHeader(authorization: string | undefined): string | undefined {
    const value = authorization?.trim();
    if (!value) return undefined;
    const bearer = /^bearer\s+(.*)$/i.exec(value);
    const token = (bearer ? bearer[1] : value).trim();
    return token === "" || /^bearer$/i.test(token) ? undefined : token;
}

/** A claim value as API Gateway passes it in `requestContext.authorizer.jwt.claims`. */
export function claimText(value: unknown): string | undefined {
    if (value === null || value === undefined) return undefined;
    if (typeof value === "string") return value;
    if (typeof value === "number" || typeof value === "boolean" || typeof value === "bigint") return String(value);
    if (Array.isArray(value)) return `[${value.map((item) => (typeof item === "string" ? item : JSON.stringify(item))).join(" ")}]`;
    return JSON.stringify(value);
}

/** The token's scopes: `scp` (a list, or a space-separated string), else `scope` (space-separated). */
export function tokenScopes(payload: JWTPayload): string[] {
    const raw = payload.scp ?? payload.scope;
    const list = Array.isArray(raw) ? raw.filter((item): item is string => typeof item === "string") : typeof raw === "string" ? raw.split(" ") : [];
    return list.map((scope) => scope.trim()).filter((scope) => scope !== "");
}

function audienceMatches(payload: JWTPayload, audience: readonly string[]): boolean {
    // API Gateway checks client_id only when the token has no aud.
    if (payload.aud !== undefined) {
        const values = Array.isArray(payload.aud) ? payload.aud : [payload.aud];
        return values.some((value) => typeof value === "string" && audience.includes(value));
    }
    return typeof payload.client_id === "string" && audience.includes(payload.client_id);
}

/** Why jose refused a token, in the words API Gateway's `www-authenticate` uses where known. */
function describeFailure(error: unknown): string {
    if (error instanceof errors.JWTExpired) return "the token has expired";
    if (error instanceof errors.JWTClaimValidationFailed) {
        if (error.claim === "nbf") return "the token is not valid yet";
        if (error.claim === "iss") return "the token does not have a valid issuer";
        if (error.claim === "iat") return "the token was issued in the future";
        return `the token has an invalid ${error.claim} claim`;
    }
    if (error instanceof errors.JWSSignatureVerificationFailed) return "the token signature is invalid";
    if (error instanceof errors.JWKSNoMatchingKey) return "no key of the issuer matches the token's kid";
    if (error instanceof errors.JOSEAlgNotAllowed) return "the token's signing algorithm is not supported";
    if (error instanceof errors.JWKSTimeout || error instanceof errors.JWKSInvalid) return "the issuer's keys could not be fetched";
    if (error instanceof errors.JWTInvalid || error instanceof errors.JWSInvalid) return "the token is malformed";
    const code = (error as { code?: string } | undefined)?.code;
    if (code === "ERR_JOSE_GENERIC" || code === "ECONNREFUSED" || error instanceof TypeError) return "the issuer's keys could not be fetched";
    return "the token is invalid";
}

/**
 * How long a token whose signature was checked is taken again without checking it (never past its
 * `exp`): a client sends its token with every request, and an RSA check for each costs a seventh
 * of the gateway's CPU on a protected route. A key the issuer withdraws stops a token within this time.
 */
export const VERIFIED_TOKEN_TTL_MS = 60_000;
/** At most this many tokens are remembered; past it the memory starts afresh. */
const VERIFIED_TOKENS_MAX = 10_000;

/** A token whose checks passed, remembered until `until`. */
interface VerifiedToken {
    payload: JWTPayload;
    until: number;
    /** Its claims as API Gateway hands them on. */
    claims: Record<string, string>;
    scopes: string[];
}

/** Every claim of a token as API Gateway passes it in `requestContext.authorizer.jwt.claims`: null claims left out. */
function gatewayClaims(payload: JWTPayload): Record<string, string> {
    const claims: Record<string, string> = {};
    for (const [name, value] of Object.entries(payload)) {
        const text = claimText(value);
        if (text !== undefined) claims[name] = text;
    }
    return claims;
}

/** An authorizer trusting `issuer`/`audience`, with keys from `keys`. */
export function createJwtAuthorizer(options: {
    issuer: string;
    audience: readonly string[];
    keys: JWTVerifyGetKey;
    keySource: string;
    publicJwks?: { keys: object[] };
    /** The clock, in milliseconds. @default Date.now */
    now?: () => number;
}): JwtAuthorizer {
    const { issuer, audience, keys } = options;
    const now = options.now ?? Date.now;
    // Token -> what its checks found, until `until`: the checks that depend on nothing but the token
    // (kid, signature, iss, nbf, iat) passed, and `until` is before its exp. The claims API Gateway
    // hands on and the token's scopes are worked out once per token too.
    const verified = new Map<string, VerifiedToken>();
    const verify = async (token: string): Promise<VerifiedToken> => {
        const { payload } = await jwtVerify(token, keys, { issuer, algorithms: ACCEPTED_ALGORITHMS, requiredClaims: ["exp"], currentDate: new Date(now()) });
        if (typeof payload.iat === "number" && payload.iat > now() / 1000) throw new errors.JWTClaimValidationFailed("iat in the future", payload, "iat");
        if (verified.size >= VERIFIED_TOKENS_MAX) verified.clear();
        const entry: VerifiedToken = { payload, until: Math.min(now() + VERIFIED_TOKEN_TTL_MS, payload.exp! * 1000), claims: gatewayClaims(payload), scopes: tokenScopes(payload) };
        verified.set(token, entry);
        return entry;
    };
    return {
        issuer,
        audience,
        keySource: options.keySource,
        publicJwks: options.publicJwks,
        async authorize(authorization, routeScopes) {
            const token = tokenFromHeader(authorization);
            if (token === undefined) return { ok: false, response: unauthorized(undefined) };
            let entry = verified.get(token);
            if (!entry || now() >= entry.until) {
                verified.delete(token);
                try {
                    // API Gateway requires the header to name the signing key.
                    const header = JSON.parse(Buffer.from(token.split(".")[0] ?? "", "base64url").toString("utf8")) as { kid?: unknown };
                    if (typeof header?.kid !== "string") return { ok: false, response: unauthorized("the token has no kid header") };
                } catch {
                    return { ok: false, response: unauthorized("the token is malformed") };
                }
                try {
                    entry = await verify(token);
                } catch (error) {
                    return { ok: false, response: unauthorized(describeFailure(error)) };
                }
            }
            if (!audienceMatches(entry.payload, audience)) return { ok: false, response: unauthorized("the token does not have a valid audience") };
            const { scopes } = entry;
            if (routeScopes.length > 0 && !routeScopes.some((scope) => scopes.includes(scope))) {
                return { ok: false, response: forbidden(routeScopes) };
            }
            // Copies: a handler that changes what it was handed changes nothing of the next request's.
            return { ok: true, claims: { ...entry.claims }, scopes: [...scopes] };
        },
    };
}

/** The authorizer for `settings`: the local issuer's key (created if absent), or a real issuer's JWKS. */
export async function createAuthorizerFor(settings: LocalAuthSettings): Promise<JwtAuthorizer> {
    if (settings.kind === "remote") {
        return createJwtAuthorizer({
            issuer: settings.issuer,
            audience: settings.audience,
            keys: createRemoteJWKSet(new URL(settings.jwksUrl), { timeoutDuration: 5000 }),
            keySource: settings.jwksUrl,
        });
    }
    const key: LocalSigningKey = await loadOrCreateSigningKey(settings.dir);
    const jwks = jwksOf(key);
    return createJwtAuthorizer({
        issuer: LOCAL_ISSUER,
        audience: [LOCAL_AUDIENCE],
        keys: createLocalJWKSet(jwks),
        keySource: key.file,
        publicJwks: jwks,
    });
}
