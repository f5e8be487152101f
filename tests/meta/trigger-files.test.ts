/**
 * docs/architecture.md lists, per trigger kind, the four files that realise it (its core module,
 * its entry, its cloud component, its local emulator). The table is the map a newcomer adds a
 * trigger kind by, so every file it names must exist and every module of platform/triggers/ must
 * have its row.
 */
import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { REPOSITORY_ROOT } from "../../platform/config/stack-files";

/** Modules of platform/triggers/ that are shared parts, not a trigger kind. */
const SHARED_TRIGGER_MODULES = new Set(["defaults.ts", "queue-consumer.ts"]);

interface TriggerRow {
    kind: string;
    files: string[];
}

/** The rows of the table whose header starts `| trigger kind |`, each with the paths its cells name in backticks. */
function triggerRows(markdown: string): TriggerRow[] {
    const lines = markdown.split("\n").map((line) => line.trim());
    const header = lines.findIndex((line) => line.startsWith("| trigger kind |"));
    if (header < 0) return [];
    const rows: TriggerRow[] = [];
    for (const line of lines.slice(header + 2)) {
        if (!line.startsWith("|")) break;
        const cells = line.split("|").slice(1, -1).map((cell) => cell.trim());
        rows.push({ kind: cells[0], files: cells.slice(1).flatMap((cell) => [...cell.matchAll(/`([^`]+\.ts)`/g)].map((match) => match[1])) });
    }
    return rows;
}

/** What is wrong with the table: a named file that does not exist, a trigger module without a row. */
function triggerTableProblems(markdown: string, exists: (file: string) => boolean, triggerModules: readonly string[]): string[] {
    const rows = triggerRows(markdown);
    if (rows.length === 0) return ["no table with a `| trigger kind |` header"];
    const problems = rows.flatMap((row) => row.files.filter((file) => !exists(file)).map((file) => `${row.kind}: ${file} does not exist`));
    const cores = new Set(rows.map((row) => row.files[0]));
    for (const module of triggerModules) {
        if (!SHARED_TRIGGER_MODULES.has(module) && !cores.has(`platform/triggers/${module}`)) problems.push(`platform/triggers/${module} has no row`);
    }
    return problems;
}

describe("the trigger kinds' files in docs/architecture.md", () => {
    it("name files that exist, and a row for every trigger module of platform/triggers/", () => {
        const markdown = fs.readFileSync(path.join(REPOSITORY_ROOT, "docs/architecture.md"), "utf8");
        const modules = fs.readdirSync(path.join(REPOSITORY_ROOT, "platform/triggers")).filter((file) => file.endsWith(".ts"));
        assert.ok(triggerRows(markdown).length >= 5, "the table lists the five trigger kinds");
        assert.deepEqual(triggerTableProblems(markdown, (file) => fs.existsSync(path.join(REPOSITORY_ROOT, file)), modules), []);
    });

    it("names a file that does not exist and a trigger module without a row", () => {
        const markdown = ["| trigger kind | core | entry | component | local emulator |", "|---|---|---|---|---|", "| route | `platform/triggers/route.ts` | `functions/runtime/entry/route.ts` | `infra/components/http-route.ts` | `local/gone.ts` |", ""].join("\n");
        const problems = triggerTableProblems(markdown, (file) => file !== "local/gone.ts", ["route.ts", "webhook.ts", "defaults.ts"]);
        assert.deepEqual(problems, ["route: local/gone.ts does not exist", "platform/triggers/webhook.ts has no row"]);
    });
});
