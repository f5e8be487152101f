/**
 * Watch mode: an edit under `functions/` (or to `infra/registry*.ts`) reloads the registry into the
 * running server; the database keeps running, and changed migrations are applied. A reload that
 * fails (a syntax error, a registry mistake, a bad migration) is reported and the previous routes
 * keep serving, so a half-written file never takes the API down.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import type { LocalRuntime } from "./runtime";
import { REPOSITORY_ROOT } from "./stack-config";

export interface WatchOptions {
    /** Quiet period after the last change before reloading (editors write files in bursts). @default 150 */
    debounceMs?: number;
    onReload(summary: { routes: number; appliedMigrations: string[]; durationMs: number; changed: string[] }): void;
    onError(error: unknown): void;
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
        });
    };

    const schedule = (file: string) => {
        changed.add(file);
        clearTimeout(timer);
        timer = setTimeout(reload, debounceMs);
    };

    const functionsDir = path.join(REPOSITORY_ROOT, "functions");
    const infraDir = path.join(REPOSITORY_ROOT, "infra");
    const watchers = [
        fs.watch(functionsDir, { recursive: true }, (_event, file) => {
            if (file) schedule(path.join("functions", file.toString()));
        }),
        // The directory rather than the file: editors often save by replacing the file.
        fs.watch(infraDir, (_event, file) => {
            if (file && /^registry.*\.ts$/.test(file.toString())) schedule(path.join("infra", file.toString()));
        }),
    ];
    return () => {
        clearTimeout(timer);
        for (const watcher of watchers) watcher.close();
    };
}
