/**
 * `npm run asyncapi -- --stack <name> [--out <file>]`: the stack's event catalogue as an AsyncAPI
 * 3.0 document (`platform/api/asyncapi.ts`), printed as JSON, or written to `--out`. The registry
 * and the stack's settings are checked first, as the program checks them: a stack the program
 * would refuse gets no document. `docs/asyncapi.dev.json` is this output for dev, committed (every
 * stack has the same registry: the others differ in the bus's name and region); the tests
 * regenerate it and fail while it differs.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import type { RegisteredService } from "../functions/runtime/container";
import { asyncApiDocument, type AsyncApiDocument } from "../platform/api/asyncapi";
import { REPOSITORY_ROOT } from "../platform/config/stack-files";
import { runAsCommand } from "./command";

const USAGE =
    "usage: npm run asyncapi -- --stack <name> [--out <file>]\n" +
    "  --stack   the stack whose events to describe: an environment (Pulumi.<name>.yaml) or one of its stacks\n" +
    "  --out     write the document to this file instead of printing it";

/** The committed document of `stack`, which the tests keep equal to the registry's. */
export function committedDocumentFile(stack: string): string {
    return path.join(REPOSITORY_ROOT, "docs", `asyncapi.${stack}.json`);
}

/** The document of `stack` for `services`, as JSON text with a final newline. */
export async function asyncApiText(stack: string, services?: readonly RegisteredService[]): Promise<string> {
    // Loaded here: the program's inputs bring Pulumi's SDK, which `--help` and a usage error need not load.
    const { inputsForStack } = await import("../infra/program-inputs");
    const registered = services ?? (await import("../infra/services")).services;
    const { environment, config, registry } = inputsForStack(stack, registered);
    const { version } = JSON.parse(fs.readFileSync(path.join(REPOSITORY_ROOT, "package.json"), "utf8")) as { version: string };
    const document: AsyncApiDocument = asyncApiDocument({ environment, region: config.region, version, eventFlows: registry.eventFlows, subscriptions: registry.subscriptions });
    return `${JSON.stringify(document, null, 2)}\n`;
}

export async function main(argv: readonly string[], out: (text: string) => void = (text) => process.stdout.write(text)): Promise<number> {
    let stack: string | undefined;
    let file: string | undefined;
    for (let i = 0; i < argv.length; i++) {
        const flag = argv[i];
        if (flag === "--help" || flag === "-h") {
            out(`${USAGE}\n`);
            return 0;
        }
        const value = argv[i + 1];
        if ((flag !== "--stack" && flag !== "--out") || value === undefined || value.startsWith("--")) {
            process.stderr.write(`${flag === "--stack" || flag === "--out" ? `${flag} needs a value` : `unknown argument ${flag}`}\n${USAGE}\n`);
            return 2;
        }
        if (flag === "--stack") stack = value;
        else file = value;
        i++;
    }
    if (!stack) {
        process.stderr.write(`--stack is required\n${USAGE}\n`);
        return 2;
    }
    const text = await asyncApiText(stack);
    if (file) fs.writeFileSync(file, text);
    else out(text);
    return 0;
}

if (require.main === module) runAsCommand(main);
