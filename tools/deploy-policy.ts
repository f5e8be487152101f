/**
 * `npm run deploy-policy -- --stack <env>-<service> [--account <id>] [--api-id <id>]`
 *
 * Prints the IAM policy a service stack's deploy role needs (platform/deploy-policy.ts), scoped to
 * that service by name wherever AWS allows it, and, on stderr, what AWS does not let it narrow.
 * The account and the API's id come from `aws sts get-caller-identity` and the platform stack's
 * `apiId` output; without them the policy says `*` there.
 */
import { runAsCommand } from "./command";
import { resolveInputs } from "../infra/program-inputs";
import { readStackTarget } from "../platform/config/stack-files";
import { STACK_LAYOUTS, type StackLayout } from "../platform/config/stack-layout";
import { services } from "../infra/services";
import { serviceDeployPolicy, UNSCOPED } from "../platform/deploy-policy";
import { PROJECT } from "../platform/config/stack-config";

const USAGE = "usage: npm run deploy-policy -- --stack <env>-<service> [--layout stack-per-service] [--account <12 digits>] [--api-id <id>]";

export interface DeployPolicyOptions {
    stack: string;
    /** Reads the environment as if its file set this layout (a what-if before switching). */
    layout?: StackLayout;
    account: string;
    apiId: string;
}

export function parseArgs(argv: readonly string[]): DeployPolicyOptions {
    const options: Partial<DeployPolicyOptions> = { account: "*", apiId: "*" };
    for (let i = 0; i < argv.length; i++) {
        const flag = argv[i];
        const value = argv[++i];
        if (value === undefined || value.startsWith("--")) throw new Error(`${flag} needs a value\n${USAGE}`);
        if (flag === "--stack") options.stack = value;
        else if (flag === "--layout") {
            if (!(STACK_LAYOUTS as readonly string[]).includes(value)) throw new Error(`--layout must be one of ${STACK_LAYOUTS.join(", ")}; got ${value}`);
            options.layout = value as StackLayout;
        }
        else if (flag === "--account") {
            if (!/^\d{12}$/.test(value)) throw new Error(`--account takes a 12-digit AWS account id; got ${value}`);
            options.account = value;
        } else if (flag === "--api-id") {
            if (!/^[a-z0-9]{10}$/.test(value)) throw new Error(`--api-id takes the platform stack's apiId output (10 characters); got ${value}`);
            options.apiId = value;
        } else throw new Error(`unknown argument ${flag}\n${USAGE}`);
    }
    if (!options.stack) throw new Error(`--stack is required\n${USAGE}`);
    return options as DeployPolicyOptions;
}

async function main(argv: readonly string[]): Promise<number> {
    const options = parseArgs(argv);
    const inputs = resolveInputs(readStackTarget(options.stack, options.layout), services);
    if (inputs.target.part.kind !== "service") {
        throw new Error(`${options.stack} is not a service stack: the deploy policy is for <env>-<service> stacks of a stack-per-service environment`);
    }
    const service = inputs.target.part.service;
    const usesDatabase = inputs.dataPlan.services.some((data) => data.service === service);
    const policy = serviceDeployPolicy({
        project: PROJECT,
        environment: inputs.environment,
        service,
        region: inputs.config.region,
        account: options.account,
        apiId: options.apiId,
        // Pulumi names the platform's migration launcher `migrations-launcher-<8 characters>`; the worker it invokes is not the deployer's to call.
        ...(usesDatabase ? { migrationFunctionName: "migrations-launcher-*" } : {}),
    });
    console.log(JSON.stringify(policy, null, 2));
    console.error(`Not narrowed to ${service} (AWS does not allow it):\n${Object.values(UNSCOPED).map((why) => `  - ${why}`).join("\n")}`);
    return 0;
}

if (require.main === module) runAsCommand(main);
