/**
 * `npm run token -- --sub <id> [--scope users:admin ...] [--email <address>] [--expires 1h] [--audience local]`:
 * prints a JWT signed by the local issuer's key (`.data/jwt`, or `LOCAL_JWT_DIR`; created if
 * absent), which the local runtime accepts on routes with `auth: "jwt"`:
 *
 *   curl -H "authorization: Bearer $(npm run -s token -- --sub ada)" ...
 *
 * Flags:
 *   --sub ID             the subject, seen by handlers as request.claims.sub (required)
 *   --scope SCOPE        a scope; repeat it, or separate scopes with spaces or commas
 *   --email ADDRESS      a verified email: the claims `email` and `email_verified: true`, as an
 *                        ID token from an issuer that verified the address carries them
 *   --expires SPAN       lifetime: 90s, 15m, 1h, 7d (default 1h)
 *   --audience AUD       the aud claim; repeat for several (default "local", what the runtime accepts)
 *   --claim NAME=VALUE   another claim; VALUE is read as JSON when it parses (42, true, ["a"]), else as text
 *   --dir DIR            the key directory (default LOCAL_JWT_DIR, else .data/jwt)
 *
 * It signs with the local key only: for a real issuer (JWT_ISSUER), get tokens from that issuer.
 */
import { jwtDirFromEnv, LOCAL_AUDIENCE, mintLocalToken } from "../local/issuer";

const USAGE = "Usage: npm run token -- --sub <id> [--scope <scope> ...] [--email <address>] [--expires 1h] [--audience <aud> ...] [--claim name=value ...] [--dir <dir>]";
const TIME_SPAN = /^\d+\s*(s|sec|secs|second|seconds|m|min|mins|minute|minutes|h|hr|hrs|hour|hours|d|day|days|w|week|weeks)$/i;
/** Claims the flags set; --claim may not replace them. */
const RESERVED_CLAIMS = ["sub", "scope", "exp", "aud", "iss", "iat", "nbf", "jti"];

export interface TokenRequest {
    sub: string;
    scopes: string[];
    expiresIn: string;
    audience: string[];
    claims: Record<string, unknown>;
    dir: string;
}

export class UsageError extends Error {}

/** Reads the flags; throws a UsageError naming what is wrong. */
export function parseTokenArgs(argv: readonly string[], env: NodeJS.ProcessEnv = process.env): TokenRequest {
    const request: TokenRequest = { sub: "", scopes: [], expiresIn: "1h", audience: [], claims: {}, dir: jwtDirFromEnv(env) };
    let sub: string | undefined;
    for (let index = 0; index < argv.length; index++) {
        const flag = argv[index];
        if (!flag.startsWith("--")) throw new UsageError(`Unexpected argument ${JSON.stringify(flag)}.`);
        const [name, inline] = flag.slice(2).split(/=(.*)/s, 2);
        const value = () => {
            const next = inline ?? argv[++index];
            if (next === undefined || (inline === undefined && next.startsWith("--"))) throw new UsageError(`--${name} needs a value.`);
            return next;
        };
        switch (name) {
            case "sub":
                sub = value();
                break;
            case "scope":
            case "scopes":
                request.scopes.push(...value().split(/[\s,]+/).filter((scope) => scope !== ""));
                break;
            case "expires": {
                const span = value().trim();
                if (!TIME_SPAN.test(span)) throw new UsageError(`--expires ${JSON.stringify(span)} is not a time span; use e.g. 90s, 15m, 1h or 7d.`);
                request.expiresIn = span;
                break;
            }
            case "audience":
                request.audience.push(value());
                break;
            case "email": {
                const address = value().trim();
                if (!/^[^\s@]+@[^\s@]+$/.test(address)) throw new UsageError(`--email ${JSON.stringify(address)} is not an email address.`);
                Object.assign(request.claims, { email: address, email_verified: true });
                break;
            }
            case "claim": {
                const pair = value();
                const separator = pair.indexOf("=");
                if (separator <= 0) throw new UsageError(`--claim ${JSON.stringify(pair)} needs the form name=value.`);
                const claim = pair.slice(0, separator);
                if (RESERVED_CLAIMS.includes(claim)) throw new UsageError(`--claim cannot set ${claim}; use the flag for it (--sub, --scope, --expires, --audience).`);
                const raw = pair.slice(separator + 1);
                try {
                    request.claims[claim] = JSON.parse(raw);
                } catch {
                    request.claims[claim] = raw;
                }
                break;
            }
            case "dir":
                request.dir = value();
                break;
            default:
                throw new UsageError(`Unknown flag --${name}.`);
        }
    }
    if (sub === undefined || sub.trim() === "") throw new UsageError("--sub is required: the user id the token is for.");
    request.sub = sub;
    if (request.audience.length === 0) request.audience.push(LOCAL_AUDIENCE);
    return request;
}

export interface TokenIo {
    out(line: string): void;
    err(line: string): void;
    env?: NodeJS.ProcessEnv;
}

const processIo: TokenIo = { out: (line) => process.stdout.write(`${line}\n`), err: (line) => process.stderr.write(`${line}\n`) };

/** The CLI: prints the token alone on standard output (so `$(npm run -s token -- ...)` works); returns the exit code. */
export async function main(argv: readonly string[], io: TokenIo = processIo): Promise<number> {
    if (argv.includes("--help") || argv.includes("-h")) {
        io.out(USAGE);
        return 0;
    }
    let request: TokenRequest;
    try {
        request = parseTokenArgs(argv, io.env ?? process.env);
    } catch (error) {
        if (!(error instanceof UsageError)) throw error;
        io.err(`${error.message}\n${USAGE}`);
        return 2;
    }
    const token = await mintLocalToken({
        sub: request.sub,
        scopes: request.scopes,
        expiresIn: request.expiresIn,
        audience: request.audience.length === 1 ? request.audience[0] : request.audience,
        claims: request.claims,
        dir: request.dir,
    });
    io.out(token);
    return 0;
}

if (require.main === module) {
    main(process.argv.slice(2)).then(
        (code) => (process.exitCode = code),
        (error) => {
            process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
            process.exitCode = 1;
        },
    );
}
