/**
 * Events between services, as contracts. A producer declares the events it publishes in
 * `functions/<service>/events.ts` with `defineEvents`; a consumer imports that module and subscribes
 * to one of its events, which is how it gets the payload's type and how the registry knows what it
 * subscribes to. Each event has a version and a payload built from the runtime's validators
 * (`validate.ts`), so the payload is checked where it is published (a bad one is the producer's
 * bug, never a poison message) and its schema can be recorded and compared
 * (`functions/<service>/events.schema.json`, `npm run events:record`).
 *
 * @example
 * export const userEvents = defineEvents("users", {
 *     "user.created": { version: 1, description: "A user signed up", payload: { userId: uuid(), email: email() } },
 * });
 */
import { callerFile } from "./caller-file";
import { checkShape, describeIssues, type Issue, type Parsed, type Shape } from "./validate";

/** One event as its producer declares it. */
export interface EventDeclaration<S extends Shape = Shape> {
    /**
     * The contract's version, a positive integer. Within a version a payload may only gain optional
     * fields (checked against the committed record); anything else is a new version.
     */
    version: number;
    /** What happened, in a line: shown in the plan's event flows. */
    description: string;
    /** The payload's fields, each a validator from `validate.ts`. */
    payload: S;
}

/** An event a service publishes: its producer, name, version and payload validators. */
export interface EventContract<Payload = Record<string, unknown>> {
    /** The producing service. EventBridge's `source` of the event. */
    readonly source: string;
    /** The event's name, e.g. `user.created`. EventBridge's `detail-type`. */
    readonly name: string;
    readonly version: number;
    readonly description: string;
    readonly payload: Shape;
    /** Never set: carries the payload's type for `publish` and the consumers. */
    readonly __payload?: Payload;
}

/** A producer's events by name, as `defineEvents` returns them. */
export type EventCatalog = { readonly [name: string]: EventContract<any> };

/** The payload type of a contract. */
export type PayloadOf<C> = C extends EventContract<infer P> ? P : never;

type OptionalKeys<T> = { [K in keyof T]-?: undefined extends T[K] ? K : never }[keyof T];

/** What a producer passes for a payload: its optional fields may be left out. */
export type PublishedPayload<C> = PayloadOf<C> extends infer P ? Omit<P, OptionalKeys<P>> & Partial<Pick<P, OptionalKeys<P>>> : never;

const CATALOG = Symbol.for("serverless-microservices.eventCatalog");

/** What the registry reads of a catalog besides its contracts. */
export interface CatalogInfo {
    source: string;
    /** The module that declared it (`functions/<service>/events.ts`); its folder holds the schema record. */
    file?: string;
}

/** A string, not a symbol: a handler's serialized closure keeps strings as they are, but not symbols. */
const MISSING_EVENT = "__missingEvent";

/** What a catalog hands out for an event name it does not declare: the key given and what it declares. */
export interface MissingEvent {
    source: string;
    /** The key that was looked up, e.g. `user.crated`. */
    name: string;
    /** The names the catalog declares. */
    declared: string[];
}

/** The key and catalog of a lookup that found no event (`userEvents["user.crated"]`); undefined for anything else. */
export function missingEventOf(value: unknown): MissingEvent | undefined {
    return typeof value === "object" && value !== null ? (value as Record<string, MissingEvent | undefined>)[MISSING_EVENT] : undefined;
}

/**
 * Declares the events `source` publishes. The result is keyed by event name; a consumer subscribes
 * to one of its entries, and the producing service lists the whole catalog as its `events`.
 *
 * Looking up a name it does not declare (a typo the type check has not caught yet, under `npm
 * start`'s transpile-only loading) gives a marker that names the key and the catalog
 * (`missingEventOf`), so the registry's message can say which subscription asked for what. Only
 * names shaped like event names (`<word>.<word>`) get one; every other lookup is the object's own.
 */
export function defineEvents<D extends Record<string, EventDeclaration<Shape>>>(
    source: string,
    declarations: D,
): { readonly [N in keyof D & string]: EventContract<Parsed<D[N]["payload"]>> } {
    const catalog: Record<string, EventContract> = {};
    for (const [name, declaration] of Object.entries(declarations)) {
        catalog[name] = { source, name, version: declaration?.version, description: declaration?.description, payload: declaration?.payload ?? {} };
    }
    const info: CatalogInfo = { source, file: callerFile(defineEvents) };
    Object.defineProperty(catalog, CATALOG, { value: info, enumerable: false });
    return new Proxy(catalog, {
        get(target, key, receiver) {
            if (typeof key === "string" && /^[^.]+\.[^.]/.test(key) && !Object.prototype.hasOwnProperty.call(target, key)) {
                return { [MISSING_EVENT]: { source, name: key, declared: Object.keys(target) } };
            }
            return Reflect.get(target, key, receiver);
        },
    }) as never;
}

/** The source and declaring file of a catalog made by `defineEvents`; undefined for anything else. */
export function catalogInfo(catalog: unknown): CatalogInfo | undefined {
    return typeof catalog === "object" && catalog !== null ? (catalog as Record<symbol, CatalogInfo | undefined>)[CATALOG] : undefined;
}

/** A contract's name and version as people read it: `users/user.created v1`. */
export function eventLabel(contract: Pick<EventContract, "source" | "name" | "version">): string {
    return `${contract.source}/${contract.name} v${contract.version}`;
}

/**
 * A payload that does not match its contract where it is published: a bug in the producer, so it
 * answers 500 and is never sent.
 */
export class EventPayloadError extends Error {
    constructor(
        readonly event: string,
        readonly issues: Issue[],
    ) {
        super(`Event ${event} was not published: its payload is invalid: ${describeIssues(issues)}.`);
        this.message = `Event ${event} was not published: its payload is invalid: ${describeIssues(issues)}.`;
        this.name = "EventPayloadError";
    }
}

/**
 * Checks a payload against its contract. The producer is strict (`unknownFields: "reject"`): an
 * unknown field is a typo. A consumer is lenient: a producer may add optional fields within a
 * version, and a consumer built on the contract before them must still take the event.
 */
export function parsePayload<P>(
    contract: EventContract<P>,
    payload: unknown,
    unknownFields: "reject" | "ignore",
): { ok: true; value: P } | { ok: false; issues: Issue[] } {
    if (typeof payload !== "object" || payload === null || Array.isArray(payload)) {
        return { ok: false, issues: [{ field: "(payload)", problem: "must be a JSON object" }] };
    }
    const extra = unknownFields === "reject" ? Object.keys(payload).filter((field) => !Object.hasOwn(contract.payload, field)) : [];
    const outcome = checkShape(payload as Record<string, unknown>, contract.payload, "json");
    const issues = [...extra.map((field) => ({ field, problem: "is not a field of the event" })), ...(outcome.ok ? [] : outcome.issues)];
    return issues.length > 0 ? { ok: false, issues } : { ok: true, value: (outcome as { value: P }).value };
}
