/**
 * A resource the Pulumi program registered, as the offline run (`tools/offline.ts`) records it: the
 * one shape that the policy engine, the plan, the URN snapshot and the offline runner share. The
 * policy pack keeps its own view of a resource (`policy/lib/rule.ts`, `policy/lib/links.ts`)
 * because it is its own package and imports nothing outside `policy/`.
 */

/** A registered resource with everything the offline run knows of it. */
export interface RegisteredResource {
    urn: string;
    type: string;
    name: string;
    custom: boolean;
    /** Parent URN. */
    parent?: string;
    /** As the program registered them (unknown values are undefined). */
    inputs: Record<string, any>;
    /** Inputs merged with what the mock returned (id, arn, ...). */
    outputs: Record<string, any>;
    /** URNs this resource depends on. */
    dependencies: string[];
    /** Input name -> URNs the value came from. */
    propertyDependencies: Record<string, string[]>;
    protect: boolean;
    /** The `customTimeouts` option, e.g. `{ delete: "45m" }`; absent when none is set. */
    customTimeouts?: { create?: string; update?: string; delete?: string };
    provider?: string;
    /** The `ignoreChanges` option (input names); absent when none is set. */
    ignoreChanges?: string[];
    /** The `aliases` option as the engine receives it: a URN, or a spec the engine completes. */
    aliases: ResourceAlias[];
}

/** One alias of a resource: an old URN, or the parts of it that differ (the engine fills in the rest). */
export type ResourceAlias =
    | { urn: string }
    | { name?: string; type?: string; stack?: string; project?: string; parentUrn?: string; noParent?: boolean };

/**
 * The part of a registered resource every reader needs, the rest optional: what the policy engine
 * and the plan take, so that a `RegisteredResource` fits and a test can build one by hand.
 */
export type ResourceRecord = Pick<RegisteredResource, "urn" | "type" | "name" | "inputs"> & Partial<Omit<RegisteredResource, "urn" | "type" | "name" | "inputs">>;
