/**
 * Local secret values for tests and benchmarks that serve a registry whatever it holds: a placeholder
 * for every secret it declares, since the local runtime refuses a service whose declared secrets are
 * unset; for `local/start.ts` as a process, in a file of their own (`LOCAL_SECRETS_FILE`). Never the
 * developer's `.data/secrets.json`.
 */
import * as path from "node:path";
import type { RegisteredService } from "../functions/runtime/container";
import { setLocalSecret } from "../local/secrets";

/** `placeholder-<NAME>` for every declared secret of `services`, by service and name (what `startTestRuntime`'s `secrets` takes). */
export function placeholderSecrets(services: readonly RegisteredService[]): Record<string, Record<string, string>> {
    return Object.fromEntries(
        services.filter((service) => (service.secrets?.length ?? 0) > 0).map((service) => [service.name, Object.fromEntries((service.secrets ?? []).map((name) => [name, `placeholder-${name}`]))]),
    );
}

/** Writes `placeholderSecrets(services)` into `<dir>/secrets.json`; returns the file. */
export function placeholderSecretsFile(dir: string, services: readonly RegisteredService[]): string {
    const file = path.join(dir, "secrets.json");
    for (const [service, values] of Object.entries(placeholderSecrets(services))) for (const [name, value] of Object.entries(values)) setLocalSecret(file, service, name, value);
    return file;
}
