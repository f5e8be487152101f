/**
 * The deployed stacks keep their resources: every URN of `tests/infra/urns.<stack>.json` is still
 * produced by the program, directly or through an alias that resolves to it the way the engine
 * resolves aliases, with the physical names it had. Adding or removing a service never trips it;
 * anything else that would replace or drop a deployed resource does.
 */
import * as assert from "node:assert/strict";
import type { RegisteredService } from "../../functions/runtime/container";
import { defineService } from "../../functions/runtime/service";
import { services } from "../../infra/registry";
import { ComponentTypes, PreviousComponentTypes, Types } from "../../policy/lib/types";
import { runProgramOffline, type OfflineResource } from "../../tools/offline";
import { compareWithSnapshot, CONTAINER_PLATFORM_OWNER, engineResources, ownersOf, readSnapshot, type EngineResource } from "../../tools/urn-snapshot";
import { echoContainer } from "../fixtures/registries";
import { functionServices } from "../support/function-services";

const SERVICE_NAMES = ownersOf(services);

async function resourcesOf(stack: string, registry: readonly RegisteredService[] = services): Promise<{ raw: OfflineResource[]; engine: EngineResource[] }> {
    const run = await runProgramOffline({ stack, services: registry });
    return { raw: run.resources, engine: engineResources(run.resources, ownersOf(registry)) };
}

/** The program's component types, which hold nothing in AWS. */
const PROGRAM_COMPONENTS: string[] = Object.values(ComponentTypes);
/** Components that took over resources a service or the migrations held before. */
const MOVED_INTO: string[] = [ComponentTypes.function, ComponentTypes.httpRoute];

describe("URN snapshot of the deployed stacks", function () {
    this.timeout(120_000);
    const runs = new Map<string, { raw: OfflineResource[]; engine: EngineResource[] }>();

    before(async () => {
        for (const stack of ["dev", "prod"]) runs.set(stack, await resourcesOf(stack));
    });

    for (const stack of ["dev", "prod"]) {
        it(`${stack}: every deployed URN is still produced, directly or through an alias, with its physical names`, () => {
            // Prepare
            const snapshot = readSnapshot(stack);
            // Act
            const comparison = compareWithSnapshot(snapshot, runs.get(stack)!.engine, SERVICE_NAMES);
            // Assess
            assert.deepEqual(comparison.problems, []);
            assert.deepEqual(comparison.goneWithService, []);
            assert.equal(comparison.kept.length + comparison.aliased.size, snapshot.resources.length);
            assert.deepEqual(new Set([...comparison.kept, ...comparison.aliased.values()]), new Set(snapshot.resources.map((entry) => entry.urn)));
        });
    }

    it("records physical names the program sets: log groups, alarms, the dashboard and the topic", () => {
        const names = readSnapshot("prod").resources.flatMap((entry) => Object.values(entry.physicalNames ?? {}));
        for (const expected of [
            "/serverless-microservices/prod/users/get-users-id",
            "/aws/apigateway/serverless-microservices-prod/api",
            "serverless-microservices-prod-users-get-users-id-errors",
            "serverless-microservices-prod",
            "serverless-microservices-prod-alarms",
        ]) {
            assert.ok(names.includes(expected), `${expected} is not in the prod snapshot`);
        }
    });

    it("lets a removed service take its URNs (and only its URNs) with it", async () => {
        // Prepare: prod without the auth service.
        const { engine } = await resourcesOf("prod", services.filter((service) => service.name !== "auth"));
        const snapshot = readSnapshot("prod");
        // Act
        const comparison = compareWithSnapshot(snapshot, engine, SERVICE_NAMES.filter((name) => name !== "auth"));
        // Assess
        assert.deepEqual(comparison.problems, []);
        const authUrns = snapshot.resources.filter((entry) => entry.service === "auth").map((entry) => entry.urn);
        assert.ok(authUrns.length >= 8, `auth owns ${authUrns.length} URNs`);
        assert.deepEqual(comparison.goneWithService.map((entry) => entry.urn).sort(), authUrns.sort());
    });

    it("lets a new service add URNs that belong to it", async () => {
        // Prepare
        const orders = defineService({ name: "orders", description: "Orders", database: false, routes: { "GET /orders": { handler: async () => [] } } });
        const { engine } = await resourcesOf("prod", [...services, orders]);
        // Act
        const comparison = compareWithSnapshot(readSnapshot("prod"), engine, [...SERVICE_NAMES, "orders"]);
        // Assess: what orders adds on top of what the registry adds to the deployed snapshot already.
        const before = new Set(compareWithSnapshot(readSnapshot("prod"), runs.get("prod")!.engine, SERVICE_NAMES).added.map((added) => added.urn));
        const byOrders = comparison.added.filter((added) => !before.has(added.urn));
        assert.deepEqual(comparison.problems, []);
        assert.ok(byOrders.length >= 8, `${byOrders.length} URNs added`);
        assert.deepEqual([...new Set(byOrders.map((added) => added.service))], ["orders"]);
    });

    it("gives a new container service's URNs to it, and the shared container platform's to the container services", async () => {
        // Prepare: the function services of the registry plus a fixture container service.
        const registry = [...functionServices, echoContainer()];
        const { engine } = await resourcesOf("prod", registry);
        // Act
        const comparison = compareWithSnapshot(readSnapshot("prod"), engine, ownersOf(registry));
        // Assess
        assert.deepEqual(comparison.problems, []);
        const deployedOwners = new Set(readSnapshot("prod").resources.map((entry) => entry.service));
        const newOwners = ownersOf(functionServices).filter((owner) => !deployedOwners.has(owner));
        assert.deepEqual([...new Set(comparison.added.map((added) => added.service))].sort(), [CONTAINER_PLATFORM_OWNER, "echo", ...newOwners].sort());
        assert.ok(comparison.added.some((added) => added.service === "echo" && added.urn.endsWith("::monitoring-echo-container-tasks")), "its alarms belong to it");
    });

    it("reports a resource renamed without an alias as a deployed resource lost", () => {
        // Prepare: the users service's GET /users log group under another name.
        const engine = runs.get("prod")!.engine;
        const old = engine.find((r) => r.type === Types.logGroup && r.urn.endsWith("::users-get-users"))!;
        const renamed = engine.map((r) => (r === old ? { ...r, urn: r.urn.replace(/::users-get-users$/, "::users-list-users"), name: "users-list-users" } : r));
        // Act
        const { problems } = compareWithSnapshot(readSnapshot("prod"), renamed, SERVICE_NAMES);
        // Assess
        assert.equal(problems.length, 1, problems.join("\n"));
        const deployed = readSnapshot("prod").resources.find((entry) => entry.urn.endsWith("$aws:cloudwatch/logGroup:LogGroup::users-get-users"))!;
        assert.match(problems[0], new RegExp(`^${escape(deployed.urn)} is no longer produced and no alias resolves to it`));
    });

    it("reports a changed physical name as a replacement", () => {
        const engine = runs.get("prod")!.engine;
        const changed = engine.map((r) => (r.type === Types.logGroup && r.urn.endsWith("::users-get-users") ? { ...r, physicalNames: { name: "/elsewhere/users" } } : r));
        const { problems } = compareWithSnapshot(readSnapshot("prod"), changed, SERVICE_NAMES);
        assert.equal(problems.length, 1, problems.join("\n"));
        assert.match(problems[0], /::users-get-users: name changes from "\/serverless-microservices\/prod\/users\/get-users" to "\/elsewhere\/users", which replaces the deployed resource\.$/);
    });

    it("asks for a refresh when a platform resource is added", () => {
        const engine = runs.get("prod")!.engine;
        const stack = engine.find((r) => r.type === Types.stack)!;
        const extra: EngineResource = { urn: "urn:pulumi:prod::serverless-microservices::aws:sns/topic:Topic::deploys", type: Types.snsTopic, name: "deploys", parent: stack.urn, aliases: [] };
        const { problems } = compareWithSnapshot(readSnapshot("prod"), [...engine, extra], SERVICE_NAMES);
        assert.deepEqual(problems, [`${extra.urn} is new and belongs to no service: if it is meant to be, refresh the snapshot with \`npm run snapshot:urns\`.`]);
    });

    it("follows a component's alias to its old URN, and its children through the parent's alias", () => {
        // Prepare: the users component registered under yet another type, aliased to the deployed
        // one; its children declare nothing and keep their names.
        const { raw } = runs.get("prod")!;
        const users = raw.find((r) => r.type === ComponentTypes.service && r.name === "users")!;
        const retyped = raw.map((r) => (r === users ? { ...r, type: "example:service:Users", aliases: [{ type: PreviousComponentTypes.service }] } : r));
        // Its descendants that hold something in AWS: the components added since (a route's, a function's) hold nothing.
        const inUsers = (r: (typeof raw)[number]): boolean => r.parent === users.urn || raw.some((parent) => parent.urn === r.parent && inUsers(parent));
        const children = raw.filter((r) => inUsers(r) && !PROGRAM_COMPONENTS.includes(r.type));
        // Act
        const comparison = compareWithSnapshot(readSnapshot("prod"), engineResources(retyped, SERVICE_NAMES), SERVICE_NAMES);
        // Assess
        assert.deepEqual(comparison.problems, []);
        const moved = [...comparison.aliased.entries()].filter(([now]) => now.includes("::example:service:Users"));
        assert.equal(moved.length, 1 + children.length);
        const withoutMovedInto = (urn: string) => MOVED_INTO.reduce((text, type) => text.split(`$${type}$`).join("$"), urn);
        for (const [now, before] of moved) assert.equal(before, withoutMovedInto(now.replace("::example:service:Users", `::${PreviousComponentTypes.service}`)), now);
        // And without the component's alias every one of them would be lost, but those that name their deployed parent themselves.
        const unaliased = engineResources(retyped.map((r) => (r.urn === users.urn ? { ...r, aliases: [] } : r)), SERVICE_NAMES);
        const lost = compareWithSnapshot(readSnapshot("prod"), unaliased, SERVICE_NAMES).problems.filter((p) => / is no longer produced /.test(p));
        const namingTheirOldParent = children.filter((r) => r.aliases.length > 0);
        assert.ok(namingTheirOldParent.length > 0);
        assert.equal(lost.length, 1 + children.length - namingTheirOldParent.length);
    });

    for (const stack of ["dev", "prod"]) {
        it(`${stack}: each renamed component claims exactly its deployed URN, and its children follow through it`, () => {
            // Prepare
            const { engine } = runs.get(stack)!;
            const previous = new Map(Object.entries(ComponentTypes).map(([kind, token]) => [token as string, PreviousComponentTypes[kind as keyof typeof ComponentTypes]]));
            /** A URN with every component token in its type chain replaced by the deployed one. */
            // Components added since the stacks were deployed (a trigger's, a function's) are not in their chains.
            const deployedUrn = (urn: string) => {
                const [prefix, project, qualifiedType, name] = urn.split("::");
                const chain = qualifiedType.split("$");
                const kept = chain.filter((type, index) => index === chain.length - 1 || !MOVED_INTO.includes(type));
                return [prefix, project, kept.map((type) => previous.get(type) ?? type).join("$"), name].join("::");
            };
            // Act
            const comparison = compareWithSnapshot(readSnapshot(stack), engine, SERVICE_NAMES);
            // Assess: everything deployed under a component moved, each to the URN it is deployed
            // under, except what was added after the rename, which the snapshot holds under the new
            // tokens, and what was never deployed, which is added, not moved...
            assert.deepEqual(comparison.problems, []);
            const addedSinceRename = comparison.kept.filter((urn) => !urn.includes(`::${Types.stack}::`));
            assert.ok(addedSinceRename.every((urn) => deployedUrn(urn) !== urn), addedSinceRename.join("\n"));
            assert.equal(comparison.aliased.size + addedSinceRename.length + comparison.added.length + comparison.addedComponents.length, engine.filter((r) => r.type !== Types.stack).length);
            for (const [now, before] of comparison.aliased) assert.equal(before, deployedUrn(now));
            // ...with one alias on each component, none on the children, and on a resource moved into a new
            // component its former parent, as registered now and as deployed.
            for (const r of engine) {
                const kind = Object.entries(ComponentTypes).find(([, token]) => token === r.type)?.[0] as keyof typeof ComponentTypes | undefined;
                const declared = r.aliases.map((alias) => ("type" in alias ? alias.type : alias));
                const previousType = kind ? PreviousComponentTypes[kind] : undefined;
                const movedUnder = r.parent ? MOVED_INTO.includes(engine.find((parent) => parent.urn === r.parent)?.type ?? "") : false;
                if (movedUnder && r.aliases.length > 0) {
                    assert.equal(r.aliases.length, 2, r.urn);
                    assert.ok(r.aliases.every((alias) => "parentUrn" in alias && alias.parentUrn), r.urn);
                    const isNew = comparison.added.some((added) => added.urn === r.urn);
                    assert.equal(comparison.aliased.has(r.urn), !isNew, `${r.urn}: a deployed resource that moved claims its deployed URN`);
                } else {
                    assert.deepEqual(declared, previousType ? [previousType] : [], r.urn);
                }
            }
        });
    }
});

function escape(text: string): string {
    return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}
