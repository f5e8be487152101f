/**
 * The pack config file `pulumi preview --policy-pack-config <file>` takes (`policy/config.<stack>.json`):
 * reading it, and what it makes of one policy (its level, its knobs). The offline engine
 * (`tools/policy-engine.ts`) and the registry's checks (`platform/function-bounds.ts`, which holds
 * route functions to the pack's bounds before any resource exists) read it through here.
 */
import * as fs from "fs";
import type { EnforcementLevel } from "./sdk";

type PolicyEntry = EnforcementLevel | ({ enforcementLevel?: EnforcementLevel } & Record<string, unknown>);

/** The file `pulumi preview --policy-pack-config <file>` takes. */
export type PackConfig = { all?: EnforcementLevel } & { [policy: string]: PolicyEntry | undefined };

/** Reads a pack config file; a missing or malformed file is an error naming the file. */
export function loadPackConfig(file: string): PackConfig {
    let text: string;
    try {
        text = fs.readFileSync(file, "utf8");
    } catch (e) {
        throw new Error(`Cannot read policy pack config ${file}: ${(e as Error).message}`);
    }
    try {
        const parsed = JSON.parse(text);
        if (parsed === null || typeof parsed !== "object" || Array.isArray(parsed)) {
            throw new Error("expected a JSON object");
        }
        return parsed as PackConfig;
    } catch (e) {
        throw new Error(`Policy pack config ${file} is not valid: ${(e as Error).message}`);
    }
}

/** The enforcement level a policy runs at under `config`: its entry's, else `all`, else its own. */
export function effectiveLevel(policy: { name: string; enforcementLevel?: EnforcementLevel }, config: PackConfig): EnforcementLevel {
    const entry = config[policy.name];
    const configured = typeof entry === "string" ? entry : entry?.enforcementLevel;
    return configured ?? config.all ?? policy.enforcementLevel ?? "advisory";
}

/** A policy's knobs as the SDK's `getConfig()` returns them: its entry without `enforcementLevel`. */
export function policyKnobs(name: string, config: PackConfig): Record<string, unknown> {
    const entry = config[name];
    if (entry === undefined || typeof entry === "string") {
        return {};
    }
    const { enforcementLevel: _level, ...knobs } = entry;
    return knobs;
}
