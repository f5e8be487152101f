/**
 * The type token a component registers under, with the alias that keeps deployed stacks' resources:
 * a component whose token changed claims its old URN, and the engine derives its children's old
 * URNs from that (their type under the parent's old type chain, their names unchanged), so the
 * children need no aliases of their own. `tests/infra/urns.test.ts` proves every one resolves.
 */
import type * as pulumi from "@pulumi/pulumi";
import { createUrn } from "@pulumi/pulumi";
import { ComponentTypes, PreviousComponentTypes } from "../../policy/lib/types";

export type ComponentKind = keyof typeof ComponentTypes;

/** `opts` plus the alias to the component's previous type token. */
export function withPreviousType(kind: ComponentKind, opts?: pulumi.ComponentResourceOptions): pulumi.ComponentResourceOptions {
    const previous = PreviousComponentTypes[kind];
    return previous ? { ...opts, aliases: [...(opts?.aliases ?? []), { type: previous }] } : { ...opts };
}

/**
 * The aliases of a resource that a new component now holds, which was registered under `parent`
 * before: its URN under that parent as the parent is registered now, and as stacks hold it
 * (the parent's previous type), so `pulumi up` keeps the deployed resource instead of replacing it.
 */
export function movedFromParent(parent: pulumi.Resource, kind: ComponentKind, parentName: string): pulumi.Alias[] {
    const previous = PreviousComponentTypes[kind];
    return [{ parent }, ...(previous ? [{ parent: createUrn(parentName, previous) }] : [])];
}
