import { ruleConfig, type PlaintextEnvironmentConfig } from "../config";
import { checkContainers } from "../lib/containers";
import { resourcePolicy } from "../lib/rule";
import { Types } from "../lib/types";
import { isUnknown } from "../lib/unknown";

/** Names that say "secret": a key, a token, a password, a secret, a credential. */
const SECRET_NAME = /(_KEY$|TOKEN|PASSWORD|PASSWD|SECRET|CREDENTIAL)/i;
/** A reference to a secret, not the secret: an ARN (`arn:aws:secretsmanager:...:secret:...`). */
const ARN = /^arn:[\w-]+:[\w-]+:/;
/** The shapes of credentials whatever the variable is called. */
const SHAPES: Array<[RegExp, string]> = [
    [/\b(AKIA|ASIA)[A-Z0-9]{16}\b/, "an AWS access key id"],
    [/-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----/, "a PEM private key"],
    [/^eyJ[\w-]+\.eyJ[\w-]+\.[\w-]*$/, "a JWT"],
];
/** Token-like: one run of the characters generated secrets are written in (base64, base64url, hex). */
const TOKEN_LIKE = /^[A-Za-z0-9+/=_.-]+$/;

/** Shannon entropy of `text`, in bits per character. */
export function entropyBitsPerCharacter(text: string): number {
    const counts = new Map<string, number>();
    for (const character of text) counts.set(character, (counts.get(character) ?? 0) + 1);
    let bits = 0;
    for (const count of counts.values()) {
        const p = count / text.length;
        bits -= p * Math.log2(p);
    }
    return bits;
}

/** Why `value` of variable `name` looks like a secret, or undefined. */
export function secretLikeReason(name: string, value: string, config: PlaintextEnvironmentConfig): string | undefined {
    for (const [shape, what] of SHAPES) if (shape.test(value)) return `its value looks like ${what}`;
    const literal = value !== "" && !ARN.test(value);
    if (literal && SECRET_NAME.test(name) && !config.ignoredNames.includes(name)) return "its name says it holds a secret and its value is not an ARN";
    if (
        value.length >= config.minEntropyLength &&
        TOKEN_LIKE.test(value) &&
        /[A-Za-z]/.test(value) &&
        /[0-9]/.test(value) &&
        entropyBitsPerCharacter(value) >= config.minEntropyBitsPerCharacter
    ) {
        return `its value is a random-looking token (${entropyBitsPerCharacter(value).toFixed(1)} bits a character)`;
    }
    return undefined;
}

function variableFindings(variables: Array<[string, unknown]>, owner: string, config: PlaintextEnvironmentConfig): string[] {
    return variables.flatMap(([name, value]) => {
        if (typeof value !== "string" || isUnknown(value)) return [];
        const reason = secretLikeReason(name, value, config);
        return reason ? [`${owner} environment variable ${name} looks like a secret: ${reason}. Environment variables are readable in plain text by anyone who can read the ${owner === "The function's" ? "function's configuration" : "task definition"}; declare it in the service's secrets instead.`] : [];
    });
}

/**
 * No secret in plain text in a function's or a task's environment: those are readable by anyone
 * who may read the configuration, and kept in Pulumi's state. A value is refused by its name (a
 * key, token, password or secret, holding a literal that is not an ARN) or by its shape (an AWS
 * access key id, a PEM private key, a JWT, a long random token). Values in the stack's secrets
 * reach handlers through `ctx.secrets`, and container processes through ECS `secrets`.
 */
export const secretNoPlaintextEnvironment = resourcePolicy({
    name: "secret-no-plaintext-environment",
    description:
        "No Lambda function or ECS container environment variable holds a value that looks like a secret: by name (*_KEY, *TOKEN*, *PASSWORD*, *SECRET* with a literal that is not an ARN) or by shape (AWS access key ids, PEM private keys, JWTs, long random tokens).",
    enforcementLevel: "mandatory",
    config: ruleConfig["secret-no-plaintext-environment"],
    resourceTypes: [Types.lambdaFunction, Types.ecsTaskDefinition],
    remediationSteps: "Declare the value in the service's `secrets` and read it with ctx.secrets.get (a container gets it through ECS `secrets`); pass only a secret's ARN in the environment.",
    check: ({ type, props }, config) => {
        if (type === Types.lambdaFunction) {
            const variables = props.environment?.variables;
            if (isUnknown(variables) || typeof variables !== "object" || variables === null) return [];
            return variableFindings(Object.entries(variables), "The function's", config);
        }
        return checkContainers(props, (container, label) => {
            const environment = Array.isArray(container.environment) ? (container.environment as Array<{ name?: unknown; value?: unknown }>) : [];
            return variableFindings(
                environment.map((variable) => [String(variable.name), variable.value]),
                `${label}'s`,
                config,
            );
        });
    },
});
