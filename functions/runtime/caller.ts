/**
 * Who is calling: the verified token's subject and scopes, as a handler needs them to decide
 * whether the caller may touch a record. The gateway proves who calls (its JWT authorizer checks the
 * signature, issuer, audience, expiry and the route's scopes, which are alternatives: any one of
 * them lets the request through); whether that caller may read or change *this* record is the
 * handler's decision, typically "its owner, or an operator holding the admin scope"
 * (`assertOwnerOrAdmin` in `errors.ts`).
 *
 * Claims arrive as API Gateway passes them in `requestContext.authorizer.jwt.claims`: every value
 * a string, a list claim as the text `"[a b]"`. Scopes are read from both `scope` (OAuth's
 * space-separated string, Cognito's access tokens) and `scp` (Entra ID, Okta: a string or a list).
 *
 * @example
 * const me = callerOf(request);
 * const order = ...; // read by id
 * assertOwnerOrAdmin(order?.placedBy, me, { adminScope: "orders:admin", notFound: "No order with this id." });
 */
import { HttpError } from "./errors";
import type { ApiRequest } from "./service";
import { subject } from "./validate";

/** The verified caller of a route with `auth: "jwt"`. */
export interface Caller {
    /** The token's `sub`: who the caller is, for the issuer. Any string: store it as `text`. */
    readonly sub: string;
    /** Every scope of `scope` and `scp`, each once. */
    readonly scopes: readonly string[];
    /**
     * The token's `email` claim when the issuer says it verified it (`email_verified` true): ID tokens
     * carry both; most access tokens carry neither. Undefined otherwise.
     */
    readonly verifiedEmail?: string;
    /** Whether the token carries `scope`. */
    has(scope: string): boolean;
}

/** The claims' scopes: `scope` and `scp`, each a space-separated string, the text `"[a b]"`, or a list. */
export function scopesOf(claims: Readonly<Record<string, unknown>> | undefined): string[] {
    const scopes = new Set<string>();
    for (const claim of [claims?.scope, claims?.scp]) {
        const items = Array.isArray(claim) ? claim : typeof claim === "string" ? splitClaimText(claim) : [];
        for (const item of items) if (typeof item === "string" && item.trim() !== "") scopes.add(item.trim());
    }
    return [...scopes];
}

/** `"a b"` or API Gateway's text form of a list claim, `"[a b]"`, as its items. */
function splitClaimText(text: string): string[] {
    const trimmed = text.trim();
    const inner = trimmed.startsWith("[") && trimmed.endsWith("]") ? trimmed.slice(1, -1) : trimmed;
    return inner.split(/\s+/);
}

/** True for the claim's value `true`, which API Gateway passes as the text "true". */
function claimIsTrue(value: unknown): boolean {
    return value === true || value === "true";
}

const SUBJECT = subject();

/**
 * The caller of a route with `auth: "jwt"`. Throws a 401 when the request carries no subject (the
 * route was declared without `auth: "jwt"`, so no token was checked: a mistake in the service, which
 * must never be read as "anyone"), or one OpenID Connect does not allow (over 255 characters) or
 * that holds control characters, which no stored owner could be compared with safely.
 */
export function callerOf(request: Pick<ApiRequest, "claims">): Caller {
    const claims = request.claims;
    if (claims?.sub === undefined) {
        throw new HttpError(401, "unauthorized", "This route needs a verified token; declare it with auth: \"jwt\".");
    }
    const checked = SUBJECT(claims.sub, "json");
    if (!checked.ok) throw new HttpError(401, "unauthorized", `The token's subject (sub) ${checked.problem}.`);
    const sub = checked.value;
    const scopes = scopesOf(claims);
    const email = claims?.email;
    return {
        sub,
        scopes,
        verifiedEmail: typeof email === "string" && email !== "" && claimIsTrue(claims?.email_verified) ? email : undefined,
        has: (scope) => scopes.includes(scope),
    };
}
