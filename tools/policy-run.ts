/**
 * `npm run policy -- --stack <dev|prod> [--config <file>] [--preview] [--json]`
 *
 * Runs the Pulumi program offline (under mocks, with `Pulumi.<stack>.yaml`), hands every registered
 * resource to every policy of the pack the way `pulumi preview --policy-pack policy` does, prints
 * the violations grouped by level, and exits 1 on any mandatory violation. The pack config is
 * `policy/config.<stack>.json` unless `--config` names another file.
 *
 * The program runs as `pulumi up` would see it (every mocked output known) unless `--preview` asks
 * for preview semantics, where outputs are unknown and the rules skip what they cannot know yet.
 */
import * as path from "path";
import { runAsCommand } from "./command";
import { runProgramOffline } from "./offline";
import { formatReport, loadPackConfig, PACK_DIR, packLabel, runPolicies } from "./policy-engine";

interface Options {
    stack: string;
    configFile: string;
    preview: boolean;
    json: boolean;
}

const USAGE = "usage: npm run policy -- --stack <dev|prod> [--config <pack config file>] [--preview] [--json]";

export function parseArgs(argv: readonly string[]): Options {
    let stack: string | undefined;
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
        else if (arg === "--config") configFile = value();
        else if (arg.startsWith("--config=")) configFile = arg.slice("--config=".length);
        else if (arg === "--preview") preview = true;
        else if (arg === "--json") json = true;
        else throw new Error(`unknown argument ${arg}\n${USAGE}`);
    }
    if (!stack) {
        throw new Error(`--stack is required\n${USAGE}`);
    }
    return { stack, configFile: configFile ?? path.join(PACK_DIR, `config.${stack}.json`), preview, json };
}

async function main(argv: readonly string[]): Promise<number> {
    const options = parseArgs(argv);
    const config = loadPackConfig(options.configFile);
    const { resources } = await runProgramOffline({ stack: options.stack, preview: options.preview });
    const result = await runPolicies(resources, config);
    if (options.json) {
        console.log(JSON.stringify(result, null, 2));
    } else {
        const configShown = path.relative(process.cwd(), options.configFile) || options.configFile;
        const mode = options.preview ? "preview" : "update";
        console.log(formatReport(result, `Policy pack ${packLabel()} on stack ${options.stack} (${mode}, config ${configShown})`));
    }
    return result.mandatory > 0 ? 1 : 0;
}

if (require.main === module) runAsCommand(main);
