/**
 * Route matching as API Gateway HTTP APIs do it: the method must match (`ANY` matches every
 * method, but a route naming the method wins over `ANY`), and the most specific path wins,
 * segment by segment: a literal beats `{param}`, which beats the greedy `{proxy+}`. A request
 * matching no route gets the API's 404, also when only the method differs (HTTP APIs send no 405).
 */

type Segment = { kind: "literal"; value: string } | { kind: "param"; name: string } | { kind: "greedy"; name: string };

/** Lower ranks are more specific. */
const RANK = { literal: 0, param: 1, greedy: 2 } as const;

interface CompiledRoute<T> {
    method: string;
    segments: Segment[];
    route: T;
}

export interface RouteMatch<T> {
    route: T;
    /** Decoded path parameters; empty when the route has none. */
    pathParameters: Record<string, string>;
}

export interface Router<T> {
    match(method: string, path: string): RouteMatch<T> | undefined;
}

function splitPath(path: string): string[] {
    return path === "/" || path === "" ? [] : path.replace(/^\//, "").split("/");
}

function compileSegment(segment: string): Segment {
    const parameter = /^\{([A-Za-z_][A-Za-z0-9_]*)(\+?)\}$/.exec(segment);
    if (!parameter) return { kind: "literal", value: segment };
    return parameter[2] === "+" ? { kind: "greedy", name: parameter[1] } : { kind: "param", name: parameter[1] };
}

function decode(segment: string): string {
    try {
        return decodeURIComponent(segment);
    } catch {
        return segment; // a malformed escape is kept as sent rather than failing the request
    }
}

/** Matches one route's segments against the request's (raw) segments. */
function matchSegments(segments: Segment[], parts: string[]): Record<string, string> | undefined {
    const parameters: Record<string, string> = {};
    for (let index = 0; index < segments.length; index++) {
        const segment = segments[index];
        if (segment.kind === "greedy") {
            const rest = parts.slice(index);
            // A greedy parameter needs at least one non-empty segment, as in API Gateway.
            if (rest.length === 0 || rest.join("") === "") return undefined;
            parameters[segment.name] = rest.map(decode).join("/");
            return parameters;
        }
        const part = parts[index];
        if (part === undefined) return undefined;
        if (segment.kind === "literal") {
            if (decode(part) !== segment.value) return undefined;
        } else {
            if (part === "") return undefined;
            parameters[segment.name] = decode(part);
        }
    }
    return parts.length === segments.length ? parameters : undefined;
}

/** Negative when `a` is more specific than `b`. */
function compareSpecificity<T>(a: CompiledRoute<T>, b: CompiledRoute<T>): number {
    const length = Math.max(a.segments.length, b.segments.length);
    for (let index = 0; index < length; index++) {
        const left = a.segments[index];
        const right = b.segments[index];
        if (left === undefined || right === undefined) return left === undefined ? 1 : -1;
        const difference = RANK[left.kind] - RANK[right.kind];
        if (difference !== 0) return difference;
    }
    return (a.method === "ANY" ? 1 : 0) - (b.method === "ANY" ? 1 : 0);
}

/**
 * Builds a router over `routes`, each with its `"METHOD /path"` route key. Routes are sorted most
 * specific first once, so a request takes the first match.
 */
export function createRouter<T extends { routeKey: string }>(routes: readonly T[]): Router<T> {
    const compiled: CompiledRoute<T>[] = routes.map((route) => {
        const [method, path] = route.routeKey.split(" ");
        return { method, segments: splitPath(path).map(compileSegment), route };
    });
    compiled.sort(compareSpecificity);

    return {
        match(method, path) {
            const parts = splitPath(path);
            for (const candidate of compiled) {
                if (candidate.method !== method && candidate.method !== "ANY") continue;
                const pathParameters = matchSegments(candidate.segments, parts);
                if (pathParameters) return { route: candidate.route, pathParameters };
            }
            return undefined;
        },
    };
}
