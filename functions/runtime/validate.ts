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

/** What one check returns: the (normalized) value or a problem description. */
type Outcome<T> = { ok: true; value: T } | { ok: false; problem: string };

/** Checks one value; returns the (normalized) value or a problem description. */
export type Check<T> = ((value: unknown, source: InputSource) => Outcome<T>) & {
    /** What the check accepts, for a contract that must be recorded and compared (events). Every helper here sets it. */
    readonly schema?: FieldSchema;
};
export type Shape = Record<string, Check<unknown>>;
export type Parsed<S extends Shape> = { [K in keyof S]: S[K] extends Check<infer T> ? T : never };

export interface Issue {
    field: string;
    problem: string;
}

/**
 * What a check accepts, as data: the record an event's payload is compared against
 * (`functions/<service>/events.schema.json`). Two checks with the same schema accept the same values.
 */
export interface FieldSchema {
    type: "string" | "integer";
    /** `email` and `uuid` are normalized to lower case. */
    format?: "email" | "uuid" | "date-time";
    minLength?: number;
    maxLength?: number;
    minimum?: number;
    maximum?: number;
    /** Absent (or empty in a path or query parameter) is allowed. */
    optional?: true;
}

/** `check` with its schema attached. */
function described<T>(schema: FieldSchema, check: (value: unknown, source: InputSource) => Outcome<T>): Check<T> {
    return Object.assign(check, { schema });
}

/** The schema of every field of `shape`; a check without one (hand-written) is named, since it cannot be compared. */
export function describeShape(shape: Shape): { fields: Record<string, FieldSchema>; undescribed: string[] } {
    const fields: Record<string, FieldSchema> = {};
    const undescribed: string[] = [];
    for (const [field, check] of Object.entries(shape)) {
        if (check.schema) fields[field] = { ...check.schema };
        else undescribed.push(field);
    }
    return { fields, undescribed };
}

/**
 * C0 and C1 control characters (U+0000-U+001F, U+007F-U+009F): no name or address holds one, they
 * break logs and terminals downstream, and PostgreSQL cannot store U+0000 at all.
 */
const CONTROL_CHARACTERS = /[\u0000-\u001f\u007f-\u009f]/;
/**
 * The bidirectional embeddings, overrides and isolates (U+202A-U+202E, U+2066-U+2069): they
 * reorder the text shown around them, so `"\u202Egnp.exe"` reads as `exe.png` ("Trojan Source").
 */
const BIDI_CONTROLS = /[\u202a-\u202e\u2066-\u2069]/;

/** A lone surrogate: with the `u` flag a well-formed pair is one code point, so only a lone half matches. */
const LONE_SURROGATE = /\p{Cs}/u;

/** What every text-like check refuses: a lone surrogate (not Unicode; it would be stored as U+FFFD) and a control character. */
function textProblem(value: string): string | undefined {
    if (LONE_SURROGATE.test(value)) return "must be valid Unicode text";
    if (CONTROL_CHARACTERS.test(value)) return "must not contain control characters";
    return undefined;
}

/**
 * A trimmed string of `min`-`max` characters (counted as Unicode code points), with no control
 * characters and no bidirectional controls.
 */
export function text(limits: { min?: number; max: number } = { max: 1000 }): Check<string> {
    const min = limits.min ?? 1;
    return described({ type: "string", minLength: min, maxLength: limits.max }, (value) => {
        if (typeof value !== "string") return { ok: false, problem: "must be a string" };
        const trimmed = value.trim();
        const length = [...trimmed].length;
        if (length < min) return { ok: false, problem: min === 1 ? "must not be empty" : `must have at least ${min} characters` };
        if (length > limits.max) return { ok: false, problem: `must have at most ${limits.max} characters` };
        const problem = textProblem(trimmed) ?? (BIDI_CONTROLS.test(trimmed) ? "must not contain bidirectional text controls (U+202A-U+202E, U+2066-U+2069)" : undefined);
        return problem ? { ok: false, problem } : { ok: true, value: trimmed };
    });
}

/**
 * A token's subject (`sub`), or anything else an issuer names a principal by, kept exactly as
 * given (no trimming: it is compared with the next token's): 1-255 characters, no control
 * characters.
 */
export function subject(): Check<string> {
    return described({ type: "string", minLength: 1, maxLength: 255 }, (value) => {
        if (typeof value !== "string") return { ok: false, problem: "must be a string" };
        const length = [...value].length;
        if (length < 1) return { ok: false, problem: "must not be empty" };
        if (length > 255) return { ok: false, problem: "must have at most 255 characters" };
        const problem = textProblem(value);
        return problem ? { ok: false, problem } : { ok: true, value };
    });
}

// Deliberately plain: one @, no spaces, a dot in the domain. Deliverability is for a confirmation mail.
const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;

/** An email address, lower-cased so that uniqueness does not depend on case. At most 254 characters. */
export function email(): Check<string> {
    return described({ type: "string", format: "email", maxLength: 254 }, (value) => {
        if (typeof value !== "string") return { ok: false, problem: "must be a string" };
        const normalized = value.trim().toLowerCase();
        if (normalized.length > 254) return { ok: false, problem: "must have at most 254 characters" };
        const problem = textProblem(normalized);
        if (problem) return { ok: false, problem };
        if (!EMAIL.test(normalized)) return { ok: false, problem: "must be an email address" };
        return { ok: true, value: normalized };
    });
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** A UUID in its canonical 36-character form, lower-cased. */
export function uuid(): Check<string> {
    return described({ type: "string", format: "uuid" }, (value) =>
        typeof value === "string" && UUID.test(value)
            ? { ok: true, value: value.toLowerCase() }
            : { ok: false, problem: "must be a UUID" },
    );
}

// ISO 8601 with a time and an offset, as `Date.prototype.toISOString` writes it.
const DATE_TIME = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(\.\d{1,9})?(Z|[+-](\d{2}):(\d{2}))$/;

/**
 * True when every field of a DATE_TIME match names a real instant: a year from 1 (PostgreSQL has no
 * year 0), a day the month has, hours to 23, minutes and seconds to 59, an offset to 14 hours.
 * `Date.parse` alone takes February 30th (as March 2nd) and `24:00`, which PostgreSQL refuses.
 */
function isRealDateTime(match: RegExpExecArray): boolean {
    const [year, month, day, hour, minute, second] = match.slice(1, 7).map(Number);
    const [offsetHours, offsetMinutes] = match[8] === "Z" ? [0, 0] : [Number(match[9]), Number(match[10])];
    const date = new Date(Date.UTC(year, month - 1, day));
    date.setUTCFullYear(year); // Date.UTC reads years 0-99 as 1900-1999
    return (
        year >= 1 &&
        date.getUTCFullYear() === year &&
        date.getUTCMonth() === month - 1 &&
        date.getUTCDate() === day &&
        hour <= 23 &&
        minute <= 59 &&
        second <= 59 &&
        offsetHours <= 14 &&
        offsetMinutes <= 59
    );
}

/**
 * A point in time as an ISO 8601 string with its offset (`2026-11-27T11:39:07.194Z`), kept as sent:
 * four-digit years from 0001, real calendar dates and times, so PostgreSQL's `timestamptz` takes
 * every value it lets through.
 */
export function dateTime(): Check<string> {
    return described({ type: "string", format: "date-time" }, (value) => {
        const match = typeof value === "string" ? DATE_TIME.exec(value) : null;
        return match && isRealDateTime(match)
            ? { ok: true, value: value as string }
            : { ok: false, problem: "must be an ISO 8601 date and time with its offset, e.g. 2026-11-27T11:39:07.194Z" };
    });
}

/**
 * An integer in `min`-`max`: a JSON number in a body (the string `"5"` is refused there, as a client
 * sending it has a bug worth hearing about), decimal digits in a path or query parameter.
 */
export function integer(limits: { min: number; max: number }): Check<number> {
    const problem = `must be an integer from ${limits.min} to ${limits.max}`;
    return described({ type: "integer", minimum: limits.min, maximum: limits.max }, (value, source) => {
        if (source === "json" && typeof value === "string") return { ok: false, problem: `${problem} (a JSON number, not a string)` };
        const number = source === "text" && typeof value === "string" && /^-?\d{1,15}$/.test(value) ? Number(value) : value;
        if (typeof number !== "number" || !Number.isInteger(number) || number < limits.min || number > limits.max) {
            return { ok: false, problem };
        }
        return { ok: true, value: number };
    });
}

/** Makes a field optional: absent (or empty in a path or query parameter) gives `fallback`. */
export function optional<T, F extends T | undefined>(check: Check<T>, fallback: F): Check<T | F> {
    const guarded = (value: unknown, source: InputSource): Outcome<T | F> =>
        value === undefined || (source === "text" && value === "") ? { ok: true, value: fallback } : check(value, source);
    return check.schema ? described<T | F>({ ...check.schema, optional: true }, guarded) : guarded;
}

/** Every field of `shape` checked in `input`: the parsed values, or every problem. */
export function checkShape<S extends Shape>(input: Record<string, unknown>, shape: S, source: InputSource): { ok: true; value: Parsed<S> } | { ok: false; issues: Issue[] } {
    const issues: Issue[] = [];
    const result: Record<string, unknown> = {};
    for (const [field, check] of Object.entries(shape)) {
        const outcome = check(input[field], source);
        if (outcome.ok) result[field] = outcome.value;
        else issues.push({ field, problem: input[field] === undefined ? "is required" : outcome.problem });
    }
    return issues.length > 0 ? { ok: false, issues } : { ok: true, value: result as Parsed<S> };
}

/** The issues as one sentence: `email must be an email address; name must not be empty`. */
export function describeIssues(issues: readonly Issue[]): string {
    return issues.map((issue) => `${issue.field} ${issue.problem}`).join("; ");
}

function parseShape<S extends Shape>(input: Record<string, unknown>, shape: S, where: string, source: InputSource): Parsed<S> {
    const outcome = checkShape(input, shape, source);
    if (!outcome.ok) throw badRequest(`Invalid ${where}: ${describeIssues(outcome.issues)}.`, { issues: outcome.issues });
    return outcome.value;
}

/**
 * Validates a JSON body against `shape`: it must be an object with exactly those fields. An unknown
 * field is an issue beside the others (a typo must not be silently ignored), so one 400 names every
 * bad field at once.
 */
export function parseBody<S extends Shape>(body: unknown, shape: S): Parsed<S> {
    if (typeof body !== "object" || body === null || Array.isArray(body)) {
        throw badRequest("The request body must be a JSON object.");
    }
    const unknownFields: Issue[] = Object.keys(body)
        .filter((field) => !Object.hasOwn(shape, field))
        .map((field) => ({ field, problem: `is not a field of this request (allowed: ${Object.keys(shape).join(", ")})` }));
    const outcome = checkShape(body as Record<string, unknown>, shape, "json");
    const issues = [...(outcome.ok ? [] : outcome.issues), ...unknownFields];
    if (issues.length > 0) throw badRequest(`Invalid request body: ${describeIssues(issues)}.`, { issues });
    return (outcome as { value: Parsed<S> }).value;
}

/** Validates path or query parameters against `shape`; other parameters are ignored. */
export function parseParams<S extends Shape>(params: Readonly<Record<string, string>>, shape: S, where = "parameters"): Parsed<S> {
    return parseShape(params, shape, where, "text");
}
