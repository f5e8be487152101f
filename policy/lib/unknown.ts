/**
 * Unknown values: what a property looks like during `pulumi preview` when it depends on an output
 * that does not exist yet (a role ARN, a generated name).
 *
 * The engine sends such a value as one of seven sentinel strings and `@pulumi/policy` wraps `props`
 * in a proxy that throws `UnknownValueError` the moment a rule reads one. An uncaught throw turns
 * the whole policy into a "can't run during preview" advisory, and for a stack policy that means
 * one unknown ARN anywhere silences the check for every resource. So every rule receives its props
 * through `normalize`, which unwraps the proxy without reading through it and replaces each
 * sentinel with the single `UNKNOWN` marker; a rule then skips what `isUnknown` says it cannot know.
 */

/** The sentinels of `@pulumi/policy/proxy.js` (string, number, boolean, array, asset, archive, object). */
const UNKNOWN_SENTINELS: ReadonlySet<string> = new Set([
    "04da6b54-80e4-46f7-96ec-b56ff0331ba9",
    "3eeb2bf0-c639-47a8-9e75-3b44932eb421",
    "1c4a061d-8072-4f0a-a4cb-0ff528b18fe7",
    "6a19a0b0-7e62-4c92-b797-7f8e31da9cc2",
    "030794c1-ac77-496b-92df-f27374a8bd58",
    "e48ece36-62e2-4504-bad9-02848725956a",
    "dd056dcd-154b-4c76-9bd3-c8f88648b5ff",
]);

/** Pulumi's unknown string value, as the offline runner and the engine send it. */
export const UNKNOWN_STRING_SENTINEL = "04da6b54-80e4-46f7-96ec-b56ff0331ba9";

/** A value that will only be known after the resource is created. Safe to print. */
export class UnknownValue {
    toString(): string {
        return "<unknown during preview>";
    }
    toJSON(): string {
        return this.toString();
    }
}

/** The one marker every sentinel becomes after `normalize`. */
export const UNKNOWN = new UnknownValue();

/** True for the marker and for a raw sentinel string. */
export function isUnknown(value: unknown): value is UnknownValue {
    return value instanceof UnknownValue || (typeof value === "string" && UNKNOWN_SENTINELS.has(value));
}

// Property names the `@pulumi/policy` proxy answers itself, without touching the target.
const IS_SPECIAL_PROXY = "__isSpecialProxy";
const SPECIAL_PROXY_TARGET = "__getSpecialProxyTarget";

function isPlainObject(value: unknown): value is Record<string, unknown> {
    if (value === null || typeof value !== "object") {
        return false;
    }
    const proto = Object.getPrototypeOf(value);
    return proto === Object.prototype || proto === null;
}

/**
 * A plain deep copy of resource properties with the unknown-checking proxy removed, sentinels
 * replaced by `UNKNOWN` and `undefined` members dropped (the engine drops them too). Class
 * instances such as code archives are kept as they are.
 */
export function normalize(value: unknown): any {
    if (value !== null && typeof value === "object" && (value as any)[IS_SPECIAL_PROXY] === true) {
        value = (value as any)[SPECIAL_PROXY_TARGET];
    }
    if (isUnknown(value)) {
        return UNKNOWN;
    }
    if (Array.isArray(value)) {
        return value.filter((v) => v !== undefined).map(normalize);
    }
    if (isPlainObject(value)) {
        const copy: Record<string, unknown> = {};
        for (const [key, v] of Object.entries(value)) {
            if (v !== undefined) {
                copy[key] = normalize(v);
            }
        }
        return copy;
    }
    return value;
}
