/**
 * `npm run events:record [-- --check]`: the committed record of every producer's event schemas
 * (`functions/<service>/events.schema.json`, beside its `events.ts`). Writing it is a decision: run
 * it after adding an event or a version, or an optional field, once the consumers can take it.
 * `--check` only compares, and exits 1 while a record is missing or stale (the tests run it). An
 * incompatible change within a version is refused either way: the registry stops on it.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { catalogInfo, type EventCatalog } from "../functions/runtime/events";
import type { AnyService } from "../functions/runtime/service";
import { compareWithRecord, readSchemaRecord, refreshedRecord, schemaRecordFile } from "../platform/events/schemas";
import { isContainerService, type RegisteredService } from "../functions/runtime/container";

/** What is stale, missing or incompatible per producer of `services`, and the records a refresh writes. */
export interface RecordStatus {
    /** Every problem, one line each: what `--check` prints. */
    problems: string[];
    /** Those of `problems` that are incompatible changes within a version: no refresh may record them. */
    incompatible: string[];
    /** The records a refresh writes. */
    writes: { file: string; text: string }[];
}

export function recordStatus(services: readonly AnyService[]): RecordStatus {
    const problems: string[] = [];
    const incompatible: string[] = [];
    const writes: { file: string; text: string }[] = [];
    for (const service of services) {
        const catalog = service.events as EventCatalog | undefined;
        if (!catalog || Object.keys(catalog).length === 0) continue;
        const file = schemaRecordFile(catalog);
        if (!file || !catalogInfo(catalog)) {
            problems.push(`service "${service.name}": its events were not declared with defineEvents in a file, so they have no record`);
            continue;
        }
        const comparison = compareWithRecord(service);
        const refused = comparison.incompatible.map((problem) => `service "${service.name}", ${problem}`);
        problems.push(...refused);
        incompatible.push(...refused);
        if (comparison.unrecorded.length > 0) problems.push(`service "${service.name}": ${path.relative(process.cwd(), file)} does not record ${comparison.unrecorded.join(", ")}`);
        const text = `${JSON.stringify(refreshedRecord(readSchemaRecord(file), catalog), null, 2)}\n`;
        if (!fs.existsSync(file) || fs.readFileSync(file, "utf8") !== text) writes.push({ file, text });
    }
    return { problems, incompatible, writes };
}

/** The record status of a registry's services (container services publish no events): what `--check` and the tests judge. */
export function registryRecordStatus(services: readonly RegisteredService[]): RecordStatus {
    return recordStatus(services.filter((service): service is AnyService => !isContainerService(service)));
}

async function main(argv: readonly string[]): Promise<number> {
    const check = argv.includes("--check");
    const { services } = await import("../infra/services");
    const { problems, incompatible, writes } = registryRecordStatus(services);
    for (const problem of problems) console.log(problem);
    if (check) return problems.length > 0 ? 1 : 0;
    if (incompatible.length > 0) {
        console.error("Not written: a change within a version is incompatible; publish it as a new version.");
        return 1;
    }
    for (const { file, text } of writes) {
        fs.writeFileSync(file, text);
        console.log(`wrote ${path.relative(process.cwd(), file)}`);
    }
    if (writes.length === 0) console.log("Every event schema record is current.");
    return 0;
}

if (require.main === module) {
    main(process.argv.slice(2)).then(
        (code) => process.exit(code),
        (error) => {
            console.error(error instanceof Error ? error.message : error);
            process.exit(2);
        },
    );
}
