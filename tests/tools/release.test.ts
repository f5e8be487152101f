/**
 * The release step (`npm run release`, tools/release.ts) against stand-ins for the Lambda and
 * CodeDeploy APIs (`aws-sdk-client-mock`): an account whose functions have published versions and
 * a `live` alias, and CodeDeploy deployments that move through the statuses each test scripts.
 * Time is a clock the step's own sleeps move, so a timeout costs no waiting.
 */
import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { CodeDeployClient, CreateDeploymentCommand, GetDeploymentCommand, StopDeploymentCommand, type DeploymentStatus } from "@aws-sdk/client-codedeploy";
import { DeleteFunctionCommand, GetAliasCommand, LambdaClient, ListAliasesCommand, ListVersionsByFunctionCommand } from "@aws-sdk/client-lambda";
import { mockClient } from "aws-sdk-client-mock";
import type { ReleasesOutput } from "../../infra/components/releases";
import { main } from "../../tools/release";
import { appSpec, parseReleases, runRelease, shiftMinutes } from "../../tools/release/release";

/** One function in the stand-in account: its published versions and where its alias points. */
interface FakeFunction {
    versions: number[];
    alias: string;
}

/** What a scripted deployment reports at each GetDeployment, the last one repeated. */
type Script = { status: DeploymentStatus; errorCode?: string; errorMessage?: string }[];

function fakeAccount(functions: Record<string, FakeFunction>, scripts: Script[]) {
    const lambda = new LambdaClient({ region: "us-east-1" });
    const codedeploy = new CodeDeployClient({ region: "us-east-1" });
    const lambdaMock = mockClient(lambda);
    const codedeployMock = mockClient(codedeploy);
    let clock = 0;
    const deployments = new Map<string, { functionName: string; target: string; script: Script; polls: number; stopped?: boolean }>();

    lambdaMock.on(GetAliasCommand).callsFake((input) => ({ Name: input.Name, FunctionVersion: functions[input.FunctionName].alias }));
    lambdaMock.on(ListVersionsByFunctionCommand).callsFake((input) => ({ Versions: [{ Version: "$LATEST" }, ...functions[input.FunctionName].versions.map((version) => ({ Version: String(version) }))] }));
    lambdaMock.on(ListAliasesCommand).callsFake((input) => ({ Aliases: [{ Name: "live", FunctionVersion: functions[input.FunctionName].alias }] }));
    lambdaMock.on(DeleteFunctionCommand).callsFake((input) => {
        const fn = functions[input.FunctionName];
        assert.ok(input.Qualifier && input.Qualifier !== "$LATEST" && input.Qualifier !== fn.alias, `deleted ${input.Qualifier}, which the alias needs`);
        fn.versions = fn.versions.filter((version) => String(version) !== input.Qualifier);
        return {};
    });
    codedeployMock.on(CreateDeploymentCommand).callsFake((input) => {
        const content = JSON.parse(input.revision.appSpecContent.content);
        const properties = (Object.values(content.Resources[0])[0] as { Properties: { Name: string; TargetVersion: string } }).Properties;
        const id = `d-${deployments.size + 1}`;
        deployments.set(id, { functionName: properties.Name, target: properties.TargetVersion, script: scripts[deployments.size] ?? [{ status: "Succeeded" }], polls: 0 });
        return { deploymentId: id };
    });
    codedeployMock.on(GetDeploymentCommand).callsFake((input) => {
        const deployment = deployments.get(input.deploymentId)!;
        const step = deployment.stopped ? { status: "Stopped" as const } : deployment.script[Math.min(deployment.polls++, deployment.script.length - 1)];
        // CodeDeploy moves the alias only when the shift completes; a stop or failure leaves it where it was.
        if (step.status === "Succeeded") functions[deployment.functionName].alias = deployment.target;
        return { deploymentInfo: { deploymentId: input.deploymentId, status: step.status, ...(step.errorCode ? { errorInformation: { code: step.errorCode, message: step.errorMessage } } : {}) } } as never;
    });
    codedeployMock.on(StopDeploymentCommand).callsFake((input) => {
        deployments.get(input.deploymentId)!.stopped = true;
        return { status: "Pending" };
    });
    return {
        clients: { lambda, codedeploy },
        lambdaMock,
        codedeployMock,
        timing: { pollSeconds: 15, timeoutSeconds: 600, sleep: async (seconds: number) => void (clock += seconds * 1000), now: () => clock },
        created: () => codedeployMock.commandCalls(CreateDeploymentCommand).map((call) => call.args[0].input),
        stopped: () => codedeployMock.commandCalls(StopDeploymentCommand).map((call) => call.args[0].input),
        elapsedSeconds: () => clock / 1000,
    };
}

function releasesOf(strategy: ReleasesOutput["strategy"], functionNames: string[], keepVersions = 3): ReleasesOutput {
    const gradual = strategy !== "all-at-once";
    return {
        strategy,
        deploymentConfigName: gradual ? "CodeDeployDefault.LambdaCanary10Percent5Minutes" : "CodeDeployDefault.LambdaAllAtOnce",
        keepVersions,
        ...(gradual ? { application: "serverless-microservices-prod" } : {}),
        functions: functionNames.map((functionName) => ({ service: "users", id: functionName, functionName, alias: "live", ...(gradual ? { deploymentGroup: `users-${functionName}` } : {}) })),
    };
}

/** Runs the command with a releases file, returning its exit code and lines. */
async function runCommand(releases: unknown, account: ReturnType<typeof fakeAccount>, extraArgs: string[] = []) {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "release-"));
    try {
        const file = path.join(dir, "releases.json");
        fs.writeFileSync(file, typeof releases === "string" ? releases : JSON.stringify(releases));
        const out: string[] = [];
        const err: string[] = [];
        const code = await main(["--releases", file, ...extraArgs], { out: (line) => out.push(line), err: (line) => err.push(line) }, account.clients, account.timing);
        return { code, out, err };
    } finally {
        fs.rmSync(dir, { recursive: true, force: true });
    }
}

describe("the release step (npm run release)", () => {
    it("a healthy canary: one deployment from the alias's version to the newest, waited for until it succeeds; then old versions are pruned; exit 0", async () => {
        // Prepare
        const functions = { "get-users": { versions: [1, 2, 3, 4], alias: "3" }, "post-users": { versions: [1, 2], alias: "2" } };
        const account = fakeAccount(functions, [[{ status: "Created" }, { status: "InProgress" }, { status: "InProgress" }, { status: "Succeeded" }]]);
        // Act
        const { code, out, err } = await runCommand(releasesOf("canary", ["get-users", "post-users"]), account);
        // Assess
        assert.deepEqual([code, err], [0, []]);
        assert.equal(account.created().length, 1, "post-users is current: no deployment");
        const created = account.created()[0];
        assert.deepEqual([created.applicationName, created.deploymentGroupName, created.revision?.revisionType], ["serverless-microservices-prod", "users-get-users", "AppSpecContent"]);
        assert.deepEqual(JSON.parse(created.revision!.appSpecContent!.content!).Resources, [{ getusers: { Type: "AWS::Lambda::Function", Properties: { Name: "get-users", Alias: "live", CurrentVersion: "3", TargetVersion: "4" } } }]);
        assert.match(created.revision!.appSpecContent!.content!, /^\{"version":0\.0,/);
        assert.equal(functions["get-users"].alias, "4");
        assert.deepEqual(functions["get-users"].versions, [2, 3, 4], "the newest three kept");
        assert.equal(account.elapsedSeconds(), 3 * 15, "polled every 15 s until it succeeded");
        assert.deepEqual(out.slice(1), ["users/get-users (get-users): released live from version 3 to 4 (deployment d-1); deleted versions 1", "users/post-users (post-users): live already at version 2"]);
    });

    it("an alarm mid-shift: CodeDeploy stops and rolls back, the job fails naming why, the previous version keeps serving and stays after pruning; a rerun releases again", async () => {
        // Prepare
        const functions = { "get-users": { versions: [1, 2, 3, 4], alias: "3" } };
        const account = fakeAccount(functions, [
            [{ status: "InProgress" }, { status: "Stopped", errorCode: "ALARM_ACTIVE", errorMessage: "One or more alarms have been activated: serverless-microservices-prod-users-get-users-errors" }],
            [{ status: "InProgress" }, { status: "Succeeded" }],
        ]);
        const releases = releasesOf("canary", ["get-users"], 1);
        // Act
        const first = await runCommand(releases, account);
        const afterRollback = { alias: functions["get-users"].alias, versions: [...functions["get-users"].versions] };
        const rerun = await runCommand(releases, account);
        // Assess
        assert.equal(first.code, 1);
        assert.equal(first.err.length, 1);
        assert.match(first.err[0], /^users\/get-users \(get-users\): FAILED from version 3 to 4 \(deployment d-1\): Stopped: ALARM_ACTIVE: One or more alarms .*-errors; live stays on version 3, and the next run releases again; deleted versions 1, 2$/);
        assert.deepEqual(afterRollback, { alias: "3", versions: [3, 4] }, "the newest kept, and the version the alias serves");
        assert.deepEqual(account.stopped(), [], "CodeDeploy stopped it itself");
        assert.equal(rerun.code, 0);
        assert.deepEqual(account.created().map((input) => JSON.parse(input.revision!.appSpecContent!.content!).Resources[0].getusers.Properties.CurrentVersion), ["3", "3"]);
        assert.equal(functions["get-users"].alias, "4");
    });

    it("a deployment that fails outright fails the job", async () => {
        // Prepare
        const account = fakeAccount({ "get-users": { versions: [1, 2], alias: "1" } }, [[{ status: "Failed", errorCode: "HEALTH_CONSTRAINTS", errorMessage: "The deployment failed" }]]);
        // Act
        const { code, err } = await runCommand(releasesOf("linear", ["get-users"]), account);
        // Assess
        assert.equal(code, 1);
        assert.match(err[0], /FAILED from version 1 to 2 \(deployment d-1\): Failed: HEALTH_CONSTRAINTS/);
    });

    it("a deployment still running at the timeout is stopped with its rollback, and the job fails", async () => {
        // Prepare
        const functions = { "get-users": { versions: [1, 2], alias: "1" } };
        const account = fakeAccount(functions, [[{ status: "InProgress" }]]);
        // Act
        const { code, err } = await runCommand(releasesOf("canary", ["get-users"]), account, ["--timeout-minutes", "1", "--poll-seconds", "20"]);
        // Assess
        assert.equal(code, 1);
        assert.deepEqual(account.stopped(), [{ deploymentId: "d-1", autoRollbackEnabled: true }]);
        assert.match(err[0], /FAILED from version 1 to 2 \(deployment d-1\): still InProgress after 60 s: stopped and rolled back; live stays on version 1/);
        assert.equal(functions["get-users"].alias, "1");
        assert.equal(account.elapsedSeconds(), 60, "three polls of 20 s, then the stop");
    });

    it("nothing to release: every alias at its newest version, so no deployment; exit 0", async () => {
        // Prepare
        const account = fakeAccount({ "get-users": { versions: [1, 2], alias: "2" }, "post-users": { versions: [5], alias: "5" } }, []);
        // Act
        const { code, out } = await runCommand(releasesOf("canary", ["get-users", "post-users"]), account);
        // Assess
        assert.equal(code, 0);
        assert.deepEqual(account.created(), []);
        assert.deepEqual(out.slice(1), ["users/get-users (get-users): live already at version 2", "users/post-users (post-users): live already at version 5"]);
    });

    it("an all-at-once stack: never a deployment (pulumi up moved the aliases), only pruning; an alias left behind fails the job", async () => {
        // Prepare
        const functions = { "get-users": { versions: [1, 2, 3, 4, 5], alias: "5" }, "post-users": { versions: [1, 2], alias: "1" } };
        const account = fakeAccount(functions, []);
        // Act
        const report = await runRelease(releasesOf("all-at-once", ["get-users", "post-users"], 2), account.clients, account.timing);
        // Assess
        assert.deepEqual(account.created(), []);
        assert.deepEqual(functions["get-users"].versions, [4, 5]);
        assert.deepEqual(report.functions.map((fn) => fn.outcome.kind), ["current", "behind"]);
        assert.equal(report.ok, false);
    });

    it("refuses an unusable releases file with exit code 2, naming what is wrong, before any call", async () => {
        // Prepare
        const account = fakeAccount({}, []);
        const broken = { ...releasesOf("canary", ["get-users"]), functions: [{ service: "users", id: "get-users", functionName: "get-users", alias: "live" }] };
        // Act
        const missingGroup = await runCommand(broken, account);
        const notJson = await runCommand("not json", account);
        // Assess
        assert.deepEqual([missingGroup.code, missingGroup.err], [2, ["The releases output is not usable:\n  - functions[0].deploymentGroup: is required"]]);
        const missingFile = await main(["--releases", "/no/such/releases.json"], { out: () => undefined, err: (line) => notJson.err.push(line) }, account.clients, account.timing);
        assert.equal(notJson.code, 2);
        assert.equal(missingFile, 2);
        assert.match(notJson.err.at(-1)!, /^Cannot read the releases file \/no\/such\/releases\.json \(pulumi stack output releases --json/);
        assert.match(notJson.err[0], /^The releases output is not JSON/);
        assert.equal(account.lambdaMock.calls().length + account.codedeployMock.calls().length, 0);
        assert.throws(() => parseReleases(JSON.stringify({ strategy: "blue-green", keepVersions: 0, functions: [] })), /strategy: "blue-green" is not all-at-once, canary or linear\n {2}- keepVersions: 0 is not a whole number of at least 1/);
    });

    it("--stack reads that stack's outputs: a service stack's releases output releases its own functions", async () => {
        // Prepare
        const account = fakeAccount({ "get-users": { versions: [1, 2], alias: "1" } }, [[{ status: "Succeeded" }]]);
        const asked: string[] = [];
        const outputs = (stack: string) => (asked.push(stack), JSON.stringify({ functionNames: { users: {} }, releases: releasesOf("canary", ["get-users"]) }));
        const out: string[] = [];
        // Act
        const code = await main(["--stack", "prod-users"], { out: (line) => out.push(line), err: (line) => out.push(line) }, account.clients, account.timing, outputs);
        // Assess
        assert.equal(code, 0);
        assert.deepEqual(asked, ["prod-users"]);
        assert.deepEqual(account.created().map((input) => input.deploymentGroupName), ["users-get-users"]);
        assert.match(out.at(-1)!, /^users\/get-users \(get-users\): released live from version 1 to 2/);
    });

    it("a platform stack: no releases output, or one that lists no function (no application either), is nothing to release; exit 0 and no AWS call", async () => {
        // Prepare
        const account = fakeAccount({}, []);
        const out: string[] = [];
        const io = { out: (line: string) => out.push(line), err: (line: string) => out.push(line) };
        const empty = { strategy: "canary", deploymentConfigName: "CodeDeployDefault.LambdaCanary10Percent5Minutes", keepVersions: 3, functions: [] };
        // Act
        const withoutOutput = await main(["--stack", "prod-platform"], io, account.clients, account.timing, () => JSON.stringify({ apiUrl: "https://api" }));
        const withEmptyOutput = await main(["--stack", "prod-platform"], io, account.clients, account.timing, () => JSON.stringify({ releases: empty }));
        const fromFile = await runCommand(empty, account);
        // Assess
        assert.deepEqual([withoutOutput, withEmptyOutput, fromFile.code], [0, 0, 0]);
        assert.deepEqual(out, [
            "Nothing to release: stack prod-platform has no releases output (a platform stack releases no function).",
            "Nothing to release: the releases output lists no function (a platform stack releases none).",
        ]);
        assert.deepEqual(fromFile.out, ["Nothing to release: the releases output lists no function (a platform stack releases none)."]);
        assert.equal(account.lambdaMock.calls().length + account.codedeployMock.calls().length, 0);
    });

    it("refuses with exit code 2 both --stack and --releases, neither, a stack whose outputs cannot be read, or a gradual output with functions and no application", async () => {
        // Prepare
        const account = fakeAccount({}, []);
        const run = async (argv: string[], outputs: (stack: string) => string = () => "{}") => {
            const err: string[] = [];
            const code = await main(argv, { out: () => undefined, err: (line) => err.push(line) }, account.clients, account.timing, outputs);
            return { code, err: err.join("\n") };
        };
        const failing = () => {
            throw new Error("Cannot read the outputs of stack prod-users (pulumi stack output --json --stack prod-users): no stack named prod-users");
        };
        const { application: _, ...noApplication } = releasesOf("canary", ["get-users"]);
        // Act
        const both = await run(["--stack", "prod-users", "--releases", "releases.json"]);
        const neither = await run([]);
        const unreadable = await run(["--stack", "prod-users"], failing);
        const notJson = await run(["--stack", "prod-users"], () => "warning: something\n{");
        const withoutApplication = await run(["--stack", "prod-users"], () => JSON.stringify({ releases: noApplication }));
        // Assess
        assert.deepEqual([both.code, neither.code, unreadable.code, notJson.code, withoutApplication.code], [2, 2, 2, 2, 2]);
        assert.match(both.err, /^one of --stack and --releases is required, not both/);
        assert.match(neither.err, /^one of --stack and --releases is required, not both/);
        assert.match(unreadable.err, /no stack named prod-users/);
        assert.match(notJson.err, /^The outputs of stack prod-users are not JSON/);
        assert.match(withoutApplication.err, /application: a gradual release needs the CodeDeploy application/);
        assert.equal(account.lambdaMock.calls().length + account.codedeployMock.calls().length, 0);
    });

    it("waits by default as long as the shift takes, plus a margin: canary 10% for 5 minutes, linear 10% every 10 minutes", () => {
        assert.deepEqual(
            ["CodeDeployDefault.LambdaCanary10Percent5Minutes", "CodeDeployDefault.LambdaLinear10PercentEvery10Minutes", "CodeDeployDefault.LambdaAllAtOnce"].map(shiftMinutes),
            [5, 100, 0],
        );
    });

    it("writes the AppSpec CodeDeploy's Lambda deployments take: version 0.0, the function, its alias, the current and the target version", () => {
        assert.equal(
            appSpec({ functionName: "users-get-users-1a2b3c4", alias: "live" }, "7", "8"),
            '{"version":0.0,"Resources":[{"usersgetusers1a2b3c4":{"Type":"AWS::Lambda::Function","Properties":{"Name":"users-get-users-1a2b3c4","Alias":"live","CurrentVersion":"7","TargetVersion":"8"}}}]}',
        );
    });
});
