import { strict as assert } from "assert";
import { Types } from "../../policy/lib/types";
import { UNKNOWN_STRING_SENTINEL } from "../../policy/lib/unknown";
import { apiChain, functionProps, logGroupProps } from "./fixtures";
import { NOT_APPLICABLE, validateResource, validateStack, withField } from "./harness";

describe("lambda-timeout-bounds (a function no trigger reaches: the route bound)", () => {
    const check = async (props: object, config?: object) =>
        (await validateStack("lambda-timeout-bounds", [{ type: Types.lambdaFunction, name: "subject", props: props as Record<string, unknown> }], config)).map((reported) => reported.message);

    it("accepts a 10 s timeout", async () => {
        // Prepare
        const props = functionProps();
        // Act
        const messages = await check(props);
        // Assess
        assert.deepEqual(messages, []);
    });

    it("rejects a 60 s timeout", async () => {
        // Prepare
        const props = withField(functionProps(), "timeout", 60);
        // Act
        const messages = await check(props);
        // Assess
        assert.deepEqual(messages, ["Timeout 60 s is above the maximum of 29 s; set timeout between 1 and 29 s."]);
    });

    it("rejects a function with no timeout", async () => {
        // Prepare
        const props = withField(functionProps(), "timeout", undefined);
        // Act
        const messages = await check(props);
        // Assess
        assert.deepEqual(messages, ["Timeout is not set (AWS applies 3 s); set timeout between 1 and 29 s."]);
    });

    it("rejects a timeout below the configured minimum of 5 s", async () => {
        // Prepare
        const props = withField(functionProps(), "timeout", 3);
        // Act
        const messages = await check(props, { minSeconds: 5 });
        // Assess
        assert.deepEqual(messages, ["Timeout 3 s is below the minimum of 5 s; set timeout between 5 and 29 s."]);
    });

    it("lets a config override of maxSeconds reject a timeout the default accepts", async () => {
        // Prepare
        const props = functionProps();
        // Act
        const withDefault = await check(props);
        const withOverride = await check(props, { maxSeconds: 5, enforcementLevel: "mandatory" });
        // Assess
        assert.deepEqual(withDefault, []);
        assert.deepEqual(withOverride, ["Timeout 10 s is above the maximum of 5 s; set timeout between 1 and 5 s."]);
    });

    it("skips a timeout that is unknown during preview", async () => {
        // Prepare
        const props = withField(functionProps(), "timeout", UNKNOWN_STRING_SENTINEL);
        // Act
        const messages = await check(props);
        // Assess
        assert.deepEqual(messages, []);
    });

    it("reads only functions: a log group in the stack is no finding", async () => {
        // Prepare
        const stack = [{ type: Types.logGroup, name: "logs", props: logGroupProps() }];
        // Act
        const reported = await validateStack("lambda-timeout-bounds", stack);
        // Assess
        assert.deepEqual(reported, []);
    });
});

describe("api-timeout-budget", () => {
    const check = (...args: Parameters<typeof apiChain>) => validateStack("api-timeout-budget", apiChain(...args));

    it("accepts a 10 s function behind a 30 s integration", async () => {
        // Prepare
        const opts = { functionTimeout: 10 };
        // Act
        const reported = await check(opts);
        // Assess
        assert.deepEqual(reported, []);
    });

    it("rejects a 60 s function behind an API route, naming the function", async () => {
        // Prepare
        const opts = { functionTimeout: 60 };
        // Act
        const reported = await check(opts);
        // Assess
        assert.deepEqual(reported, [{
            resource: "users-get-user",
            message: "Timeout 60 s is not below the 30 s the HTTP API waits for route \"GET /users/{id}\"; the caller gets an error at 30 s while the function keeps running. Set timeout below 30 s.",
        }]);
    });

    it("rejects a 30 s function: equal to the integration timeout is too long", async () => {
        // Prepare
        const opts = { functionTimeout: 30 };
        // Act
        const reported = await check(opts);
        // Assess
        assert.equal(reported.length, 1);
        assert.match(reported[0].message, /^Timeout 30 s is not below the 30 s/);
    });

    it("rejects a 10 s function behind a 10 000 ms integration", async () => {
        // Prepare
        const opts = { functionTimeout: 10, integrationTimeoutMs: 10000 };
        // Act
        const reported = await check(opts);
        // Assess
        assert.deepEqual(reported.map((r) => r.resource), ["users-get-user"]);
        assert.match(reported[0].message, /^Timeout 10 s is not below the 10 s the HTTP API waits/);
    });

    it("applies the 30 000 ms default when the integration sets no timeout", async () => {
        // Prepare
        const opts = { functionTimeout: 30, integrationTimeoutMs: undefined };
        // Act
        const reported = await check(opts);
        // Assess
        assert.deepEqual(reported.map((r) => r.resource), ["users-get-user"]);
    });

    it("rejects an integration timeout above 30 000 ms, naming the integration", async () => {
        // Prepare
        const opts = { functionTimeout: 29, integrationTimeoutMs: 45000 };
        // Act
        const reported = await check(opts);
        // Assess
        assert.deepEqual(reported, [{
            resource: "users-get-user-integration",
            message: "Integration timeout 45000 ms is above the HTTP API's limit of 30000 ms; set timeoutMilliseconds to at most 30000.",
        }]);
    });

    it("follows the chain by ids and ARNs when no property dependencies are recorded", async () => {
        // Prepare
        const opts = { functionTimeout: 60, linkBy: "values" as const };
        // Act
        const reported = await check(opts);
        // Assess
        assert.deepEqual(reported.map((r) => r.resource), ["users-get-user"]);
    });

    it("ignores a 60 s function that no route reaches", async () => {
        // Prepare
        const specs = apiChain({ functionTimeout: 60 }).filter((s) => s.type !== Types.httpApiRoute);
        // Act
        const reported = await validateStack("api-timeout-budget", specs);
        // Assess
        assert.deepEqual(reported, []);
    });

    it("skips a function whose timeout is unknown during preview", async () => {
        // Prepare
        const opts = { functionTimeout: UNKNOWN_STRING_SENTINEL };
        // Act
        const reported = await check(opts);
        // Assess
        assert.deepEqual(reported, []);
    });

    it("skips a route whose target is unknown and has no recorded dependency", async () => {
        // Prepare
        const specs = apiChain({ functionTimeout: 60, linkBy: "values" });
        specs.find((s) => s.type === Types.httpApiRoute)!.props.target = UNKNOWN_STRING_SENTINEL;
        // Act
        const reported = await validateStack("api-timeout-budget", specs);
        // Assess
        assert.deepEqual(reported, []);
    });

    it("lets a config override of maxIntegrationTimeoutMs tighten the budget", async () => {
        // Prepare
        const specs = apiChain({ functionTimeout: 20 });
        // Act
        const reported = await validateStack("api-timeout-budget", specs, { maxIntegrationTimeoutMs: 15000 });
        // Assess
        assert.deepEqual(reported.map((r) => r.resource), ["users-get-user-integration", "users-get-user"]);
        assert.match(reported[1].message, /^Timeout 20 s is not below the 15 s/);
    });
});
