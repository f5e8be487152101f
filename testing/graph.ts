/** Lookups in an offline run's resource list, for graph assertions. */
import * as assert from "node:assert/strict";
import type { RegisteredResource } from "../tools/registered-resource";
import type { OfflineRun } from "../tools/offline";

export function ofType(run: OfflineRun, type: string): RegisteredResource[] {
    return run.resources.filter((resource) => resource.type === type);
}

/** The one resource of `type` (and `name`, when given); fails the test if there are none or several. */
export function one(run: OfflineRun, type: string, name?: string): RegisteredResource {
    const found = ofType(run, type).filter((resource) => name === undefined || resource.name === name);
    assert.equal(found.length, 1, `expected one ${type}${name ? ` named ${name}` : ""}, found ${found.length}`);
    return found[0];
}
