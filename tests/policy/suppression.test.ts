import { strict as assert } from "assert";
import { Types } from "../../policy/lib/types";
import { UNKNOWN_STRING_SENTINEL } from "../../policy/lib/unknown";
import { apiChain, functionProps } from "./fixtures";
import { validateResource, validateStack, withField } from "./harness";

/** lambda-timeout-bounds on one function that no trigger reaches, its messages alone. */
async function timeoutMessages(props: Record<string, unknown>): Promise<string[]> {
    return (await validateStack("lambda-timeout-bounds", [{ type: Types.lambdaFunction, name: "export", props }])).map((reported) => reported.message);
}

const REASON = "Nightly export job, invoked by EventBridge, not by the API";

describe("suppression tags (policy-suppress:<rule>)", () => {
    const slowFunction = (tags: Record<string, string>) =>
        withField(withField(functionProps(), "timeout", 60), "tags", { service: "users", ...tags });

    it("suppress a resource finding when the tag gives a reason of 10+ characters", async () => {
        // Prepare
        const props = slowFunction({ "policy-suppress:lambda-timeout-bounds": REASON });
        // Act
        const messages = await timeoutMessages(props);
        // Assess
        assert.deepEqual(messages, []);
    });

    it("suppress only the rule they name", async () => {
        // Prepare
        const props = withField(slowFunction({ "policy-suppress:lambda-memory-bounds": REASON }), "memorySize", 9000);
        // Act
        const timeout = await timeoutMessages(props);
        const memory = await validateResource("lambda-memory-bounds", { type: Types.lambdaFunction, props });
        // Assess
        assert.equal(timeout.length, 1);
        assert.deepEqual(memory, []);
    });

    it("do not suppress when the reason is shorter than 10 characters", async () => {
        // Prepare
        const props = slowFunction({ "policy-suppress:lambda-timeout-bounds": "temp" });
        // Act
        const messages = await timeoutMessages(props);
        // Assess
        assert.deepEqual(messages, ["Timeout 60 s is above the maximum of 29 s; set timeout between 1 and 29 s."]);
    });

    it("suppress a stack-rule finding on the tagged resource", async () => {
        // Prepare
        const specs = apiChain({ functionTimeout: 60 });
        specs[0].props.tags = { "policy-suppress:api-timeout-budget": REASON };
        // Act
        const reported = await validateStack("api-timeout-budget", specs);
        // Assess
        assert.deepEqual(reported, []);
    });
});

describe("policy-suppression-reason", () => {
    const check = (tags: unknown) =>
        validateResource("policy-suppression-reason", { type: Types.lambdaFunction, props: withField(functionProps(), "tags", tags) });

    it("accepts a suppression with a reason of 10+ characters", async () => {
        // Prepare
        const tags = { "policy-suppress:lambda-timeout-bounds": REASON };
        // Act
        const messages = await check(tags);
        // Assess
        assert.deepEqual(messages, []);
    });

    it("rejects a suppression whose reason is shorter than 10 characters", async () => {
        // Prepare
        const tags = { "policy-suppress:lambda-timeout-bounds": "temp" };
        // Act
        const messages = await check(tags);
        // Assess
        assert.deepEqual(messages, ["Tag \"policy-suppress:lambda-timeout-bounds\" gives the reason \"temp\"; a suppression needs a reason of at least 10 characters, so \"lambda-timeout-bounds\" still applies."]);
    });

    it("rejects a suppression naming no rule of the pack", async () => {
        // Prepare
        const tags = { "policy-suppress:lambda-timeout": REASON };
        // Act
        const messages = await check(tags);
        // Assess
        assert.deepEqual(messages, ["Tag \"policy-suppress:lambda-timeout\" names no suppressible rule of this pack, so it suppresses nothing."]);
    });

    it("cannot suppress itself", async () => {
        // Prepare
        const tags = { "policy-suppress:policy-suppression-reason": REASON, "policy-suppress:lambda-timeout-bounds": "x" };
        // Act
        const messages = await check(tags);
        // Assess
        assert.equal(messages.length, 2);
    });

    it("applies to any resource type and skips tags unknown during preview", async () => {
        // Prepare
        const props = { name: "/aws/lambda/x", retentionInDays: 7, tags: UNKNOWN_STRING_SENTINEL };
        // Act
        const messages = await validateResource("policy-suppression-reason", { type: Types.logGroup, props });
        // Assess
        assert.deepEqual(messages, []);
    });
});
