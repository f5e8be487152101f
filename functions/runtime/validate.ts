/**
 * Input validation for handlers: small typed checkers that collect every problem and throw one 400
 * naming each field. Hand-written rather than a schema library on purpose: this code is serialized
 * into every function, and a general-purpose validator would be most of each archive's size.
 *
 * @example
 * const input = parseBody(request.body, { email: email(), name: text({ max: 100 }) });
 * //    ^? { email: string; name: string }
 */
import { badRequest } from "./errors";

/**
 * Where a value comes from: a JSON body keeps its types (`5` is a number, `"5"` a string); path and
 * query parameters are always text, so a number arrives as its digits.
 */
export type InputSource = "json" | "text";

/** Checks one value; returns the (normalized) value or a problem description. */
export type Check<T> = (value: unknown, source: InputSource) => { ok: true; value: T } | { ok: false; problem: string };
type Shape = Record<string, Check<unknown>>;
type Parsed<S extends Shape> = { [K in keyof S]: S[K] extends Check<infer T> ? T : never };

export interface Issue {
    field: string;
    problem: string;
}

/** A trimmed string of `min`-`max` characters (counted as Unicode code points). */
export function text(limits: { min?: number; max: number } = { max: 1000 }): Check<string> {
    const min = limits.min ?? 1;
    return (value) => {
        if (typeof value !== "string") return { ok: false, problem: "must be a string" };
        const trimmed = value.trim();
        const length = [...trimmed].length;
        if (length < min) return { ok: false, problem: min === 1 ? "must not be empty" : `must have at least ${min} characters` };
        if (length > limits.max) return { ok: false, problem: `must have at most ${limits.max} characters` };
        // Control characters have no business in names and break logs and terminals downstream.
        if (/[\u0000-\u001f\u007f]/.test(trimmed)) return { ok: false, problem: "must not contain control characters" };
        return { ok: true, value: trimmed };
    };
}

// Deliberately plain: one @, no spaces, a dot in the domain. Deliverability is for a confirmation mail.
const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;

/** An email address, lower-cased so that uniqueness does not depend on case. At most 254 characters. */
export function email(): Check<string> {
    return (value) => {
        if (typeof value !== "string") return { ok: false, problem: "must be a string" };
        const normalized = value.trim().toLowerCase();
        if (normalized.length > 254) return { ok: false, problem: "must have at most 254 characters" };
        if (!EMAIL.test(normalized)) return { ok: false, problem: "must be an email address" };
        return { ok: true, value: normalized };
    };
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** A UUID in its canonical 36-character form, lower-cased. */
export function uuid(): Check<string> {
    return (value) =>
        typeof value === "string" && UUID.test(value)
            ? { ok: true, value: value.toLowerCase() }
            : { ok: false, problem: "must be a UUID" };
}

/**
 * An integer in `min`-`max`: a JSON number in a body (the string `"5"` is refused there, as a client
 * sending it has a bug worth hearing about), decimal digits in a path or query parameter.
 */
export function integer(limits: { min: number; max: number }): Check<number> {
    const problem = `must be an integer from ${limits.min} to ${limits.max}`;
    return (value, source) => {
        if (source === "json" && typeof value === "string") return { ok: false, problem: `${problem} (a JSON number, not a string)` };
        const number = source === "text" && typeof value === "string" && /^-?\d{1,15}$/.test(value) ? Number(value) : value;
        if (typeof number !== "number" || !Number.isInteger(number) || number < limits.min || number > limits.max) {
            return { ok: false, problem };
        }
        return { ok: true, value: number };
    };
}

/** Makes a field optional: absent (or empty in a path or query parameter) gives `fallback`. */
export function optional<T, F extends T | undefined>(check: Check<T>, fallback: F): Check<T | F> {
    return (value, source) => (value === undefined || (source === "text" && value === "") ? { ok: true, value: fallback } : check(value, source));
}

function parseShape<S extends Shape>(input: Record<string, unknown>, shape: S, where: string, source: InputSource): Parsed<S> {
    const issues: Issue[] = [];
    const result: Record<string, unknown> = {};
    for (const [field, check] of Object.entries(shape)) {
        const outcome = check(input[field], source);
        if (outcome.ok) result[field] = outcome.value;
        else issues.push({ field, problem: input[field] === undefined ? "is required" : outcome.problem });
    }
    if (issues.length > 0) {
        throw badRequest(`Invalid ${where}: ${issues.map((issue) => `${issue.field} ${issue.problem}`).join("; ")}.`, { issues });
    }
    return result as Parsed<S>;
}

/**
 * Validates a JSON body against `shape`: it must be an object with exactly those fields (unknown
 * fields are rejected so that a typo is not silently ignored).
 */
export function parseBody<S extends Shape>(body: unknown, shape: S): Parsed<S> {
    if (typeof body !== "object" || body === null || Array.isArray(body)) {
        throw badRequest("The request body must be a JSON object.");
    }
    const unknownFields = Object.keys(body).filter((field) => !Object.hasOwn(shape, field));
    if (unknownFields.length > 0) {
        throw badRequest(`Unknown field(s) in the request body: ${unknownFields.join(", ")}. Allowed: ${Object.keys(shape).join(", ")}.`);
    }
    return parseShape(body as Record<string, unknown>, shape, "request body", "json");
}

/** Validates path or query parameters against `shape`; other parameters are ignored. */
export function parseParams<S extends Shape>(params: Readonly<Record<string, string>>, shape: S, where = "parameters"): Parsed<S> {
    return parseShape(params, shape, where, "text");
}
