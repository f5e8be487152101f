/**
 * What a route function's memory and timeout may be in one stack: Lambda's and the HTTP API's
 * limits (`policy/lib/limits.ts`), narrowed by the stack's policy pack config
 * (`policy/config.<stack>.json`) where it enforces `lambda-memory-bounds` and
 * `lambda-timeout-bounds` as mandatory. The registry is checked against these before any resource
 * exists, so a service file that `pulumi preview --policy-pack policy` would refuse is refused by
 * `npm start` and the plan too, with the service file's field names.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { withDefaults, ruleConfig } from "../policy/config";
import { estimatedMaxConnections, LAMBDA, ROUTE_FUNCTION, type Range } from "../policy/lib/limits";
import { effectiveLevel, loadPackConfig, policyKnobs } from "../policy/lib/pack-config";
import { lambdaMemoryBounds } from "../policy/rules/lambda-memory-bounds";
import { lambdaTimeoutBounds } from "../policy/rules/lambda-timeout-bounds";
import { REPOSITORY_ROOT } from "./config/stack-files";

/** One bound and where it comes from, for messages. */
export interface Bound extends Range {
    /** Why the range is what it is, e.g. `the HTTP API cuts requests at 30 s`. */
    reason: string;
}

export interface FunctionBounds {
    memoryMb: Bound;
    timeoutSeconds: Bound;
}

/** The platform's own limits, whatever the stack: what the registry is held to without a stack. */
export const PLATFORM_FUNCTION_BOUNDS: FunctionBounds = {
    memoryMb: { ...LAMBDA.memoryMb, reason: "Lambda's limits" },
    timeoutSeconds: { ...ROUTE_FUNCTION.timeoutSeconds, reason: `the HTTP API cuts requests at ${ROUTE_FUNCTION.timeoutSeconds.max + 1} s` },
};

/** Where the pack config of `stack` lives. */
export function packConfigFile(stack: string, root = REPOSITORY_ROOT): string {
    return path.join(root, "policy", `config.${stack}.json`);
}

function narrowed(platform: Bound, pack: Range, why: string): Bound {
    const min = Math.max(platform.min, pack.min);
    const max = Math.min(platform.max, pack.max);
    if (min === platform.min && max === platform.max) return platform;
    return { min, max, reason: why };
}

/**
 * The bounds in `stack`: the platform's, narrowed by the stack's pack config where its memory and
 * timeout rules are mandatory. A stack without a pack config is held to the pack's defaults, which
 * is what the pack enforces when it is given no config.
 */
export function functionBoundsFor(stack: string, root = REPOSITORY_ROOT): FunctionBounds {
    const file = packConfigFile(stack, root);
    const config = fs.existsSync(file) ? loadPackConfig(file) : {};
    const shown = path.relative(root, file);
    let { memoryMb, timeoutSeconds } = PLATFORM_FUNCTION_BOUNDS;
    if (effectiveLevel(lambdaMemoryBounds, config) === "mandatory") {
        const { minMb, maxMb } = withDefaults(ruleConfig["lambda-memory-bounds"].defaults, policyKnobs(lambdaMemoryBounds.name, config));
        memoryMb = narrowed(memoryMb, { min: minMb, max: maxMb }, `the ${stack} stack's policy pack: ${lambdaMemoryBounds.name} in ${shown}; Lambda allows ${LAMBDA.memoryMb.min}-${LAMBDA.memoryMb.max}`);
    }
    if (effectiveLevel(lambdaTimeoutBounds, config) === "mandatory") {
        const { minSeconds, maxSeconds } = withDefaults(ruleConfig["lambda-timeout-bounds"].defaults, policyKnobs(lambdaTimeoutBounds.name, config));
        timeoutSeconds = narrowed(timeoutSeconds, { min: minSeconds, max: maxSeconds }, `the ${stack} stack's policy pack: ${lambdaTimeoutBounds.name} in ${shown}`);
    }
    return { memoryMb, timeoutSeconds };
}

/** How many connections the services' login roles may hold together, and where that figure comes from. */
export interface ConnectionBudget {
    connections: number;
    reason: string;
}

/**
 * The connection budget of `stack`: the cluster's `max_connections` (the pack config's
 * `db-connection-budget.maxConnections`, else estimated from the maximum capacity as Aurora derives
 * it) less the pack config's headroom. The same sum the pack's rule checks, made before any
 * resource and over the whole registry, so a stack per service holds to it as one stack does.
 */
export function connectionBudgetFor(stack: string, capacity: { minCapacity: number; maxCapacity: number }, root = REPOSITORY_ROOT): ConnectionBudget {
    const file = packConfigFile(stack, root);
    const config = fs.existsSync(file) ? loadPackConfig(file) : {};
    const { maxConnections, headroomConnections } = withDefaults(ruleConfig["db-connection-budget"].defaults, policyKnobs("db-connection-budget", config));
    const ceiling = maxConnections > 0 ? maxConnections : estimatedMaxConnections(capacity.minCapacity, capacity.maxCapacity);
    const source = maxConnections > 0 ? `maxConnections in ${path.relative(root, file)}` : `estimated from database.maxCapacity ${capacity.maxCapacity} ACU`;
    return { connections: ceiling - headroomConnections, reason: `max_connections ${ceiling} (${source}) less ${headroomConnections} of headroom` };
}

export function describeInteger(range: Range): string {
    return `an integer from ${range.min} to ${range.max}`;
}

/** Absent, or an integer within `range`. */
export function isOptionalInteger(value: unknown, range: Range): boolean {
    return value === undefined || (typeof value === "number" && Number.isInteger(value) && value >= range.min && value <= range.max);
}

/** One setting within a bound: absent, or an integer in range, else a problem naming the field and why. */
function boundProblem(value: unknown, field: string, bound: Bound, at: string): string[] {
    return isOptionalInteger(value, bound)
        ? []
        : [`${at}: ${field} ${JSON.stringify(value)} is not allowed; use ${describeInteger(bound)} (${bound.reason})`];
}

/**
 * Memory and timeout, where a service or a route sets them: within Lambda's and the HTTP API's
 * limits, and the stack's policy pack bounds when `bounds` are a stack's (`functionBoundsFor`).
 */
export function validateFunctionSettings(
    settings: { memoryMb?: unknown; timeoutSeconds?: unknown } | undefined,
    at: string,
    bounds: FunctionBounds = PLATFORM_FUNCTION_BOUNDS,
): string[] {
    return [...boundProblem(settings?.memoryMb, "memoryMb", bounds.memoryMb, at), ...boundProblem(settings?.timeoutSeconds, "timeoutSeconds", bounds.timeoutSeconds, at)];
}
