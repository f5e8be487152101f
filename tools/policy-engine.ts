/**
 * The policy engine, offline: hands resources to the pack's policies the way the Pulumi CLI's
 * analyzer host does (`@pulumi/policy/server.js`), without the CLI.
 *
 * - Resource policies get each resource's inputs, wrapped in the engine's unknown-checking proxy.
 * - Stack policies get every resource at once, props = outputs over inputs, with `dependencies`,
 *   `propertyDependencies` and `parent` resolved to the resource objects.
 * - Levels: the policy's entry in the pack config, else the config's `all`, else the policy's own
 *   level; `remediate` reports as mandatory, `disabled` skips the policy.
 * - `getConfig()` returns the policy's config entry without `enforcementLevel`, as the SDK does
 *   (defaults are the rules' business: see `policy/config.ts`).
 * - A rule that reads an unknown value becomes an advisory "can't run during preview" finding;
 *   `notApplicable()` is counted, not reported; any other throw fails the run, as it fails a preview.
 *
 * Used by `tools/policy-run.ts` (the `npm run policy` command) and the tests.
 */
import * as fs from "fs";
import * as path from "path";
import { effectiveLevel, policyKnobs, type PackConfig } from "../policy/lib/pack-config";
import { policies as packPolicies, PACK_NAME } from "../policy/policies";
import { UnknownValueError, unknownCheckingProxy } from "../policy/lib/preview";
import { PLATFORM_ALARM_NAMES_OUTPUT } from "../policy/lib/platform-outputs";
import type { ResourceRecord } from "./registered-resource";
import type {
    Policies,
    PolicyResource,
    PolicyResourceOptions,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    StackValidationArgs,
    StackValidationPolicy,
} from "../policy/lib/sdk";

export { effectiveLevel, loadPackConfig, type PackConfig } from "../policy/lib/pack-config";

/**
 * The pack config for one stack: the environment's file, plus what a service stack's cross-stack
 * rules need from its platform stack's outputs (`lambda-release-rollback`: the alarms the platform
 * creates, which a route's deployment group watches). Other stacks get the file as it is.
 */
export function packConfigForStack(config: PackConfig, platformOutputs?: Readonly<Record<string, unknown>>): PackConfig {
    const alarmNames = platformOutputs?.[PLATFORM_ALARM_NAMES_OUTPUT];
    if (!Array.isArray(alarmNames) || alarmNames.length === 0) return config;
    const entry = config["lambda-release-rollback"];
    const settings = typeof entry === "string" ? { enforcementLevel: entry } : (entry ?? {});
    return { ...config, "lambda-release-rollback": { ...settings, platformAlarmNames: alarmNames.map(String) } };
}

export type ReportedLevel = "mandatory" | "advisory";

export interface Violation {
    policy: string;
    level: ReportedLevel;
    message: string;
    /** The offending resource; absent for a finding about the stack as a whole. */
    urn?: string;
    resourceName?: string;
    resourceType?: string;
}

export interface PolicyRunResult {
    violations: Violation[];
    mandatory: number;
    advisory: number;
    /** Policies that ran (not disabled). */
    policiesRun: number;
    resources: number;
}

export const PACK_DIR = path.resolve(__dirname, "..", "policy");

/** The pack's name and version, as the CLI prints them. */
export function packLabel(): string {
    const { version } = JSON.parse(fs.readFileSync(path.join(PACK_DIR, "package.json"), "utf8"));
    return `${PACK_NAME}@v${version}`;
}

/**
 * Thrown by a policy's `notApplicable()` to skip a resource. Not an Error: policies skip most
 * resources they see, and capturing a stack trace for each was a tenth of a plan's CPU.
 */
class NotApplicable {
    constructor(readonly reason?: string) {}
}

function notApplicable(reason?: string): never {
    throw new NotApplicable(reason);
}

/** What the engine's protobuf round trip leaves of a value: no `undefined` members. */
function wire(value: unknown): any {
    if (Array.isArray(value)) {
        return value.filter((v) => v !== undefined).map(wire);
    }
    if (value !== null && typeof value === "object" && Object.getPrototypeOf(value) === Object.prototype) {
        const copy: Record<string, unknown> = {};
        for (const [k, v] of Object.entries(value)) {
            if (v !== undefined) {
                copy[k] = wire(v);
            }
        }
        return copy;
    }
    return value;
}

function optionsOf(r: ResourceRecord): PolicyResourceOptions {
    return {
        protect: r.protect ?? false,
        ignoreChanges: [],
        aliases: [],
        customTimeouts: { createSeconds: 0, updateSeconds: 0, deleteSeconds: 0 },
        additionalSecretOutputs: [],
        ...(r.parent ? { parent: r.parent } : {}),
    };
}

function typeChecks(type: string, props: Record<string, any>) {
    const isType = (resourceClass: any) => resourceClass?.__pulumiType === type;
    return { isType, asType: (resourceClass: any) => (isType(resourceClass) ? props : undefined) as any };
}

function isResourcePolicy(p: Policies[number]): p is ResourceValidationPolicy {
    return typeof (p as StackValidationPolicy).validateStack !== "function";
}

function stackResources(resources: readonly ResourceRecord[]): PolicyResource[] {
    const built = resources.map((r) => {
        const props = unknownCheckingProxy(wire({ ...r.inputs, ...(r.outputs ?? {}) }));
        const resource: PolicyResource = {
            type: r.type,
            props,
            urn: r.urn,
            name: r.name,
            opts: optionsOf(r),
            dependencies: [],
            propertyDependencies: {},
            ...typeChecks(r.type, props),
        };
        return { source: r, resource };
    });
    const byUrn = new Map(built.map((b) => [b.resource.urn, b.resource]));
    const resolve = (urns: readonly string[] = []) =>
        urns.map((u) => byUrn.get(u)).filter((x): x is PolicyResource => x !== undefined);
    for (const { source, resource } of built) {
        if (source.parent && byUrn.has(source.parent)) {
            resource.parent = byUrn.get(source.parent);
        }
        resource.dependencies = resolve(source.dependencies);
        for (const [input, urns] of Object.entries(source.propertyDependencies ?? {})) {
            resource.propertyDependencies[input] = resolve(urns);
        }
    }
    return built.map((b) => b.resource);
}

/**
 * Runs every policy over the resources under a pack config and returns what the CLI would report.
 *
 * @example
 * const { resources } = await runProgramOffline({ stack: "prod" });
 * const result = await runPolicies(resources, loadPackConfig("policy/config.prod.json"));
 * if (result.mandatory > 0) process.exit(1);
 */
export async function runPolicies(
    resources: readonly ResourceRecord[],
    config: PackConfig = {},
    policies: Policies = packPolicies,
): Promise<PolicyRunResult> {
    const byUrn = new Map(resources.map((r) => [r.urn, r]));
    const violations: Violation[] = [];
    let policiesRun = 0;

    for (const policy of policies) {
        const level = effectiveLevel(policy, config);
        if (level === "disabled") {
            continue;
        }
        policiesRun++;
        const reported: ReportedLevel = level === "advisory" ? "advisory" : "mandatory";
        const getConfig = <T extends object>() => policyKnobs(policy.name, config) as T;
        const report = (message: string, urn?: string, as: ReportedLevel = reported) => {
            const resource = urn ? byUrn.get(urn) : undefined;
            violations.push({
                policy: policy.name,
                level: as,
                message,
                ...(urn ? { urn } : {}),
                ...(resource ? { resourceName: resource.name, resourceType: resource.type } : {}),
            });
        };
        const attempt = async (run: () => Promise<void> | void, urn?: string) => {
            try {
                await run();
            } catch (e) {
                if (e instanceof NotApplicable) {
                    return;
                }
                if (e instanceof UnknownValueError) {
                    report(`can't run policy '${policy.name}' during preview: ${e.message}`, urn, "advisory");
                    return;
                }
                throw new Error(`Policy '${policy.name}' failed${urn ? ` on ${urn}` : ""}: ${(e as Error).stack ?? e}`);
            }
        };

        if (isResourcePolicy(policy)) {
            const validations = policy.validateResource === undefined
                ? []
                : Array.isArray(policy.validateResource) ? policy.validateResource : [policy.validateResource];
            for (const r of resources) {
                for (const validate of validations) {
                    const props = unknownCheckingProxy(wire(r.inputs));
                    const args: ResourceValidationArgs = {
                        type: r.type,
                        props,
                        urn: r.urn,
                        name: r.name,
                        opts: optionsOf(r),
                        stackTags: new Map(),
                        getConfig,
                        notApplicable,
                        ...typeChecks(r.type, props),
                    };
                    await attempt(() => validate(args, (message) => report(message, r.urn)), r.urn);
                }
            }
        } else {
            const args: StackValidationArgs = {
                resources: stackResources(resources),
                stackTags: new Map(),
                getConfig,
                notApplicable,
            };
            await attempt(() => policy.validateStack(args, (message, urn) => report(message, urn)));
        }
    }

    return {
        violations,
        mandatory: violations.filter((v) => v.level === "mandatory").length,
        advisory: violations.filter((v) => v.level === "advisory").length,
        policiesRun,
        resources: resources.length,
    };
}

/** The report `npm run policy` prints: violations grouped by level, each naming its resource. */
export function formatReport(result: PolicyRunResult, heading: string): string {
    const lines = [heading, ""];
    for (const level of ["mandatory", "advisory"] as const) {
        const found = result.violations.filter((v) => v.level === level);
        if (found.length === 0) {
            continue;
        }
        lines.push(`${level.toUpperCase()} (${found.length})`);
        for (const v of found) {
            const who = v.urn ? `${v.resourceName ?? v.urn} (${v.resourceType ?? "unknown type"})` : "the stack";
            lines.push(`  [${v.policy}] ${who}`);
            lines.push(`      ${v.message}`);
            if (v.urn) {
                lines.push(`      ${v.urn}`);
            }
        }
        lines.push("");
    }
    const verdict = result.mandatory > 0 ? "FAILED" : "passed";
    lines.push(
        `Policy check ${verdict}: ${result.mandatory} mandatory, ${result.advisory} advisory violation(s); ` +
            `${result.policiesRun} policies over ${result.resources} resources.`,
    );
    return lines.join("\n");
}
