/**
 * `npm run release -- (--stack <stack> | --releases <file>) [--timeout-minutes <n>] [--poll-seconds <n>]`
 *
 * The release step the deploy workflow runs after `pulumi up` (`tools/release/release.ts`): reads
 * the stack's `releases` output (from `pulumi stack output --json --stack <stack>`, or a file saved
 * with `pulumi stack output releases --json > releases.json`), shifts each
 * function whose `live` alias is behind its newest published version through CodeDeploy (canary and
 * linear stacks), waits for each deployment, then deletes the versions nobody needs. Prints one line
 * per function. Exit code: 0 when every due release finished, 1 when one failed, stopped (an alarm
 * fired: CodeDeploy rolled it back) or timed out (stopped and rolled back here), 2 on wrong arguments
 * or an unusable releases file. AWS credentials and region come from the environment, as for the CLI.
 *
 * Any stack works: the one stack of an environment, a service's stack (its own functions), or the
 * platform stack of the per-service layout, which has no function to release (no `releases`
 * output, or one with no function): that is nothing to do, exit 0.
 */
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import { CodeDeployClient } from "@aws-sdk/client-codedeploy";
import { LambdaClient } from "@aws-sdk/client-lambda";
import { runAsCommand } from "./command";
import { describeReport, parseReleases, runRelease, shiftMinutes, type ReleaseClients, type ReleaseTiming } from "./release/release";

const USAGE =
    "usage: npm run release -- (--stack <stack> | --releases <file>) [--timeout-minutes <n>] [--poll-seconds <n>]\n" +
    "  --stack            the stack whose releases output to read (runs pulumi stack output --json --stack <stack>)\n" +
    "  --releases         a file holding the stack's releases output (pulumi stack output releases --json)\n" +
    "  --timeout-minutes  how long one deployment may run before it is stopped and rolled back\n" +
    "                     (default: the shift's own duration plus 15 minutes)\n" +
    "  --poll-seconds     between two looks at a deployment (default 15)";

/** Beyond the shift's own duration: CodeDeploy's start, its last alarm check and the final switch. */
export const RELEASE_DEFAULTS = { timeoutMarginMinutes: 15, pollSeconds: 15 } as const;

export interface ReleaseOptions {
    /** Where the `releases` output comes from: a stack's outputs, or a file holding it. */
    source: { stack: string } | { releasesFile: string };
    /** @default the shift's duration (`shiftMinutes`) plus `RELEASE_DEFAULTS.timeoutMarginMinutes` */
    timeoutMinutes?: number;
    pollSeconds: number;
}

export class UsageError extends Error {}

export function parseArgs(argv: readonly string[]): ReleaseOptions {
    const options: Partial<ReleaseOptions> & { stack?: string; releasesFile?: string } = { pollSeconds: RELEASE_DEFAULTS.pollSeconds };
    for (let i = 0; i < argv.length; i++) {
        const flag = argv[i];
        const value = () => {
            const v = argv[++i];
            if (v === undefined || v.startsWith("--")) throw new UsageError(`${flag} needs a value\n${USAGE}`);
            return v;
        };
        const positive = (name: string, text: string) => {
            const number = Number(text);
            if (!Number.isFinite(number) || number <= 0) throw new UsageError(`${name} must be a positive number, not ${text}\n${USAGE}`);
            return number;
        };
        switch (flag) {
            case "--releases":
                options.releasesFile = value();
                break;
            case "--stack":
                options.stack = value();
                break;
            case "--timeout-minutes":
                options.timeoutMinutes = positive(flag, value());
                break;
            case "--poll-seconds":
                options.pollSeconds = positive(flag, value());
                break;
            default:
                throw new UsageError(`unknown argument ${flag}\n${USAGE}`);
        }
    }
    const { stack, releasesFile, ...rest } = options;
    if ((stack === undefined) === (releasesFile === undefined)) throw new UsageError(`one of --stack and --releases is required, not both\n${USAGE}`);
    return { ...rest, source: stack !== undefined ? { stack } : { releasesFile: releasesFile! } } as ReleaseOptions;
}

function readReleasesFile(file: string): string {
    try {
        return fs.readFileSync(file, "utf8");
    } catch (error) {
        throw new Error(`Cannot read the releases file ${file} (pulumi stack output releases --json > ${file}): ${(error as Error).message}`);
    }
}

/** All outputs of a stack, as `pulumi stack output --json` prints them. */
export type StackOutputsReader = (stack: string) => string;

/** Asks the Pulumi CLI for a stack's outputs. */
export const pulumiStackOutputs: StackOutputsReader = (stack) => {
    const result = spawnSync("pulumi", ["stack", "output", "--json", "--stack", stack], { encoding: "utf8" });
    if (result.error || result.status !== 0) throw new Error(`Cannot read the outputs of stack ${stack} (pulumi stack output --json --stack ${stack}): ${result.error?.message ?? result.stderr.trim()}`);
    return result.stdout;
};

/** The releases output's text, or undefined when the stack has none (the platform stack of the per-service layout may not). */
function releasesText(source: ReleaseOptions["source"], stackOutputs: StackOutputsReader): string | undefined {
    if ("releasesFile" in source) return readReleasesFile(source.releasesFile);
    let outputs: unknown;
    try {
        outputs = JSON.parse(stackOutputs(source.stack));
    } catch (error) {
        throw new Error(`The outputs of stack ${source.stack} are not JSON: ${(error as Error).message}`);
    }
    if (!outputs || typeof outputs !== "object" || Array.isArray(outputs)) throw new Error(`The outputs of stack ${source.stack} must be an object (pulumi stack output --json).`);
    const releases = (outputs as Record<string, unknown>).releases;
    return releases === undefined ? undefined : JSON.stringify(releases);
}

/** The command: arguments in, lines out, the exit code back. */
export async function main(
    argv: readonly string[],
    io: { out(line: string): void; err(line: string): void },
    clients: ReleaseClients,
    timing: Pick<ReleaseTiming, "sleep" | "now">,
    stackOutputs: StackOutputsReader = pulumiStackOutputs,
): Promise<number> {
    let options: ReleaseOptions;
    let releases;
    try {
        options = parseArgs(argv);
        const text = releasesText(options.source, stackOutputs);
        if (text === undefined) {
            const where = "stack" in options.source ? `stack ${options.source.stack}` : options.source.releasesFile;
            io.out(`Nothing to release: ${where} has no releases output (a platform stack releases no function).`);
            return 0;
        }
        releases = parseReleases(text);
    } catch (error) {
        io.err((error as Error).message);
        return 2;
    }
    if (releases.functions.length === 0) {
        io.out("Nothing to release: the releases output lists no function (a platform stack releases none).");
        return 0;
    }
    io.out(`Release (${releases.strategy}, ${releases.deploymentConfigName}) of ${releases.functions.length} functions; keeping ${releases.keepVersions} versions each`);
    try {
        const timeoutMinutes = options.timeoutMinutes ?? shiftMinutes(releases.deploymentConfigName) + RELEASE_DEFAULTS.timeoutMarginMinutes;
        const report = await runRelease(releases, clients, { ...timing, pollSeconds: options.pollSeconds, timeoutSeconds: timeoutMinutes * 60 });
        for (const line of describeReport(report)) (line.includes("FAILED") ? io.err : io.out)(line);
        return report.ok ? 0 : 1;
    } catch (error) {
        io.err(`The release stopped: ${(error as Error).message}`);
        return 1;
    }
}

if (require.main === module) {
    const clients = { lambda: new LambdaClient({}), codedeploy: new CodeDeployClient({}) };
    const timing = { sleep: (seconds: number) => new Promise<void>((done) => setTimeout(done, seconds * 1000)), now: () => Date.now() };
    runAsCommand((argv) => main(argv, { out: (line) => console.log(line), err: (line) => console.error(line) }, clients, timing));
}
