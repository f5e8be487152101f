/**
 * Small checks several rules share. Each returns the violation messages, or none.
 */
import { isUnknown } from "./unknown";

/**
 * A number that must be set and lie within [min, max]. Unknown values pass: preview cannot know
 * them, and the update run checks them again once they are.
 */
export function checkBounds(opts: {
    what: string;
    value: unknown;
    unit: string;
    min: number;
    max: number;
    /** Finishes "… is not set" with what happens then, e.g. "AWS applies 3 s". */
    whenUnset: string;
    /** The input to change, named in the messages, e.g. "timeout". */
    input: string;
}): string[] {
    const { what, value, unit, min, max, whenUnset, input } = opts;
    if (isUnknown(value)) {
        return [];
    }
    if (value === undefined || value === null) {
        return [`${what} is not set (${whenUnset}); set ${input} between ${min} and ${max} ${unit}.`];
    }
    if (typeof value !== "number" || Number.isNaN(value)) {
        return [`${what} ${JSON.stringify(value)} is not a number; set ${input} between ${min} and ${max} ${unit}.`];
    }
    if (value < min) {
        return [`${what} ${value} ${unit} is below the minimum of ${min} ${unit}; set ${input} between ${min} and ${max} ${unit}.`];
    }
    if (value > max) {
        return [`${what} ${value} ${unit} is above the maximum of ${max} ${unit}; set ${input} between ${min} and ${max} ${unit}.`];
    }
    return [];
}

/** True when a value is present and known: neither absent nor unknown during preview. */
export function isKnown<T>(value: T | undefined | null): value is T {
    return value !== undefined && value !== null && !isUnknown(value);
}

/** A value that is set: not absent, not null, not an empty string. Unknown counts as set. */
export function isSet(value: unknown): boolean {
    return value !== undefined && value !== null && value !== "";
}
