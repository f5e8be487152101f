/**
 * `npm run snapshot:urns [-- --stack <name>] [--check]`: the URNs of the deployed stacks, kept in
 * `tests/infra/urns.<stack>.json`, and the check that the program still produces every one of them.
 *
 * Pulumi knows a resource by its URN (stack, project, the types of its parents, its type, its name).
 * A renamed component type, resource or parent gives a new URN, and without an alias that resolves
 * to the old one `pulumi up` replaces the resource: prod's protected cluster makes the update fail,
 * dev's cluster is deleted with its data. The snapshot holds what the stacks hold, and the check
 * (`tests/infra/urns.test.ts`) runs the program offline and follows its aliases the way the engine
 * does, so that any change to a URN or to a name the program sets (log groups, alarms, the
 * dashboard, the topic) is deliberate:
 *
 * - every URN of the snapshot is still produced, directly or through an alias that resolves to it;
 * - the resource that produces it keeps the physical names it had;
 * - URNs owned by a service no longer in the registry may disappear, and a new service (or a new
 *   route of a service) only adds URNs: adding and removing a service never needs a refresh;
 * - a new component of the program's own (a `ComponentTypes` token) may appear: it holds nothing in AWS;
 * - any other new URN fails the check until the snapshot is refreshed on purpose.
 *
 * Refresh the snapshot after every stack has been deployed with the change (its state then holds
 * the new URNs), not before: until then the aliases are what keeps the old resources.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { isContainerService, type RegisteredService } from "../functions/runtime/container";
import { ComponentTypes, Types } from "../policy/lib/types";
import { runAsCommand } from "./command";
import { listStacks, REPOSITORY_ROOT, runProgramOffline } from "./offline";
import { type ResourceAlias, type RegisteredResource } from "./registered-resource";
import { INTERFACE_ENDPOINTS, type InterfaceEndpoint } from "../infra/components/network";

/** Where the snapshot of `stack` lives. */
export function snapshotFile(stack: string, root = REPOSITORY_ROOT): string {
    return path.join(root, "tests", "infra", `urns.${stack}.json`);
}

/** One resource of a deployed stack. */
export interface SnapshotEntry {
    urn: string;
    /** The service the resource exists for; absent for the platform's own resources. */
    service?: string;
    /** The names the program gives the resource in AWS, by input (`name`, `dashboardName`, ...). */
    physicalNames?: Record<string, string>;
}

export interface UrnSnapshot {
    stack: string;
    /** How to refresh the file, for whoever opens it. */
    refresh?: string;
    resources: SnapshotEntry[];
}

const REFRESH_NOTE = "npm run snapshot:urns, once every stack is deployed with the change (see tools/urn-snapshot.ts)";

/**
 * The inputs that hold a resource's name in AWS, by type. Changing one replaces the resource (or, for
 * a log group, starts an empty one), so the snapshot records them beside the URN.
 */
const PHYSICAL_NAME_INPUTS: Readonly<Record<string, readonly string[]>> = {
    [Types.logGroup]: ["name"],
    [Types.metricAlarm]: ["name"],
    [Types.dashboard]: ["dashboardName"],
    [Types.snsTopic]: ["name"],
    [Types.kmsKey]: [],
    // Not `finalSnapshotIdentifier`: the provider only records it for the deletion, so changing it
    // is an in-place update that calls no AWS API, not a replacement.
    [Types.rdsCluster]: ["clusterIdentifier"],
    [Types.rdsClusterInstance]: ["identifier"],
    [Types.rdsSubnetGroup]: ["name"],
    [Types.rdsClusterParameterGroup]: ["name"],
    [Types.httpApiStage]: ["name"],
    [Types.httpApiAuthorizer]: ["name"],
    [Types.httpApiDomainName]: ["domainName"],
    [Types.route53Record]: ["name"],
    [Types.lambdaFunction]: ["name"],
    [Types.iamRole]: ["name"],
    [Types.securityGroup]: ["name"],
};

/**
 * The owner of the resources every container service shares (the ECS cluster, the VPC link, the
 * image pull endpoints): they exist while the registry has a container service, so they come and
 * go with the container services as a group, like a service's own resources with its service.
 */
export const CONTAINER_PLATFORM_OWNER = "(container services)";

/**
 * The owner of what exists while some service publishes or subscribes to events: the stack's bus,
 * and the network's EventBridge endpoint.
 */
export const EVENTS_OWNER = "(event services)";

/**
 * The owner of the network's Secrets Manager endpoint: it exists while a service in the private
 * subnets (a database service's functions, a container service's tasks) reads declared secrets.
 */
export const SECRETS_OWNER = "(services reading secrets in the VPC)";

/** Whether a service declares secrets and reads them from the private subnets. */
function readsSecretsInVpc(service: RegisteredService): boolean {
    return (service.secrets?.length ?? 0) > 0 && (isContainerService(service) || service.database);
}

/** Whether a service publishes or subscribes. */
function usesEvents(service: RegisteredService): boolean {
    return !isContainerService(service) && (Object.keys(service.events ?? {}).length > 0 || Object.keys(service.subscriptions ?? {}).length > 0);
}

/** The owners a registry has: its services' names, the container platform's while it has a container service, the events' while a service uses them. */
export function ownersOf(registry: readonly RegisteredService[]): string[] {
    return [
        ...registry.map((service) => service.name),
        ...(registry.some(isContainerService) ? [CONTAINER_PLATFORM_OWNER] : []),
        ...(registry.some(usesEvents) ? [EVENTS_OWNER] : []),
        ...(registry.some(readsSecretsInVpc) ? [SECRETS_OWNER] : []),
    ];
}

/** The program's own component types (`ComponentTypes`): resources with no state in AWS. */
const PROGRAM_COMPONENTS: ReadonlySet<string> = new Set(Object.values(ComponentTypes));

/** A resource as the engine sees it: its URN and its aliases' parents in the engine's spelling. */
export interface UrnRecord {
    urn: string;
    type: string;
    name: string;
    parent?: string;
    aliases: ResourceAlias[];
    service?: string;
    physicalNames?: Record<string, string>;
}

/** `urn:pulumi:<stack>::<project>::<qualified type>::<name>` */
function urnParts(urn: string): { stack: string; project: string; qualifiedType: string; name: string } {
    const [prefix, project, qualifiedType, ...name] = urn.split("::");
    return { stack: prefix.replace(/^urn:pulumi:/, ""), project, qualifiedType, name: name.join("::") };
}

const lastType = (qualifiedType: string) => qualifiedType.split("$").pop() ?? qualifiedType;
const isRootStack = (urn: string | undefined) => urn !== undefined && lastType(urnParts(urn).qualifiedType) === Types.stack;

/** The URN the engine gives `type`/`name` under `parent`: the parent's whole type chain, the root stack left out. */
function createUrn(stack: string, project: string, type: string, name: string, parent: string | undefined): string {
    const parentType = parent && !isRootStack(parent) ? `${urnParts(parent).qualifiedType}$` : "";
    return `urn:pulumi:${stack}::${project}::${parentType}${type}::${name}`;
}

/**
 * The registered resources with the URNs the engine gives them. The mock monitor spells URNs its
 * own way (the root stack in its children's type, only the last type of a parent's chain), so the
 * URNs are computed here from type, name and parent as the engine computes them.
 */
export function engineResources(resources: readonly RegisteredResource[], services: readonly string[]): UrnRecord[] {
    const engineUrn = new Map<string, string>();
    const result: UrnRecord[] = [];
    for (const r of resources) {
        const { stack, project } = urnParts(r.urn);
        const parent = r.parent ? engineUrn.get(r.parent) ?? r.parent : undefined;
        const urn = createUrn(stack, project, r.type, r.name, parent);
        engineUrn.set(r.urn, urn);
        const physicalNames: Record<string, string> = {};
        for (const input of PHYSICAL_NAME_INPUTS[r.type] ?? []) {
            if (typeof r.inputs[input] === "string") physicalNames[input] = r.inputs[input];
        }
        result.push({
            urn,
            type: r.type,
            name: r.name,
            ...(parent ? { parent } : {}),
            aliases: r.aliases.map((alias) => ("parentUrn" in alias && alias.parentUrn ? { ...alias, parentUrn: engineUrn.get(alias.parentUrn) ?? alias.parentUrn } : alias)),
            ...(Object.keys(physicalNames).length > 0 ? { physicalNames } : {}),
        });
    }
    // A resource belongs to a service when it sits in that service's component, or when what it is
    // computed from belongs to that service alone (a route's alarms read that route's function).
    const componentOwner = new Map<string, string>();
    resources.forEach((r, index) => {
        const parentOwner = r.parent ? componentOwner.get(r.parent) : undefined;
        const serviceComponent = r.type === ComponentTypes.service || r.type === ComponentTypes.serviceContainer || r.type === ComponentTypes.serviceMigration;
        // A service's monitoring and releases are named after it (`monitoring-<service>`, `releases-<service>`).
        const operationsOf = r.type === ComponentTypes.serviceMonitoring || r.type === ComponentTypes.serviceReleases ? r.name.replace(/^(monitoring|releases)-/, "") : undefined;
        const own =
            serviceComponent && services.includes(r.name)
                ? r.name
                : operationsOf !== undefined && services.includes(operationsOf)
                  ? operationsOf
                  : r.type === ComponentTypes.containerPlatform && services.includes(CONTAINER_PLATFORM_OWNER)
                    ? CONTAINER_PLATFORM_OWNER
                    : r.type === ComponentTypes.eventBus && services.includes(EVENTS_OWNER)
                      ? EVENTS_OWNER
                      : undefined;
        const owner = own ?? parentOwner;
        if (owner) {
            componentOwner.set(r.urn, owner);
            result[index].service = owner;
        }
    });
    resources.forEach((r, index) => {
        if (result[index].service) return;
        // The network keeps the image pull and log endpoints only while container tasks run.
        if (r.type === Types.vpcEndpoint && services.includes(CONTAINER_PLATFORM_OWNER) && isContainerEndpoint(r.inputs.serviceName)) {
            result[index].service = CONTAINER_PLATFORM_OWNER;
            return;
        }
        if (r.type === Types.vpcEndpoint && services.includes(EVENTS_OWNER) && endpointName(r.inputs.serviceName) === "events") {
            result[index].service = EVENTS_OWNER;
            return;
        }
        if (r.type === Types.vpcEndpoint && services.includes(SECRETS_OWNER) && endpointName(r.inputs.serviceName) === "secretsmanager") {
            result[index].service = SECRETS_OWNER;
            return;
        }
        const owners = new Set(
            Object.values(r.propertyDependencies)
                .flat()
                .map((urn) => componentOwner.get(urn))
                .filter((owner): owner is string => owner !== undefined),
        );
        // A container service's alarms read its service and the shared cluster: the service owns them.
        if (owners.size > 1) owners.delete(CONTAINER_PLATFORM_OWNER);
        if (owners.size === 1) result[index].service = [...owners][0];
    });
    return result;
}

/** `com.amazonaws.<region>.<name>` -> `<name>`. */
function endpointName(serviceName: unknown): string {
    return typeof serviceName === "string" ? serviceName.split(".").slice(3).join(".") : "";
}

/** `com.amazonaws.<region>.<name>` of an endpoint the network has for container tasks only. */
function isContainerEndpoint(serviceName: unknown): boolean {
    const name = endpointName(serviceName);
    return name === "s3" || (name in INTERFACE_ENDPOINTS && INTERFACE_ENDPOINTS[name as InterfaceEndpoint].calledBy === "containers");
}

/** The snapshot of an offline run: every resource, sorted by URN. */
export function snapshotOf(stack: string, resources: readonly UrnRecord[]): UrnSnapshot {
    return {
        stack,
        refresh: REFRESH_NOTE,
        resources: resources
            .map((r) => ({ urn: r.urn, ...(r.service ? { service: r.service } : {}), ...(r.physicalNames ? { physicalNames: r.physicalNames } : {}) }))
            .sort((a, b) => (a.urn < b.urn ? -1 : a.urn > b.urn ? 1 : 0)),
    };
}

export function readSnapshot(stack: string, root = REPOSITORY_ROOT): UrnSnapshot {
    return JSON.parse(fs.readFileSync(snapshotFile(stack, root), "utf8")) as UrnSnapshot;
}

export function writeSnapshot(snapshot: UrnSnapshot, root = REPOSITORY_ROOT): string {
    const file = snapshotFile(snapshot.stack, root);
    fs.writeFileSync(file, `${JSON.stringify(snapshot, null, 2)}\n`);
    return file;
}

/** What became of the snapshot's URNs in a run, and what is wrong with it. */
export interface SnapshotComparison {
    /** URNs the run produces as they are. */
    kept: string[];
    /** New URN -> the snapshot URN its alias resolves to. */
    aliased: Map<string, string>;
    /** Snapshot URNs of services the registry no longer has. */
    goneWithService: SnapshotEntry[];
    /** URNs the snapshot does not have and no alias explains, with the service that adds them. */
    added: { urn: string; service?: string }[];
    /** New components of the program's own: they hold nothing in AWS, so they need no refresh. */
    addedComponents: string[];
    /** Everything that would replace or lose a deployed resource, or that needs a refresh. */
    problems: string[];
}

/**
 * Matches a run against a snapshot the way the engine matches a program against a stack's state:
 * in registration order (parents first), a resource takes the state of its own URN, else of the
 * first alias found in the state. Aliases are the resource's own (URNs, or specs completed from the
 * resource) and, when its parent took an old URN, the one inherited from the parent: the child's
 * type under the parent's old type chain, and its name with the parent's old name in place of the
 * new one when it starts with it.
 */
export function compareWithSnapshot(snapshot: UrnSnapshot, resources: readonly UrnRecord[], services: readonly string[]): SnapshotComparison {
    const olds = new Map(snapshot.resources.map((entry) => [entry.urn, entry]));
    const produced = new Set(resources.map((r) => r.urn));
    const matchedOld = new Map<string, string>(); // new URN -> old URN (only where they differ)
    const claimedBy = new Map<string, string>(); // old URN -> new URN
    const kept: string[] = [];
    const added: SnapshotComparison["added"] = [];
    const addedComponents: string[] = [];
    const problems: string[] = [];

    for (const r of resources) {
        const { stack, project } = urnParts(r.urn);
        const collapse = (alias: ResourceAlias): string => {
            if ("urn" in alias) return alias.urn;
            let parent = alias.parentUrn ? matchedOld.get(alias.parentUrn) ?? alias.parentUrn : r.parent;
            if (alias.noParent || isRootStack(parent)) parent = undefined;
            return createUrn(alias.stack ?? stack, alias.project ?? project, alias.type ?? r.type, alias.name ?? r.name, parent);
        };
        const inherited = (type: string, name: string, parentOld: string): string => {
            const parentName = r.parent ? urnParts(r.parent).name : "";
            const aliasName = name.startsWith(parentName) ? urnParts(parentOld).name + name.slice(parentName.length) : name;
            return `urn:pulumi:${stack}::${project}::${urnParts(parentOld).qualifiedType}$${type}::${aliasName}`;
        };
        const candidates = r.aliases.map(collapse);
        const parentOld = r.parent ? matchedOld.get(r.parent) : undefined;
        if (parentOld) {
            candidates.push(inherited(r.type, r.name, parentOld));
            for (const own of r.aliases.map(collapse)) {
                const parts = urnParts(own);
                candidates.push(inherited(lastType(parts.qualifiedType), parts.name, parentOld));
            }
        }

        if (olds.has(r.urn)) {
            kept.push(r.urn);
            const entry = olds.get(r.urn)!;
            problems.push(...physicalNameProblems(r, entry));
            continue;
        }
        const old = candidates.find((candidate) => olds.has(candidate));
        // A new component of the program's holds nothing in AWS: adding one can replace or lose nothing.
        if (old === undefined && PROGRAM_COMPONENTS.has(r.type)) {
            addedComponents.push(r.urn);
            continue;
        }
        if (old === undefined) {
            added.push({ urn: r.urn, ...(r.service ? { service: r.service } : {}) });
            continue;
        }
        if (produced.has(old)) {
            problems.push(`${r.urn} aliases ${old}, which the program also produces itself; two resources cannot own one state.`);
            continue;
        }
        const rival = claimedBy.get(old);
        if (rival !== undefined) {
            problems.push(`${r.urn} and ${rival} both alias ${old}; one deployed resource cannot become two.`);
            continue;
        }
        claimedBy.set(old, r.urn);
        matchedOld.set(r.urn, old);
        problems.push(...physicalNameProblems(r, olds.get(old)!));
    }

    const goneWithService: SnapshotEntry[] = [];
    for (const entry of snapshot.resources) {
        if (produced.has(entry.urn) || claimedBy.has(entry.urn)) continue;
        if (entry.service !== undefined && !services.includes(entry.service)) {
            goneWithService.push(entry);
            continue;
        }
        problems.push(
            `${entry.urn} is no longer produced and no alias resolves to it: \`pulumi up\` would delete the deployed resource ` +
                `(and create whatever replaced it). Give the renamed resource or component \`aliases\` naming the old URN.`,
        );
    }
    for (const { urn, service } of added) {
        if (service === undefined) {
            problems.push(`${urn} is new and belongs to no service: if it is meant to be, refresh the snapshot with \`npm run snapshot:urns\`.`);
        }
    }
    return { kept, aliased: matchedOld, goneWithService, added, addedComponents, problems };
}

function physicalNameProblems(resource: UrnRecord, entry: SnapshotEntry): string[] {
    const before = entry.physicalNames ?? {};
    const after = resource.physicalNames ?? {};
    const problems: string[] = [];
    for (const input of new Set([...Object.keys(before), ...Object.keys(after)])) {
        if (before[input] !== after[input]) {
            problems.push(`${resource.urn}: ${input} changes from ${JSON.stringify(before[input])} to ${JSON.stringify(after[input])}, which replaces the deployed resource.`);
        }
    }
    return problems;
}

/** Runs the program for `stack` and returns its resources as the engine sees them. */
export async function currentResources(stack: string, services?: readonly RegisteredService[]): Promise<UrnRecord[]> {
    const registry = services ?? (await import("../infra/services")).services;
    const run = await runProgramOffline({ stack, services: registry });
    return engineResources(run.resources, ownersOf(registry));
}

const USAGE = "usage: npm run snapshot:urns [-- --stack <name>] [--check]";

/**
 * Refreshes the snapshot of every stack (or of `--stack`), first printing what changed against the
 * committed one. `--check` only prints, and exits 1 when the check would fail.
 */
async function main(argv: readonly string[]): Promise<number> {
    const stackFlag = argv.indexOf("--stack");
    const stacks = stackFlag >= 0 ? [argv[stackFlag + 1]] : listStacks();
    const check = argv.includes("--check");
    const unknown = argv.filter((arg, index) => arg !== "--check" && arg !== "--stack" && (stackFlag < 0 || index !== stackFlag + 1));
    if (unknown.length > 0 || stacks.some((stack) => stack === undefined || stack.startsWith("--"))) {
        console.error(USAGE);
        return 2;
    }
    const services = ownersOf((await import("../infra/services")).services);
    let failed = false;
    for (const stack of stacks) {
        const resources = await currentResources(stack);
        if (fs.existsSync(snapshotFile(stack))) {
            const snapshot = readSnapshot(stack);
            const comparison = compareWithSnapshot(snapshot, resources, services);
            const gone = snapshot.resources.length - comparison.kept.length - comparison.aliased.size;
            console.log(`${stack}: ${comparison.kept.length} kept, ${comparison.aliased.size} under a new URN through an alias, ${gone} gone, ${comparison.added.length} added`);
            for (const problem of comparison.problems) console.log(`  ${problem}`);
            failed ||= comparison.problems.length > 0;
        }
        if (!check) console.log(`  wrote ${path.relative(process.cwd(), writeSnapshot(snapshotOf(stack, resources)))}`);
    }
    return check && failed ? 1 : 0;
}

if (require.main === module) runAsCommand(main);
