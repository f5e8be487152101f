/**
 * `npm run policy -- --stack <stack> [--layout <layout>] [--config <file>] [--preview] [--json]`
 *
 * Runs the Pulumi program offline (under mocks, with the stack's environment file), hands every registered
 * resource to every policy of the pack the way `pulumi preview --policy-pack policy` does, prints
 * the violations grouped by level, and exits 1 on any mandatory violation. The pack config is
 * `policy/config.<environment>.json` unless `--config` names another file. Any stack of an environment
 * runs: `dev`, or `dev-platform` and `dev-users` when dev deploys a stack per service; `--layout`
 * reads the environment as if its file set that layout (a what-if before switching).
 *
 * The program runs as `pulumi up` would see it (every mocked output known) unless `--preview` asks
 * for preview semantics, where outputs are unknown and the rules skip what they cannot know yet.
 */
import * as path from "path";
import { runAsCommand } from "./command";
import { readStackConfig, readStackTarget } from "../platform/config/stack-files";
import { environmentStacks, layoutOf, STACK_LAYOUTS, type StackLayout } from "../platform/config/stack-layout";
import { PROJECT } from "../platform/config/stack-config";
import { platformOutputsOf, runProgramOffline } from "./offline";
import { formatReport, loadPackConfig, PACK_DIR, packConfigForStack, packLabel, runPolicies } from "./policy-engine";

interface Options {
    /** The stacks to check, in deploy order: one, or every stack of `--environment`. */
    stacks: string[];
    layout?: StackLayout;
    configFile: string;
    preview: boolean;
    json: boolean;
}

const USAGE = `usage: npm run policy -- (--stack <stack> | --environment <env>) [--layout <${STACK_LAYOUTS.join("|")}>] [--config <pack config file>] [--preview] [--json]`;

export function parseArgs(argv: readonly string[]): Options {
    let stack: string | undefined;
    let environment: string | undefined;
    let layout: StackLayout | undefined;
    let configFile: string | undefined;
    let preview = false;
    let json = false;
    for (let i = 0; i < argv.length; i++) {
        const arg = argv[i];
        const value = () => {
            const v = argv[++i];
            if (v === undefined || v.startsWith("--")) {
                throw new Error(`${arg} needs a value\n${USAGE}`);
            }
            return v;
        };
        if (arg === "--stack") stack = value();
        else if (arg.startsWith("--stack=")) stack = arg.slice("--stack=".length);
        else if (arg === "--environment") environment = value();
        else if (arg === "--layout") layout = layoutArgument(value());
        else if (arg === "--config") configFile = value();
        else if (arg.startsWith("--config=")) configFile = arg.slice("--config=".length);
        else if (arg === "--preview") preview = true;
        else if (arg === "--json") json = true;
        else throw new Error(`unknown argument ${arg}\n${USAGE}`);
    }
    if ((stack === undefined) === (environment === undefined)) {
        throw new Error(`one of --stack and --environment is required\n${USAGE}`);
    }
    const environmentName = environment ?? readStackTarget(stack!, layout).environment;
    const stacks = environment !== undefined ? environmentStacks(environment, layout ?? layoutOf(readStackConfig(environment), PROJECT), serviceNames()) : [stack!];
    return { stacks, ...(layout ? { layout } : {}), configFile: configFile ?? path.join(PACK_DIR, `config.${environmentName}.json`), preview, json };
}

/** A `--layout` value, or a usage error listing the layouts. */
export function layoutArgument(value: string): StackLayout {
    if (!(STACK_LAYOUTS as readonly string[]).includes(value)) throw new Error(`--layout must be one of ${STACK_LAYOUTS.join(", ")}; got ${value}\n${USAGE}`);
    return value as StackLayout;
}

/** The registry's service names (function and container services), which name an environment's service stacks. */
function serviceNames(): string[] {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { services } = require("../infra/services") as typeof import("../infra/services");
    return services.map((service) => service.name);
}

async function main(argv: readonly string[]): Promise<number> {
    const options = parseArgs(argv);
    const config = loadPackConfig(options.configFile);
    let mandatory = 0;
    for (const stack of options.stacks) {
        const run = await runProgramOffline({ stack, preview: options.preview, layout: options.layout });
        const result = await runPolicies(run.resources, packConfigForStack(config, platformOutputsOf(run)));
        mandatory += result.mandatory;
        if (options.json) {
            console.log(JSON.stringify({ stack, ...result }, null, 2));
        } else {
            const configShown = path.relative(process.cwd(), options.configFile) || options.configFile;
            const mode = options.preview ? "preview" : "update";
            console.log(formatReport(result, `Policy pack ${packLabel()} on stack ${stack} (${mode}, config ${configShown})`));
        }
    }
    return mandatory > 0 ? 1 : 0;
}

if (require.main === module) runAsCommand(main);
