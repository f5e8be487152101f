/**
 * The local token issuer: an RSA key pair the local runtime generates on first use and keeps in
 * `.data/jwt/` (gitignored), tokens signed with it (`npm run token`), and its public keys as a
 * JWKS, which the local server also publishes at `/.well-known/jwks.json`.
 *
 * RS256, because the HTTP API JWT authorizer only accepts RSA signatures: a token that works here
 * has the shape a real issuer's token must have in the cloud.
 */
import { randomUUID } from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import { calculateJwkThumbprint, exportJWK, generateKeyPair, importJWK, SignJWT, type JWK } from "jose";
import { REPOSITORY_ROOT } from "./stack-config";

/** The `iss` of locally minted tokens (not a URL: nothing outside this machine trusts it). */
export const LOCAL_ISSUER = "local-issuer";
/** The `aud` of locally minted tokens, and the audience the local runtime accepts from its own issuer. */
export const LOCAL_AUDIENCE = "local";
export const LOCAL_ALGORITHM = "RS256";
/** Where the key lives unless `LOCAL_JWT_DIR` says otherwise. */
export const DEFAULT_JWT_DIR = path.join(REPOSITORY_ROOT, ".data", "jwt");
/** Path of the local issuer's key set on the local server (not a registry route). */
export const LOCAL_JWKS_PATH = "/.well-known/jwks.json";

const KEY_FILE = "signing-key.jwk.json";
type SigningKey = Awaited<ReturnType<typeof importJWK>>;
/** Members of an RSA JWK that belong to the private key only. */
const PRIVATE_MEMBERS = ["d", "p", "q", "dp", "dq", "qi", "oth"];

export interface LocalSigningKey {
    kid: string;
    /** The private key, for signing. */
    privateKey: SigningKey;
    /** The public half as a JWK with `kid`, `alg` and `use`. */
    publicJwk: JWK;
    /** The key file. */
    file: string;
}

/** The JWT directory the start script and the token tool use: `LOCAL_JWT_DIR`, else `.data/jwt`. */
export function jwtDirFromEnv(env: NodeJS.ProcessEnv = process.env): string {
    return env.LOCAL_JWT_DIR ? path.resolve(env.LOCAL_JWT_DIR) : DEFAULT_JWT_DIR;
}

async function readKey(file: string): Promise<LocalSigningKey> {
    const jwk = JSON.parse(fs.readFileSync(file, "utf8")) as JWK;
    if (jwk.kty !== "RSA" || typeof jwk.d !== "string" || typeof jwk.kid !== "string") {
        throw new Error(`${file} is not an RSA private key in JWK form; delete it and a new key is made on the next start.`);
    }
    const privateKey = await importJWK(jwk, LOCAL_ALGORITHM);
    const publicJwk: JWK = Object.fromEntries(Object.entries(jwk).filter(([name]) => !PRIVATE_MEMBERS.includes(name)));
    return { kid: jwk.kid, privateKey, publicJwk, file };
}

/**
 * The local issuer's key: read from `dir`, or generated and stored there (mode 0600) the first
 * time. Safe when two processes start at once: the file appears whole or not at all, and the
 * loser of the race reads the winner's key.
 */
export async function loadOrCreateSigningKey(dir: string = DEFAULT_JWT_DIR): Promise<LocalSigningKey> {
    const file = path.join(dir, KEY_FILE);
    if (fs.existsSync(file)) return readKey(file);

    const { privateKey } = await generateKeyPair(LOCAL_ALGORITHM, { modulusLength: 2048, extractable: true });
    const jwk = await exportJWK(privateKey);
    const publicPart = Object.fromEntries(Object.entries(jwk).filter(([name]) => !PRIVATE_MEMBERS.includes(name))) as JWK;
    jwk.kid = await calculateJwkThumbprint(publicPart);
    jwk.alg = LOCAL_ALGORITHM;
    jwk.use = "sig";

    // Only the key's own folder is private: its parent (.data) also holds PostgreSQL's files, which
    // the "postgres" user must be able to reach when the runtime runs as root.
    fs.mkdirSync(path.dirname(dir), { recursive: true });
    fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
    const temporary = path.join(dir, `.${KEY_FILE}.${process.pid}.${randomUUID()}`);
    fs.writeFileSync(temporary, `${JSON.stringify(jwk, null, 2)}\n`, { mode: 0o600 });
    try {
        fs.linkSync(temporary, file); // fails with EEXIST when another process got there first
    } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
    } finally {
        fs.rmSync(temporary, { force: true });
    }
    return readKey(file);
}

/** The local issuer's public keys, as served at `/.well-known/jwks.json`. */
export function jwksOf(key: LocalSigningKey): { keys: JWK[] } {
    return { keys: [key.publicJwk] };
}

export interface MintOptions {
    /** The subject: the user id handlers read as `request.claims.sub`. */
    sub: string;
    /** Scopes, sent space-separated in the `scope` claim (as Cognito access tokens carry them). */
    scopes?: readonly string[];
    /** Lifetime as a time span (`"90s"`, `"15m"`, `"1h"`, `"7d"`). @default "1h" */
    expiresIn?: string;
    /** An exact expiry instead of `expiresIn` (a past one makes an expired token). */
    expiresAt?: Date;
    /** `nbf`: the token is not valid before this instant. @default none */
    notBefore?: Date;
    /** `iat`. @default now */
    issuedAt?: Date;
    /** `aud`; a list is sent as an array. @default "local" */
    audience?: string | readonly string[];
    /** `iss`. @default "local-issuer" */
    issuer?: string;
    /** More claims (e.g. `email`); they may not override the ones above. */
    claims?: Record<string, unknown>;
    /** The key directory. @default `.data/jwt` */
    dir?: string;
    /** A key already loaded (tests sign many tokens); `dir` is then ignored. */
    key?: LocalSigningKey;
}

const epochSeconds = (date: Date) => Math.floor(date.getTime() / 1000);

/** A token signed by the local issuer's key (created if absent). */
export async function mintLocalToken(options: MintOptions): Promise<string> {
    if (typeof options.sub !== "string" || options.sub === "") throw new Error("A token needs a subject (sub).");
    const key = options.key ?? (await loadOrCreateSigningKey(options.dir));
    const payload: Record<string, unknown> = { ...(options.claims ?? {}) };
    if (options.scopes && options.scopes.length > 0) payload.scope = options.scopes.join(" ");
    const audience = options.audience ?? LOCAL_AUDIENCE;
    const jwt = new SignJWT(payload)
        .setProtectedHeader({ alg: LOCAL_ALGORITHM, kid: key.kid, typ: "JWT" })
        .setSubject(options.sub)
        .setIssuer(options.issuer ?? LOCAL_ISSUER)
        .setAudience(typeof audience === "string" ? audience : [...audience])
        .setIssuedAt(options.issuedAt ? epochSeconds(options.issuedAt) : undefined)
        .setJti(randomUUID());
    jwt.setExpirationTime(options.expiresAt ? epochSeconds(options.expiresAt) : (options.expiresIn ?? "1h"));
    if (options.notBefore) jwt.setNotBefore(epochSeconds(options.notBefore));
    return jwt.sign(key.privateKey);
}
