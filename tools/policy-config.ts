/**
 * `npm run policy-config -- --environment <env> [--platform-outputs <file>]`
 *
 * Prints the policy pack config for one stack of the environment: `policy/config.<env>.json`, plus,
 * for a service stack of a stack-per-service environment, what its cross-stack rules need from
 * the platform stack's outputs (`--platform-outputs`: `pulumi stack output --json --stack <env>-platform`).
 * CI hands the result to `pulumi preview|up --policy-pack-config`.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { runAsCommand } from "./command";
import { loadPackConfig, PACK_DIR, packConfigForStack } from "./policy-engine";

const USAGE = "usage: npm run policy-config -- --environment <env> [--platform-outputs <file of pulumi stack output --json>]";

export interface PolicyConfigOptions {
    environment: string;
    platformOutputs?: string;
}

export function parseArgs(argv: readonly string[]): PolicyConfigOptions {
    const options: Partial<PolicyConfigOptions> = {};
    for (let i = 0; i < argv.length; i++) {
        const flag = argv[i];
        const value = argv[++i];
        if (value === undefined || value.startsWith("--")) throw new Error(`${flag} needs a value\n${USAGE}`);
        if (flag === "--environment") options.environment = value;
        else if (flag === "--platform-outputs") options.platformOutputs = value;
        else throw new Error(`unknown argument ${flag}\n${USAGE}`);
    }
    if (!options.environment) throw new Error(`--environment is required\n${USAGE}`);
    return options as PolicyConfigOptions;
}

/** The pack config JSON for the options: the environment's file, with the platform's outputs folded in when given. */
export function policyConfigFor(options: PolicyConfigOptions, packDir = PACK_DIR): string {
    const config = loadPackConfig(path.join(packDir, `config.${options.environment}.json`));
    let outputs: Record<string, unknown> | undefined;
    if (options.platformOutputs) {
        try {
            outputs = JSON.parse(fs.readFileSync(options.platformOutputs, "utf8")) as Record<string, unknown>;
        } catch (error) {
            throw new Error(`Cannot read the platform stack's outputs ${options.platformOutputs}: ${(error as Error).message}`);
        }
    }
    return JSON.stringify(packConfigForStack(config, outputs), null, 2);
}

async function main(argv: readonly string[]): Promise<number> {
    console.log(policyConfigFor(parseArgs(argv)));
    return 0;
}

if (require.main === module) runAsCommand(main);
