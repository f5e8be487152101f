/**
 * Per-resource suppression with a written reason, modelled on cdk-nag's `NagSuppressions`.
 *
 * A resource opts out of one rule with the tag `policy-suppress:<rule-name>` whose value is the
 * reason, for example `policy-suppress:lambda-timeout-bounds = "Batch export, called by SQS not the API"`.
 * Tags travel with the resource into the engine, show up in the AWS console next to the resource
 * they excuse, and need no change to the pack. A reason shorter than `MIN_SUPPRESSION_REASON`
 * characters suppresses nothing, and the `policy-suppression-reason` rule reports it.
 */
import { isUnknown } from "./unknown";

export const SUPPRESS_TAG_PREFIX = "policy-suppress:";

/** cdk-nag's minimum: long enough that "ok" or "temp" is not a reason. */
export const MIN_SUPPRESSION_REASON = 10;

export interface Suppression {
    rule: string;
    /** The tag value; `undefined` when it is unknown during preview. */
    reason: string | undefined;
}

/** Every `policy-suppress:*` tag on a resource (its `tags`, else the provider-merged `tagsAll`). */
export function suppressionsOf(props: Record<string, any>): Suppression[] {
    const tags = props.tags ?? props.tagsAll;
    if (tags === null || typeof tags !== "object" || isUnknown(tags)) {
        return [];
    }
    return Object.entries(tags)
        .filter(([key]) => key.startsWith(SUPPRESS_TAG_PREFIX))
        .map(([key, value]) => ({
            rule: key.slice(SUPPRESS_TAG_PREFIX.length),
            reason: typeof value === "string" && !isUnknown(value) ? value : undefined,
        }));
}

/** True when the reason is long enough to count. */
export function isValidReason(reason: string | undefined): boolean {
    return reason !== undefined && reason.trim().length >= MIN_SUPPRESSION_REASON;
}

/** True when the resource carries a valid suppression of `rule`. */
export function isSuppressed(props: Record<string, any>, rule: string): boolean {
    return suppressionsOf(props).some((s) => s.rule === rule && isValidReason(s.reason));
}
