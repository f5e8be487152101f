/**
 * `npm run plan -- --stack <name> [--json] [--compare <other stack>] [--policy-config <file>]`
 *
 * What a stack will contain, whether it passes policy and what it will cost, offline: no Pulumi CLI,
 * no credentials, no network. This file is the command (arguments, exit code); the plan itself is
 * `plan/model.ts` (the program run under mocks, the policy pack and the cost model over it), its
 * text and JSON are `plan/render.ts`, its prices `plan/pricing.ts`. It prints:
 *
 *   (a) the resources as a tree by component, with the settings a reviewer checks, and the routes,
 *       database, network, API, logging and monitoring settings in short tables;
 *   (b) the policy results;
 *   (c) the estimated monthly cost: idle (no traffic) and per million requests.
 *
 *   (d) the type check of the registry and the service files (the program runs transpile-only,
 *       so a mistake only the type checker sees, like a route key written twice, is caught here).
 *
 * `--json` prints the same as one JSON document (type errors go to standard error). `--compare
 * prod` plans a second stack and shows the two side by side. Exit code: 0 when every planned stack
 * passes policy and the files type-check, 1 on a mandatory violation or a type error, 2 when the
 * program or the arguments are wrong.
 */
import type { RegisteredService } from "../functions/runtime/container";
import { readStackTarget } from "../platform/config/stack-files";
import { STACK_LAYOUTS, type StackLayout } from "../platform/config/stack-layout";
import { formatTypeCheck, typeCheckOnce, type TypeCheckOptions } from "../local/type-check";
import { planStack } from "./plan/model";
import { renderJson, renderText } from "./plan/render";
import { STANDARD_IO } from "./command";

const USAGE =
    "usage: npm run plan -- --stack <name> [--json] [--compare <other stack>] [--policy-config <pack config file>]\n" +
    "  --stack           the stack to plan: an environment (Pulumi.<name>.yaml), or <env>-platform / <env>-<service> of a stack-per-service environment\n" +
    "  --layout          plan the environment as if its file set this layout (one-stack | stack-per-service)\n" +
    "  --json            print the plan as JSON\n" +
    "  --compare         also plan another stack and show both side by side\n" +
    "  --policy-config   pack config for --stack (default policy/config.<environment>.json)";

export interface PlanOptions {
    stack: string;
    layout?: StackLayout;
    json: boolean;
    compare?: string;
    policyConfig?: string;
}

export class UsageError extends Error {}

export function parseArgs(argv: readonly string[]): PlanOptions | "help" {
    const options: Partial<PlanOptions> = { json: false };
    for (let i = 0; i < argv.length; i++) {
        const arg = argv[i];
        const [flag, inline] = arg.startsWith("--") && arg.includes("=") ? [arg.slice(0, arg.indexOf("=")), arg.slice(arg.indexOf("=") + 1)] : [arg, undefined];
        const value = () => {
            const v = inline ?? argv[++i];
            if (v === undefined || v === "" || v.startsWith("--")) throw new UsageError(`${flag} needs a value\n${USAGE}`);
            return v;
        };
        switch (flag) {
            case "--stack":
                options.stack = value();
                break;
            case "--layout":
                if (!(STACK_LAYOUTS as readonly string[]).includes(value())) throw new UsageError(`--layout must be one of ${STACK_LAYOUTS.join(", ")}\n${USAGE}`);
                options.layout = (inline ?? argv[i]) as StackLayout;
                break;
            case "--compare":
                options.compare = value();
                break;
            case "--policy-config":
                options.policyConfig = value();
                break;
            case "--json":
                options.json = true;
                break;
            case "--help":
            case "-h":
                return "help";
            default:
                throw new UsageError(`unknown argument ${arg}\n${USAGE}`);
        }
    }
    if (!options.stack) throw new UsageError(`--stack is required\n${USAGE}`);
    if (options.compare === options.stack) throw new UsageError(`--compare names the same stack as --stack\n${USAGE}`);
    return options as PlanOptions;
}

export interface MainIo {
    out: (text: string) => void;
    err: (text: string) => void;
    /** Stack config overrides by stack name (tests plant values here). */
    stackConfig?: Record<string, Record<string, unknown>>;
    /** Which files to type-check (another project's, in tests), or `false` for none. @default the repository's */
    typeCheck?: TypeCheckOptions | false;
    /** Another registry than `infra/registry.ts` (tests plan a fixture). */
    services?: readonly RegisteredService[];
}

const defaultIo: MainIo = STANDARD_IO;

/** The CLI without `process`: returns the exit code (0 pass, 1 mandatory violation, 2 error). */
export async function main(argv: readonly string[], io: MainIo = defaultIo): Promise<number> {
    let options: PlanOptions | "help";
    try {
        options = parseArgs(argv);
    } catch (error) {
        io.err((error as Error).message);
        return 2;
    }
    if (options === "help") {
        io.out(USAGE);
        return 0;
    }
    // The registry and the stacks' settings first: a plan they refuse starts no type check.
    try {
        // Loaded here, as the offline run loads the program: after the command has started.
        const { inputsForStack, resolveInputs } = await import("../infra/program-inputs");
        const services = io.services ?? (await import("../infra/services")).services;
        for (const stack of [options.stack, ...(options.compare ? [options.compare] : [])]) {
            const target = io.stackConfig?.[stack] ? undefined : readStackTarget(stack, options.layout);
            if (target) resolveInputs(target, services);
            else inputsForStack(stack, services, { ownConfig: io.stackConfig?.[stack] });
        }
    } catch (error) {
        io.err(`plan failed: ${error instanceof Error ? error.message : String(error)}`);
        return 2;
    }
    // In its own process, while the program runs offline here; ended with the plan whatever happens.
    const typeCheck = io.typeCheck === false ? undefined : typeCheckOnce(io.typeCheck ?? {});
    try {
        const plan = await planStack({ stack: options.stack, layout: options.layout, policyConfig: options.policyConfig, stackConfig: io.stackConfig?.[options.stack], services: io.services });
        const other = options.compare ? await planStack({ stack: options.compare, layout: options.layout, stackConfig: io.stackConfig?.[options.compare], services: io.services }) : undefined;
        const checked = await typeCheck?.result;
        const typeErrors = checked?.errors.length ?? 0;
        if (options.json) {
            io.out(renderJson(plan, other));
            if (checked && typeErrors > 0) io.err(formatTypeCheck(checked));
        } else {
            const typeCheckSection = checked ? ["", "TYPE CHECK", ...formatTypeCheck(checked).split("\n").map((line) => `  ${line}`)] : [];
            io.out([renderText(plan, other), ...typeCheckSection].join("\n"));
        }
        return [plan, other].some((p) => p && !p.policy.passed) || typeErrors > 0 ? 1 : 0;
    } catch (error) {
        io.err(`plan failed: ${error instanceof Error ? error.message : String(error)}`);
        return 2;
    } finally {
        typeCheck?.close();
    }
}

if (require.main === module) {
    main(process.argv.slice(2)).then(
        (code) => process.exit(code),
        (error) => {
            console.error(error);
            process.exit(2);
        },
    );
}
