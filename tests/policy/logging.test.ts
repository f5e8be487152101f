import { strict as assert } from "assert";
import { Types } from "../../policy/lib/types";
import { UNKNOWN_STRING_SENTINEL } from "../../policy/lib/unknown";
import { functionProps, logGroupProps, stageProps } from "./fixtures";
import { StackSpec, validateResource, validateStack, withField } from "./harness";

describe("lambda-json-logging", () => {
    const check = (props: object) => validateResource("lambda-json-logging", { type: Types.lambdaFunction, props });

    it("accepts JSON logging", async () => {
        // Prepare
        const props = functionProps();
        // Act
        const messages = await check(props);
        // Assess
        assert.deepEqual(messages, []);
    });

    it("rejects Text logging", async () => {
        // Prepare
        const props = withField(functionProps(), "loggingConfig.logFormat", "Text");
        // Act
        const messages = await check(props);
        // Assess
        assert.deepEqual(messages, ["Log format is \"Text\"; set loggingConfig.logFormat to \"JSON\" so logs are structured and log levels apply."]);
    });

    it("rejects a function with no loggingConfig", async () => {
        // Prepare
        const props = withField(functionProps(), "loggingConfig", undefined);
        // Act
        const messages = await check(props);
        // Assess
        assert.deepEqual(messages, ["Log format is not set (Lambda defaults to Text); set loggingConfig.logFormat to \"JSON\"."]);
    });

    it("skips a loggingConfig that is unknown during preview", async () => {
        // Prepare
        const props = withField(functionProps(), "loggingConfig", UNKNOWN_STRING_SENTINEL);
        // Act
        const messages = await check(props);
        // Assess
        assert.deepEqual(messages, []);
    });
});

describe("lambda-tracing-active", () => {
    const check = (props: object) => validateResource("lambda-tracing-active", { type: Types.lambdaFunction, props });

    it("accepts active tracing", async () => {
        // Prepare
        const props = functionProps();
        // Act
        const messages = await check(props);
        // Assess
        assert.deepEqual(messages, []);
    });

    it("rejects PassThrough tracing", async () => {
        // Prepare
        const props = withField(functionProps(), "tracingConfig.mode", "PassThrough");
        // Act
        const messages = await check(props);
        // Assess
        assert.deepEqual(messages, ["Tracing mode is \"PassThrough\"; set tracingConfig.mode to \"Active\"."]);
    });

    it("rejects a function with no tracingConfig", async () => {
        // Prepare
        const props = withField(functionProps(), "tracingConfig", undefined);
        // Act
        const messages = await check(props);
        // Assess
        assert.deepEqual(messages, ["Tracing is not set (Lambda defaults to PassThrough); set tracingConfig.mode to \"Active\"."]);
    });
});

describe("log-group-retention", () => {
    const check = (props: object, config?: object) => validateResource("log-group-retention", { type: Types.logGroup, props }, config);

    it("accepts a 30-day retention", async () => {
        // Prepare
        const props = logGroupProps();
        // Act
        const messages = await check(props);
        // Assess
        assert.deepEqual(messages, []);
    });

    it("rejects a log group without retention", async () => {
        // Prepare
        const props = withField(logGroupProps(), "retentionInDays", undefined);
        // Act
        const messages = await check(props);
        // Assess
        assert.deepEqual(messages, ["Retention is not set (logs are kept forever); set retentionInDays between 1 and 3653 days."]);
    });

    it("treats retentionInDays 0 (never expire) as no retention", async () => {
        // Prepare
        const props = withField(logGroupProps(), "retentionInDays", 0);
        // Act
        const messages = await check(props);
        // Assess
        assert.deepEqual(messages, ["Retention is not set (logs are kept forever); set retentionInDays between 1 and 3653 days."]);
    });

    it("rejects a retention above 3653 days", async () => {
        // Prepare
        const props = withField(logGroupProps(), "retentionInDays", 5000);
        // Act
        const messages = await check(props);
        // Assess
        assert.deepEqual(messages, ["Retention 5000 days is above the maximum of 3653 days; set retentionInDays between 1 and 3653 days."]);
    });

    it("rejects a 7-day retention under prod's minRetentionDays of 30", async () => {
        // Prepare
        const props = withField(logGroupProps(), "retentionInDays", 7);
        // Act
        const dev = await check(props, { minRetentionDays: 7 });
        const prod = await check(props, { minRetentionDays: 30 });
        // Assess
        assert.deepEqual(dev, []);
        assert.deepEqual(prod, ["Retention 7 days is below the minimum of 30 days; set retentionInDays between 30 and 3653 days."]);
    });
});

describe("api-stage-access-logs", () => {
    const check = (props: object) => validateResource("api-stage-access-logs", { type: Types.httpApiStage, props });

    it("accepts a stage with a destination and a format", async () => {
        // Prepare
        const props = stageProps();
        // Act
        const messages = await check(props);
        // Assess
        assert.deepEqual(messages, []);
    });

    it("rejects a stage without access logs", async () => {
        // Prepare
        const props = withField(stageProps(), "accessLogSettings", undefined);
        // Act
        const messages = await check(props);
        // Assess
        assert.deepEqual(messages, ["Access logging is off; set accessLogSettings with a destinationArn and a format."]);
    });

    it("rejects access logs without a format", async () => {
        // Prepare
        const props = withField(stageProps(), "accessLogSettings.format", undefined);
        // Act
        const messages = await check(props);
        // Assess
        assert.deepEqual(messages, ["Access logging has no format; set accessLogSettings.format."]);
    });

    it("rejects access logs with an empty destinationArn", async () => {
        // Prepare
        const props = withField(stageProps(), "accessLogSettings.destinationArn", "");
        // Act
        const messages = await check(props);
        // Assess
        assert.deepEqual(messages, ["Access logging has no destinationArn; set accessLogSettings.destinationArn."]);
    });

    it("accepts a destinationArn that is unknown during preview", async () => {
        // Prepare
        const props = withField(stageProps(), "accessLogSettings.destinationArn", UNKNOWN_STRING_SENTINEL);
        // Act
        const messages = await check(props);
        // Assess
        assert.deepEqual(messages, []);
    });
});

describe("lambda-log-group-in-stack", () => {
    const stack = (fn: object, group: object | undefined, deps?: Record<string, string[]>): StackSpec[] => [
        { type: Types.lambdaFunction, name: "users-get-user", props: fn, propertyDependencies: deps },
        ...(group ? [{ type: Types.logGroup, name: "users-get-user-logs", props: group }] : []),
    ];

    it("accepts a function logging into a log group of the stack that has a retention", async () => {
        // Prepare
        const specs = stack(functionProps(), logGroupProps());
        // Act
        const reported = await validateStack("lambda-log-group-in-stack", specs);
        // Assess
        assert.deepEqual(reported, []);
    });

    it("rejects a function whose log group has no retention", async () => {
        // Prepare
        const specs = stack(functionProps(), withField(logGroupProps(), "retentionInDays", undefined));
        // Act
        const reported = await validateStack("lambda-log-group-in-stack", specs);
        // Assess
        assert.deepEqual(reported, [{
            resource: "users-get-user",
            message: "Logs go to \"/aws/lambda/users-get-user\", which has no retention; set retentionInDays on that log group.",
        }]);
    });

    it("rejects a function that names no log group (the automatic group keeps logs forever)", async () => {
        // Prepare
        const specs = stack(withField(functionProps(), "loggingConfig.logGroup", undefined), logGroupProps());
        // Act
        const reported = await validateStack("lambda-log-group-in-stack", specs);
        // Assess
        assert.deepEqual(reported, [{
            resource: "users-get-user",
            message: "Logs go to the automatic group \"/aws/lambda/users-get-user\", which no stack manages and which keeps logs forever; set loggingConfig.logGroup to a log group of this stack.",
        }]);
    });

    it("rejects a function logging into a group the stack does not create", async () => {
        // Prepare
        const specs = stack(withField(functionProps(), "loggingConfig.logGroup", "/shared/legacy"), logGroupProps());
        // Act
        const reported = await validateStack("lambda-log-group-in-stack", specs);
        // Assess
        assert.deepEqual(reported, [{
            resource: "users-get-user",
            message: "Logs go to \"/shared/legacy\", which is not a log group of this stack; create it in the stack with a retention and name it in loggingConfig.logGroup.",
        }]);
    });

    it("follows propertyDependencies when the group's name is unknown during preview", async () => {
        // Prepare
        const fn = withField(functionProps(), "loggingConfig.logGroup", UNKNOWN_STRING_SENTINEL);
        const group = withField(withField(logGroupProps(), "name", UNKNOWN_STRING_SENTINEL), "retentionInDays", undefined);
        const specs = stack(fn, group, { loggingConfig: ["users-get-user-logs"] });
        // Act
        const reported = await validateStack("lambda-log-group-in-stack", specs);
        // Assess
        assert.deepEqual(reported, [{
            resource: "users-get-user",
            message: "Logs go to \"users-get-user-logs\", which has no retention; set retentionInDays on that log group.",
        }]);
    });

    it("skips a function whose log group name is unknown and not linked", async () => {
        // Prepare
        const specs = stack(withField(functionProps(), "loggingConfig.logGroup", UNKNOWN_STRING_SENTINEL), undefined);
        // Act
        const reported = await validateStack("lambda-log-group-in-stack", specs);
        // Assess
        assert.deepEqual(reported, []);
    });
});
