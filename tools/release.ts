/**
 * `npm run release -- --releases <file> [--timeout-minutes <n>] [--poll-seconds <n>]`
 *
 * The release step the deploy workflow runs after `pulumi up` (`tools/release/release.ts`): reads
 * the stack's `releases` output (`pulumi stack output releases --json > releases.json`), shifts each
 * function whose `live` alias is behind its newest published version through CodeDeploy (canary and
 * linear stacks), waits for each deployment, then deletes the versions nobody needs. Prints one line
 * per function. Exit code: 0 when every due release finished, 1 when one failed, stopped (an alarm
 * fired: CodeDeploy rolled it back) or timed out (stopped and rolled back here), 2 on wrong arguments
 * or an unusable releases file. AWS credentials and region come from the environment, as for the CLI.
 */
import * as fs from "node:fs";
import { CodeDeployClient } from "@aws-sdk/client-codedeploy";
import { LambdaClient } from "@aws-sdk/client-lambda";
import { runAsCommand } from "./command";
import { describeReport, parseReleases, runRelease, shiftMinutes, type ReleaseClients, type ReleaseTiming } from "./release/release";

const USAGE =
    "usage: npm run release -- --releases <file> [--timeout-minutes <n>] [--poll-seconds <n>]\n" +
    "  --releases         the stack's releases output (pulumi stack output releases --json)\n" +
    "  --timeout-minutes  how long one deployment may run before it is stopped and rolled back\n" +
    "                     (default: the shift's own duration plus 15 minutes)\n" +
    "  --poll-seconds     between two looks at a deployment (default 15)";

/** Beyond the shift's own duration: CodeDeploy's start, its last alarm check and the final switch. */
export const RELEASE_DEFAULTS = { timeoutMarginMinutes: 15, pollSeconds: 15 } as const;

export interface ReleaseOptions {
    releasesFile: string;
    /** @default the shift's duration (`shiftMinutes`) plus `RELEASE_DEFAULTS.timeoutMarginMinutes` */
    timeoutMinutes?: number;
    pollSeconds: number;
}

export class UsageError extends Error {}

export function parseArgs(argv: readonly string[]): ReleaseOptions {
    const options: Partial<ReleaseOptions> = { pollSeconds: RELEASE_DEFAULTS.pollSeconds };
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
    if (!options.releasesFile) throw new UsageError(`--releases is required\n${USAGE}`);
    return options as ReleaseOptions;
}

function readReleasesFile(file: string): string {
    try {
        return fs.readFileSync(file, "utf8");
    } catch (error) {
        throw new Error(`Cannot read the releases file ${file} (pulumi stack output releases --json > ${file}): ${(error as Error).message}`);
    }
}

/** The command: arguments in, lines out, the exit code back. */
export async function main(argv: readonly string[], io: { out(line: string): void; err(line: string): void }, clients: ReleaseClients, timing: Pick<ReleaseTiming, "sleep" | "now">): Promise<number> {
    let options: ReleaseOptions;
    let releases;
    try {
        options = parseArgs(argv);
        releases = parseReleases(readReleasesFile(options.releasesFile));
    } catch (error) {
        io.err((error as Error).message);
        return 2;
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
