/**
 * The suite's own machinery: `npm test`'s arguments and the order it starts files in
 * (`tools/test.ts`), the busy-machine run's arguments (`tools/test-busy.ts`), and which test files a
 * change can affect (`tools/test-selection.ts`, what `npm run check:template` runs in its copies).
 */
import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { longestFirst, parseArgs, readTimings, testFilesUnder, UsageError } from "../../tools/test";
import { parseArgs as parseBusyArgs } from "../../tools/test-busy";
import { testsAffectedBy } from "../../tools/test-selection";

/** A throwaway project: `files` maps relative paths to contents. */
function project(files: Record<string, string>): { root: string; remove(): void } {
    const root = fs.mkdtempSync(path.join(os.tmpdir(), "test-runner-"));
    for (const [file, content] of Object.entries(files)) {
        fs.mkdirSync(path.dirname(path.join(root, file)), { recursive: true });
        fs.writeFileSync(path.join(root, file), content);
    }
    return { root, remove: () => fs.rmSync(root, { recursive: true, force: true }) };
}

describe("npm test's runner (tools/test.ts)", () => {
    let scratch: ReturnType<typeof project>;
    beforeEach(() => {
        scratch = project({
            "tests/a/one.test.ts": "x",
            "tests/a/two.test.ts": "a longer file than the others",
            "tests/b/three.test.ts": "xx",
            "tests/support/helper.ts": "not a test",
        });
    });
    afterEach(() => scratch.remove());

    it("runs every test file under tests/ by default, the files under a folder it is given, and a file it is given", () => {
        assert.deepEqual(parseArgs([], scratch.root).files, ["tests/a/one.test.ts", "tests/a/two.test.ts", "tests/b/three.test.ts"]);
        assert.deepEqual(parseArgs(["tests/a"], scratch.root).files, ["tests/a/one.test.ts", "tests/a/two.test.ts"]);
        assert.deepEqual(parseArgs(["tests/b/three.test.ts", "tests/b"], scratch.root).files, ["tests/b/three.test.ts"]);
    });

    it("takes --jobs and --serial, and refuses a bad job count, an unknown option and a path that does not exist", () => {
        assert.equal(parseArgs(["--jobs", "4"], scratch.root).jobs, 4);
        assert.equal(parseArgs(["--jobs=1", "--serial"], scratch.root).serial, true);
        assert.equal(parseArgs([], scratch.root).jobs, os.availableParallelism());
        assert.throws(() => parseArgs(["--jobs", "0"], scratch.root), (error: Error) => error instanceof UsageError && /--jobs takes a whole number of at least 1, not "0"/.test(error.message));
        assert.throws(() => parseArgs(["--jobs"], scratch.root), /--jobs takes a whole number/);
        assert.throws(() => parseArgs(["--bail"], scratch.root), /unknown option --bail/);
        assert.throws(() => parseArgs(["tests/c"], scratch.root), /no such test file or folder: tests\/c/);
        assert.throws(() => parseArgs(["tests/support"], scratch.root), /no test files \(\*\.test\.ts\) in tests\/support/);
    });

    it("starts files not timed yet first, larger first, then the timed ones, longest first", () => {
        // Prepare
        const timings = new Map([["tests/a/one.test.ts", { ms: 100 }], ["tests/b/three.test.ts", { ms: 900 }]]);
        // Act
        const order = longestFirst(testFilesUnder("tests", scratch.root), timings, scratch.root);
        // Assess
        assert.deepEqual(order, ["tests/a/two.test.ts", "tests/b/three.test.ts", "tests/a/one.test.ts"]);
    });

    it("reads the last timing of each file and skips a line cut short", () => {
        // Prepare
        const file = path.join(scratch.root, "timings.jsonl");
        fs.writeFileSync(file, ['{"file":"tests/a/one.test.ts","ms":5,"cpuMs":2}', '{"file":"tests/a/one.test.ts","ms":7}', '{"file":"tests/b/thr'].join("\n"));
        // Act, Assess
        assert.deepEqual([...readTimings(file)], [["tests/a/one.test.ts", { ms: 7 }]]);
        assert.deepEqual([...readTimings(path.join(scratch.root, "none.jsonl"))], []);
    });
});

describe("the busy-machine run's arguments (tools/test-busy.ts)", () => {
    it("takes --runs and --hogs, passes the rest to npm test, and refuses a count below 1", () => {
        assert.deepEqual(parseBusyArgs(["--runs", "3", "--hogs", "4", "tests/e2e", "--jobs", "2"]), { runs: 3, hogs: 4, testArgs: ["tests/e2e", "--jobs", "2"] });
        assert.deepEqual(parseBusyArgs([]), { runs: 1, hogs: os.availableParallelism(), testArgs: [] });
        assert.throws(() => parseBusyArgs(["--runs", "0"]), /--runs takes a whole number of at least 1, not "0"/);
        assert.throws(() => parseBusyArgs(["--hogs", "two"]), /--hogs takes a whole number of at least 1, not "two"/);
    });
});

describe("the test files a change can affect (tools/test-selection.ts)", () => {
    let scratch: ReturnType<typeof project>;
    beforeEach(() => {
        scratch = project({
            "infra/registry.ts": 'export { default as a } from "../functions/a/service";\n',
            "infra/services.ts": 'import * as registry from "./registry";\nexport const services = Object.values(registry);\n',
            "infra/other.ts": "export const other = 1;\n",
            "functions/a/service.ts": "export default {};\n",
            "local/start.ts": "console.log('starts');\n",
            "tests/imports-registry.test.ts": 'import { services } from "../infra/services";\n',
            "tests/imports-other.test.ts": 'import type { other } from "../infra/other";\n',
            "tests/runs-start.test.ts": 'spawn(process.execPath, ["local/start.ts"]);\n',
        });
    });
    afterEach(() => scratch.remove());

    const all = () => testFilesUnder("tests", scratch.root);

    it("selects the tests whose imports reach a changed file, and those that run a script that loads it", () => {
        assert.deepEqual(testsAffectedBy(["infra/registry.ts"], all(), scratch.root), ["tests/imports-registry.test.ts", "tests/runs-start.test.ts"]);
        assert.deepEqual(testsAffectedBy(["functions/a/service.ts"], all(), scratch.root), ["tests/imports-registry.test.ts", "tests/runs-start.test.ts"]);
    });

    it("selects a changed test file itself, and nothing for a file no test reaches", () => {
        assert.deepEqual(testsAffectedBy(["tests/imports-other.test.ts"], all(), scratch.root), ["tests/imports-other.test.ts"]);
        assert.deepEqual(testsAffectedBy(["README.md"], all(), scratch.root), []);
    });
});
