/**
 * How a rule becomes a CrossGuard policy.
 *
 * A rule is a small pure function, as in cdk-nag: a resource (or the stack's resources) and its
 * effective config in, violation messages out. The wrappers here do everything rules must not
 * repeat: filter by type token, unwrap the engine's unknown-checking proxy (`normalize`), merge the
 * config over the defaults in code, and drop findings the resource suppresses with a reason.
 */
import { RuleConfig, RuleName, withDefaults } from "../config";
import type {
    EnforcementLevel,
    PolicyResource,
    ResourceValidationPolicy,
    StackValidationPolicy,
} from "./sdk";
import { isSuppressed } from "./suppress";
import { normalize } from "./unknown";

/** Resource properties after `normalize`: plain data, with `UNKNOWN` where preview cannot know. */
export type Props = Record<string, any>;

/** What a resource rule sees: the resource's inputs. */
export interface CheckedResource {
    type: string;
    name: string;
    urn: string;
    props: Props;
}

/** What a stack rule sees per resource: outputs over inputs, and the links the engine recorded. */
export interface StackResource extends CheckedResource {
    /** URNs this resource depends on. */
    dependencies: string[];
    /** Input name -> URNs of the resources that input was computed from. */
    propertyDependencies: Record<string, string[]>;
    parent?: string;
}

/** A stack rule's finding; `urn` names the offending resource (none = the stack as a whole). */
export interface Finding {
    urn?: string;
    message: string;
}

interface RuleBase<C extends object> {
    name: RuleName;
    description: string;
    enforcementLevel: EnforcementLevel;
    config: RuleConfig<C>;
    remediationSteps?: string;
    /** False for the rule that polices suppressions themselves. */
    suppressible?: boolean;
}

export interface ResourceRule<C extends object> extends RuleBase<C> {
    /** Type tokens the rule applies to; `"any"` for rules about every resource (suppression tags). */
    resourceTypes: readonly string[] | "any";
    check(resource: CheckedResource, config: C): string[];
}

export interface StackRule<C extends object> extends RuleBase<C> {
    check(resources: StackResource[], config: C): Finding[];
}

function metadata<C extends object>(rule: RuleBase<C>) {
    return {
        name: rule.name,
        description: rule.description,
        enforcementLevel: rule.enforcementLevel,
        configSchema: rule.config.schema,
        ...(rule.remediationSteps ? { remediationSteps: rule.remediationSteps } : {}),
    };
}

/** A resource rule as a `ResourceValidationPolicy`. */
export function resourcePolicy<C extends object>(rule: ResourceRule<C>): ResourceValidationPolicy {
    return {
        ...metadata(rule),
        validateResource: (args, reportViolation) => {
            if (rule.resourceTypes !== "any" && !rule.resourceTypes.includes(args.type)) {
                args.notApplicable(`Policy only applies to resources of type ${rule.resourceTypes.join(", ")}`);
            }
            const resource: CheckedResource = { type: args.type, name: args.name, urn: args.urn, props: normalize(args.props) };
            const config = withDefaults(rule.config.defaults, args.getConfig());
            for (const message of rule.check(resource, config)) {
                if (rule.suppressible !== false && isSuppressed(resource.props, rule.name)) {
                    continue;
                }
                reportViolation(message);
            }
        },
    };
}

function toStackResource(r: PolicyResource): StackResource {
    const propertyDependencies: Record<string, string[]> = {};
    for (const [key, deps] of Object.entries(r.propertyDependencies ?? {})) {
        propertyDependencies[key] = deps.map((d) => d.urn);
    }
    return {
        type: r.type,
        name: r.name,
        urn: r.urn,
        props: normalize(r.props),
        dependencies: (r.dependencies ?? []).map((d) => d.urn),
        propertyDependencies,
        parent: r.parent?.urn,
    };
}

/** A stack rule as a `StackValidationPolicy`. */
export function stackPolicy<C extends object>(rule: StackRule<C>): StackValidationPolicy {
    return {
        ...metadata(rule),
        validateStack: (args, reportViolation) => {
            const resources = args.resources.map(toStackResource);
            const byUrn = new Map(resources.map((r) => [r.urn, r]));
            const config = withDefaults(rule.config.defaults, args.getConfig());
            for (const finding of rule.check(resources, config)) {
                const target = finding.urn ? byUrn.get(finding.urn) : undefined;
                if (rule.suppressible !== false && target && isSuppressed(target.props, rule.name)) {
                    continue;
                }
                reportViolation(finding.message, finding.urn);
            }
        },
    };
}
