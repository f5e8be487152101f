/**
 * The network under mocks: security group rules as resources of their own (never inline), the
 * interface endpoints as a function of what the stack needs, functions created after the endpoints
 * they call, and a functions' group whose deletion waits out Lambda's network interfaces. Over the
 * fixture registry (a service with the database and one without), with a database service that
 * declares a secret where the Secrets Manager endpoint is asked about.
 */
import * as assert from "node:assert/strict";
import { gatewayEndpointsFor, interfaceEndpointsFor } from "../../infra/components/network";
import { PROJECT } from "../../platform/config/stack-config";
import { Types } from "../../policy/lib/types";
import { estimateCost } from "../../tools/plan/cost";
import { readStackConfig, runProgramOffline, type OfflineRun } from "../../tools/offline";
import { type RegisteredResource } from "../../tools/registered-resource";
import { fixtureServices } from "../../testing/fixtures";
import { ledger } from "../../testing/fixtures/secret-services";
import { ofType } from "../../testing/graph";

const network = (stack: string, settings: Record<string, unknown>) => {
    const config = readStackConfig(stack);
    return { ...config, [`${PROJECT}:network`]: { ...(config[`${PROJECT}:network`] as object), ...settings } };
};

function group(run: OfflineRun, name: string): RegisteredResource {
    const found = ofType(run, Types.securityGroup).find((g) => g.name === name);
    assert.ok(found, `no security group ${name}`);
    return found;
}

/** Every rule of the stack as `<group> <direction> <protocol> <ports> <peer>`. */
function rulesOf(run: OfflineRun): string[] {
    const groups = new Map(ofType(run, Types.securityGroup).map((g) => [g.outputs.id, g.name]));
    const describe = (direction: string) => (rule: RegisteredResource) => {
        const i = rule.inputs;
        const ports = i.ipProtocol === "-1" ? "all" : `${i.fromPort}-${i.toPort}`;
        return `${groups.get(i.securityGroupId)} ${direction} ${i.ipProtocol} ${ports} ${i.cidrIpv4 ?? groups.get(i.referencedSecurityGroupId)}`;
    };
    // The network's own groups; the container platform's rules are its own component's to test.
    const ofNetwork = (rule: RegisteredResource) => rule.name.startsWith("network-");
    return [...ofType(run, Types.securityGroupIngressRule).filter(ofNetwork).map(describe("in")), ...ofType(run, Types.securityGroupEgressRule).filter(ofNetwork).map(describe("out"))].sort();
}

describe("the network under mocks", function () {
    this.timeout(120_000);
    let prod: OfflineRun;
    before(async () => {
        // With a database service that declares a secret: its functions call Secrets Manager's endpoint.
        prod = await runProgramOffline({ stack: "prod", services: [...fixtureServices, ledger] });
    });

    it("declares no rule inline on any security group", () => {
        for (const g of ofType(prod, Types.securityGroup)) assert.deepEqual([g.inputs.ingress, g.inputs.egress], [undefined, undefined], g.name);
    });

    it("lets the functions send PostgreSQL to the database's group and HTTPS to the endpoints' only, and each admit just that from the functions", () => {
        assert.deepEqual(rulesOf(prod), [
            "network-database in tcp 5432-5432 network-functions",
            "network-endpoints in tcp 443-443 network-functions",
            "network-functions out tcp 443-443 network-endpoints",
            "network-functions out tcp 5432-5432 network-database",
        ]);
    });

    it("adds HTTPS out to the internet as a rule of its own when the stack has a NAT gateway", async () => {
        // Act
        const run = await runProgramOffline({ stack: "prod", config: network("prod", { natGateways: "single" }), services: fixtureServices });
        // Assess
        assert.deepEqual(rulesOf(run), [
            "network-database in tcp 5432-5432 network-functions",
            "network-endpoints in tcp 443-443 network-functions",
            "network-functions out tcp 443-443 0.0.0.0/0",
            "network-functions out tcp 443-443 network-endpoints",
            "network-functions out tcp 5432-5432 network-database",
        ]);
        for (const g of ofType(run, Types.securityGroup)) assert.equal(g.inputs.egress, undefined, g.name);
    });

    it("lets the deletion of the functions' group wait 45 minutes for Lambda to release its network interfaces", () => {
        assert.deepEqual(group(prod, "network-functions").customTimeouts, { delete: "45m" });
    });

    it("creates every database function after the interface endpoints it calls, and no other function", () => {
        // Prepare
        const calledByFunctions = (e: { inputs: Record<string, any> }) => /\.(secretsmanager|xray)$/.test(e.inputs.serviceName);
        const endpoints = ofType(prod, Types.vpcEndpoint).filter(calledByFunctions).map((e) => e.urn);
        assert.ok(endpoints.length > 0);
        // Act
        const waits = ofType(prod, Types.lambdaFunction).map((fn) => [fn.name, endpoints.every((urn) => fn.dependencies.includes(urn))]);
        // Assess: the migration worker and every function of a database service wait; the others (the migration launcher among them, outside the VPC) do not.
        const databaseServices = new Set([...fixtureServices, ledger].filter((service) => service.database).map((service) => service.name));
        const expected = ofType(prod, Types.lambdaFunction).map((fn) => {
            const service = fn.inputs.environment?.variables?.SERVICE_NAME;
            return [fn.name, fn.name === "migrations-function" || databaseServices.has(service)];
        });
        assert.deepEqual(Object.fromEntries(waits), Object.fromEntries(expected));
        assert.ok(expected.some(([, waiting]) => !waiting) && expected.some(([, waiting]) => waiting));
    });

    describe("interface endpoints", () => {
        it("are Secrets Manager only for database functions that read declared secrets or container tasks with secrets, and X-Ray only when the stack asks for it", () => {
            const none = { databaseFunctionSecrets: false, xray: false, containerTasks: false };
            assert.deepEqual(interfaceEndpointsFor(none), [], "a database alone needs none: the migration launcher reads the master secret outside the VPC");
            assert.deepEqual(interfaceEndpointsFor({ ...none, databaseFunctionSecrets: true }), ["secretsmanager"]);
            assert.deepEqual(interfaceEndpointsFor({ ...none, containerTasks: true, containerSecrets: true }), ["secretsmanager", "ecr.api", "ecr.dkr", "logs"]);
            assert.deepEqual(interfaceEndpointsFor({ ...none, databaseFunctionSecrets: true, xray: true }), ["secretsmanager", "xray"]);
            assert.deepEqual(interfaceEndpointsFor({ ...none, xray: true }), ["xray"]);
        });

        it("add the image pull and log endpoints, and the free S3 gateway, only while some container task runs", () => {
            const running = { databaseFunctionSecrets: false, xray: false, containerTasks: true };
            assert.deepEqual(interfaceEndpointsFor(running), ["ecr.api", "ecr.dkr", "logs"]);
            assert.deepEqual(gatewayEndpointsFor(running), ["s3"]);
            assert.deepEqual(gatewayEndpointsFor({ ...running, containerTasks: false }), []);
        });

        it("add an X-Ray endpoint in the stack's endpoint zones when network.xrayEndpoint is on, priced with the others", async () => {
            // Act
            const run = await runProgramOffline({ stack: "dev", config: network("dev", { xrayEndpoint: true, endpointZones: 2 }), services: fixtureServices });
            // Assess
            const endpoints = ofType(run, Types.vpcEndpoint);
            assert.deepEqual(
                endpoints.map((e) => [e.name, e.inputs.serviceName, e.inputs.subnetIds.length, e.inputs.privateDnsEnabled]),
                [["network-xray", "com.amazonaws.us-east-1.xray", 2, true]],
            );
            const databaseFunction = ofType(run, Types.lambdaFunction).find((fn) => fn.name === "notes-get-notes")!;
            assert.ok(endpoints.every((e) => databaseFunction.dependencies.includes(e.urn)));
            const line = estimateCost(run.resources).idle.lines.find((l) => l.item === "Interface VPC endpoints")!;
            assert.equal(Math.round(line.amount * 100) / 100, 14.6, "1 endpoint x 2 zones x 730 h x $0.01");
            assert.match(line.note, /^xray in 2 AZs \(for migrations-function, notes-/);
        });

        it("leave Secrets Manager's out of a stack whose database functions read no declared secret, and bring it back for one that does, the migration launcher waiting for none", async () => {
            // Act
            const without = await runProgramOffline({ stack: "dev", services: fixtureServices });
            const withSecrets = await runProgramOffline({ stack: "dev", services: [...fixtureServices, ledger] });
            // Assess
            assert.deepEqual(ofType(without, Types.vpcEndpoint).map((e) => e.name), []);
            const [endpoint, ...others] = ofType(withSecrets, Types.vpcEndpoint);
            assert.deepEqual([endpoint?.inputs.serviceName, others], ["com.amazonaws.us-east-1.secretsmanager", []]);
            const fn = (name: string) => ofType(withSecrets, Types.lambdaFunction).find((candidate) => candidate.name === name)!;
            assert.ok(fn("ledger-get-ledger-signature").dependencies.includes(endpoint.urn), "the ledger's function is created after the endpoint it reads its secret through");
            assert.ok(!fn("migrations-launcher").dependencies.includes(endpoint.urn), "the launcher is outside the VPC");
            const line = estimateCost(withSecrets.resources).idle.lines.find((l) => l.item === "Interface VPC endpoints")!;
            assert.equal(Math.round(line.amount * 100) / 100, 7.3, "1 endpoint x 1 zone x 730 h x $0.01");
            assert.match(line.note, /^secretsmanager in 1 AZ \(for ledger-get-ledger-signature\) x 730 h$/);
        });
    });
});
