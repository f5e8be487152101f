/**
 * The background type check of `npm start`, `npm run dev` and `npm run plan`: the registry and every
 * file under `functions/`, checked in a process of its own with the project's tsconfig, reporting
 * what the transpile-only run cannot see, and checking again after an edit, parsing only what changed; in a new
 * process, from the last run's build info, without passing what changed since.
 */
import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { REPOSITORY_ROOT } from "../../platform/config/stack-files";
import { formatTypeCheck, startTypeChecker, typeCheckFiles, typeCheckOnce, type TypeCheckOptions } from "../../local/type-check";
import { scratchRegistry, serviceWithDuplicateRoute, serviceWithOneRoute } from "../../testing/scratch-registry";
import { TYPE_CHECK_PATIENCE_MS } from "../../testing/eventually";

describe("the background type check", function () {
    this.timeout(TYPE_CHECK_PATIENCE_MS);

    it("covers the registry and every TypeScript file under functions/, new services not yet registered included", () => {
        const files = typeCheckFiles();
        assert.equal(files[0], path.join(REPOSITORY_ROOT, "infra", "registry.ts"));
        const under = fs.readdirSync(path.join(REPOSITORY_ROOT, "functions"), { recursive: true }).map(String).filter((file) => file.endsWith(".ts"));
        assert.deepEqual(files.slice(1), under.map((file) => path.join(REPOSITORY_ROOT, "functions", file)).sort());
    });

    it("reports a route key written twice with its file, line and code, passes once the file is fixed, then, in new processes, answers the unchanged tree from its stamp and still reports an error edited in", async () => {
        // Prepare: a build info of its own (the repository's is for its own registry), so no other check's leftovers count.
        const scratch = scratchRegistry({ twice: serviceWithDuplicateRoute("twice", ["first", "second"]) });
        const options: TypeCheckOptions = { registryModule: scratch.registryModule, buildInfoFile: path.join(scratch.dir, "cache", "registry.tsbuildinfo") };
        const checker = startTypeChecker(options);
        try {
            // Act: in one process (watch mode), then each check in a process of its own (a start, a plan).
            const broken = await checker.check();
            scratch.writeService("twice", serviceWithOneRoute("twice", "fixed"));
            const fixed = await checker.check();
            checker.close();
            const [stamp] = JSON.parse(fs.readFileSync(`${options.buildInfoFile}.clean.json`, "utf8")) as [{ inputs: Record<string, string> }];
            const unchanged = await typeCheckOnce(options).result;
            // A service file the registry imports (not a root file of the check) gets the error back.
            scratch.writeService("twice", serviceWithDuplicateRoute("twice", ["first", "second"]));
            const brokenAgain = await typeCheckOnce(options).result;
            // Assess
            assert.equal(broken.errors.length, 1, formatTypeCheck(broken));
            assert.match(broken.errors[0], /services\/twice\/service\.ts\(9,9\): error TS1117: An object literal cannot have multiple properties with the same name\.$/);
            assert.deepEqual(fixed.errors, []);
            assert.ok(fixed.files > 1);
            // The second run reuses what the first parsed (the packages' declarations above all): it parses the edited file alone.
            assert.ok(broken.parsed! > fixed.files, `the first check parsed ${broken.parsed} files`);
            assert.equal(fixed.parsed, 1, "the second check parses the edited file alone");
            assert.match(formatTypeCheck(fixed), /^Type check: no errors \(\d+ files, \d+\.\d s\)\.$/);
            assert.ok(fs.existsSync(options.buildInfoFile!), "the build info is written");
            // The clean run's stamp covers every file the program read: what the registry imports, what that imports, the packages' declarations.
            assert.ok(path.join(scratch.dir, "services", "twice", "service.ts") in stamp.inputs);
            assert.ok(path.join(REPOSITORY_ROOT, "functions", "runtime", "service.ts") in stamp.inputs);
            assert.ok(Object.keys(stamp.inputs).some((file) => file.includes("/node_modules/@types/node/")));

            assert.deepEqual([unchanged.errors, unchanged.unchanged, unchanged.files], [[], true, fixed.files]);
            assert.match(formatTypeCheck(unchanged), /^Type check: no errors \(\d+ files, unchanged since the last check, \d+\.\d s\)\.$/);

            assert.equal(brokenAgain.unchanged, undefined, "an edited file is checked again");
            assert.equal(brokenAgain.errors.length, 1, formatTypeCheck(brokenAgain));
            assert.match(brokenAgain.errors[0], /services\/twice\/service\.ts\(9,9\): error TS1117: /);
        } finally {
            checker.close();
            scratch.remove();
        }
    });

    it("runs the checks asked for while one is running once more, together", async () => {
        const checker = startTypeChecker();
        try {
            const results = await Promise.all([checker.check(), checker.check(), checker.check()]);
            assert.deepEqual(results.map((result) => result.errors), [[], [], []]);
            assert.equal(results[1], results[2], "the second and third share one run");
            assert.notEqual(results[0], results[1]);
        } finally {
            checker.close();
        }
    });
});
