/**
 * Events are a contract: the committed record of each producer's event schemas
 * (`functions/<service>/events.schema.json`, beside its `events.ts`), each version's payload as a
 * JSON Schema 2020-12 object, and the check that a change within a version only adds optional
 * fields. The registry refuses an incompatible change before any resource (a consumer built on the
 * record would reject, or misread, the new events); `npm run events:record` refreshes the record on
 * purpose, and `--check` fails while it is stale.
 */
import { isDeepStrictEqual } from "node:util";
import * as fs from "node:fs";
import * as path from "node:path";
import { catalogInfo, type EventCatalog, type EventContract } from "../../functions/runtime/events";
import type { AnyService } from "../../functions/runtime/service";
import { shapeJsonSchema, type JsonSchema } from "../api/json-schema";

export const SCHEMA_RECORD_FILE = "events.schema.json";

/** One version of one event, as recorded. */
export interface RecordedEvent {
    description: string;
    /** The payload as a JSON Schema object: `properties`, and `required` for the fields that are not optional. */
    payload: JsonSchema;
}

export interface SchemaRecord {
    /** How to refresh the file, for whoever opens it. */
    refresh: string;
    /** Event name -> version -> its schema. Versions no longer published stay: they were a contract. */
    events: Record<string, Record<string, RecordedEvent>>;
}

const REFRESH_NOTE = "npm run events:record (only after checking that consumers can take the change)";

/** Where a catalog's record lives: beside the file that declared it; undefined when that is unknown. */
export function schemaRecordFile(catalog: EventCatalog): string | undefined {
    const file = catalogInfo(catalog)?.file;
    return file ? path.join(path.dirname(file), SCHEMA_RECORD_FILE) : undefined;
}

/**
 * An event's payload as JSON Schema. Open (no `additionalProperties: false`): within a version a
 * producer may add optional fields, so a consumer must take fields it does not know. The producer
 * itself refuses a field its contract lacks when it publishes (`parsePayload`).
 */
export function payloadJsonSchema(contract: Pick<EventContract, "payload">): JsonSchema {
    return shapeJsonSchema(contract.payload, { closed: false });
}

/** The catalog's events as a record would hold them. */
export function describeCatalog(catalog: EventCatalog): SchemaRecord["events"] {
    const events: SchemaRecord["events"] = {};
    for (const [name, contract] of Object.entries(catalog)) {
        events[name] = { [String(contract.version)]: { description: contract.description, payload: payloadJsonSchema(contract) } };
    }
    return events;
}

type SchemaObject = Record<string, unknown>;

const isObject = (value: unknown): value is SchemaObject => typeof value === "object" && value !== null && !Array.isArray(value);
const propertiesOf = (schema: JsonSchema): Record<string, JsonSchema> => (isObject(schema.properties) ? (schema.properties as Record<string, JsonSchema>) : {});
const requiredOf = (schema: JsonSchema): Set<string> => new Set(Array.isArray(schema.required) ? (schema.required as string[]) : []);
const shown = (value: unknown) => (value === undefined ? "(none)" : JSON.stringify(value));

/** Where two schemas differ, one line per keyword (`maxLength 100 -> 200`, `properties.city.format "uuid" -> (none)`). */
function schemaDifferences(before: unknown, after: unknown, at = ""): string[] {
    if (isDeepStrictEqual(before, after)) return [];
    if (!isObject(before) || !isObject(after)) return [`${at || "the schema"} ${shown(before)} -> ${shown(after)}`];
    const keys = [...new Set([...Object.keys(before), ...Object.keys(after)])];
    return keys.flatMap((key) => schemaDifferences(before[key], after[key], at ? `${at}.${key}` : key));
}

/**
 * What makes `current` incompatible with `recorded` (the same event and version), one line per
 * field: a field removed, a field's schema changed in any way (type, format, bounds narrowed or
 * widened, enumeration, items, nested fields), an optional field made required or a required one
 * optional, a required field added, or the payload's own schema changed. A new optional field is
 * fine: consumers ignore fields they do not know.
 */
export function compatibilityProblems(recorded: RecordedEvent, current: RecordedEvent): string[] {
    const problems: string[] = [];
    const [before, after] = [propertiesOf(recorded.payload), propertiesOf(current.payload)];
    const [requiredBefore, requiredAfter] = [requiredOf(recorded.payload), requiredOf(current.payload)];
    for (const [field, schema] of Object.entries(before)) {
        if (!(field in after)) {
            problems.push(`field "${field}" is removed`);
            continue;
        }
        const differences = schemaDifferences(schema, after[field]);
        if (differences.length > 0) problems.push(`field "${field}" changes its schema: ${differences.join("; ")}`);
        if (!requiredBefore.has(field) && requiredAfter.has(field)) problems.push(`field "${field}" is optional in the record and becomes required`);
        if (requiredBefore.has(field) && !requiredAfter.has(field)) problems.push(`field "${field}" is required in the record and becomes optional (consumers count on it)`);
    }
    for (const field of Object.keys(after)) {
        if (!(field in before) && requiredAfter.has(field)) problems.push(`field "${field}" is added as required (within a version only optional fields may be added)`);
    }
    const { properties: _before, required: _requiredBefore, ...restBefore } = recorded.payload;
    const { properties: _after, required: _requiredAfter, ...restAfter } = current.payload;
    const differences = schemaDifferences(restBefore, restAfter);
    if (differences.length > 0) problems.push(`the payload's schema changes: ${differences.join("; ")}`);
    return problems;
}

/**
 * The record in `file`, or undefined when there is none. A record that is not one (a version without
 * its payload schema) is an error naming the file, the event and the version.
 */
export function readSchemaRecord(file: string): SchemaRecord | undefined {
    if (!fs.existsSync(file)) return undefined;
    const record = JSON.parse(fs.readFileSync(file, "utf8")) as SchemaRecord;
    if (!isObject(record?.events)) throw new Error(`${file}: has no "events" object`);
    for (const [name, versions] of Object.entries(record.events)) {
        for (const [version, recorded] of Object.entries(versions)) {
            if (!isObject(recorded?.payload) || recorded.payload.type !== "object") {
                throw new Error(`${file}: event "${name}" v${version} has no payload schema (a JSON Schema object under "payload")`);
            }
        }
    }
    return record;
}

/** The record with the catalog's current schemas merged in (older versions kept). */
export function refreshedRecord(previous: SchemaRecord | undefined, catalog: EventCatalog): SchemaRecord {
    const events: SchemaRecord["events"] = structuredClone(previous?.events ?? {});
    for (const [name, versions] of Object.entries(describeCatalog(catalog))) events[name] = { ...events[name], ...versions };
    return { refresh: REFRESH_NOTE, events };
}

/** The state of one producer's record: incompatible changes, and what is not recorded yet (stale). */
export interface RecordComparison {
    file: string | undefined;
    incompatible: string[];
    unrecorded: string[];
}

export function compareWithRecord(service: AnyService): RecordComparison {
    const catalog = (service.events ?? {}) as EventCatalog;
    const file = schemaRecordFile(catalog);
    const record = file ? readSchemaRecord(file) : undefined;
    const comparison: RecordComparison = { file, incompatible: [], unrecorded: [] };
    for (const [name, versions] of Object.entries(describeCatalog(catalog))) {
        for (const [version, current] of Object.entries(versions)) {
            const recorded = record?.events[name]?.[version];
            if (!recorded) {
                comparison.unrecorded.push(`${name} v${version}`);
                continue;
            }
            const problems = compatibilityProblems(recorded, current);
            comparison.incompatible.push(...problems.map((problem) => `event "${name}" v${version}: ${problem}`));
            if (problems.length > 0) continue;
            if (!isDeepStrictEqual(recorded.payload, current.payload)) {
                const added = Object.keys(propertiesOf(current.payload)).filter((field) => !(field in propertiesOf(recorded.payload)));
                comparison.unrecorded.push(`${name} v${version} (${added.length > 0 ? `new optional fields ${added.join(", ")}` : "its payload schema as written"})`);
            }
            else if (recorded.description !== current.description) comparison.unrecorded.push(`${name} v${version} (its description)`);
        }
    }
    return comparison;
}

/** The registry's problems with a producer's record: incompatible changes within a version, naming the service, event and file. */
export function schemaRecordProblems(service: AnyService, where: string): string[] {
    if (!service.events || Object.keys(service.events).length === 0) return [];
    let comparison: RecordComparison;
    try {
        comparison = compareWithRecord(service);
    } catch (error) {
        return [`${where}: its event schema record cannot be read: ${(error as Error).message}`];
    }
    const file = comparison.file ? path.relative(process.cwd(), comparison.file) : SCHEMA_RECORD_FILE;
    return comparison.incompatible.map(
        (problem) => `${where}, ${problem} against ${file}; consumers of that version would break: publish the change as a new version (version + 1), or add the field as optional()`,
    );
}
