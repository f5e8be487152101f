/**
 * The API edge under mocks: the JWT authorizer, route authorization, per-route throttling and the
 * custom domain, from the registry (the fixture registry: a protected write, a protected delete
 * with a scope, public reads, a throttled route) and the stack files.
 */
import * as assert from "node:assert/strict";
import { defineService } from "../../functions/runtime/service";
import { parseStackConfig, PROJECT } from "../../platform/config/stack-config";
import { RegistryError, resolveRegistry } from "../../platform/registry/resolution";
import { fixtureServices } from "../../testing/fixtures";
import { ofType } from "../../testing/graph";
import { lastRegistered, readStackConfig, runProgramOffline, type OfflineRun } from "../../tools/offline";
import { type RegisteredResource } from "../../tools/registered-resource";

const ok = async () => ({});

describe("the API edge", function () {
    this.timeout(120_000);
    let prod: OfflineRun;
    const prodConfig = parseStackConfig("prod", readStackConfig("prod"));
    const { routes } = resolveRegistry(fixtureServices, prodConfig.functionDefaults);
    const protectedRoutes = routes.filter((route) => route.auth === "jwt");
    before(async () => {
        prod = await runProgramOffline({ stack: "prod", services: fixtureServices });
    });

    it("creates one JWT authorizer per API, with the stack's issuer and audience", () => {
        const authorizers = ofType(prod, "aws:apigatewayv2/authorizer:Authorizer");
        assert.equal(authorizers.length, 1);
        const jwt = readStackConfig("prod")[`${PROJECT}:auth`] as { jwt: { issuer: string; audience: string[] } };
        assert.deepEqual(authorizers[0].inputs.jwtConfiguration, { issuer: jwt.jwt.issuer, audiences: jwt.jwt.audience });
        assert.deepEqual(authorizers[0].inputs.identitySources, ["$request.header.Authorization"]);
        assert.equal(authorizers[0].inputs.authorizerType, "JWT");
    });

    it("protects the routes with auth jwt with it (with their scopes) and leaves the others public", () => {
        const authorizerId = ofType(prod, "aws:apigatewayv2/authorizer:Authorizer")[0].outputs.id;
        const summary = ofType(prod, "aws:apigatewayv2/route:Route")
            .map((route) => [route.inputs.routeKey, route.inputs.authorizationType, route.inputs.authorizerId ?? null, route.inputs.authorizationScopes ?? null])
            .sort();
        const expected = routes
            .map((route) => (route.auth === "jwt" ? [route.routeKey, "JWT", authorizerId, route.scopes.length > 0 ? route.scopes : null] : [route.routeKey, "NONE", null, null]))
            .sort();
        assert.deepEqual(summary, expected);
        assert.ok(protectedRoutes.length > 0 && protectedRoutes.length < routes.length, "the fixture has both kinds");
        assert.ok(protectedRoutes.some((route) => route.scopes.length > 0), "and a route with scopes");
    });

    it("deploys the registry's throttling overrides as route settings of the stage, over the stack's defaults", () => {
        const stage = ofType(prod, "aws:apigatewayv2/stage:Stage")[0];
        const overrides = routes.filter((route) => route.throttle);
        assert.ok(overrides.length > 0);
        assert.deepEqual(
            stage.inputs.routeSettings,
            overrides.map((route) => ({ routeKey: route.routeKey, throttlingRateLimit: route.throttle!.rateLimit, throttlingBurstLimit: route.throttle!.burstLimit, detailedMetricsEnabled: true })),
        );
        assert.deepEqual(stage.inputs.defaultRouteSettings, { throttlingRateLimit: prodConfig.api.throttlingRateLimit, throttlingBurstLimit: prodConfig.api.throttlingBurstLimit, detailedMetricsEnabled: true });
    });

    it("creates the stage after the routes it names", () => {
        const stage = ofType(prod, "aws:apigatewayv2/stage:Stage")[0];
        const routeUrns = ofType(prod, "aws:apigatewayv2/route:Route").map((route) => route.urn);
        assert.equal(routeUrns.length, routes.length);
        for (const urn of routeUrns) assert.ok(stage.dependencies.includes(urn), `the stage does not wait for ${urn}`);
    });

    it("has no custom domain unless the stack configures one, and then maps it with an alias record", async () => {
        assert.equal(ofType(prod, "aws:apigatewayv2/domainName:DomainName").length, 0);
        const domain = { name: "api.example.com", certificateArn: "arn:aws:acm:us-east-1:123456789012:certificate/abc-123", hostedZoneId: "Z0123456789ABC" };
        const run = await runProgramOffline({ stack: "prod", config: { ...readStackConfig("prod"), [`${PROJECT}:domain`]: domain }, services: fixtureServices });
        const [name] = ofType(run, "aws:apigatewayv2/domainName:DomainName");
        assert.equal(name.inputs.domainName, "api.example.com");
        assert.deepEqual(name.inputs.domainNameConfiguration, { certificateArn: domain.certificateArn, endpointType: "REGIONAL", securityPolicy: "TLS_1_2" });
        const [mapping] = ofType(run, "aws:apigatewayv2/apiMapping:ApiMapping");
        assert.equal(mapping.inputs.domainName, name.outputs.id);
        assert.equal(mapping.inputs.stage, ofType(run, "aws:apigatewayv2/stage:Stage")[0].outputs.id);
        const [record] = ofType(run, "aws:route53/record:Record");
        assert.deepEqual([record.inputs.zoneId, record.inputs.name, record.inputs.type], ["Z0123456789ABC", "api.example.com", "A"]);
        assert.equal(run.outputs.apiUrl, "https://api.example.com");
    });

    it("stops before any resource when a route uses jwt and the stack names no issuer", async () => {
        const config = { ...readStackConfig("dev") };
        delete config[`${PROJECT}:auth`];
        const message = `serverless-microservices:auth.jwt: is required (issuer and audience) because routes ${protectedRoutes.map((route) => route.routeKey).join(", ")} use auth "jwt"`;
        await assert.rejects(runProgramOffline({ stack: "dev", config, services: fixtureServices }), (error: Error) => error.message.includes(message));
        assert.deepEqual(lastRegistered.filter((r) => r.type !== "pulumi:pulumi:Stack"), []);
    });

    it("creates no authorizer when no route uses jwt", async () => {
        const run = await runProgramOffline({ stack: "dev", services: fixtureServices.filter((service) => Object.values(service.routes).every((route) => route?.auth !== "jwt")) });
        assert.ok(ofType(run, "aws:apigatewayv2/route:Route").length > 0);
        assert.equal(ofType(run, "aws:apigatewayv2/authorizer:Authorizer").length, 0);
    });

    describe("registry validation of auth and throttling", () => {
        const problemsOf = (route: object) => {
            try {
                resolveRegistry([defineService({ name: "orders", description: "x", database: false, routes: { "GET /orders": { handler: ok, ...route } } })], { memoryMb: 256, timeoutSeconds: 10 });
            } catch (error) {
                assert.ok(error instanceof RegistryError);
                return error.problems;
            }
            assert.fail("accepted");
        };

        it("rejects an auth other than none or jwt", () => {
            assert.deepEqual(problemsOf({ auth: "iam" }), ['service "orders" (tests/infra/api-edge.test.ts), route "GET /orders": auth "iam" is not allowed; use "none" (public) or "jwt"']);
        });

        it("rejects scopes without jwt, and malformed scopes", () => {
            assert.deepEqual(problemsOf({ scopes: ["a"] }), ['service "orders" (tests/infra/api-edge.test.ts), route "GET /orders": scopes need auth "jwt"']);
            assert.deepEqual(problemsOf({ auth: "jwt", scopes: ["has space"] }), ['service "orders" (tests/infra/api-edge.test.ts), route "GET /orders": scopes must be a non-empty list of OAuth scopes (no spaces), e.g. ["users:write"]']);
            assert.deepEqual(problemsOf({ auth: "jwt", scopes: [] }), ['service "orders" (tests/infra/api-edge.test.ts), route "GET /orders": scopes must be a non-empty list of OAuth scopes (no spaces), e.g. ["users:write"]']);
        });

        it("rejects a throttle outside API Gateway's limits", () => {
            assert.deepEqual(problemsOf({ throttle: { rateLimit: -1, burstLimit: 1.5 } }), [
                'service "orders" (tests/infra/api-edge.test.ts), route "GET /orders": throttle.rateLimit -1 is not allowed; use requests per second from 0 to 10000',
                'service "orders" (tests/infra/api-edge.test.ts), route "GET /orders": throttle.burstLimit 1.5 is not allowed; use an integer from 0 to 5000',
            ]);
            assert.deepEqual(problemsOf({ throttle: { rateLimit: 5 } }), ['service "orders" (tests/infra/api-edge.test.ts), route "GET /orders": throttle.burstLimit undefined is not allowed; use an integer from 0 to 5000']);
        });

        it("resolves auth, scopes and throttle onto the route", () => {
            const [route] = resolveRegistry([defineService({ name: "orders", description: "x", database: false, routes: { "GET /orders": { handler: ok, auth: "jwt", scopes: ["orders:read"], throttle: { rateLimit: 5, burstLimit: 10 } } } })], { memoryMb: 256, timeoutSeconds: 10 }).routes;
            assert.deepEqual([route.auth, route.scopes, route.throttle], ["jwt", ["orders:read"], { rateLimit: 5, burstLimit: 10 }]);
        });
    });
});
