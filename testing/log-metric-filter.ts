/**
 * CloudWatch Logs' JSON filter patterns and metric transformations, for the forms the program's
 * metric filters use: `{ $.field = "text" }` (or a number) selecting a log event, and `$.field`
 * picking a metric's value or dimension out of it. What CloudWatch does with a JSON log event:
 * a property selector compared with a string (exact; `*` matches any run of characters) or a
 * number; an event that is not JSON matches no JSON pattern. Any other pattern throws, so a test
 * never passes on a form this does not read.
 */

const EQUALITY = /^\{\s*\$\.([A-Za-z_][\w.]*)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|(-?\d+(?:\.\d+)?))\s*\}$/;

/** `$.a.b` of a parsed JSON event, or undefined. */
function select(event: unknown, path: string): unknown {
    return path.split(".").reduce<unknown>((value, key) => (value !== null && typeof value === "object" ? (value as Record<string, unknown>)[key] : undefined), event);
}

function parse(line: string): unknown {
    try {
        return JSON.parse(line);
    } catch {
        return undefined;
    }
}

/** Whether the log event `line` matches the JSON filter `pattern` as CloudWatch Logs matches it. */
export function matchesFilterPattern(pattern: string, line: string): boolean {
    const found = EQUALITY.exec(pattern.trim());
    if (!found) throw new Error(`Only { $.field = "text" } and { $.field = number } patterns are read here, not ${pattern}`);
    const [, path, text, number] = found;
    const event = parse(line);
    if (event === undefined) return false;
    const value = select(event, path);
    if (number !== undefined) return typeof value === "number" && value === Number(number);
    if (typeof value !== "string") return false;
    const literal = text.replace(/\\(.)/g, "$1");
    const wildcard = new RegExp(`^${literal.split("*").map((part) => part.replace(/[.+?^${}()|[\]\\]/g, "\\$&")).join(".*")}$`);
    return wildcard.test(value);
}

/** What a metric transformation's `$.field` (its value or a dimension) reads from a matched event. */
export function selectedField(selector: string, line: string): unknown {
    if (!/^\$\.[A-Za-z_][\w.]*$/.test(selector)) throw new Error(`Only $.field selectors are read here, not ${selector}`);
    return select(parse(line), selector.slice(2));
}
