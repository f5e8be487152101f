/**
 * `npm run secret -- <command>`: the local values of the services' declared secrets, kept in the
 * local data folder (`.data/secrets.json`, mode 0600; `local/secrets.ts`). Values are never
 * printed, and never taken from the command line (where the shell history and `ps` would see them):
 *
 *   npm run secret -- set <service> <NAME>     reads the value from standard input: typed without echo
 *                                              on a terminal, or piped (`... < key.pem`; one final newline is dropped)
 *   npm run secret -- list [<service>]         every declared secret and whether it has a value (names only)
 *   npm run secret -- unset <service> <NAME>   removes a value
 *
 * `LOCAL_SECRETS_FILE` names another file. In the cloud the values live in Secrets Manager instead:
 * docs/secrets.md says how to set them there.
 */
import type { RegisteredService } from "../functions/runtime/container";
import { loadRegistry } from "../local/registry";
import { readLocalSecrets, secretsFileFromEnv, setLocalSecret, unsetLocalSecret } from "../local/secrets";
import { runAsCommand } from "./command";

const USAGE = "Usage: npm run secret -- set <service> <NAME> | list [<service>] | unset <service> <NAME>";

export interface SecretCommandOptions {
    file: string;
    services: readonly RegisteredService[];
    /** Reads the value to set (standard input). */
    readValue: () => Promise<string>;
    /** Where messages go. */
    write: (line: string) => void;
}

/** Runs one command; resolves with its exit code (2 for a mistake in the command, naming it). */
export async function runSecretCommand(argv: readonly string[], options: SecretCommandOptions): Promise<number> {
    const [command, serviceName, name, ...rest] = argv;
    const fail = (message: string) => {
        options.write(message);
        return 2;
    };
    const declaredOf = (service: RegisteredService): string[] => [...(service.secrets ?? [])];
    const serviceNamed = (wanted: string | undefined) => options.services.find((service) => service.name === wanted);
    const withSecrets = options.services.filter((service) => declaredOf(service).length > 0);

    switch (command) {
        case "list": {
            if (name !== undefined) return fail(USAGE);
            const listed = serviceName === undefined ? withSecrets : [serviceNamed(serviceName)].filter((service): service is RegisteredService => service !== undefined);
            if (serviceName !== undefined && listed.length === 0) return fail(unknownService(serviceName, withSecrets));
            const values = readLocalSecrets(options.file);
            if (listed.length === 0) options.write("No service declares secrets.");
            for (const service of listed) {
                for (const secret of declaredOf(service)) options.write(`${service.name} ${secret} ${values[service.name]?.[secret] ? "set" : "unset"}`);
            }
            return 0;
        }
        case "set":
        case "unset": {
            if (serviceName === undefined || name === undefined || rest.length > 0) return fail(USAGE);
            const service = serviceNamed(serviceName);
            if (!service || declaredOf(service).length === 0) return fail(unknownService(serviceName, withSecrets));
            if (!declaredOf(service).includes(name)) return fail(`Service "${serviceName}" declares no secret ${name}; it declares ${declaredOf(service).join(", ")}.`);
            if (command === "unset") {
                options.write(unsetLocalSecret(options.file, serviceName, name) ? `Unset ${serviceName} ${name}.` : `${serviceName} ${name} had no value.`);
                return 0;
            }
            const value = await options.readValue();
            if (value === "") return fail(`No value read for ${serviceName} ${name}; nothing changed.`);
            setLocalSecret(options.file, serviceName, name, value);
            options.write(`Set ${serviceName} ${name} (${options.file}).`);
            return 0;
        }
        default:
            return fail(USAGE);
    }
}

function unknownService(name: string, withSecrets: readonly RegisteredService[]): string {
    const names = withSecrets.map((service) => service.name);
    return `No service "${name}" declares secrets; ${names.length > 0 ? `these do: ${names.join(", ")}` : "none does"}.`;
}

/** The value from standard input: typed with no echo on a terminal, else everything piped in, less one final newline. */
export function readValueFromStdin(stdin: NodeJS.ReadStream = process.stdin, prompt: (text: string) => void = (text) => process.stderr.write(text)): Promise<string> {
    if (!stdin.isTTY) {
        return new Promise((resolve, reject) => {
            const chunks: Buffer[] = [];
            stdin.on("data", (chunk: Buffer) => chunks.push(chunk));
            stdin.on("end", () => resolve(Buffer.concat(chunks).toString("utf8").replace(/\r?\n$/, "")));
            stdin.on("error", reject);
        });
    }
    return new Promise((resolve, reject) => {
        prompt("Value (not shown): ");
        let value = "";
        stdin.setRawMode(true);
        stdin.setEncoding("utf8");
        const done = (result: Error | string) => {
            stdin.setRawMode(false);
            stdin.pause();
            stdin.removeListener("data", onData);
            prompt("\n");
            if (result instanceof Error) reject(result);
            else resolve(result);
        };
        const onData = (typed: string) => {
            for (const character of typed) {
                if (character === "\r" || character === "\n") return done(value);
                if (character === "\u0003") return done(new Error("Cancelled; nothing changed."));
                if (character === "\u007f" || character === "\b") value = value.slice(0, -1);
                else value += character;
            }
        };
        stdin.on("data", onData);
        stdin.resume();
    });
}

if (require.main === module) {
    runAsCommand((argv) =>
        runSecretCommand(argv, {
            file: secretsFileFromEnv(),
            services: loadRegistry(),
            readValue: () => readValueFromStdin(),
            write: (line) => console.log(line),
        }),
    );
}
