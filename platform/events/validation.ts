/**
 * The check a service's event catalog must pass (the companion of `platform/registry/validation.ts`):
 * its events are its own, each named, versioned and described, with payload fields that describe
 * themselves as JSON Schema (what the schema record and the AsyncAPI document hold). The
 * subscriptions to them are checked in `platform/triggers/subscription.ts`.
 */
import { catalogInfo, type EventCatalog } from "../../functions/runtime/events";
import type { AnyService } from "../../functions/runtime/service";
import type { Check } from "../../functions/runtime/validate";
import { EVENTBRIDGE, type Range } from "../../policy/lib/limits";
import { checkJsonSchema } from "../api/json-schema";

/** `user.created`: dot-separated lower-case words (digits and dashes inside). */
const EVENT_NAME = /^[a-z][a-z0-9-]*(\.[a-z][a-z0-9-]*)+$/;
/** Versions start at 1; a contract that needs a thousand is not one. */
const EVENT_VERSION: Range = { min: 1, max: 999 };

/** Whether a payload field describes itself as JSON Schema, as the record and the AsyncAPI document need. */
function hasJsonSchema(check: unknown): boolean {
    if (typeof check !== "function") return false;
    try {
        return Object.keys(checkJsonSchema(check as Check<unknown>)).length > 0;
    } catch {
        return false;
    }
}

function isIntegerIn(value: unknown, range: Range): boolean {
    return typeof value === "number" && Number.isInteger(value) && value >= range.min && value <= range.max;
}

/** The events a service publishes: a catalog of its own, each event named, versioned and described. */
export function validateEventCatalog(service: AnyService, where: string): string[] {
    const catalog = service.events as EventCatalog | undefined;
    if (catalog === undefined) return [];
    const info = catalogInfo(catalog);
    if (!info) return [`${where}: events must be the catalog its events.ts declares with defineEvents("${service.name}", {...})`];
    const problems: string[] = [];
    if (info.source !== service.name) {
        problems.push(`${where}: its events are declared for source "${info.source}"; a service publishes only its own: defineEvents("${service.name}", ...)`);
    }
    for (const [name, contract] of Object.entries(catalog)) {
        const at = `${where}, event "${name}"`;
        if (!EVENT_NAME.test(name) || name.length > EVENTBRIDGE.detailTypeMaxLength) {
            problems.push(`${at}: the name must be dot-separated lower-case words, e.g. "user.created", at most ${EVENTBRIDGE.detailTypeMaxLength} characters`);
        }
        if (!isIntegerIn(contract.version, EVENT_VERSION)) problems.push(`${at}: version ${JSON.stringify(contract.version)} is not allowed; use an integer from ${EVENT_VERSION.min} to ${EVENT_VERSION.max}`);
        if (typeof contract.description !== "string" || contract.description.trim() === "") problems.push(`${at}: description is required (what happened, in a line)`);
        for (const [field, check] of Object.entries(contract.payload ?? {})) {
            if (!hasJsonSchema(check)) {
                problems.push(
                    `${at}: payload field "${field}" must be one of the validators functions/runtime/validate.ts exports (text(), integer(), optional(...) and the others), which describe themselves as JSON Schema; a hand-written check has no schema to record in events.schema.json and compare`,
                );
            }
        }
    }
    return problems;
}
