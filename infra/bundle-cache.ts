/**
 * Function bundles kept between processes, when `FUNCTION_BUNDLE_CACHE` names a folder (the test
 * suite sets `.cache/bundles`, see tests/support/caches.ts; unset, every process bundles afresh, as
 * `pulumi preview` and `up` do). A bundle is kept under a key made of esbuild's version and the
 * whole build's options (the entry's contents among them), with every file esbuild read for it and
 * that file's hash; it is handed out again only while each of those files is unchanged.
 */
import { createHash } from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import { REPOSITORY_ROOT } from "../platform/config/stack-files";

export const BUNDLE_CACHE_VARIABLE = "FUNCTION_BUNDLE_CACHE";

/** What a bundle is: its text and the packages in it (function-packaging.ts's `Bundle`). */
interface CachedBundle {
    text: string;
    packages: Array<{ name: string; version: string; folder: string }>;
}

/** A kept bundle, with every file it was made from (relative to the repository) and that file's hash. */
interface KeptBundle extends CachedBundle {
    inputs: Array<{ path: string; sha256: string }>;
}

const sha256 = (data: string | Buffer) => createHash("sha256").update(data).digest("hex");

/** The key of a build: esbuild's version and its options, the entry's contents or path among them. */
export function bundleCacheKey(esbuildVersion: string, options: unknown): string {
    return sha256(JSON.stringify({ esbuild: esbuildVersion, options }));
}

/** The bundle kept for `key` in `folder`, if every file it was made from is still as it was. */
export function keptBundle<T extends CachedBundle>(folder: string, key: string): T | undefined {
    let kept: KeptBundle;
    try {
        kept = JSON.parse(fs.readFileSync(path.join(folder, `${key}.json`), "utf8")) as KeptBundle;
    } catch {
        return undefined;
    }
    for (const input of kept.inputs) {
        const file = path.join(REPOSITORY_ROOT, input.path);
        if (!fs.existsSync(file) || sha256(fs.readFileSync(file)) !== input.sha256) return undefined;
    }
    return { text: kept.text, packages: kept.packages } as T;
}

/**
 * Keeps `bundled` for `key`, with the hashes of `inputPaths` (relative to the repository; a path
 * that is no file, such as esbuild's `<stdin>`, is in the key already). Written beside, then
 * renamed into place: a reader in another process sees all of it or nothing.
 */
export function keepBundle(folder: string, key: string, bundled: CachedBundle, inputPaths: readonly string[]): void {
    const inputs = inputPaths
        .filter((input) => fs.statSync(path.join(REPOSITORY_ROOT, input), { throwIfNoEntry: false })?.isFile())
        .map((input) => ({ path: input, sha256: sha256(fs.readFileSync(path.join(REPOSITORY_ROOT, input))) }));
    fs.mkdirSync(folder, { recursive: true });
    const temporary = path.join(folder, `${key}.json.tmp-${process.pid}-${Date.now()}`);
    fs.writeFileSync(temporary, JSON.stringify({ text: bundled.text, packages: bundled.packages, inputs } satisfies KeptBundle));
    fs.renameSync(temporary, path.join(folder, `${key}.json`));
}
