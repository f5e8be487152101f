/**
 * Events are a contract: the committed record of each producer's event schemas
 * (`functions/<service>/events.schema.json`, beside its `events.ts`) and the check that a change
 * within a version only adds optional fields. The registry refuses an incompatible change before
 * any resource (a consumer built on the record would reject, or misread, the new events);
 * `npm run events:record` refreshes the record on purpose, and `--check` fails while it is stale.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { catalogInfo, type EventCatalog } from "../../functions/runtime/events";
import type { AnyService } from "../../functions/runtime/service";
import { describeShape, type FieldSchema } from "../../functions/runtime/validate";

export const SCHEMA_RECORD_FILE = "events.schema.json";

/** One version of one event, as recorded. */
export interface RecordedEvent {
    description: string;
    fields: Record<string, FieldSchema>;
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

/** The catalog's events as a record would hold them. */
export function describeCatalog(catalog: EventCatalog): SchemaRecord["events"] {
    const events: SchemaRecord["events"] = {};
    for (const [name, contract] of Object.entries(catalog)) {
        events[name] = { [String(contract.version)]: { description: contract.description, fields: describeShape(contract.payload).fields } };
    }
    return events;
}

const same = (a: FieldSchema, b: FieldSchema) => JSON.stringify(Object.entries(a).sort()) === JSON.stringify(Object.entries(b).sort());

/**
 * What makes `current` incompatible with `recorded` (the same event and version): a field removed or
 * changed (type, format, bounds, optional or not), or a required field added. A new optional field is
 * fine: consumers ignore fields they do not know.
 */
export function compatibilityProblems(recorded: RecordedEvent, current: RecordedEvent): string[] {
    const problems: string[] = [];
    for (const [field, before] of Object.entries(recorded.fields)) {
        const after = current.fields[field];
        if (!after) problems.push(`field "${field}" is removed`);
        else if (!same(before, after)) problems.push(`field "${field}" changes from ${JSON.stringify(before)} to ${JSON.stringify(after)}`);
    }
    for (const [field, after] of Object.entries(current.fields)) {
        if (!(field in recorded.fields) && !after.optional) problems.push(`field "${field}" is added as required (within a version only optional fields may be added)`);
    }
    return problems;
}

export function readSchemaRecord(file: string): SchemaRecord | undefined {
    if (!fs.existsSync(file)) return undefined;
    return JSON.parse(fs.readFileSync(file, "utf8")) as SchemaRecord;
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
            for (const problem of compatibilityProblems(recorded, current)) comparison.incompatible.push(`event "${name}" v${version}: ${problem}`);
            if (compatibilityProblems(recorded, current).length === 0 && JSON.stringify(recorded.fields) !== JSON.stringify(current.fields)) {
                comparison.unrecorded.push(`${name} v${version} (new optional fields)`);
            }
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
    const shown = comparison.file ? path.relative(process.cwd(), comparison.file) : SCHEMA_RECORD_FILE;
    return comparison.incompatible.map(
        (problem) => `${where}, ${problem} against ${shown}; consumers of that version would break: publish the change as a new version (version + 1), or add the field as optional()`,
    );
}
