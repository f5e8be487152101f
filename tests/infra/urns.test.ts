/**
 * The deployed stacks keep their resources: every URN of `tests/infra/urns.<stack>.json` is still
 * produced by the program with whatever `infra/registry.ts` holds, directly or through an alias
 * that resolves to it the way the engine resolves aliases, with the physical names it had. Adding
 * a service only adds its URNs, removing one only takes its URNs away; anything else that would
 * replace or drop a deployed resource fails the check.
 */
import * as assert from "node:assert/strict";
import { isContainerService, type RegisteredService } from "../../functions/runtime/container";
import { defineService } from "../../functions/runtime/service";
import { services } from "../../infra/services";
import { ComponentTypes, Types } from "../../policy/lib/types";
import { runProgramOffline } from "../../tools/offline";
import { type RegisteredResource } from "../../tools/registered-resource";
import { compareWithSnapshot, CONTAINER_PLATFORM_OWNER, engineResources, ownersOf, readSnapshot, SECRETS_OWNER, type UrnRecord } from "../../tools/urn-snapshot";
import { echoContainer } from "../../testing/fixtures/registries";
import { ledger } from "../../testing/fixtures/secret-services";

const SERVICE_NAMES = ownersOf(services);
const STACKS = ["dev", "prod"];

async function resourcesOf(stack: string, registry: readonly RegisteredService[] = services): Promise<{ raw: RegisteredResource[]; engine: UrnRecord[] }> {
    const run = await runProgramOffline({ stack, services: registry });
    return { raw: run.resources, engine: engineResources(run.resources, ownersOf(registry)) };
}

/** A service name the registry does not have. */
function unusedName(base: string): string {
    let name = base;
    for (let n = 2; SERVICE_NAMES.includes(name); n++) name = `${base}-${n}`;
    return name;
}

describe("URN snapshot of the deployed stacks", function () {
    this.timeout(120_000);
    const runs = new Map<string, { raw: RegisteredResource[]; engine: UrnRecord[] }>();

    before(async () => {
        for (const stack of STACKS) runs.set(stack, await resourcesOf(stack));
    });

    for (const stack of STACKS) {
        it(`${stack}: every deployed URN is still produced, directly or through an alias, with its physical names; only unregistered services' URNs are gone`, () => {
            // Prepare
            const snapshot = readSnapshot(stack);
            // Act
            const comparison = compareWithSnapshot(snapshot, runs.get(stack)!.engine, SERVICE_NAMES);
            // Assess
            assert.deepEqual(comparison.problems, []);
            const unregistered = snapshot.resources.filter((entry) => entry.service !== undefined && !SERVICE_NAMES.includes(entry.service));
            assert.deepEqual(comparison.goneWithService, unregistered);
            assert.equal(comparison.kept.length + comparison.aliased.size + unregistered.length, snapshot.resources.length);
            // What the snapshot lacks belongs to a service: a new one, or a new route of one.
            for (const added of comparison.added) assert.ok(added.service !== undefined && SERVICE_NAMES.includes(added.service), added.urn);
        });
    }

    it("records the physical names the program sets: log groups, alarms, the dashboard and the topic", () => {
        const entries = readSnapshot("prod").resources;
        const namesOf = (type: string) => entries.filter((entry) => entry.urn.includes(`$${type}::`)).map((entry) => entry.physicalNames);
        for (const type of [Types.logGroup, Types.metricAlarm, Types.dashboard, Types.snsTopic]) {
            assert.ok(namesOf(type).length > 0, `the prod snapshot has no ${type}`);
            for (const names of namesOf(type)) assert.ok(names && Object.keys(names).length > 0, `${type} without its physical names`);
        }
        assert.ok(namesOf(Types.logGroup).every((names) => /^\/(serverless-microservices\/prod\/|aws\/apigateway\/serverless-microservices-prod\/)/.test(names!.name)));
        assert.ok(namesOf(Types.metricAlarm).every((names) => names!.name.startsWith("serverless-microservices-prod-")));
        // The environment's dashboard, and one per service (`serverless-microservices-prod-<service>`).
        const dashboards = namesOf(Types.dashboard).map((names) => names!.dashboardName).sort();
        assert.equal(dashboards[0], "serverless-microservices-prod");
        assert.ok(dashboards.length > 1 && dashboards.slice(1).every((name) => name.startsWith("serverless-microservices-prod-")), dashboards.join(", "));
        assert.deepEqual(namesOf(Types.snsTopic), [{ name: "serverless-microservices-prod-alarms" }]);
    });

    it("lets a removed service take its URNs (and only its URNs) with it", async function () {
        // Prepare: prod without a registered service that the stack is deployed with.
        const snapshot = readSnapshot("prod");
        const removed = services.find((service) => snapshot.resources.some((entry) => entry.service === service.name));
        if (!removed) this.skip(); // no registered service is deployed yet: nothing to remove
        // Its subscribers go with it: a subscription to an event nobody publishes is refused.
        const subscribesTo = (service: RegisteredService, producer: string) =>
            !isContainerService(service) && Object.values(service.subscriptions ?? {}).some((subscription) => subscription.event.source === producer);
        const remaining = services.filter((service) => service !== removed && !subscribesTo(service, removed!.name));
        if (!remaining.some((service) => service.database) && services.some((service) => service.database)) this.skip(); // the last database service takes the cluster, on purpose
        const { engine } = await resourcesOf("prod", remaining);
        // The last container service takes the shared container platform with it.
        const names = ownersOf(remaining);
        // Act
        const comparison = compareWithSnapshot(snapshot, engine, names);
        // Assess
        assert.deepEqual(comparison.problems, []);
        const gone = snapshot.resources.filter((entry) => entry.service !== undefined && !names.includes(entry.service)).map((entry) => entry.urn);
        assert.ok(gone.some((urn) => snapshot.resources.find((entry) => entry.urn === urn)!.service === removed!.name));
        assert.deepEqual(comparison.goneWithService.map((entry) => entry.urn).sort(), gone.sort());
    });

    it("lets a new service add URNs that belong to it", async () => {
        // Prepare
        const name = unusedName("urn-probe");
        const probe = defineService({ name, description: "A service no stack is deployed with", database: false, routes: { [`GET /${name}`]: { handler: async () => [] } } });
        const { engine } = await resourcesOf("prod", [...services, probe]);
        // Act
        const comparison = compareWithSnapshot(readSnapshot("prod"), engine, [...SERVICE_NAMES, name]);
        // Assess
        assert.deepEqual(comparison.problems, []);
        const ownAdded = comparison.added.filter((added) => added.service === name);
        assert.ok(ownAdded.length >= 8, `${ownAdded.length} URNs added`);
        assert.ok(comparison.added.every((added) => added.service !== undefined));
    });

    it("gives a new container service's URNs to it, and the shared container platform's to the container services", async () => {
        // Prepare: the registry plus a fixture container service under a name it does not have.
        const name = unusedName("echo");
        const registry = [...services, echoContainer({ name, routes: { [`GET /${name}`]: {} } })];
        const { engine } = await resourcesOf("prod", registry);
        // Act
        const comparison = compareWithSnapshot(readSnapshot("prod"), engine, ownersOf(registry));
        // Assess: what it adds on top of what the registry adds to the deployed snapshot already.
        const before = new Set(compareWithSnapshot(readSnapshot("prod"), runs.get("prod")!.engine, SERVICE_NAMES).added.map((added) => added.urn));
        const byContainer = comparison.added.filter((added) => !before.has(added.urn));
        assert.deepEqual(comparison.problems, []);
        // The shared platform is new with the registry's first container service.
        const owners = [name, ...(services.some(isContainerService) ? [] : [CONTAINER_PLATFORM_OWNER])];
        assert.deepEqual([...new Set(byContainer.map((added) => added.service))].sort(), owners.sort());
        assert.ok(byContainer.some((added) => added.service === name && added.urn.endsWith(`::monitoring-${name}-container-tasks`)), "its alarms belong to it");
    });

    it("gives the Secrets Manager endpoint a database service that reads secrets brings back to the services reading secrets in the VPC, and asks for a refresh without that owner", async () => {
        // Prepare: the registry plus a fixture database service that declares a secret.
        const registry = [...services, ledger];
        const { raw, engine } = await resourcesOf("prod", registry);
        const endpoint = engine.find((r) => r.urn.endsWith("::network-secretsmanager"));
        const withoutOwner = ownersOf(registry).filter((owner) => owner !== SECRETS_OWNER);
        // Act
        const owned = compareWithSnapshot(readSnapshot("prod"), engine, ownersOf(registry));
        const unowned = compareWithSnapshot(readSnapshot("prod"), engineResources(raw, withoutOwner), withoutOwner);
        // Assess
        assert.ok(endpoint, "the endpoint is back with the service");
        assert.deepEqual(owned.problems, []);
        assert.equal(owned.added.find((added) => added.urn === endpoint.urn)?.service, SECRETS_OWNER);
        assert.ok(unowned.problems.some((problem) => problem.startsWith(`${endpoint.urn} is new and belongs to no service`)), unowned.problems.join("\n"));
    });

    it("reports a resource renamed without an alias as a deployed resource lost", () => {
        // Prepare: the API's access log group under another name.
        const engine = runs.get("prod")!.engine;
        const old = engine.find((r) => r.type === Types.logGroup && r.urn.endsWith("::api-access-logs"))!;
        const renamed = engine.map((r) => (r === old ? { ...r, urn: r.urn.replace(/::api-access-logs$/, "::api-request-logs"), name: "api-request-logs" } : r));
        // Act
        const { problems } = compareWithSnapshot(readSnapshot("prod"), renamed, SERVICE_NAMES);
        // Assess
        assert.equal(problems.length, 2, problems.join("\n"));
        const deployed = readSnapshot("prod").resources.find((entry) => entry.urn.endsWith("$aws:cloudwatch/logGroup:LogGroup::api-access-logs"))!;
        assert.ok(problems.some((problem) => problem.startsWith(`${deployed.urn} is no longer produced and no alias resolves to it`)), problems.join("\n"));
        assert.ok(problems.some((problem) => problem.endsWith("::api-request-logs is new and belongs to no service: if it is meant to be, refresh the snapshot with `npm run snapshot:urns`.")), problems.join("\n"));
    });

    it("reports a changed physical name as a replacement", () => {
        const engine = runs.get("prod")!.engine;
        const changed = engine.map((r) => (r.type === Types.logGroup && r.urn.endsWith("::api-access-logs") ? { ...r, physicalNames: { name: "/elsewhere/api" } } : r));
        const { problems } = compareWithSnapshot(readSnapshot("prod"), changed, SERVICE_NAMES);
        assert.equal(problems.length, 1, problems.join("\n"));
        assert.match(problems[0], /::api-access-logs: name changes from "\/aws\/apigateway\/serverless-microservices-prod\/api" to "\/elsewhere\/api", which replaces the deployed resource\.$/);
    });

    it("asks for a refresh when a platform resource is added", () => {
        const engine = runs.get("prod")!.engine;
        const stack = engine.find((r) => r.type === Types.stack)!;
        const extra: UrnRecord = { urn: "urn:pulumi:prod::serverless-microservices::aws:sns/topic:Topic::deploys", type: Types.snsTopic, name: "deploys", parent: stack.urn, aliases: [] };
        const { problems } = compareWithSnapshot(readSnapshot("prod"), [...engine, extra], SERVICE_NAMES);
        assert.deepEqual(problems, [`${extra.urn} is new and belongs to no service: if it is meant to be, refresh the snapshot with \`npm run snapshot:urns\`.`]);
    });

    it("follows a component's alias to its old URN, and its children through the parent's alias", () => {
        // Prepare: the API's stage component registered under yet another type, aliased to the
        // deployed one; its children declare nothing and keep their names.
        const { raw } = runs.get("prod")!;
        const component = raw.find((r) => r.type === ComponentTypes.apiStage)!;
        const retyped = raw.map((r) => (r === component ? { ...r, type: "example:api:Stage", aliases: [{ type: ComponentTypes.apiStage }] } : r));
        const children = raw.filter((r) => r.parent === component.urn);
        assert.ok(children.length > 0);
        // Act
        const comparison = compareWithSnapshot(readSnapshot("prod"), engineResources(retyped, SERVICE_NAMES), SERVICE_NAMES);
        // Assess
        assert.deepEqual(comparison.problems, []);
        const moved = [...comparison.aliased.entries()].filter(([now]) => now.includes("::example:api:Stage"));
        assert.equal(moved.length, 1 + children.length);
        for (const [now, before] of moved) assert.equal(before, now.replace("::example:api:Stage", `::${ComponentTypes.apiStage}`), now);
        // And without the component's alias every one of them would be lost.
        const unaliased = engineResources(retyped.map((r) => (r.urn === component.urn ? { ...r, aliases: [] } : r)), SERVICE_NAMES);
        const lost = compareWithSnapshot(readSnapshot("prod"), unaliased, SERVICE_NAMES).problems.filter((p) => / is no longer produced /.test(p));
        assert.equal(lost.length, 1 + children.length);
    });
});
