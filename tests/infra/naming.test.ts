/**
 * Every name the program gives AWS, or lets Pulumi generate from a logical name, within AWS's limit
 * and character set: at the limit a name is kept, one over it is shortened the same way every time,
 * and a stack name with `_` or `.` (Pulumi allows both) makes no invalid identifier.
 */
import * as assert from "node:assert/strict";
import { defineService } from "../../functions/runtime/service";
import { alarmName, containerPlatformNames, dashboardName, finalSnapshotIdentifier, fitName, nameProblems, routeId, routeResourceName } from "../../platform/naming";
import { NAME_RULES, type NameRule } from "../../policy/lib/limits";
import { Types } from "../../policy/lib/types";
import { lastRegistered, readStackConfig, runProgramOffline } from "../../tools/offline";
import { type RegisteredResource } from "../../tools/registered-resource";
import { fixtureServices } from "../../testing/fixtures";
import { echoContainer } from "../../testing/fixtures/registries";

/** Each named resource type: which of its names AWS sees, under which rule. */
const NAMES_OF: Record<string, (r: RegisteredResource) => Array<[string, NameRule]>> = {
    [Types.lambdaFunction]: (r) => [[r.name, NAME_RULES.lambdaFunction]],
    [Types.lambdaPermission]: (r) => [[r.name, NAME_RULES.lambdaStatementId]],
    [Types.iamRole]: (r) => [[r.name, NAME_RULES.iamRole]],
    [Types.logGroup]: (r) => [[r.inputs.name, NAME_RULES.logGroup]],
    [Types.metricAlarm]: (r) => [[r.inputs.name, NAME_RULES.metricAlarm]],
    [Types.snsTopic]: (r) => [[r.inputs.name, NAME_RULES.snsTopic]],
    [Types.dashboard]: (r) => [[r.inputs.dashboardName, NAME_RULES.dashboard]],
    [Types.rdsCluster]: (r) => [
        [r.name, NAME_RULES.rdsAutonamedIdentifier],
        ...(r.inputs.finalSnapshotIdentifier ? ([[r.inputs.finalSnapshotIdentifier, NAME_RULES.rdsIdentifier]] as Array<[string, NameRule]>) : []),
    ],
    [Types.rdsClusterInstance]: (r) => [[r.name, NAME_RULES.rdsAutonamedIdentifier]],
    [Types.ecsCluster]: (r) => [[r.inputs.name, NAME_RULES.ecsCluster]],
    [Types.serviceDiscoveryNamespace]: (r) => String(r.inputs.name).split(".").map((label): [string, NameRule] => [label, NAME_RULES.dnsLabel]),
    [Types.httpApiVpcLink]: (r) => [[r.inputs.name, NAME_RULES.vpcLink]],
    [Types.ecrRepository]: (r) => [[r.inputs.name, NAME_RULES.ecrRepository]],
    [Types.ecsTaskDefinition]: (r) => [[r.inputs.family, NAME_RULES.ecsTaskFamily]],
};

/** Every name of a run that AWS would refuse, with the resource it belongs to. */
function refusedNames(resources: readonly RegisteredResource[]): string[] {
    return resources.flatMap((r) =>
        (NAMES_OF[r.type]?.(r) ?? []).flatMap(([name, rule]) => nameProblems(String(name), rule).map((problem) => `${r.type} ${r.name}: ${name} ${problem}`)),
    );
}

const ok = async () => ({});
/** A service name and a route whose resource name, `<service>-<route id>`, is `length` characters long. */
function serviceWithNameLength(length: number) {
    const service = "billing";
    const segment = "x".repeat(length - `${service}-get-`.length);
    return defineService({ name: service, description: "Bills", database: false, routes: { [`GET /${segment}`]: { handler: ok } } });
}

describe("names within AWS's limits", function () {
    this.timeout(120_000);

    describe("fitName", () => {
        const rule = NAME_RULES.dashboard;

        it("keeps a name exactly at the limit", () => {
            // Prepare
            const name = "a".repeat(rule.maxLength);
            // Act
            const fitted = fitName(name, rule);
            // Assess
            assert.equal(fitted, name);
        });

        it("shortens a name one over the limit to the limit, ending in a hash of the whole name", () => {
            // Prepare
            const name = "a".repeat(rule.maxLength + 1);
            // Act
            const fitted = fitName(name, rule);
            // Assess
            assert.equal(fitted.length, rule.maxLength);
            assert.match(fitted, /^a+-[0-9a-f]{7}$/);
            assert.deepEqual(nameProblems(fitted, rule), []);
        });

        it("gives the same name every time, and different names to names that share the kept prefix", () => {
            // Prepare
            const base = "b".repeat(rule.maxLength);
            // Act
            const [first, again, other] = [fitName(`${base}-one`, rule), fitName(`${base}-one`, rule), fitName(`${base}-two`, rule)];
            // Assess
            assert.equal(first, again);
            assert.notEqual(first, other);
        });

        it("replaces characters AWS refuses and keeps names that differ only in them apart", () => {
            // Act
            const underscore = fitName("serverless-microservices-qa_1", NAME_RULES.rdsIdentifier);
            const dot = fitName("serverless-microservices-qa.1", NAME_RULES.rdsIdentifier);
            // Assess
            assert.deepEqual([nameProblems(underscore, NAME_RULES.rdsIdentifier), nameProblems(dot, NAME_RULES.rdsIdentifier)], [[], []]);
            assert.notEqual(underscore, dot);
            assert.match(underscore, /^serverless-microservices-qa-1-[0-9a-f]{7}$/);
        });

        it("reports what AWS refuses in an RDS identifier: length, characters, the first letter, -- and a trailing -", () => {
            // Act
            const problems = nameProblems(`1${"a".repeat(62)}--_-`, NAME_RULES.rdsIdentifier);
            // Assess
            assert.deepEqual(problems, [
                "has 67 characters; AWS allows 63",
                'contains "_"; AWS allows letters, digits and -',
                "must start with a letter",
                "must not contain --",
                "must not end with -",
            ]);
        });

        it("reports what ECR refuses in a repository name: upper case, and a separator first, last or next to another", () => {
            // Act
            const problems = nameProblems("-Shop._images-", NAME_RULES.ecrRepository);
            // Assess
            assert.deepEqual(problems, ['contains "S"; AWS allows lower-case letters, digits and ._-', "must start and end with a letter or a digit", "must not have two of ._- in a row"]);
        });

        it("folds a name to lower case and collapses separators where AWS takes lower case only (ECR, DNS labels)", () => {
            // Act
            const repository = fitName("serverless-microservices-Feature.._Preview-", NAME_RULES.ecrRepository);
            const label = fitName("serverless-microservices-Feature.Preview_2026", NAME_RULES.dnsLabel);
            // Assess
            assert.match(repository, /^serverless-microservices-feature-preview-[0-9a-f]{7}$/);
            assert.match(label, /^serverless-microservices-feature-preview-2026-[0-9a-f]{7}$/);
            assert.deepEqual([nameProblems(repository, NAME_RULES.ecrRepository), nameProblems(label, NAME_RULES.dnsLabel)], [[], []]);
        });

        it("leaves room for Pulumi's autoname suffix in logical names", () => {
            // Act
            const problems = nameProblems("f".repeat(57), NAME_RULES.lambdaFunction);
            // Assess
            assert.deepEqual(problems, ["has 57 characters; at most 56 leave room for the 8 Pulumi appends within AWS's 64"]);
        });
    });

    describe("route resources", () => {
        it("keep a 56-character name and shorten a 57-character one to 56", () => {
            // Prepare
            const [atLimit, overLimit] = [serviceWithNameLength(56), serviceWithNameLength(57)];
            const nameOf = (service: typeof atLimit) => {
                const [routeKey] = Object.keys(service.routes);
                const [method, path] = routeKey.split(" ");
                return { full: `${service.name}-${routeId(method, path)}`, fitted: routeResourceName(service.name, routeId(method, path)) };
            };
            // Act
            const kept = nameOf(atLimit);
            const shortened = nameOf(overLimit);
            // Assess
            assert.equal(kept.full.length, 56);
            assert.equal(kept.fitted, kept.full);
            assert.equal(shortened.full.length, 57);
            assert.equal(shortened.fitted.length, 56);
            assert.notEqual(shortened.fitted, shortened.full);
        });

        it("deploy a service whose route name is over 56 characters with every name within AWS's limits", async () => {
            // Prepare: 63 characters, the function name Pulumi would generate 71.
            const billing = defineService({
                name: "subscriptions-billing",
                description: "Invoices of an account",
                database: false,
                routes: {
                    "GET /accounts/{accountId}/invoices/{invoiceId}": { handler: ok },
                    "GET /accounts/{accountId}/invoices/{invoiceId}/lines": { handler: ok },
                },
            });
            // Act
            const run = await runProgramOffline({ stack: "prod", services: [...fixtureServices, billing] });
            // Assess
            assert.deepEqual(refusedNames(run.resources), []);
            const functions = run.resources.filter((r) => r.type === Types.lambdaFunction && r.inputs.environment?.variables?.SERVICE_NAME === "subscriptions-billing");
            assert.equal(new Set(functions.map((fn) => fn.name)).size, 2);
            for (const fn of functions) assert.ok(fn.outputs.name.length <= 64, fn.outputs.name);
            const alarms = run.resources.filter((r) => r.type === Types.metricAlarm && r.inputs.name.includes("subscriptions-billing"));
            assert.equal(alarms.length, 6);
        });
    });

    describe("stack names", () => {
        it("make no invalid dashboard, topic, alarm, log group or snapshot name from a stack named with _ and .", async () => {
            // Prepare: prod's settings (alarms, dashboard, final snapshot) under a stack name Pulumi allows.
            const stack = "release_2026.1";
            // Act
            const run = await runProgramOffline({ stack, config: readStackConfig("prod"), services: fixtureServices });
            // Assess
            assert.deepEqual(refusedNames(run.resources), []);
            const dashboards = run.resources.filter((r) => r.type === Types.dashboard).map((r) => r.inputs.dashboardName as string);
            assert.equal(dashboards.filter((name) => /^serverless-microservices-release_2026-1-[0-9a-f]{7}$/.test(name)).length, 1, dashboards.join(", "));
            for (const service of fixtureServices) {
                assert.equal(dashboards.filter((name) => new RegExp(`^serverless-microservices-release_2026-1-${service.name}-[0-9a-f]{7}$`).test(name)).length, 1, `${service.name}: ${dashboards.join(", ")}`);
            }
            assert.equal(dashboards.length, 1 + fixtureServices.length);
            const cluster = run.resources.find((r) => r.type === Types.rdsCluster)!;
            assert.match(cluster.inputs.finalSnapshotIdentifier, /^serverless-microservices-release-2026-1-[a-z-]+-[0-9a-f]{7}-1a2b3c4d$/);
            assert.equal(cluster.inputs.finalSnapshotIdentifier.length, NAME_RULES.rdsIdentifier.maxLength);
        });

        it("fit every container resource's name under a long stack name with upper case, . and _, before AWS sees it", async () => {
            // Prepare: prod's settings and a container service, under a stack name Pulumi allows.
            const stack = "Feature.Preview_2026-with-a-rather-long-name";
            // Act
            const run = await runProgramOffline({ stack, config: readStackConfig("prod"), services: [...fixtureServices, echoContainer({ database: true })] });
            // Assess
            assert.deepEqual(refusedNames(run.resources), []);
            for (const type of [Types.ecsCluster, Types.serviceDiscoveryNamespace, Types.httpApiVpcLink, Types.ecrRepository, Types.ecsTaskDefinition]) {
                assert.equal(run.resources.filter((r) => r.type === type).length, 1, type);
            }
            const namespace = run.resources.find((r) => r.type === Types.serviceDiscoveryNamespace)!.inputs.name;
            assert.match(namespace, /^serverless-microservices-feature-preview-2026-with-a-r[a-z]*-[0-9a-f]{7}\.internal$/);
            assert.equal(namespace.split(".")[0].length, NAME_RULES.dnsLabel.maxLength);
            assert.match(run.resources.find((r) => r.type === Types.ecrRepository)!.inputs.name, /^serverless-microservices-feature\.preview_2026-with-a-rather-long-name-echo-[0-9a-f]{7}$/);
            assert.match(run.resources.find((r) => r.type === Types.ecsCluster)!.inputs.name, /^serverless-microservices-Feature-Preview_2026-with-a-rather-long-name-[0-9a-f]{7}$/);
        });

        it("keep a namespace label of 63 characters and shorten one of 64 to 63", () => {
            // Prepare: `serverless-microservices-` is 25 characters.
            const [atLimit, overLimit] = ["s".repeat(38), "s".repeat(39)];
            // Act
            const [kept, shortened] = [containerPlatformNames("serverless-microservices", atLimit).namespace, containerPlatformNames("serverless-microservices", overLimit).namespace];
            // Assess
            assert.equal(kept, `serverless-microservices-${atLimit}.internal`);
            assert.equal(shortened.split(".")[0].length, 63);
            assert.match(shortened, /-[0-9a-f]{7}\.internal$/);
        });

        it("refuse a stack name Pulumi would not allow, naming the stack and what is allowed, before any resource", async () => {
            // Act, Assess
            await assert.rejects(
                runProgramOffline({ stack: "preview 2026!", config: readStackConfig("dev"), services: [...fixtureServices, echoContainer()] }),
                /the stack name "preview 2026!" is not allowed; use letters, digits, -, _ and \. \(at most 100 characters\)/,
            );
            assert.deepEqual(lastRegistered.filter((r) => r.custom), []);
        });

        it("keep the physical names of dev's and prod's container resources byte for byte", async () => {
            for (const stack of ["dev", "prod"]) {
                // Act
                const run = await runProgramOffline({ stack, services: [...fixtureServices, echoContainer()] });
                const nameOf = (type: string, input = "name") => run.resources.find((r) => r.type === type)!.inputs[input];
                // Assess
                assert.deepEqual(
                    {
                        cluster: nameOf(Types.ecsCluster),
                        namespace: nameOf(Types.serviceDiscoveryNamespace),
                        namespaceDescription: nameOf(Types.serviceDiscoveryNamespace, "description"),
                        vpcLink: nameOf(Types.httpApiVpcLink),
                        repository: nameOf(Types.ecrRepository),
                        family: nameOf(Types.ecsTaskDefinition, "family"),
                        logGroup: run.resources.find((r) => r.type === Types.logGroup && String(r.inputs.name).endsWith("/container"))!.inputs.name,
                    },
                    {
                        cluster: `serverless-microservices-${stack}`,
                        namespace: `serverless-microservices-${stack}.internal`,
                        namespaceDescription: `Container services of serverless-microservices-${stack}`,
                        vpcLink: `serverless-microservices-${stack}`,
                        repository: `serverless-microservices-${stack}-echo`,
                        family: `serverless-microservices-${stack}-echo`,
                        logGroup: `/serverless-microservices/${stack}/echo/container`,
                    },
                );
            }
        });

        it("keep the names of the stacks that fit today", () => {
            // Act
            const names = [dashboardName("serverless-microservices", "prod"), finalSnapshotIdentifier("serverless-microservices", "prod", "database", "1a2b3c4d")];
            // Assess
            assert.deepEqual(names, ["serverless-microservices-prod", "serverless-microservices-prod-database-final-1a2b3c4d"]);
        });
    });

    it("gives two projects' stacks of the same name different alarm names (PutMetricAlarm overwrites by name)", () => {
        // Act
        const [ours, theirs] = [alarmName("serverless-microservices", "prod", "api-5xx-rate"), alarmName("billing-platform", "prod", "api-5xx-rate")];
        // Assess
        assert.notEqual(ours, theirs);
        assert.equal(ours, "serverless-microservices-prod-api-5xx-rate");
    });
});
