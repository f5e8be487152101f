/**
 * The two layouts of an environment register the same resources: for a registry, the AWS resources
 * of `<env>-platform` plus every `<env>-<service>` are those of `<env>`, type, logical name and
 * inputs alike, each in exactly one stack; a service stack holds its own service and nothing else
 * and reaches AWS through its environment's region; and every way a stack name, an environment or
 * a service name can be ambiguous stops the program before it registers anything.
 */
import * as assert from "node:assert/strict";
import * as path from "node:path";
import { formatReport, loadPackConfig, PACK_DIR, packConfigForStack, runPolicies } from "../../tools/policy-engine";
import { PROJECT, parseStackConfig, ConfigError } from "../../platform/config/stack-config";
import { PLATFORM_PART, resolveStackTarget, StackTargetError } from "../../platform/config/stack-layout";
import { resolveRegistry } from "../../platform/registry/resolution";
import { defineService } from "../../functions/runtime/service";
import { services as registeredServices } from "../../infra/services";
import { fixtureServices } from "../../testing/fixtures";
import { eventRegistry } from "../../testing/fixtures/event-services";
import { outboxRegistry } from "../../testing/fixtures/outbox-services";
import { secretServices } from "../../testing/fixtures/secret-services";
import { cloudResources, isMachinery, runBothLayouts, withLayout, type EnvironmentRuns } from "../../testing/layouts";
import { lastRegistered, platformOutputsOf, readStackConfig, runProgramOffline, type OfflineRun } from "../../tools/offline";
import type { RegisteredResource } from "../../tools/registered-resource";
import type { RegisteredService } from "../../functions/runtime/container";

const registries: Array<[string, string, readonly RegisteredService[]]> = [
    ["dev", "infra/registry.ts", registeredServices],
    ["prod", "infra/registry.ts", registeredServices],
    ["dev", "the fixture registry", fixtureServices],
    ["prod", "the event fixtures", eventRegistry],
    ["dev", "the outbox fixtures", outboxRegistry],
    ["prod", "the secret fixtures", secretServices],
];

/** The component a resource belongs to at the top of the stack (its ancestor just below the stack). */
function topComponent(run: OfflineRun, resource: RegisteredResource): RegisteredResource | undefined {
    const byUrn = new Map(run.resources.map((candidate) => [candidate.urn, candidate]));
    let current: RegisteredResource | undefined = resource;
    while (current?.parent && byUrn.get(current.parent)?.parent) current = byUrn.get(current.parent);
    return current;
}

/** The service a top-level component belongs to: `users`, `monitoring-users` and `releases-users` are all users'. */
function serviceOfComponent(name: string | undefined): string {
    return (name ?? "").replace(/^(monitoring|releases)-/, "");
}

describe("layouts: one stack or a stack per service", function () {
    this.timeout(300_000);

    for (const [environment, label, services] of registries) {
        describe(`${environment} over ${label}`, () => {
            let runs: EnvironmentRuns;
            before(async () => {
                runs = await runBothLayouts(environment, readStackConfig(environment), services);
            });

            it(`${environment}-platform and the service stacks register exactly the resources of ${environment}, each once, with the same inputs`, () => {
                const whole = cloudResources([runs.oneStack]);
                const split = cloudResources(runs.stacks);
                assert.deepEqual([...split.keys()].filter((key) => !whole.has(key)), [], "resources only the split layout registers");
                assert.deepEqual([...whole.keys()].filter((key) => !split.has(key)), [], "resources only the one stack registers");
                assert.deepEqual([...split].filter(([, inputs]) => inputs.length > 1).map(([key]) => key), [], "resources registered by two stacks");
                for (const [key, [inputs]] of whole) assert.equal(split.get(key)?.[0], inputs, `${key}: inputs differ between the layouts`);
            });

            it("every stack of the split passes the policy pack on its own, with the environment's pack config", async () => {
                const packConfig = loadPackConfig(path.join(PACK_DIR, `config.${environment}.json`));
                for (const run of runs.stacks) {
                    const result = await runPolicies(run.resources, packConfigForStack(packConfig, platformOutputsOf(run)));
                    assert.equal(result.mandatory, 0, `${run.stack}: ${formatReport(result, run.stack)}`);
                }
            });

            it("each service stack holds its own service and nothing else", () => {
                const serviceNames = services.map((service) => service.name);
                for (const [index, run] of runs.stacks.slice(1).entries()) {
                    const owners = new Set(run.resources.filter((resource) => resource.custom && !isMachinery(resource)).map((resource) => serviceOfComponent(topComponent(run, resource)?.name)));
                    assert.deepEqual([...owners], [serviceNames[index]], `${run.stack} registers resources of ${[...owners].join(", ")}`);
                }
            });

            it("the platform stack holds no service's resources", () => {
                const platform = runs.stacks[0];
                const serviceNames = new Set(services.map((service) => service.name));
                const owned = platform.resources.filter((resource) => resource.custom && serviceNames.has(serviceOfComponent(topComponent(platform, resource)?.name)));
                assert.deepEqual(owned.map((resource) => resource.urn), []);
            });

            it("every AWS resource of a stack without settings of its own goes through the provider made for its environment's region", () => {
                for (const run of runs.stacks) {
                    const providers = run.resources.filter((resource) => resource.type === "pulumi:providers:aws");
                    assert.equal(providers.length, 1, `${run.stack}: one explicit AWS provider`);
                    assert.equal(providers[0].inputs.region, readStackConfig(environment)["aws:region"]);
                    const providerReference = `${providers[0].urn}::${providers[0].outputs.id}`;
                    const elsewhere = run.resources.filter((resource) => resource.custom && resource.type.startsWith("aws:") && resource.provider !== providerReference);
                    assert.deepEqual(elsewhere.map((resource) => resource.urn), [], `${run.stack}: resources on the default provider, which has no region in this stack`);
                }
            });
        });
    }

    it("removing a service changes no other service's stack: its own stack is destroyed and the others keep what they had", async () => {
        const environments = { dev: withLayout(readStackConfig("dev"), "stack-per-service") };
        const removed = "auth";
        const remaining = registeredServices.filter((service) => service.name !== removed);
        for (const service of remaining) {
            const before = await runProgramOffline({ stack: `dev-${service.name}`, environments });
            const after = await runProgramOffline({ stack: `dev-${service.name}`, environments, services: remaining });
            assert.deepEqual(cloudResources([after]), cloudResources([before]), `dev-${service.name} changes when ${removed} goes`);
        }
        await assert.rejects(runProgramOffline({ stack: `dev-${removed}`, environments, services: remaining }), /stack "dev-auth" deploys service "auth", which the registry does not have/);
    });

    describe("stack names and environments that are refused before any resource", () => {
        const devFile = readStackConfig("dev");
        const perService = { dev: withLayout(devFile, "stack-per-service") };

        it("a stack for a service the registry does not have names the environment's stacks", async () => {
            await assert.rejects(runProgramOffline({ stack: "dev-billing", environments: perService }), /stack "dev-billing" deploys service "billing", which the registry does not have; the stacks of dev are dev-platform, dev-/);
            assert.deepEqual(lastRegistered.filter((resource) => resource.custom), []);
        });

        it("the one stack of an environment that deploys a stack per service does not exist", async () => {
            await assert.rejects(runProgramOffline({ stack: "dev", config: perService.dev, environments: perService }), /Environment "dev" deploys as a stack per service .*deploy "dev-platform" first/);
            assert.deepEqual(lastRegistered.filter((resource) => resource.custom), []);
        });

        it("a registry whose database roles together exceed the cluster's connections is refused by the platform stack and by every service stack, the one without a database too", async () => {
            const database = devFile[`${PROJECT}:database`] as Record<string, unknown>;
            const tight = { dev: { ...perService.dev, [`${PROJECT}:database`]: { ...database, connectionsPerFunction: 100 } } };
            for (const stack of ["dev-platform", "dev-users", "dev-auth"]) {
                await assert.rejects(
                    runProgramOffline({ stack, environments: tight }),
                    /the services' database roles may hold \d+ connections together \((\w+ \d+, )*\w+ \d+\), more than the 410 the cluster allows \(max_connections 420 \(estimated from database\.maxCapacity 2 ACU\) less 10 of headroom\)/,
                );
                assert.deepEqual(lastRegistered.filter((resource) => resource.custom), [], `${stack} registered resources`);
            }
            await assert.doesNotReject(runProgramOffline({ stack: "dev-platform", environments: perService }));
        });

        it("a service stack with settings of its own is refused: they belong in the environment's file", () => {
            assert.throws(() => resolveStackTarget("dev-users", { "aws:region": "eu-west-1" }, (environment) => perService[environment as "dev"], PROJECT), StackTargetError);
            assert.throws(() => resolveStackTarget("dev-users", { "aws:region": "eu-west-1" }, (environment) => perService[environment as "dev"], PROJECT), /move the settings out of Pulumi\.dev-users\.yaml/);
        });

        it("a stack without settings of an environment that deploys as one stack says how to switch", () => {
            assert.throws(() => resolveStackTarget("dev-users", {}, () => devFile, PROJECT), /Pulumi\.dev\.yaml deploys as one stack "dev"; set serverless-microservices:layout: stack-per-service/);
            assert.throws(() => resolveStackTarget("staging", {}, () => undefined, PROJECT), /Stack "staging" has no settings: create Pulumi\.staging\.yaml/);
        });

        it("an environment whose name has a - cannot deploy a stack per service (its stack names would be ambiguous)", () => {
            assert.throws(() => parseStackConfig("my-env", withLayout(devFile, "stack-per-service")), (error: unknown) => error instanceof ConfigError && /serverless-microservices:layout: an environment deployed as a stack per service needs a name of lower-case letters and digits/.test(error.message));
            assert.doesNotThrow(() => parseStackConfig("my-env", withLayout(devFile, "one-stack")));
        });

        it("an unknown layout is refused with the allowed ones", () => {
            assert.throws(() => parseStackConfig("dev", { ...devFile, [`${PROJECT}:layout`]: "micro-stacks" }), /serverless-microservices:layout: .*one-stack, stack-per-service/);
        });

        it("no service may be called platform: its stack would be the shared one", () => {
            const platform = defineService({ name: PLATFORM_PART, description: "Shadows the shared stack", database: false, routes: { "GET /shadow": { description: "Shadow", handler: async () => ({}) } } });
            assert.throws(() => resolveRegistry([platform], { memoryMb: 256, timeoutSeconds: 10 }), /service "platform" .*: its data would live in schema "platform", and "platform" is the platform.s own schema/);
        });

        it("a stack name splits at its first -: dev-order-history is the order-history service of dev", () => {
            const target = resolveStackTarget("dev-order-history", {}, (environment) => (environment === "dev" ? perService.dev : undefined), PROJECT);
            assert.deepEqual([target.environment, target.part], ["dev", { kind: "service", service: "order-history" }]);
            const platform = resolveStackTarget("dev-platform", {}, (environment) => (environment === "dev" ? perService.dev : undefined), PROJECT);
            assert.deepEqual([platform.environment, platform.part, platform.config], ["dev", { kind: "platform" }, perService.dev]);
        });
    });
});
