import { strict as assert } from "assert";
import { Types } from "../../policy/lib/types";
import { UNKNOWN_STRING_SENTINEL } from "../../policy/lib/unknown";
import { functionProps } from "./fixtures";
import { Props, StackSpec, validateStack, withField } from "./harness";

const METRIC_ALARM = "aws:cloudwatch/metricAlarm:MetricAlarm";

describe("lambda-error-alarm", () => {
    const fn = (name: string, props: Props = functionProps(name)): StackSpec => ({ type: Types.lambdaFunction, name, props });
    /** An alarm on the function's Errors count, as a hand-written alarm would be. */
    const countAlarm = (functionName: string): Props => ({
        namespace: "AWS/Lambda",
        metricName: "Errors",
        dimensions: { FunctionName: functionName },
        statistic: "Sum",
        period: 300,
        evaluationPeriods: 1,
        threshold: 1,
        comparisonOperator: "GreaterThanOrEqualToThreshold",
        alarmActions: ["arn:aws:sns:eu-west-1:123456789012:alarms"],
    });
    /** An error-rate alarm (metric math), as infra/components/monitoring.ts builds it. */
    const rateAlarm = (functionName: unknown): Props => ({
        metricQueries: [
            { id: "errors", returnData: false, metric: { namespace: "AWS/Lambda", metricName: "Errors", dimensions: { FunctionName: functionName }, period: 300, stat: "Sum" } },
            { id: "invocations", returnData: false, metric: { namespace: "AWS/Lambda", metricName: "Invocations", dimensions: { FunctionName: functionName }, period: 300, stat: "Sum" } },
            { id: "rate", expression: "100 * errors / invocations", returnData: true },
        ],
        threshold: 1,
        comparisonOperator: "GreaterThanOrEqualToThreshold",
        evaluationPeriods: 1,
        alarmActions: ["arn:aws:sns:eu-west-1:123456789012:alarms"],
    });
    const alarm = (name: string, props: Props, propertyDependencies?: Record<string, string[]>): StackSpec => ({ type: METRIC_ALARM, name, props, propertyDependencies });
    const noAlarm = (name: string) =>
        `No alarm watches the Errors metric of function "${name}" (AWS/Lambda, FunctionName dimension): a crash, timeout or out-of-memory kill goes unnoticed. Add an error alarm with actions enabled.`;

    it("Compliance 1: accepts functions watched by an Errors count alarm or an error-rate (metric math) alarm", async () => {
        // Prepare
        const specs = [fn("users-get-user"), fn("auth-token"), alarm("users-get-user-errors", countAlarm("users-get-user")), alarm("auth-token-errors", rateAlarm("auth-token"))];
        // Act
        const reported = await validateStack("lambda-error-alarm", specs);
        // Assess
        assert.deepEqual(reported, []);
    });

    it("Noncompliance 1: reports a function without any alarm, naming it", async () => {
        // Prepare
        const specs = [fn("users-get-user"), fn("auth-token"), alarm("users-get-user-errors", countAlarm("users-get-user"))];
        // Act
        const reported = await validateStack("lambda-error-alarm", specs);
        // Assess
        assert.deepEqual(reported, [{ resource: "auth-token", message: noAlarm("auth-token") }]);
    });

    it("Noncompliance 2: does not count an alarm on another metric (Throttles) or another namespace", async () => {
        // Prepare
        const specs = [
            fn("users-get-user"),
            alarm("throttles", withField(countAlarm("users-get-user"), "metricName", "Throttles")),
            alarm("custom", withField(countAlarm("users-get-user"), "namespace", "Custom/App")),
        ];
        // Act
        const reported = await validateStack("lambda-error-alarm", specs);
        // Assess
        assert.deepEqual(reported, [{ resource: "users-get-user", message: noAlarm("users-get-user") }]);
    });

    it("Noncompliance 3: does not count an alarm whose actions are disabled", async () => {
        // Prepare
        const specs = [fn("users-get-user"), alarm("silent", withField(countAlarm("users-get-user"), "actionsEnabled", false))];
        // Act
        const reported = await validateStack("lambda-error-alarm", specs);
        // Assess
        assert.deepEqual(reported.map((r) => r.resource), ["users-get-user"]);
    });

    it("Noncompliance 4: does not count an Errors alarm without a FunctionName dimension (account-wide errors)", async () => {
        // Prepare
        const specs = [fn("users-get-user"), alarm("all-functions", withField(countAlarm("users-get-user"), "dimensions", undefined))];
        // Act
        const reported = await validateStack("lambda-error-alarm", specs);
        // Assess
        assert.deepEqual(reported.map((r) => r.resource), ["users-get-user"]);
    });

    it("Compliance 2 (preview): links by propertyDependencies when the alarm's dimension is unknown", async () => {
        // Prepare
        const specs = [fn("users-get-user"), alarm("users-get-user-errors", rateAlarm(UNKNOWN_STRING_SENTINEL), { metricQueries: ["users-get-user"] })];
        // Act
        const reported = await validateStack("lambda-error-alarm", specs);
        // Assess
        assert.deepEqual(reported, []);
    });

    it("Compliance 3 (preview): does not judge a function whose generated name is unknown yet", async () => {
        // Prepare
        const specs = [fn("users-get-user", withField(functionProps("users-get-user"), "name", UNKNOWN_STRING_SENTINEL))];
        // Act
        const reported = await validateStack("lambda-error-alarm", specs);
        // Assess
        assert.deepEqual(reported, []);
    });

    it("Noncompliance 5 (preview): reports a named function when the only alarm with an unknown dimension was computed from another", async () => {
        // Prepare
        const specs = [fn("users-get-user"), fn("auth-token"), alarm("users-get-user-errors", rateAlarm(UNKNOWN_STRING_SENTINEL), { metricQueries: ["users-get-user"] })];
        // Act
        const reported = await validateStack("lambda-error-alarm", specs);
        // Assess
        assert.deepEqual(reported, [{ resource: "auth-token", message: noAlarm("auth-token") }]);
    });

    it("compares known names before links: an alarm computed from several functions covers only the one it names", async () => {
        // Prepare: the alarm's input depends on both functions (a record of names), but names users-get-user.
        const specs = [fn("users-get-user"), fn("users-list-users"), alarm("users-get-user-errors", rateAlarm("users-get-user"), { metricQueries: ["users-get-user", "users-list-users"] })];
        // Act
        const reported = await validateStack("lambda-error-alarm", specs);
        // Assess
        assert.deepEqual(reported, [{ resource: "users-list-users", message: noAlarm("users-list-users") }]);
    });

    it("can be suppressed on one function with a reason", async () => {
        // Prepare
        const tagged = withField(functionProps("report-export"), "tags", { "policy-suppress:lambda-error-alarm": "Nightly export, watched by its own job monitor" });
        // Act
        const reported = await validateStack("lambda-error-alarm", [fn("report-export", tagged)]);
        // Assess
        assert.deepEqual(reported, []);
    });
});
