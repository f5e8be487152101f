/**
 * A route's throttle owned by the route's stack (`infra/components/route-throttle.ts`): its
 * provider's calls to API Gateway (`aws-sdk-client-mock`), as the engine makes them for create,
 * update, delete, refresh, diff and check; the resource under mocks, whose provider must serialize;
 * and the stage (`ApiStage`) that leaves the routes' throttles to the services' stacks.
 */
import * as assert from "node:assert/strict";
import {
    ApiGatewayV2Client,
    DeleteRouteSettingsCommand,
    GetStageCommand,
    NotFoundException,
    UpdateStageCommand,
} from "@aws-sdk/client-apigatewayv2";
import { mockClient } from "aws-sdk-client-mock";
import { Types } from "../../policy/lib/types";
import { ApiStage } from "../../infra/components/api";
import { routeThrottleProvider, throttleRoute, type RouteThrottleProps } from "../../infra/components/route-throttle";
import { registered } from "../../testing/pulumi-mocks";

const THROTTLE: RouteThrottleProps = { region: "eu-west-1", apiId: "a1b2c3d4e5", stageName: "$default", routeKey: "POST /users", rateLimit: 5, burstLimit: 10 };

function notFound(): NotFoundException {
    return new NotFoundException({ message: "Unable to find Stage", $metadata: {} });
}

describe("RouteThrottle's provider", () => {
    const api = mockClient(ApiGatewayV2Client);
    const provider = routeThrottleProvider;

    beforeEach(() => api.reset());
    after(() => api.restore());

    it("creates the throttle with UpdateStage naming its one route key, in the API's region, with detailed metrics kept on", async () => {
        // Prepare
        api.on(UpdateStageCommand).resolves({});
        // Act
        const created = await provider.create(THROTTLE);
        // Assess
        const calls = api.commandCalls(UpdateStageCommand);
        assert.equal(calls.length, 1);
        assert.deepEqual(calls[0].args[0].input, {
            ApiId: "a1b2c3d4e5",
            StageName: "$default",
            RouteSettings: { "POST /users": { ThrottlingRateLimit: 5, ThrottlingBurstLimit: 10, DetailedMetricsEnabled: true } },
        });
        assert.equal(await (calls[0].thisValue as ApiGatewayV2Client).config.region(), "eu-west-1");
        assert.deepEqual(created, { id: "a1b2c3d4e5/$default/POST /users", outs: THROTTLE });
        assert.equal(api.calls().length, 1, "no read of the stage's other settings: UpdateStage merges by key");
    });

    it("updates new limits with UpdateStage naming its key alone", async () => {
        // Prepare
        api.on(UpdateStageCommand).resolves({});
        const news = { ...THROTTLE, rateLimit: 50, burstLimit: 100 };
        // Act
        const updated = await provider.update!("id", THROTTLE, news);
        // Assess
        assert.deepEqual(api.commandCalls(UpdateStageCommand)[0].args[0].input.RouteSettings, { "POST /users": { ThrottlingRateLimit: 50, ThrottlingBurstLimit: 100, DetailedMetricsEnabled: true } });
        assert.deepEqual(updated, { outs: news });
    });

    it("fails the create when API Gateway refuses the key (the route does not exist)", async () => {
        // Prepare
        api.on(UpdateStageCommand).rejects(new NotFoundException({ message: "Unable to find Route by key POST /users within the provided RouteSettings", $metadata: {} }));
        // Act, Assess
        await assert.rejects(provider.create(THROTTLE), /Unable to find Route by key POST \/users/);
    });

    it("deletes with DeleteRouteSettings for its key", async () => {
        // Prepare
        api.on(DeleteRouteSettingsCommand).resolves({});
        // Act
        await provider.delete!("id", THROTTLE);
        // Assess
        assert.deepEqual(api.commandCalls(DeleteRouteSettingsCommand)[0].args[0].input, { ApiId: "a1b2c3d4e5", StageName: "$default", RouteKey: "POST /users" });
        assert.equal(api.commandCalls(UpdateStageCommand).length, 0);
    });

    it("deletes nothing, and succeeds, when the key or the stage is already gone", async () => {
        api.on(DeleteRouteSettingsCommand).rejects(notFound());
        await provider.delete!("id", THROTTLE);
        assert.equal(api.commandCalls(DeleteRouteSettingsCommand).length, 1);
    });

    it("fails the delete on any other error", async () => {
        api.on(DeleteRouteSettingsCommand).rejects(new Error("AccessDeniedException: not authorized"));
        await assert.rejects(provider.delete!("id", THROTTLE), /not authorized/);
    });

    describe("reads (refresh)", () => {
        it("the live rate and burst of its key", async () => {
            // Prepare
            api.on(GetStageCommand, { ApiId: "a1b2c3d4e5", StageName: "$default" }).resolves({
                RouteSettings: {
                    "POST /users": { ThrottlingRateLimit: 7, ThrottlingBurstLimit: 14, DetailedMetricsEnabled: true },
                    "GET /orders": { ThrottlingRateLimit: 1, ThrottlingBurstLimit: 1 },
                },
            });
            // Act
            const read = await provider.read!("the-id", THROTTLE);
            // Assess
            assert.deepEqual(read, { id: "the-id", props: { ...THROTTLE, rateLimit: 7, burstLimit: 14 } });
        });

        it("gone when the stage has no setting for its key", async () => {
            api.on(GetStageCommand).resolves({ RouteSettings: { "GET /orders": { ThrottlingRateLimit: 1, ThrottlingBurstLimit: 1 } } });
            assert.deepEqual(await provider.read!("the-id", THROTTLE), {});
        });

        it("gone when its key holds no throttle any more", async () => {
            api.on(GetStageCommand).resolves({ RouteSettings: { "POST /users": { DetailedMetricsEnabled: true } } });
            assert.deepEqual(await provider.read!("the-id", THROTTLE), {});
        });

        it("gone when the stage is gone", async () => {
            api.on(GetStageCommand).rejects(notFound());
            assert.deepEqual(await provider.read!("the-id", THROTTLE), {});
        });

        it("and fails on any other error", async () => {
            api.on(GetStageCommand).rejects(new Error("TooManyRequestsException"));
            await assert.rejects(provider.read!("the-id", THROTTLE), /TooManyRequests/);
        });
    });

    describe("diffs", () => {
        it("no change for the same throttle", async () => {
            assert.deepEqual(await provider.diff!("id", THROTTLE, { ...THROTTLE }), { changes: false, replaces: [], deleteBeforeReplace: false });
        });

        it("an update in place for a new rate or burst", async () => {
            assert.deepEqual(await provider.diff!("id", THROTTLE, { ...THROTTLE, rateLimit: 6 }), { changes: true, replaces: [], deleteBeforeReplace: false });
            assert.deepEqual(await provider.diff!("id", THROTTLE, { ...THROTTLE, burstLimit: 11 }), { changes: true, replaces: [], deleteBeforeReplace: false });
        });

        for (const [property, value] of [["routeKey", "POST /accounts"], ["apiId", "f6g7h8i9j0"], ["stageName", "live"], ["region", "us-east-1"]] as const) {
            it(`a replacement, the old key deleted first, for another ${property}`, async () => {
                assert.deepEqual(await provider.diff!("id", THROTTLE, { ...THROTTLE, [property]: value }), { changes: true, replaces: [property], deleteBeforeReplace: true });
            });
        }
    });

    describe("checks", () => {
        it("passes a valid throttle through", async () => {
            assert.deepEqual(await provider.check!({} as RouteThrottleProps, THROTTLE), { inputs: THROTTLE });
        });

        const bad: Array<[string, Partial<RouteThrottleProps>, string, RegExp]> = [
            ["a rate above the account's ceiling", { rateLimit: 20_000 }, "rateLimit", /throttle\.rateLimit 20000 is not allowed; use requests per second from 0 to 10000/],
            ["a negative rate", { rateLimit: -1 }, "rateLimit", /throttle\.rateLimit -1/],
            ["a fractional burst", { burstLimit: 2.5 }, "burstLimit", /throttle\.burstLimit 2\.5 is not allowed/],
            ["a burst above the account's ceiling", { burstLimit: 6_000 }, "burstLimit", /throttle\.burstLimit 6000/],
            ["an empty API id", { apiId: "" }, "apiId", /apiId must be a non-empty string/],
            ["no route key", { routeKey: undefined }, "routeKey", /routeKey must be a non-empty string/],
        ];
        for (const [what, change, property, reason] of bad) {
            it(`refuses ${what}, naming the property`, async () => {
                // Act
                const result = await provider.check!({} as RouteThrottleProps, { ...THROTTLE, ...change } as RouteThrottleProps);
                // Assess
                assert.equal(result.inputs, undefined);
                assert.equal(result.failures?.length, 1, JSON.stringify(result.failures));
                assert.equal(result.failures![0].property, property);
                assert.match(result.failures![0].reason, reason);
                assert.equal(api.calls().length, 0, "a check calls no AWS API");
            });
        }
    });
});

describe("RouteThrottle under mocks", function () {
    this.timeout(60_000);

    it("registers one throttle per throttled route with its stage, key and limits, and a provider that serializes", async () => {
        // Act
        const resources = await registered(() => {
            const stage = { region: "us-east-1", apiId: "a1b2c3d4e5", stageName: "$default" };
            throttleRoute("users-create-throttle", { routeKey: "POST /users", throttle: { rateLimit: 5, burstLimit: 10 } }, stage);
            throttleRoute("users-list-throttle", { routeKey: "GET /users" }, stage);
        });
        // Assess
        const throttles = resources.filter((resource) => resource.type === Types.httpApiRouteThrottle);
        assert.equal(throttles.length, 1, "none for the route without a throttle");
        const { __provider, ...inputs } = throttles[0].inputs;
        assert.equal(throttles[0].name, "users-create-throttle");
        assert.deepEqual(inputs, { region: "us-east-1", apiId: "a1b2c3d4e5", stageName: "$default", routeKey: "POST /users", rateLimit: 5, burstLimit: 10 });
        assert.equal(typeof __provider, "string");
        assert.match(__provider, /require\("@aws-sdk\/client-apigatewayv2[^"]*"\)/, "the SDK is loaded in the CLI's process, not copied");
        assert.match(__provider, /UpdateStageCommand/);
    });
});

describe("ApiStage and the routes' throttles", function () {
    this.timeout(60_000);
    const stageArgs = { environment: "dev", apiId: "a1b2c3d4e5", logRetentionDays: 7, throttlingRateLimit: 50, throttlingBurstLimit: 100 };

    it("with routeThrottlesOwnedByServices registers no route settings and ignores changes to them", async () => {
        // Act
        const resources = await registered(() => new ApiStage("api", { ...stageArgs, routeThrottles: [], routeThrottlesOwnedByServices: true }));
        // Assess
        const stage = resources.find((resource) => resource.type === Types.httpApiStage)!;
        assert.equal(stage.inputs.routeSettings, undefined);
        assert.deepEqual(stage.ignoreChanges, ["routeSettings"]);
        assert.deepEqual(stage.inputs.defaultRouteSettings, { throttlingRateLimit: 50, throttlingBurstLimit: 100, detailedMetricsEnabled: true }, "the stage's default throttle stays the stage's");
    });

    it("without it sets the routes' throttles itself and ignores nothing", async () => {
        // Act
        const resources = await registered(() => new ApiStage("api", { ...stageArgs, routeThrottles: [{ routeKey: "POST /users", rateLimit: 5, burstLimit: 10 }] }));
        // Assess
        const stage = resources.find((resource) => resource.type === Types.httpApiStage)!;
        assert.deepEqual(stage.inputs.routeSettings, [{ routeKey: "POST /users", throttlingRateLimit: 5, throttlingBurstLimit: 10, detailedMetricsEnabled: true }]);
        assert.deepEqual(stage.ignoreChanges, []);
    });

    it("refuses route throttles given together with routeThrottlesOwnedByServices, naming them", async () => {
        await assert.rejects(
            registered(() => new ApiStage("api", { ...stageArgs, routeThrottles: [{ routeKey: "POST /users", rateLimit: 5, burstLimit: 10 }], routeThrottlesOwnedByServices: true })),
            /ApiStage api: routeThrottles must be empty with routeThrottlesOwnedByServices .*given POST \/users/,
        );
    });
});
