/**
 * The repository's cache folder, `.cache/` (git ignores it): what the test suite and the tools keep
 * between runs so they do not redo work whose inputs did not change, each kind in a folder of its
 * own. Everything in it can be deleted at any time; it is rebuilt on demand.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { REPOSITORY_ROOT } from "../platform/config/stack-files";

export const CACHE_ROOT = path.join(REPOSITORY_ROOT, ".cache");

/** `.cache/<name>`, created when missing. */
export function cacheFolder(name: string): string {
    const folder = path.join(CACHE_ROOT, name);
    fs.mkdirSync(folder, { recursive: true });
    return folder;
}

/**
 * Puts `build(temporary)`'s result at `target` atomically: built in a temporary folder beside it,
 * then renamed into place. When another process got there first (the same inputs, so the same
 * result), its entry is kept and ours removed. Safe for any number of processes at once.
 */
export async function publishAtomically(target: string, build: (temporary: string) => Promise<void> | void): Promise<void> {
    if (fs.existsSync(target)) return;
    const temporary = `${target}.tmp-${process.pid}-${Date.now()}`;
    fs.rmSync(temporary, { recursive: true, force: true });
    try {
        await build(temporary);
        fs.renameSync(temporary, target);
    } catch (error) {
        const code = (error as NodeJS.ErrnoException).code;
        if (!((code === "ENOTEMPTY" || code === "EEXIST") && fs.existsSync(target))) throw error;
    } finally {
        fs.rmSync(temporary, { recursive: true, force: true });
    }
}
