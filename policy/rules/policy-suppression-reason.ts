import { ruleConfig, RuleName } from "../config";
import { MIN_SUPPRESSION_REASON, SUPPRESS_TAG_PREFIX, isValidReason, suppressionsOf } from "../lib/suppress";
import { resourcePolicy } from "../lib/rule";

const RULE_NAMES = new Set<string>(Object.keys(ruleConfig));

/**
 * A suppression must say why. `policy-suppress:<rule>` tags with a reason under 10 characters (as in
 * cdk-nag) suppress nothing and are reported here, as are tags naming no rule of the pack (a typo
 * would otherwise look like a suppression that works). Cannot itself be suppressed.
 */
export const policySuppressionReason = resourcePolicy({
    name: "policy-suppression-reason",
    description: `Every "${SUPPRESS_TAG_PREFIX}<rule>" tag names a rule of this pack and gives a reason of at least ${MIN_SUPPRESSION_REASON} characters.`,
    enforcementLevel: "mandatory",
    config: ruleConfig["policy-suppression-reason"],
    resourceTypes: "any",
    suppressible: false,
    remediationSteps: `Write why the rule does not apply to this resource in the tag value (at least ${MIN_SUPPRESSION_REASON} characters), or remove the tag.`,
    check: ({ props }) => {
        const messages: string[] = [];
        for (const { rule, reason } of suppressionsOf(props)) {
            const tag = `${SUPPRESS_TAG_PREFIX}${rule}`;
            if (!RULE_NAMES.has(rule as RuleName) || rule === "policy-suppression-reason") {
                messages.push(`Tag "${tag}" names no suppressible rule of this pack, so it suppresses nothing.`);
            } else if (reason !== undefined && !isValidReason(reason)) {
                messages.push(`Tag "${tag}" gives the reason ${JSON.stringify(reason)}; a suppression needs a reason of at least ${MIN_SUPPRESSION_REASON} characters, so "${rule}" still applies.`);
            }
        }
        return messages;
    },
});
