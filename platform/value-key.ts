/**
 * A key for "the same inputs" when inputs mix plain data and code: plain objects and arrays are
 * compared by value (a service object built twice from the same definition is the same service),
 * functions and every other object by identity (a handler is the same only if it is the same
 * function). Keys are only meaningful inside one process.
 */

/** Ids for values compared by identity. */
const identities = new WeakMap<object, number>();
let lastIdentity = 0;

/** The JSON text that is equal for two values exactly when `valueKey` deems them the same. */
export function valueKey(value: unknown): string {
    const open = new Set<object>(); // the values being walked: a cycle is compared by identity
    const canonical = (item: unknown): unknown => {
        if (typeof item !== "object" && typeof item !== "function") return item ?? null;
        if (item === null) return null;
        const prototype = Object.getPrototypeOf(item);
        const plain = Array.isArray(item) || (typeof item === "object" && (prototype === Object.prototype || prototype === null));
        if (plain && !open.has(item)) {
            open.add(item);
            try {
                if (Array.isArray(item)) return item.map(canonical);
                return Object.fromEntries(Object.keys(item).sort().map((key) => [key, canonical((item as Record<string, unknown>)[key])]));
            } finally {
                open.delete(item);
            }
        }
        let id = identities.get(item);
        if (id === undefined) identities.set(item, (id = ++lastIdentity));
        return `#identity-${id}`;
    };
    return JSON.stringify(canonical(value));
}
