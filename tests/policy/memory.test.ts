import { strict as assert } from "assert";
import { Types } from "../../policy/lib/types";
import { UNKNOWN_STRING_SENTINEL } from "../../policy/lib/unknown";
import { functionProps } from "./fixtures";
import { validateResource, withField } from "./harness";

describe("lambda-memory-bounds", () => {
    const check = (props: object, config?: object) =>
        validateResource("lambda-memory-bounds", { type: Types.lambdaFunction, props }, config);

    it("accepts 256 MB", async () => {
        // Prepare
        const props = functionProps();
        // Act
        const messages = await check(props);
        // Assess
        assert.deepEqual(messages, []);
    });

    it("rejects 4096 MB, above the 3008 MB bound", async () => {
        // Prepare
        const props = withField(functionProps(), "memorySize", 4096);
        // Act
        const messages = await check(props);
        // Assess
        assert.deepEqual(messages, ["Memory size 4096 MB is above the maximum of 3008 MB; set memorySize between 128 and 3008 MB."]);
    });

    it("rejects a function with no memorySize input (CallbackFunction would silently use 128 MB)", async () => {
        // Prepare
        const props = withField(functionProps(), "memorySize", undefined);
        // Act
        const messages = await check(props);
        // Assess
        assert.deepEqual(messages, ["Memory size is not set (AWS applies 128 MB); set memorySize between 128 and 3008 MB."]);
    });

    it("rejects 64 MB, below the 128 MB bound", async () => {
        // Prepare
        const props = withField(functionProps(), "memorySize", 64);
        // Act
        const messages = await check(props);
        // Assess
        assert.deepEqual(messages, ["Memory size 64 MB is below the minimum of 128 MB; set memorySize between 128 and 3008 MB."]);
    });

    it("lets a config override of maxMb accept 4096 MB", async () => {
        // Prepare
        const props = withField(functionProps(), "memorySize", 4096);
        // Act
        const messages = await check(props, { maxMb: 10240 });
        // Assess
        assert.deepEqual(messages, []);
    });

    it("skips a memory size that is unknown during preview", async () => {
        // Prepare
        const props = withField(functionProps(), "memorySize", UNKNOWN_STRING_SENTINEL);
        // Act
        const messages = await check(props);
        // Assess
        assert.deepEqual(messages, []);
    });
});
