/**
 * `npm run dev` (`local/start.ts --watch`) as a user runs it, over a registry of its own in a
 * temporary folder: a mistake only the type checker sees (a route key written twice, which at run
 * time silently keeps the last one) is printed while the route serves; fixing the file reloads the
 * routes and checks again; an editor's scratch files beside it change nothing.
 */
import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { freePort } from "../../local/postgres";
import { scratchRegistry, serviceWithDuplicateRoute, serviceWithOneRoute, type ScratchRegistry } from "../../testing/scratch-registry";
import { killRuntimeProcess, startRuntimeProcess, waitFor, type RuntimeProcess } from "../../testing/runtime-process";
import { request } from "../../testing/local-runtime";
import { TYPE_CHECK_PATIENCE_MS } from "../../testing/eventually";

/** How often the runtime printed `pattern` so far. */
const count = (run: RuntimeProcess, pattern: RegExp) => (run.output().match(new RegExp(pattern.source, "g")) ?? []).length;

/** Resolves once the runtime printed `pattern` `times` times. */
const printed = (run: RuntimeProcess, pattern: RegExp, times = 1) => waitFor(() => count(run, pattern) >= times, TYPE_CHECK_PATIENCE_MS, `${pattern} not printed ${times} time(s):\n${run.output()}`);

describe("e2e: watch mode (npm run dev) with the background type check", function () {
    this.timeout(TYPE_CHECK_PATIENCE_MS + 60_000);
    let scratch: ScratchRegistry;
    let run: RuntimeProcess;
    let root: string;

    before(async () => {
        scratch = scratchRegistry({ twice: serviceWithDuplicateRoute("twice", ["first", "second"]) });
        root = fs.mkdtempSync(path.join(os.tmpdir(), "watch-e2e-"));
        fs.chmodSync(root, 0o755); // PostgreSQL runs as its own user when we are root
        run = startRuntimeProcess({ port: await freePort(), dataDir: path.join(root, "postgres"), args: ["--watch", "--registry", scratch.registryModule], typeCheck: true });
        await run.ready;
    });
    after(() => {
        killRuntimeProcess(run);
        scratch.remove();
        fs.rmSync(root, { recursive: true, force: true });
    });

    it("prints the type error of a route key written twice, with file, line and code, while the route serves", async () => {
        // Act
        await printed(run, /Type check: /);
        const { url } = await run.ready;
        const response = await request(url, { path: "/twice" });
        // Assess: the run keeps the second declaration, which only the type checker reports.
        assert.deepEqual(response.json, { answer: "second" });
        assert.match(run.output(), /Type check: 1 error:\n\s+\S*services\/twice\/service\.ts\(9,9\): error TS1117: An object literal cannot have multiple properties with the same name\./);
        assert.match(run.output(), /The routes are served as they are; npm test and npm run plan fail until these are fixed\./);
    });

    it("reloads and checks again when the file is fixed: the route answers from the new code and the check passes", async () => {
        // Prepare
        const reloadsBefore = count(run, /Reloaded \d+ route\(s\)/);
        // Act
        scratch.writeService("twice", serviceWithOneRoute("twice", "fixed"));
        await printed(run, /Reloaded \d+ route\(s\)/, reloadsBefore + 1);
        await printed(run, /Type check: no errors/);
        // Assess
        const { url } = await run.ready;
        assert.deepEqual((await request(url, { path: "/twice" })).json, { answer: "fixed" });
    });

    it("ignores an editor's scratch files: swap files, backups, autosaves, Vim's write test", async () => {
        // Prepare
        const reloadsBefore = count(run, /Reloaded \d+ route\(s\)/);
        const serviceDir = path.join(scratch.dir, "services", "twice");
        // Act
        for (const name of [".service.ts.swp", "service.ts~", "#service.ts#", "service.ts.tmp", "4913", ".#service.ts"]) {
            fs.writeFileSync(path.join(serviceDir, name), "not code");
        }
        await new Promise((resolve) => setTimeout(resolve, 1500));
        // Assess
        assert.equal(count(run, /Reloaded \d+ route\(s\)/), reloadsBefore, run.output());
        assert.doesNotMatch(run.output(), /Reload failed/);
    });
});
