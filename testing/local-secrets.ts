/**
 * Local secret values for tests and benchmarks that start `local/start.ts` as a process: a file of
 * their own (`LOCAL_SECRETS_FILE`) holding a placeholder for every secret the registry declares,
 * since `npm start` refuses a service whose declared secrets are unset. Never the developer's
 * `.data/secrets.json`.
 */
import * as path from "node:path";
import type { RegisteredService } from "../functions/runtime/container";
import { setLocalSecret } from "../local/secrets";

/** Writes `placeholder-<NAME>` for every declared secret of `services` into `<dir>/secrets.json`; returns the file. */
export function placeholderSecretsFile(dir: string, services: readonly RegisteredService[]): string {
    const file = path.join(dir, "secrets.json");
    for (const service of services) for (const name of service.secrets ?? []) setLocalSecret(file, service.name, name, `placeholder-${name}`);
    return file;
}
