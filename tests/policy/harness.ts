/**
 * A hand-built stand-in for the engine, for calling one policy's `validateResource` /
 * `validateStack` directly (there is no official test helper). `getConfig` returns the config as
 * given, without schema defaults, as the SDK does; `notApplicable` throws a sentinel caught here.
 */
import { policies } from "../../policy/policies";
import type {
    PolicyResource,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    StackValidationArgs,
    StackValidationPolicy,
} from "../../policy/lib/sdk";

export type Props = Record<string, any>;

/** What `validateResource` returns when the policy called `notApplicable()`. */
export const NOT_APPLICABLE = "not applicable";

class NotApplicableSignal extends Error {}

export function urnOf(type: string, name: string): string {
    return `urn:pulumi:test::serverless-microservices::${type}::${name}`;
}

function findPolicy(name: string) {
    const policy = policies.find((p) => p.name === name);
    if (!policy) {
        throw new Error(`no policy named ${name}`);
    }
    return policy;
}

export function resourcePolicy(name: string): ResourceValidationPolicy {
    const policy = findPolicy(name) as ResourceValidationPolicy;
    if (!policy.validateResource) {
        throw new Error(`${name} is not a resource policy`);
    }
    return policy;
}

export function stackPolicy(name: string): StackValidationPolicy {
    const policy = findPolicy(name) as StackValidationPolicy;
    if (typeof policy.validateStack !== "function") {
        throw new Error(`${name} is not a stack policy`);
    }
    return policy;
}

const noOptions = {
    protect: false,
    ignoreChanges: [],
    aliases: [],
    customTimeouts: { createSeconds: 0, updateSeconds: 0, deleteSeconds: 0 },
    additionalSecretOutputs: [],
};

function notApplicable(): never {
    throw new NotApplicableSignal();
}

export interface ResourceSpec {
    type: string;
    name?: string;
    props: Props;
}

export function resourceArgs(spec: ResourceSpec, config: object = {}): ResourceValidationArgs {
    const name = spec.name ?? "subject";
    return {
        type: spec.type,
        props: spec.props,
        urn: urnOf(spec.type, name),
        name,
        opts: noOptions,
        stackTags: new Map(),
        isType: () => false,
        asType: () => undefined as any,
        getConfig: <T extends object>() => config as T,
        notApplicable,
    };
}

/** Runs one resource policy on one resource; returns its messages, or `NOT_APPLICABLE`. */
export async function validateResource(policyName: string, spec: ResourceSpec, config: object = {}): Promise<string[] | typeof NOT_APPLICABLE> {
    const policy = resourcePolicy(policyName);
    const validations = Array.isArray(policy.validateResource) ? policy.validateResource : [policy.validateResource!];
    const messages: string[] = [];
    try {
        for (const validate of validations) {
            await validate(resourceArgs(spec, config), (message) => messages.push(message));
        }
    } catch (e) {
        if (e instanceof NotApplicableSignal) {
            return NOT_APPLICABLE;
        }
        throw e;
    }
    return messages;
}

export interface StackSpec {
    type: string;
    name: string;
    props: Props;
    /** Input name -> names of the resources (in the same stack) the input was computed from. */
    propertyDependencies?: Record<string, string[]>;
    /** The name of its parent (a component of the same stack). @default none */
    parent?: string;
}

export interface Reported {
    message: string;
    /** Name of the resource the violation names; absent for the stack as a whole. */
    resource?: string;
}

/** Builds `PolicyResource`s with their links resolved, as the engine does. */
export function stackResources(specs: readonly StackSpec[]): PolicyResource[] {
    const built = specs.map<PolicyResource>((s) => ({
        type: s.type,
        props: s.props,
        urn: urnOf(s.type, s.name),
        name: s.name,
        opts: noOptions,
        dependencies: [],
        propertyDependencies: {},
        isType: () => false,
        asType: () => undefined,
    }));
    const byName = new Map(built.map((r) => [r.name, r]));
    specs.forEach((s, i) => {
        if (s.parent) (built[i] as { parent?: PolicyResource }).parent = byName.get(s.parent);
        for (const [input, names] of Object.entries(s.propertyDependencies ?? {})) {
            const deps = names.map((n) => byName.get(n)).filter((r): r is PolicyResource => r !== undefined);
            built[i].propertyDependencies[input] = deps;
            built[i].dependencies.push(...deps.filter((d) => !built[i].dependencies.includes(d)));
        }
    });
    return built;
}

/** Runs one stack policy; returns what it reported, naming resources by name. */
export async function validateStack(policyName: string, specs: readonly StackSpec[], config: object = {}): Promise<Reported[]> {
    const resources = stackResources(specs);
    const nameOf = new Map(resources.map((r) => [r.urn, r.name]));
    const args: StackValidationArgs = {
        resources,
        stackTags: new Map(),
        getConfig: <T extends object>() => config as T,
        notApplicable,
    };
    const reported: Reported[] = [];
    await stackPolicy(policyName).validateStack(args, (message, urn) =>
        reported.push(urn ? { message, resource: nameOf.get(urn) ?? urn } : { message }));
    return reported;
}

/** A copy of `props` with one field (dotted path) set; `undefined` removes it. */
export function withField(props: Props, dottedPath: string, value: unknown): Props {
    const copy = structuredClone(props);
    const keys = dottedPath.split(".");
    let target: any = copy;
    for (const key of keys.slice(0, -1)) {
        target[key] = target[key] ?? {};
        target = target[key];
    }
    const last = keys[keys.length - 1];
    if (value === undefined) {
        delete target[last];
    } else {
        target[last] = value;
    }
    return copy;
}
