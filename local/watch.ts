/**
 * Watch mode: an edit under `functions/` (or to the registry) reloads the registry into the running
 * server; the database keeps running, and changed migrations are applied. A reload that fails (a
 * syntax error, a registry mistake, a bad migration) is reported and the previous routes keep
 * serving, so a half-written file never takes the API down. Editors' scratch files (swap files,
 * backups, autosaves, Vim's write test `4913`) are not changes.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import type { LocalRuntime } from "./runtime";
import { DEFAULT_REGISTRY_MODULE } from "./registry";
import { REPOSITORY_ROOT } from "./stack-config";

export interface WatchOptions {
    /** Quiet period after the last change before reloading (editors write files in bursts). @default 150 */
    debounceMs?: number;
    /** The registry module the runtime serves, watched beside `functions/`. @default `infra/registry.ts` */
    registryModule?: string;
    onReload(summary: { routes: number; appliedMigrations: string[]; durationMs: number; changed: string[] }): void;
    onError(error: unknown): void;
    /** After every reload, whether it worked or not (the start script re-runs the type check here). */
    onSettled?(changed: string[]): void;
}

/**
 * Files editors write beside the one being edited, which are not edits: Vim's `.swp`/`.swo`/`.swx`
 * and its `4913` write test, `name~` backups, Emacs's `#name#` autosaves and `.#name` locks, and
 * the `.tmp` (and JetBrains' `___jb_tmp___`) files some editors save through.
 */
export function isEditorTempFile(file: string): boolean {
    const name = path.basename(file);
    return (
        /\.sw[a-p]$/.test(name) ||
        name.endsWith("~") ||
        /^#.*#$/.test(name) ||
        name.startsWith(".#") ||
        name.endsWith(".tmp") ||
        /___jb_(tmp|old)___$/.test(name) ||
        name === "4913"
    );
}

/** Starts watching; returns a function that stops it. */
export function watchFunctions(runtime: LocalRuntime, options: WatchOptions): () => void {
    const debounceMs = options.debounceMs ?? 150;
    const changed = new Set<string>();
    let timer: NodeJS.Timeout | undefined;
    let running: Promise<void> = Promise.resolve();

    const reload = () => {
        const files = [...changed];
        changed.clear();
        // Reloads run one after another; a change during a reload schedules another.
        running = running.then(async () => {
            const started = Date.now();
            try {
                const { registry, migrations } = await runtime.reload();
                options.onReload({
                    routes: registry.routes.length,
                    appliedMigrations: migrations?.applied ?? [],
                    durationMs: Date.now() - started,
                    changed: files,
                });
            } catch (error) {
                options.onError(error);
            }
            options.onSettled?.(files);
        });
    };

    const schedule = (file: string) => {
        if (isEditorTempFile(file)) return;
        changed.add(file);
        clearTimeout(timer);
        timer = setTimeout(reload, debounceMs);
    };

    const functionsDir = path.join(REPOSITORY_ROOT, "functions");
    const registryModule = path.resolve(options.registryModule ?? DEFAULT_REGISTRY_MODULE);
    const registryDir = path.dirname(registryModule);
    const inInfra = registryDir === path.join(REPOSITORY_ROOT, "infra");
    const watchers = [
        fs.watch(functionsDir, { recursive: true }, (_event, file) => {
            if (file) schedule(path.join("functions", file.toString()));
        }),
        // The directory rather than the file: editors often save by replacing the file. In infra/
        // only the registry matters; a registry of its own (a fixture) has its services beside it.
        fs.watch(registryDir, { recursive: !inInfra }, (_event, file) => {
            if (!file) return;
            const name = file.toString();
            if (inInfra ? /^registry.*\.ts$/.test(name) : name.endsWith(".ts") || name.endsWith(".sql")) {
                schedule(path.relative(REPOSITORY_ROOT, path.join(registryDir, name)));
            }
        }),
    ];
    return () => {
        clearTimeout(timer);
        for (const watcher of watchers) watcher.close();
    };
}
