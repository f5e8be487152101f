/**
 * Input validation for handlers: small typed checks that collect every problem and throw one 400
 * naming each field. Each value check is a valibot schema (`valibot`: modular, so an archive holds
 * only the few functions its checks use); the walk over an object's fields is ours, because a 400
 * names every bad field at once, every unknown field among them, with `is required` for an absent
 * one and dotted paths (`items.0.sku`) inside nested values.
 *
 * Keep it that way: this code is serialized into every function by value, so nothing here that a
 * check runs may reference the `valibot` module object itself (a serialized closure that does
 * loads the whole package); the functions a check runs are taken from it once, below. What a check
 * accepts as JSON Schema is read at build time only (`platform/api/json-schema.ts`, `describeCheck`).
 *
 * @example
 * const input = parseBody(request.body, { email: email(), name: text({ max: 100 }) });
 * //    ^? { email: string; name: string }
 */
import * as v from "valibot";
import { badRequest } from "./errors";

// The valibot functions used here, taken off the module once: a service's archive serializes this
// module's exports by value, and one that named `v.` would bring the whole package (see the header).
const { array: vArray, boolean: vBoolean, check: vCheck, description: vDescription, finite, maxLength: vMaxLength, minLength: vMinLength, nullable: vNullable, optional: vOptional, strictObject, unknown: vUnknown, integer: vInteger, maxValue, minValue, metadata, number: vNumber, picklist, pipe, regex, safeParse, string: vString, transform, trim, toLowerCase } = v;

/**
 * Where a value comes from: a JSON body keeps its types (`5` is a number, `"5"` a string); path and
 * query parameters are always text, so a number arrives as its digits.
 */
export type InputSource = "json" | "text";

/** What one check returns: the (normalized) value, or a problem (and, inside an object or array, every issue by its path). */
type Outcome<T> = { ok: true; value: T } | { ok: false; problem: string; issues?: Issue[] };

/** Checks one value; returns the (normalized) value or a problem description. */
export type Check<T> = ((value: unknown, source: InputSource) => Outcome<T>) & {
    /**
     * The type the check yields, for the type checker alone (never set): it lets `defineService`
     * infer each route's `request` from the checks written in it, which it cannot from a bare
     * function type.
     */
    readonly output?: T;
};
export type Shape = Record<string, Check<unknown>>;
export type Parsed<S extends Shape> = { [K in keyof S]: S[K] extends Check<infer T> ? T : never };

export interface Issue {
    /** The field, with a nested value's path after a dot: `email`, `items.0.sku`. */
    field: string;
    problem: string;
}

/** A valibot schema of any input and output. */
type Schema = v.GenericSchema<unknown, unknown>;

/**
 * What a check accepts as a valibot schema of the JSON value (path and query parameters are
 * described by the value they carry), read by `platform/api/json-schema.ts` at build time.
 */
export interface CheckDescription {
    schema: Schema;
    /** Absent is allowed. */
    optional: boolean;
}

/**
 * Where each check's description is kept, built on request: a registry on the global object of
 * the process that builds the program (the plan, `npm start`, the tests), set up when this module
 * loads there. A function's archive holds the checks but not this module's set-up, so a check
 * built inside a function (a handler that builds one per request) finds no registry and keeps
 * nothing, and no archive carries a description.
 */
const DESCRIPTIONS = "__serverlessMicroservicesCheckDescriptions";
type Registry = WeakMap<Function, () => CheckDescription>;
(globalThis as { [DESCRIPTIONS]?: Registry })[DESCRIPTIONS] ??= new WeakMap();

/** What `check` accepts, as a valibot schema; undefined for a hand-written check. */
export function describeCheck(check: Check<unknown>): CheckDescription | undefined {
    return (globalThis as { [DESCRIPTIONS]?: Registry })[DESCRIPTIONS]?.get(check)?.();
}

function described<T>(check: Check<T>, describe: () => CheckDescription): Check<T> {
    (globalThis as { [DESCRIPTIONS]?: Registry })[DESCRIPTIONS]?.set(check, describe);
    return check;
}

/** Runs a schema with every action's message of our own; the first refusal of a value is its problem. */
const PARSE_CONFIG = { abortPipeEarly: true } as const;

/** A check that runs `json` on a body's value and `text` (default: `json`) on a parameter's. */
function schemaCheck<T>(schemas: { json: v.GenericSchema<unknown, T>; text?: v.GenericSchema<unknown, T> }): Check<T> {
    const check = (value: unknown, source: InputSource): Outcome<T> => {
        const result = safeParse(source === "text" && schemas.text ? schemas.text : schemas.json, value, PARSE_CONFIG);
        return result.success ? { ok: true, value: result.output } : { ok: false, problem: result.issues[0].message };
    };
    return described(check, () => ({ schema: schemas.json as Schema, optional: false }));
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

/** Length in Unicode code points, as JSON Schema's `minLength`/`maxLength` count (valibot's `length` counts UTF-16 units). */
const codePoints = (value: string) => [...value].length;

/** What every text-like check refuses: a lone surrogate (not Unicode; it would be stored as U+FFFD) and a control character. */
const TEXT_CHECKS = [
    vCheck((value: string) => !LONE_SURROGATE.test(value), "must be valid Unicode text"),
    vCheck((value: string) => !CONTROL_CHARACTERS.test(value), "must not contain control characters"),
] as const;

/** Length bounds in code points, with the JSON Schema keywords that say the same. */
function lengthChecks(min: number, max: number) {
    return [
        vCheck((value: string) => codePoints(value) >= min, min === 1 ? "must not be empty" : `must have at least ${min} characters`),
        vCheck((value: string) => codePoints(value) <= max, `must have at most ${max} characters`),
        metadata<string, { minLength: number; maxLength: number }>({ minLength: min, maxLength: max }),
    ] as const;
}

/**
 * A trimmed string of `min`-`max` characters (counted as Unicode code points), with no control
 * characters and no bidirectional controls.
 */
export function text(limits: { min?: number; max: number } = { max: 1000 }): Check<string> {
    const min = limits.min ?? 1;
    return schemaCheck(
        {
            json: pipe(
                vString("must be a string"),
                trim(),
                ...lengthChecks(min, limits.max),
                ...TEXT_CHECKS,
                vCheck((value: string) => !BIDI_CONTROLS.test(value), "must not contain bidirectional text controls (U+202A-U+202E, U+2066-U+2069)"),
            ),
        }
    );
}

/**
 * A token's subject (`sub`), or anything else an issuer names a principal by, kept exactly as
 * given (no trimming: it is compared with the next token's): 1-255 characters, no control
 * characters.
 */
export function subject(): Check<string> {
    return schemaCheck({ json: pipe(vString("must be a string"), ...lengthChecks(1, 255), ...TEXT_CHECKS) });
}

// Deliberately plain: one @, no spaces, a dot in the domain. Deliverability is for a confirmation mail.
const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;

/** An email address, lower-cased so that uniqueness does not depend on case. At most 254 characters. */
export function email(): Check<string> {
    return schemaCheck(
        {
            json: pipe(
                vString("must be a string"),
                trim(),
                toLowerCase(),
                vCheck((value: string) => value.length <= 254, "must have at most 254 characters"),
                ...TEXT_CHECKS,
                regex(EMAIL, "must be an email address"),
                metadata<string, { format: string; maxLength: number }>({ format: "email", maxLength: 254 }),
            ),
        }
    );
}

const UUID = /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/;

/** A UUID in its canonical 36-character form, lower-cased. */
export function uuid(): Check<string> {
    return schemaCheck({ json: pipe(vString("must be a UUID"), regex(UUID, "must be a UUID"), toLowerCase(), metadata<string, { format: string }>({ format: "uuid" })) });
}

// ISO 8601 with a time and an offset, as `Date.prototype.toISOString` writes it.
const DATE_TIME = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(\.\d{1,9})?(Z|[+-](\d{2}):(\d{2}))$/;

/**
 * True when `value` matches DATE_TIME and every field names a real instant: a year from 1
 * (PostgreSQL has no year 0), a day the month has, hours to 23, minutes and seconds to 59, an
 * offset to 14 hours. `Date.parse` alone takes February 30th (as March 2nd) and `24:00`, which
 * PostgreSQL refuses.
 */
function isRealDateTime(value: string): boolean {
    const match = DATE_TIME.exec(value);
    if (!match) return false;
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
    const problem = "must be an ISO 8601 date and time with its offset, e.g. 2026-11-27T11:39:07.194Z";
    return schemaCheck({ json: pipe(vString(problem), vCheck(isRealDateTime, problem), metadata<string, { format: string }>({ format: "date-time" })) });
}

/** What a path or query parameter may hold for an integer: decimal digits (15, so every one is exact), nothing looser. */
const INTEGER_TEXT = /^-?\d{1,15}$/;
/** ... and for a number: the same with an optional fraction; no exponent, sign, spaces or hexadecimal. */
const NUMBER_TEXT = /^-?\d{1,15}(\.\d{1,15})?$/;

/** A refusal of a number beyond its type. */
type NumberAction = v.PipeItem<number, number, v.BaseIssue<unknown>>;

/** A JSON number in a body (a string is refused, naming why); in a parameter, text matching `pattern`, read as a number. */
function numeric(problem: string, pattern: RegExp, rest: readonly NumberAction[]): { json: v.GenericSchema<unknown, number>; text: v.GenericSchema<unknown, number> } {
    const hinted = `${problem} (a JSON number, not a string)`;
    return {
        json: pipe(vNumber((issue) => (typeof issue.input === "string" ? hinted : problem)), ...rest),
        text: pipe(pipe(vString(problem), regex(pattern, problem), transform<string, number>(Number)), ...rest),
    };
}

/**
 * An integer in `min`-`max`: a JSON number in a body (the string `"5"` is refused there, as a client
 * sending it has a bug worth hearing about), decimal digits in a path or query parameter.
 */
export function integer(limits: { min: number; max: number }): Check<number> {
    const problem = `must be an integer from ${limits.min} to ${limits.max}`;
    return schemaCheck(numeric(problem, INTEGER_TEXT, [vInteger(problem), minValue<number, number, string>(limits.min, problem), maxValue<number, number, string>(limits.max, problem)]));
}

/**
 * A finite number in `min`-`max` (either bound may be left out): a JSON number in a body, a
 * decimal (`-12.5`, at most 15 digits on each side of the point) in a path or query parameter.
 */
export function number(limits: { min?: number; max?: number } = {}): Check<number> {
    const range = limits.min !== undefined && limits.max !== undefined ? ` from ${limits.min} to ${limits.max}` : limits.min !== undefined ? ` of at least ${limits.min}` : limits.max !== undefined ? ` of at most ${limits.max}` : "";
    const problem = `must be a number${range}`;
    return schemaCheck(
        numeric(problem, NUMBER_TEXT, [
            finite(problem),
            ...(limits.min !== undefined ? [minValue<number, number, string>(limits.min, problem)] : []),
            ...(limits.max !== undefined ? [maxValue<number, number, string>(limits.max, problem)] : []),
        ]),
    );
}

/** `true` or `false`: a JSON boolean in a body, exactly the text `true` or `false` in a parameter. */
export function boolean(): Check<boolean> {
    const problem = "must be true or false";
    return schemaCheck({ json: vBoolean(problem), text: pipe(picklist(["true", "false"], problem), transform((value) => value === "true")) });
}

/** One of `values`, exactly as written. */
export function enumeration<const T extends string>(values: readonly [T, ...T[]]): Check<T> {
    return schemaCheck({ json: picklist(values, `must be one of: ${values.join(", ")}`) });
}

/** Makes a field optional: absent (or empty in a path or query parameter) gives `fallback`. */
export function optional<T, F extends T | undefined>(check: Check<T>, fallback: F): Check<T | F> {
    const guarded = (value: unknown, source: InputSource): Outcome<T | F> =>
        value === undefined || (source === "text" && value === "") ? { ok: true, value: fallback } : check(value, source);
    return described(guarded, () => ({ schema: vOptional(describeCheck(check as Check<unknown>)?.schema ?? vUnknown(), fallback), optional: true }));
}

/** `check`'s values or `null` (JSON only: a parameter's text is never null). */
export function nullable<T>(check: Check<T>): Check<T | null> {
    const guarded = (value: unknown, source: InputSource): Outcome<T | null> => (value === null && source === "json" ? { ok: true, value: null } : check(value, source));
    return described(guarded, () => ({ schema: vNullable(describeCheck(check as Check<unknown>)?.schema ?? vUnknown()), optional: false }));
}

/**
 * A check of your own on top of `base`: the value must also satisfy `predicate`, else `problem`.
 * Its JSON Schema is the base's with `problem` as its description, since JSON Schema cannot say it.
 */
export function refine<T>(base: Check<T>, predicate: (value: T) => boolean, problem: string): Check<T> {
    const check = (value: unknown, source: InputSource): Outcome<T> => {
        const outcome = base(value, source);
        return !outcome.ok || predicate(outcome.value) ? outcome : { ok: false, problem };
    };
    return described(check, () => ({ schema: pipe(describeCheck(base as Check<unknown>)?.schema ?? vUnknown(), vDescription(problem)), optional: false }));
}

/** The JSON types a check of an object's or an array's items can be, for its problem. */
const within = (field: string | number, issue: Issue): Issue => ({ field: issue.field === "" ? String(field) : `${field}.${issue.field}`, problem: issue.problem });

/** Every field of `shape` checked in `input`, then (`closed`) every field it does not name: the parsed values, or every issue. */
function checkFields(input: Record<string, unknown>, shape: Shape, source: InputSource, closed: boolean): { ok: true; value: Record<string, unknown> } | { ok: false; issues: Issue[] } {
    const issues: Issue[] = [];
    const result: Record<string, unknown> = {};
    for (const [field, check] of Object.entries(shape)) {
        const value = Object.hasOwn(input, field) ? input[field] : undefined;
        const outcome = check(value, source);
        if (outcome.ok) result[field] = outcome.value;
        else if (outcome.issues) issues.push(...outcome.issues.map((issue) => within(field, issue)));
        else issues.push({ field, problem: value === undefined ? "is required" : outcome.problem });
    }
    if (closed) {
        for (const field of Object.keys(input)) {
            if (!Object.hasOwn(shape, field)) issues.push({ field, problem: `is not a field of this request (allowed: ${Object.keys(shape).join(", ")})` });
        }
    }
    return issues.length > 0 ? { ok: false, issues } : { ok: true, value: result };
}

const isObject = (value: unknown): value is Record<string, unknown> => typeof value === "object" && value !== null && !Array.isArray(value);

/** A JSON object with exactly the fields of `shape` (nested: issues name `field.inner`). JSON bodies only. */
export function object<S extends Shape>(shape: S): Check<Parsed<S>> {
    const check = (value: unknown, source: InputSource): Outcome<Parsed<S>> => {
        if (source === "text" || !isObject(value)) return { ok: false, problem: "must be a JSON object" };
        const outcome = checkFields(value, shape, "json", true);
        return outcome.ok ? { ok: true, value: outcome.value as Parsed<S> } : { ok: false, problem: describeIssues(outcome.issues), issues: outcome.issues };
    };
    return described(check, () => ({
        schema: strictObject(Object.fromEntries(Object.entries(shape).map(([field, inner]) => [field, describeCheck(inner)?.schema ?? vUnknown()]))),
        optional: false,
    }));
}

/** A JSON array of `min`-`max` items, each checked by `item` (issues name `field.index`). JSON bodies only. */
export function array<T>(item: Check<T>, limits: { min?: number; max: number }): Check<T[]> {
    const min = limits.min ?? 0;
    const problem = min > 0 ? `must be an array of ${min} to ${limits.max} items` : `must be an array of at most ${limits.max} items`;
    const check = (value: unknown, source: InputSource): Outcome<T[]> => {
        if (source === "text" || !Array.isArray(value) || value.length < min || value.length > limits.max) return { ok: false, problem };
        const issues: Issue[] = [];
        const items = value.map((element, index) => {
            const outcome = item(element, "json");
            if (!outcome.ok) issues.push(...(outcome.issues ?? [{ field: "", problem: outcome.problem }]).map((issue) => within(index, issue)));
            return outcome.ok ? outcome.value : undefined;
        });
        return issues.length > 0 ? { ok: false, problem: describeIssues(issues), issues } : { ok: true, value: items as T[] };
    };
    return described(check, () => ({ schema: pipe(vArray(describeCheck(item as Check<unknown>)?.schema ?? vUnknown()), vMinLength(min), vMaxLength(limits.max)), optional: false }));
}

/** Every field of `shape` checked in `input`: the parsed values, or every problem. Fields `shape` does not name are left out. */
export function checkShape<S extends Shape>(input: Record<string, unknown>, shape: S, source: InputSource): { ok: true; value: Parsed<S> } | { ok: false; issues: Issue[] } {
    return checkFields(input, shape, source, false) as { ok: true; value: Parsed<S> } | { ok: false; issues: Issue[] };
}

/** The issues as one sentence: `email must be an email address; name must not be empty`. */
export function describeIssues(issues: readonly Issue[]): string {
    return issues.map((issue) => `${issue.field} ${issue.problem}`).join("; ");
}

/**
 * Validates a JSON body against `shape`: it must be an object with exactly those fields. An unknown
 * field is an issue beside the others (a typo must not be silently ignored), so one 400 names every
 * bad field at once.
 */
export function parseBody<S extends Shape>(body: unknown, shape: S): Parsed<S> {
    if (!isObject(body)) throw badRequest("The request body must be a JSON object.");
    const outcome = checkFields(body, shape, "json", true);
    if (!outcome.ok) throw badRequest(`Invalid request body: ${describeIssues(outcome.issues)}.`, { issues: outcome.issues });
    return outcome.value as Parsed<S>;
}

/** Validates path or query parameters against `shape`; other parameters are ignored. */
export function parseParams<S extends Shape>(params: Readonly<Record<string, string>>, shape: S, where = "parameters"): Parsed<S> {
    const outcome = checkShape(params, shape, "text");
    if (!outcome.ok) throw badRequest(`Invalid ${where}: ${describeIssues(outcome.issues)}.`, { issues: outcome.issues });
    return outcome.value;
}

/** The parts of a request a route declares (`RouteRequest` in `service.ts`). */
interface RequestShapes {
    path?: Shape;
    query?: Shape;
    body?: Shape;
}

/**
 * Checks a request against what its route declares, before the handler runs: path and query
 * parameters read from their text (others ignored), the body as sent, an object with exactly the
 * declared fields. One 400 names every bad field of the three, each prefixed with its part
 * (`path.id`, `query.limit`, `body.email`, `body.items.0.sku`), as a field may be named in two
 * parts. Returns the parsed parts; one not declared is left out.
 */
export function checkRequest(
    request: { readonly pathParameters: Readonly<Record<string, string>>; readonly query: Readonly<Record<string, string>>; readonly body: unknown },
    declared: RequestShapes,
): { path?: Record<string, unknown>; query?: Record<string, unknown>; body?: Record<string, unknown> } {
    const issues: Issue[] = [];
    const parsed: { path?: Record<string, unknown>; query?: Record<string, unknown>; body?: Record<string, unknown> } = {};
    const take = (part: "path" | "query" | "body", outcome: { ok: true; value: Record<string, unknown> } | { ok: false; issues: Issue[] }) => {
        if (outcome.ok) parsed[part] = outcome.value;
        else issues.push(...outcome.issues.map((issue) => within(part, issue)));
    };
    if (declared.path) take("path", checkFields(request.pathParameters, declared.path, "text", false));
    if (declared.query) take("query", checkFields(request.query, declared.query, "text", false));
    if (declared.body) {
        const body = request.body;
        if (isObject(body)) take("body", checkFields(body, declared.body, "json", true));
        else issues.push({ field: "body", problem: body === undefined ? "is required" : "must be a JSON object" });
    }
    if (issues.length > 0) throw badRequest(`Invalid request: ${describeIssues(issues)}.`, { issues });
    return parsed;
}
