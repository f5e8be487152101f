/**
 * A service's declared `secrets` in the platform core: the rule their names follow, the registry's
 * check of a declaration, and the copy each of its functions carries. The values are never here:
 * they live in Secrets Manager in the cloud and in the local data folder under `npm start`.
 */
import { SECRETS_MANAGER } from "../policy/lib/limits";

/**
 * A secret's name: what a handler passes to `ctx.secrets.get`, a key of the service's secret's JSON
 * and, for a container service, the environment variable its process reads.
 */
export const SECRET_NAME = { pattern: /^[A-Z][A-Z0-9_]{0,63}$/, text: "an upper-case letter, then upper-case letters, digits or _ (at most 64 characters), e.g. STRIPE_API_KEY" };

/**
 * A service's `secrets`: a list of names (`SECRET_NAME`), each once, at most
 * `SECRETS_MANAGER.maxSecretsPerService`; `reserved` names the process already gets (a container
 * service's environment), which a secret may not take.
 */
export function validateSecrets(secrets: unknown, where: string, reserved: ReadonlySet<string> = new Set()): string[] {
    if (secrets === undefined) return [];
    if (!Array.isArray(secrets)) return [`${where}: secrets must be a list of names, e.g. ["STRIPE_API_KEY"]`];
    const problems: string[] = [];
    const seen = new Set<string>();
    for (const name of secrets) {
        if (typeof name !== "string" || !SECRET_NAME.pattern.test(name)) {
            problems.push(`${where}: secret name ${JSON.stringify(name)} is not allowed; use ${SECRET_NAME.text}`);
        } else if (seen.has(name)) {
            problems.push(`${where}: secret ${name} is declared twice; declare each secret once`);
        } else if (reserved.has(name)) {
            problems.push(`${where}: secret ${name} would take the environment variable ${name}, which the process already gets; choose another name`);
        }
        if (typeof name === "string") seen.add(name);
    }
    if (secrets.length > SECRETS_MANAGER.maxSecretsPerService) {
        problems.push(
            `${where}: declares ${secrets.length} secrets; a service may declare at most ${SECRETS_MANAGER.maxSecretsPerService} (its values share one Secrets Manager secret of ${SECRETS_MANAGER.secretValueBytes / 1024} KB)`,
        );
    }
    return problems;
}

/** The secrets a service declares, as a plain copy (a function's closure captures it). */
export function declaredSecrets(service: { secrets?: readonly string[] }): string[] {
    return [...(service.secrets ?? [])];
}
