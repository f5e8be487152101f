/**
 * The resources of an offline run (`tools/offline.ts`) as the plan and its cost model read them:
 * values as registered (or as the mock returned them), the links the policy pack follows
 * (`policy/lib/links.ts`: property dependencies first, values second), and what AWS and awsx do
 * with a setting the program leaves out.
 */
import { ENVIRONMENT } from "../../functions/runtime/environment";
import { INTERFACE_ENDPOINTS, type InterfaceEndpoint } from "../../infra/components/network";
import { AWS_DEFAULTS } from "../../policy/lib/limits";
import { parsePolicyDocument, stringList } from "../../policy/lib/iam";
import { attachedRoles, functionRoles, linked, ofType, routeFunctions, type Linkable } from "../../policy/lib/links";
import { Types } from "../../policy/lib/types";
import type { ResourceRecord } from "../registered-resource";

export { ofType };

/** A value as registered, or as the mock returned it when the input was computed. */
export function valueOf(r: ResourceRecord, key: string): any {
    return r.inputs[key] !== undefined ? r.inputs[key] : r.outputs?.[key];
}

/** A resource the way the pack's stack rules see it: outputs over inputs. */
export function linkable(r: ResourceRecord): Linkable & { resource: ResourceRecord } {
    return { urn: r.urn, type: r.type, props: { ...r.inputs, ...(r.outputs ?? {}) }, propertyDependencies: r.propertyDependencies, resource: r };
}

/** Each HTTP API route with the function it reaches (Route -> Integration -> Function), if any. */
export function routesWithFunctions(resources: readonly ResourceRecord[]): Array<{ route: ResourceRecord; fn?: ResourceRecord }> {
    const graph = resources.map(linkable);
    return ofType(graph, Types.httpApiRoute).map((route) => ({ route: route.resource, fn: routeFunctions(route, graph)[0]?.resource }));
}

/** The route keys that reach a function; none for a function no route invokes (the migration runner). */
export function routeKeysOf(fn: ResourceRecord, resources: readonly ResourceRecord[]): string[] {
    return routesWithFunctions(resources)
        .filter((pair) => pair.fn === fn)
        .map((pair) => String(pair.route.inputs.routeKey));
}

/** What a container route reaches: its ECS service, task definition and scaling target. */
export interface ContainerTarget {
    integration: ResourceRecord;
    service?: ResourceRecord;
    taskDefinition?: ResourceRecord;
    scaling?: ResourceRecord;
}

/**
 * Each HTTP API route whose integration goes through a VPC link, with what it reaches:
 * Integration -> Cloud Map service (`integrationUri`) <- ECS service (`serviceRegistries`) ->
 * task definition; the scaling target names the ECS service in its `resourceId`.
 */
export function routesWithContainers(resources: readonly ResourceRecord[]): Array<{ route: ResourceRecord } & ContainerTarget> {
    const graph = resources.map(linkable);
    const integrations = ofType(graph, Types.httpApiIntegration).filter((i) => i.props.connectionType === "VPC_LINK");
    const discoveries = ofType(graph, Types.serviceDiscoveryService);
    const services = ofType(graph, Types.ecsService);
    const tasks = ofType(graph, Types.ecsTaskDefinition);
    const targets = ofType(graph, Types.scalingTarget);
    const sameArn = (candidate: Linkable, value: unknown) => candidate.props.arn !== undefined && candidate.props.arn === value;
    return ofType(graph, Types.httpApiRoute).flatMap((route) => {
        const integration = linked(route, "target", integrations, (i, target) => target === `integrations/${i.props.id}`)[0];
        if (!integration) return [];
        const discovery = linked(integration, "integrationUri", discoveries, sameArn)[0];
        const service = discovery
            ? services.find((s) => s.propertyDependencies?.serviceRegistries?.includes(discovery.urn) || s.props.serviceRegistries?.registryArn === discovery.props.arn)
            : undefined;
        const taskDefinition = service ? linked(service, "taskDefinition", tasks, sameArn)[0] : undefined;
        const scaling = service ? targets.find((t) => t.propertyDependencies?.resourceId?.includes(service.urn)) : undefined;
        return [{ route: route.resource, integration: integration.resource, service: service?.resource, taskDefinition: taskDefinition?.resource, scaling: scaling?.resource }];
    });
}

/** A task definition's size in vCPU and GB, and its architecture, as Fargate bills it. */
export function taskSizeOf(task: ResourceRecord): { vcpu: number; memoryGb: number; architecture: "arm64" | "x86_64" } {
    const platform = valueOf(task, "runtimePlatform");
    return {
        vcpu: Number(valueOf(task, "cpu") ?? 0) / 1024,
        memoryGb: Number(valueOf(task, "memory") ?? 0) / 1024,
        architecture: platform?.cpuArchitecture === "ARM64" ? "arm64" : "x86_64",
    };
}

/** Tasks a service keeps running: its scaling target's minimum, else its desired count. */
export function minimumTasksOf(service: ResourceRecord, scaling?: ResourceRecord): number {
    return Number((scaling ? valueOf(scaling, "minCapacity") : undefined) ?? valueOf(service, "desiredCount") ?? 0);
}

/** Each cluster with its instances: by `clusterIdentifier`'s dependency, else its value, else the only cluster. */
export function clustersWithInstances(resources: readonly ResourceRecord[]): Array<{ cluster: ResourceRecord; instances: ResourceRecord[] }> {
    const clusters = ofType(resources, Types.rdsCluster).map(linkable);
    const instances = ofType(resources, Types.rdsClusterInstance).map(linkable);
    const sameCluster = (cluster: Linkable, id: unknown) => [cluster.props.id, cluster.props.clusterIdentifier].filter(Boolean).includes(id);
    return clusters.map((cluster) => ({
        cluster: cluster.resource,
        instances: instances
            .filter((instance) => {
                const found = linked(instance, "clusterIdentifier", clusters, sameCluster);
                if (found.length > 0) return found.includes(cluster);
                // Nothing to link by: a lone cluster owns every instance.
                return instance.props.clusterIdentifier === undefined && clusters.length === 1;
            })
            .map((instance) => instance.resource),
    }));
}

/** The cluster parameter group a cluster uses: by `dbClusterParameterGroupName`'s dependency, else by name. */
export function parameterGroupOf(cluster: ResourceRecord, resources: readonly ResourceRecord[]): ResourceRecord | undefined {
    const groups = ofType(resources, Types.rdsClusterParameterGroup).map(linkable);
    const sameName = (group: Linkable, name: unknown) => group.props.name === name;
    return linked(linkable(cluster), "dbClusterParameterGroupName", groups, sameName)[0]?.resource;
}

/**
 * The seconds after which the server closes an idle session (`idle_session_timeout`, in
 * milliseconds in the parameter group), or undefined when sessions may stay open forever.
 */
export function idleSessionTimeoutOf(cluster: ResourceRecord, resources: readonly ResourceRecord[]): number | undefined {
    const group = parameterGroupOf(cluster, resources);
    const parameters: Array<{ name?: string; value?: string }> = (group ? valueOf(group, "parameters") : undefined) ?? [];
    const milliseconds = Number(parameters.find((p) => p.name === "idle_session_timeout")?.value ?? 0);
    return milliseconds > 0 ? milliseconds / 1000 : undefined;
}

/** The service a function belongs to, as the platform labels it. */
export function serviceOf(fn: ResourceRecord): string | undefined {
    return fn.inputs.environment?.variables?.[ENVIRONMENT.serviceName];
}

/** A function's memory, timeout and architecture, with Lambda's defaults where the program set none. */
export function functionSettingsOf(fn: ResourceRecord): { memoryMb: number; timeoutSeconds: number; architecture: string } {
    return {
        memoryMb: Number(fn.inputs.memorySize ?? AWS_DEFAULTS.lambda.memoryMb),
        timeoutSeconds: Number(fn.inputs.timeout ?? AWS_DEFAULTS.lambda.timeoutSeconds),
        architecture: (fn.inputs.architectures ?? [AWS_DEFAULTS.lambda.architecture]).join(","),
    };
}

/** The NAT gateways an `awsx.ec2.Vpc` creates (under mocks it has no children to count). */
export function natGatewaysOf(vpc: ResourceRecord): number {
    const zones = Number(valueOf(vpc, "numberOfAvailabilityZones") ?? AWS_DEFAULTS.awsxVpc.availabilityZones);
    const specs: Array<{ type?: string }> | undefined = valueOf(vpc, "subnetSpecs");
    const hasPublic = specs === undefined || specs.some((spec) => spec.type === "Public");
    if (!hasPublic) return 0; // NAT gateways live in public subnets
    switch (natStrategyOf(vpc)) {
        case "None":
            return 0;
        case "Single":
            return 1;
        default:
            return zones;
    }
}

/** The VPC's NAT strategy, awsx's default when the program names none. */
export function natStrategyOf(vpc: ResourceRecord): string {
    return valueOf(vpc, "natGateways")?.strategy ?? AWS_DEFAULTS.awsxVpc.natGatewayStrategy;
}

/** Zones an interface endpoint is in: one network interface, billed hourly, per subnet. */
export function endpointZones(endpoint: ResourceRecord): number {
    const subnets = valueOf(endpoint, "subnetIds");
    return Array.isArray(subnets) && subnets.length > 0 ? subnets.length : 1;
}

/** `Interface` or `Gateway`, the provider's default. */
export function endpointTypeOf(endpoint: ResourceRecord): string {
    return valueOf(endpoint, "vpcEndpointType") ?? AWS_DEFAULTS.vpcEndpointType;
}

/** `com.amazonaws.us-east-1.secretsmanager` -> `secretsmanager`, `com.amazonaws.us-east-1.ecr.api` -> `ecr.api`. */
export function endpointServiceOf(endpoint: ResourceRecord): string {
    const serviceName = valueOf(endpoint, "serviceName");
    return typeof serviceName === "string" ? serviceName.replace(/^com\.amazonaws\.[a-z0-9-]+\./, "") : "?";
}

/**
 * The functions in the VPC that call the AWS service an interface endpoint serves, by their roles'
 * inline policies (an action of that service allowed): who needs the endpoint, and so what its
 * hourly cost buys. The Secrets Manager endpoint serves the functions of database services that
 * read declared secrets (the migration launcher reads the master secret from outside the VPC).
 */
export function endpointUsers(endpoint: ResourceRecord, resources: readonly ResourceRecord[]): string[] {
    const service = endpointServiceOf(endpoint);
    // A function's role grants `logs:*` for the Lambda service, which ships the function's output
    // from outside the function's network: only the endpoints functions call from their subnets count.
    if (INTERFACE_ENDPOINTS[service as InterfaceEndpoint]?.calledBy === "containers") return [];
    const graph = resources.map(linkable);
    const policies = ofType(graph, Types.iamRolePolicy);
    const callsService = (role: Linkable) =>
        policies
            .filter((policy) => attachedRoles(policy, graph).includes(role as (typeof graph)[number]))
            .some((policy) => {
                const parsed = parsePolicyDocument(policy.props.policy);
                return parsed.kind === "document" && parsed.statements.some((st) => st.Effect === "Allow" && stringList(st.Action).some((action) => action.toLowerCase().startsWith(`${service}:`)));
            });
    return ofType(graph, Types.lambdaFunction)
        .filter((fn) => Array.isArray(fn.props.vpcConfig?.subnetIds) && fn.props.vpcConfig.subnetIds.length > 0)
        .filter((fn) => functionRoles(fn, graph).some(callsService))
        .map((fn) => fn.resource.name)
        .sort();
}
