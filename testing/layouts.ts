/**
 * Runs an environment offline in both layouts: as one stack `<env>`, and as `<env>-platform` plus a
 * stack per service, each service stack reading the platform run's outputs through its
 * StackReference. What the invariant test and the per-stack policy test compare.
 */
import type { RegisteredService } from "../functions/runtime/container";
import { PROJECT } from "../platform/config/stack-config";
import { environmentStacks, withLayout as withLayoutOf, type StackLayout } from "../platform/config/stack-layout";
import { services as registeredServices } from "../infra/services";
import { runProgramOffline, type OfflineRun } from "../tools/offline";
import type { RegisteredResource } from "../tools/registered-resource";
import { Types } from "../policy/lib/types";

export interface EnvironmentRuns {
    oneStack: OfflineRun;
    /** `<env>-platform` first, then one run per service in registry order. */
    stacks: OfflineRun[];
}

/** The environment's settings with the other layout: what a team switching layouts would write. */
export function withLayout(config: Readonly<Record<string, unknown>>, layout: StackLayout): Record<string, unknown> {
    return withLayoutOf(config, layout, PROJECT);
}

export async function runBothLayouts(environment: string, config: Readonly<Record<string, unknown>>, services: readonly RegisteredService[] = registeredServices): Promise<EnvironmentRuns> {
    const oneStack = await runProgramOffline({ stack: environment, config: withLayout(config, "one-stack"), services });
    const perService = withLayout(config, "stack-per-service");
    const stacks: OfflineRun[] = [];
    for (const stack of environmentStacks(environment, "stack-per-service", services.map((service) => service.name))) {
        stacks.push(await runProgramOffline({ stack, services, environments: { [environment]: perService } }));
    }
    return { oneStack, stacks };
}

/** Whether a resource is the deployment's own machinery rather than something in AWS: providers and stack references. */
export function isMachinery(resource: Pick<RegisteredResource, "type">): boolean {
    return resource.type.startsWith("pulumi:providers:") || resource.type === "pulumi:pulumi:StackReference";
}

/** `type::name` of a custom resource: unique within an environment, whichever stack holds it. */
export function resourceKey(resource: Pick<RegisteredResource, "type" | "name">): string {
    return `${resource.type}::${resource.name}`;
}

/** JSON with sorted keys, so two equal input trees print alike. */
export function canonicalJson(value: unknown): string {
    return JSON.stringify(value, (_key, inner) =>
        inner && typeof inner === "object" && !Array.isArray(inner) ? Object.fromEntries(Object.keys(inner).sort().map((key) => [key, inner[key]])) : inner,
    );
}

/**
 * The AWS resources of runs, by key, with their inputs as canonical JSON. A route's throttle is a
 * setting of the API's stage in one stack and a `RouteThrottle` of the route's service stack in a
 * stack per service (AWS refuses a stage setting for a route that does not exist yet, and the
 * platform deploys first): both are shown as what AWS ends up with, the stage's route settings.
 */
export function cloudResources(runs: readonly OfflineRun[]): Map<string, string[]> {
    const resources = runs.flatMap((run) => run.resources).filter((resource) => resource.custom && !isMachinery(resource));
    const throttles = resources
        .filter((resource) => resource.type === Types.httpApiRouteThrottle)
        .map((throttle) => ({ routeKey: throttle.inputs.routeKey, throttlingRateLimit: throttle.inputs.rateLimit, throttlingBurstLimit: throttle.inputs.burstLimit, detailedMetricsEnabled: true }));
    const byKey = new Map<string, string[]>();
    for (const resource of resources) {
        if (resource.type === Types.httpApiRouteThrottle) continue;
        let inputs = resource.inputs;
        if (resource.type === Types.httpApiStage) {
            const routeSettings = [...(inputs.routeSettings ?? []), ...throttles].sort((a, b) => String(a.routeKey).localeCompare(String(b.routeKey)));
            inputs = { ...inputs, routeSettings };
        }
        const key = resourceKey(resource);
        byKey.set(key, [...(byKey.get(key) ?? []), canonicalJson(inputs)]);
    }
    return byKey;
}
