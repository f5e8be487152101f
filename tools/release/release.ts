/**
 * The release step of a stack, after `pulumi up` (`npm run release`, tools/release.ts): from the
 * stack's `releases` output, for each function whose `live` alias is behind its newest published
 * version, a CodeDeploy deployment that shifts the alias to it (gradual stacks), waited for; then
 * the versions nobody needs are deleted.
 *
 * The rule a rerun follows: a function is released whenever its alias points at an older version
 * than the newest published one. After a rollback the alias is back on the previous version, so
 * the next run (a rerun of the deploy job, or the next deploy) releases the newest version again;
 * to give up on it, deploy a fixed version (which becomes the newest). An all-at-once stack's
 * aliases are moved by `pulumi up` itself: this step only prunes there.
 */
import {
    CodeDeployClient,
    CreateDeploymentCommand,
    GetDeploymentCommand,
    StopDeploymentCommand,
    type DeploymentInfo,
} from "@aws-sdk/client-codedeploy";
import {
    DeleteFunctionCommand,
    GetAliasCommand,
    LambdaClient,
    paginateListAliases,
    paginateListVersionsByFunction,
} from "@aws-sdk/client-lambda";
import type { FunctionRelease, ReleasesOutput } from "../../infra/components/releases";
import { CODEDEPLOY_LAMBDA } from "../../policy/lib/limits";

/** How long a predefined configuration takes to shift all traffic, in minutes (0 all at once). */
export function shiftMinutes(deploymentConfigName: string): number {
    for (const [interval, name] of Object.entries(CODEDEPLOY_LAMBDA.canary.configs)) if (name === deploymentConfigName) return Number(interval);
    const steps = Math.ceil(100 / CODEDEPLOY_LAMBDA.linear.percent);
    for (const [interval, name] of Object.entries(CODEDEPLOY_LAMBDA.linear.configs)) if (name === deploymentConfigName) return Number(interval) * steps;
    return 0;
}

/** How the step waits for a deployment. */
export interface ReleaseTiming {
    /** Between two GetDeployment calls. */
    pollSeconds: number;
    /** After this long a deployment still running is stopped (and rolled back) and counts as failed. */
    timeoutSeconds: number;
    /** Waits; tests pass one that returns at once. */
    sleep(seconds: number): Promise<void>;
    /** The time, in milliseconds; tests pass a clock that the sleeps move. */
    now(): number;
}

export interface ReleaseClients {
    lambda: LambdaClient;
    codedeploy: CodeDeployClient;
}

/** What became of one function. */
export type FunctionOutcome =
    | { kind: "current"; version: string }
    | { kind: "released"; from: string; to: string; deploymentId: string }
    | { kind: "failed"; from: string; to: string; deploymentId?: string; reason: string }
    | { kind: "behind"; from: string; to: string };

export interface FunctionReport {
    release: FunctionRelease;
    outcome: FunctionOutcome;
    /** The versions deleted afterwards. */
    pruned: string[];
}

export interface ReleaseReport {
    functions: FunctionReport[];
    /** True when every release that was due finished. */
    ok: boolean;
}

/** The AppSpec of a Lambda deployment: the alias of one function, from one version to another. */
export function appSpec(release: Pick<FunctionRelease, "functionName" | "alias">, currentVersion: string, targetVersion: string): string {
    const resources = [{ [release.functionName.replace(/[^A-Za-z0-9]/g, "")]: { Type: "AWS::Lambda::Function", Properties: { Name: release.functionName, Alias: release.alias, CurrentVersion: currentVersion, TargetVersion: targetVersion } } }];
    // Written out: JSON.stringify prints the AppSpec's `0.0` as `0`.
    return `{"version":0.0,"Resources":${JSON.stringify(resources)}}`;
}

/** Reads and checks the `releases` output (`pulumi stack output releases --json`). */
export function parseReleases(text: string): ReleasesOutput {
    const problems: string[] = [];
    let value: any;
    try {
        value = JSON.parse(text);
    } catch (error) {
        throw new Error(`The releases output is not JSON: ${(error as Error).message}`);
    }
    if (!value || typeof value !== "object") throw new Error("The releases output must be an object (pulumi stack output releases --json).");
    if (!["all-at-once", "canary", "linear"].includes(value.strategy)) problems.push(`strategy: ${JSON.stringify(value.strategy)} is not all-at-once, canary or linear`);
    if (!Number.isInteger(value.keepVersions) || value.keepVersions < 1) problems.push(`keepVersions: ${JSON.stringify(value.keepVersions)} is not a whole number of at least 1`);
    const gradual = value.strategy === "canary" || value.strategy === "linear";
    const functionCount = Array.isArray(value.functions) ? value.functions.length : 0;
    // A stack with no function to release (a platform stack) needs no application.
    if (gradual && functionCount > 0 && typeof value.application !== "string") problems.push("application: a gradual release needs the CodeDeploy application");
    if (!Array.isArray(value.functions)) problems.push("functions: must be a list");
    for (const [index, fn] of (Array.isArray(value.functions) ? value.functions : []).entries()) {
        for (const field of ["service", "id", "functionName", "alias", ...(gradual ? ["deploymentGroup"] : [])]) {
            if (typeof fn?.[field] !== "string" || fn[field] === "") problems.push(`functions[${index}].${field}: is required`);
        }
    }
    if (problems.length > 0) throw new Error(`The releases output is not usable:\n${problems.map((problem) => `  - ${problem}`).join("\n")}`);
    return value as ReleasesOutput;
}

/** The function's published versions, oldest first (`$LATEST` left out). */
async function publishedVersions(lambda: LambdaClient, functionName: string): Promise<number[]> {
    const versions: number[] = [];
    for await (const page of paginateListVersionsByFunction({ client: lambda }, { FunctionName: functionName })) {
        for (const version of page.Versions ?? []) if (version.Version && /^\d+$/.test(version.Version)) versions.push(Number(version.Version));
    }
    return versions.sort((a, b) => a - b);
}

/** Every version an alias of the function points at, its routing's extra version included. */
async function aliasedVersions(lambda: LambdaClient, functionName: string): Promise<Set<string>> {
    const versions = new Set<string>();
    for await (const page of paginateListAliases({ client: lambda }, { FunctionName: functionName })) {
        for (const alias of page.Aliases ?? []) {
            if (alias.FunctionVersion) versions.add(alias.FunctionVersion);
            for (const extra of Object.keys(alias.RoutingConfig?.AdditionalVersionWeights ?? {})) versions.add(extra);
        }
    }
    return versions;
}

/**
 * Deletes the versions beyond the newest `keep` that no alias points at, oldest first. Every
 * published version counts against the account's 75 GB of code storage; `$LATEST` is never deleted.
 */
export async function pruneVersions(lambda: LambdaClient, functionName: string, keep: number): Promise<string[]> {
    const versions = await publishedVersions(lambda, functionName);
    const aliased = await aliasedVersions(lambda, functionName);
    const kept = new Set(versions.slice(-keep).map(String));
    const pruned: string[] = [];
    for (const version of versions.map(String)) {
        if (kept.has(version) || aliased.has(version)) continue;
        await lambda.send(new DeleteFunctionCommand({ FunctionName: functionName, Qualifier: version }));
        pruned.push(version);
    }
    return pruned;
}

/** Why CodeDeploy ended a deployment, as it says it. */
function failureReason(deployment: DeploymentInfo): string {
    const error = deployment.errorInformation;
    const rollback = deployment.rollbackInfo?.rollbackMessage;
    return [deployment.status, error?.code, error?.message, rollback].filter(Boolean).join(": ");
}

/** Waits for a deployment to end; stops it (rolling back) once the timeout passes. */
async function awaitDeployment(codedeploy: CodeDeployClient, deploymentId: string, timing: ReleaseTiming): Promise<{ ok: true } | { ok: false; reason: string }> {
    const deadline = timing.now() + timing.timeoutSeconds * 1000;
    for (;;) {
        const { deploymentInfo } = await codedeploy.send(new GetDeploymentCommand({ deploymentId }));
        const status = deploymentInfo?.status;
        if (status === "Succeeded") return { ok: true };
        if (status === "Failed" || status === "Stopped") return { ok: false, reason: failureReason(deploymentInfo!) };
        if (timing.now() >= deadline) {
            // Stopped with its rollback: the previous version serves everything again.
            await codedeploy.send(new StopDeploymentCommand({ deploymentId, autoRollbackEnabled: true }));
            return { ok: false, reason: `still ${status ?? "unknown"} after ${timing.timeoutSeconds} s: stopped and rolled back` };
        }
        await timing.sleep(timing.pollSeconds);
    }
}

/** Where a function's alias is, and the newest version it could be at. */
async function positionOf(lambda: LambdaClient, release: FunctionRelease): Promise<{ current: string; newest: string }> {
    const alias = await lambda.send(new GetAliasCommand({ FunctionName: release.functionName, Name: release.alias }));
    const versions = await publishedVersions(lambda, release.functionName);
    const current = alias.FunctionVersion ?? "$LATEST";
    return { current, newest: versions.length > 0 ? String(versions[versions.length - 1]) : current };
}

/** Releases one function of a gradual stack: a deployment from its alias's version to the newest, waited for. */
async function releaseFunction(clients: ReleaseClients, releases: ReleasesOutput, release: FunctionRelease, timing: ReleaseTiming): Promise<FunctionOutcome> {
    const { current, newest } = await positionOf(clients.lambda, release);
    if (current === newest) return { kind: "current", version: current };
    if (releases.strategy === "all-at-once") return { kind: "behind", from: current, to: newest };
    let deploymentId: string | undefined;
    try {
        const created = await clients.codedeploy.send(
            new CreateDeploymentCommand({
                applicationName: releases.application,
                deploymentGroupName: release.deploymentGroup,
                description: `${release.service}/${release.id}: ${release.alias} from version ${current} to ${newest}`,
                revision: { revisionType: "AppSpecContent", appSpecContent: { content: appSpec(release, current, newest) } },
            }),
        );
        deploymentId = created.deploymentId;
        if (!deploymentId) return { kind: "failed", from: current, to: newest, reason: "CodeDeploy returned no deployment id" };
        const result = await awaitDeployment(clients.codedeploy, deploymentId, timing);
        return result.ok ? { kind: "released", from: current, to: newest, deploymentId } : { kind: "failed", from: current, to: newest, deploymentId, reason: result.reason };
    } catch (error) {
        return { kind: "failed", from: current, to: newest, deploymentId, reason: (error as Error).message };
    }
}

/**
 * Releases every function of the output that is behind, all at once (each in its own deployment
 * group), then prunes each function's old versions. `ok` is false when any deployment failed,
 * stopped or timed out; an all-at-once stack whose alias is behind counts as failed too (its
 * `pulumi up` should have moved it).
 */
export async function runRelease(releases: ReleasesOutput, clients: ReleaseClients, timing: ReleaseTiming): Promise<ReleaseReport> {
    const outcomes = await Promise.all(
        releases.functions.map((release) =>
            releaseFunction(clients, releases, release, timing).catch((error): FunctionOutcome => ({ kind: "failed", from: "?", to: "?", reason: (error as Error).message })),
        ),
    );
    const functions: FunctionReport[] = [];
    for (const [index, release] of releases.functions.entries()) {
        const pruned = await pruneVersions(clients.lambda, release.functionName, releases.keepVersions);
        functions.push({ release, outcome: outcomes[index], pruned });
    }
    return { functions, ok: functions.every(({ outcome }) => outcome.kind === "current" || outcome.kind === "released") };
}

/** One line per function: what happened to it. */
export function describeReport(report: ReleaseReport): string[] {
    return report.functions.map(({ release, outcome, pruned }) => {
        const name = `${release.service}/${release.id} (${release.functionName})`;
        const prunedText = pruned.length > 0 ? `; deleted versions ${pruned.join(", ")}` : "";
        switch (outcome.kind) {
            case "current":
                return `${name}: ${release.alias} already at version ${outcome.version}${prunedText}`;
            case "released":
                return `${name}: released ${release.alias} from version ${outcome.from} to ${outcome.to} (deployment ${outcome.deploymentId})${prunedText}`;
            case "behind":
                return `${name}: FAILED: ${release.alias} is at version ${outcome.from}, behind the newest ${outcome.to}, in an all-at-once stack: run pulumi up again${prunedText}`;
            case "failed":
                return `${name}: FAILED from version ${outcome.from} to ${outcome.to}${outcome.deploymentId ? ` (deployment ${outcome.deploymentId})` : ""}: ${outcome.reason}; ${release.alias} stays on version ${outcome.from}, and the next run releases again${prunedText}`;
        }
    });
}
