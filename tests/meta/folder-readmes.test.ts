/**
 * Every top-level folder, and every folder under the platform core and the deployed runtime, opens
 * with a README.md saying what lives there and what may import it, so a newcomer finds where a
 * thing lives from the folders alone.
 */
import * as assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import * as path from "node:path";
import { REPOSITORY_ROOT } from "../../platform/config/stack-files";

/** The folders that must open with a README.md, among the folders of `files` (repository paths). */
function foldersWithoutReadme(files: readonly string[]): string[] {
    const present = new Set(files);
    const folders = new Set<string>();
    for (const file of files) {
        const parts = file.split("/").slice(0, -1);
        if (parts.length === 0 || parts[0].startsWith(".")) continue;
        folders.add(parts[0]);
        if (parts[0] === "platform" || (parts[0] === "functions" && parts[1] === "runtime")) {
            for (let depth = parts[0] === "platform" ? 2 : 3; depth <= parts.length; depth++) folders.add(parts.slice(0, depth).join("/"));
        }
    }
    return [...folders].filter((folder) => !present.has(`${folder}/README.md`)).sort();
}

describe("folder READMEs", () => {
    it("open every top-level folder and every folder of platform/ and functions/runtime/", () => {
        const files = execFileSync("git", ["ls-files", "--cached", "--others", "--exclude-standard"], { cwd: REPOSITORY_ROOT, encoding: "utf8" }).split("\n").filter(Boolean);
        assert.deepEqual(foldersWithoutReadme(files.map((file) => file.split(path.sep).join("/"))), []);
    });

    it("names a folder that has none, and leaves hidden folders and deeper folders elsewhere alone", () => {
        const files = ["infra/README.md", "infra/program.ts", "infra/components/api.ts", "platform/README.md", "platform/events/schemas.ts", "functions/runtime/README.md", "functions/runtime/queue/consumer.ts", "functions/users/service.ts", "bench/bench.ts", ".github/workflows/ci.yml", "README.md"];
        assert.deepEqual(foldersWithoutReadme(files), ["bench", "functions", "functions/runtime/queue", "platform/events"]);
    });
});
