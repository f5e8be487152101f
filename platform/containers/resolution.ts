/**
 * A validated container service with every setting decided, for the program
 * (`components/service-container.ts`) and the local runtime (`local/containers.ts`) alike:
 * `resolveRegistry` calls `resolveContainerService` for each container entry. Pure code, no Pulumi.
 */
import * as path from "node:path";
import type { ContainerRouteDefinition, ContainerServiceDefinition } from "../../functions/runtime/container";
import type { Migration } from "../../functions/runtime/data/migrations";
import { DEFAULT_CONTAINER_TIMEOUT_SECONDS } from "./validation";
import type { ResolvedContainerService } from "../model";
import { resolveContainerRoute } from "../triggers/container-route";
import { declaredSecrets } from "../secrets";

/** The health check ECS runs when the service names none: busybox `wget`, which Alpine images carry. */
export function defaultHealthCheckCommand(port: number, healthCheckPath: string): string {
    return `wget -q -O /dev/null http://127.0.0.1:${port}${healthCheckPath} || exit 1`;
}

export function resolveContainerService(service: ContainerServiceDefinition, stack: string | undefined, migrations: Migration[]): ResolvedContainerService {
    const timeoutSeconds = service.timeoutSeconds ?? DEFAULT_CONTAINER_TIMEOUT_SECONDS;
    const image = "uri" in service.image ? { uri: service.image.uri } : { context: service.image.context, dockerfile: service.image.dockerfile ?? "Dockerfile" };
    return {
        name: service.name,
        description: service.description,
        database: service.database,
        image,
        port: service.port,
        cpu: service.cpu,
        memoryMb: service.memoryMb,
        healthCheckPath: service.healthCheckPath,
        healthCheckCommand: service.healthCheckCommand ?? defaultHealthCheckCommand(service.port, service.healthCheckPath),
        timeoutSeconds,
        scaling: (stack !== undefined ? service.scaling[stack] : undefined) ?? service.scaling.default,
        environment: { ...(service.environment ?? {}) },
        readOnlyRootFilesystem: service.readOnlyRootFilesystem ?? true,
        local: { command: [...service.local.command], cwd: path.resolve(service.local.cwd ?? ("uri" in service.image ? "." : service.image.context)) },
        routes: Object.entries(service.routes as Record<string, ContainerRouteDefinition>).map(([routeKey, route]) => resolveContainerRoute(service, routeKey, route, timeoutSeconds)),
        migrations,
        secrets: declaredSecrets(service),
    };
}
