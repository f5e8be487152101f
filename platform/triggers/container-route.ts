/**
 * A route a container service answers on the shared HTTP API: checked for its access alone (the
 * process answers it, so it has no handler or function settings of its own), and given the
 * service's timeout. The cloud realises it in `infra/components/service-container.ts` (an
 * integration through the VPC link to the service's Cloud Map name), the local runtime in
 * `local/container-proxy.ts`; the container's own server is its handler, so it has no entry in
 * `functions/runtime/entry/`.
 */
import type { ContainerRouteDefinition, ContainerServiceDefinition } from "../../functions/runtime/container";
import type { ResolvedContainerRoute } from "../model";
import { resolveRouteOnApi, validateRouteAccess } from "./route";

/** A container route's own definition: its `auth`, `scopes` and `throttle`. */
export function validateContainerRoute(route: ContainerRouteDefinition | undefined, at: string): string[] {
    return validateRouteAccess(route, at);
}

/** A container route with every setting decided. */
export function resolveContainerRoute(service: Pick<ContainerServiceDefinition, "name" | "description">, routeKey: string, route: ContainerRouteDefinition, timeoutSeconds: number): ResolvedContainerRoute {
    return { ...resolveRouteOnApi(service, routeKey, route), timeoutSeconds };
}
