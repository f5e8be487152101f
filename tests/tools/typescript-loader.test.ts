import * as assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { REPOSITORY_ROOT } from "../../tools/offline";
import { TYPESCRIPT_LOADER_ARGS } from "../../tools/typescript-loader";

/** Runs `file` under the loader; what it printed, and whether ts-node was loaded to do it. */
function run(file: string, cache: string): { output: string; tsNodeLoaded: boolean } {
    const script = `require(${JSON.stringify(file)}); console.log(JSON.stringify(Object.keys(require.cache).some((name) => name.includes("/node_modules/ts-node/"))));`;
    const lines = execFileSync(process.execPath, [...TYPESCRIPT_LOADER_ARGS, "-e", script], { cwd: REPOSITORY_ROOT, env: { ...process.env, TYPESCRIPT_LOADER_CACHE: cache }, encoding: "utf8" }).trim().split("\n");
    return { output: lines.slice(0, -1).join("\n"), tsNodeLoaded: JSON.parse(lines[lines.length - 1]) };
}

describe("the project's TypeScript loader", () => {
    let dir: string;
    let cache: string;
    let file: string;

    beforeEach(() => {
        dir = fs.mkdtempSync(path.join(os.tmpdir(), "loader-"));
        cache = path.join(dir, "cache");
        file = path.join(dir, "greeting.ts");
        fs.writeFileSync(file, 'const greeting: string = "hello";\nexport function greet(name: string): string { return `${greeting} ${name}`; }\nconsole.log(greet("ada"));\n');
    });
    afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

    it("runs a TypeScript file, transpiling it with ts-node the first time only", () => {
        const first = run(file, cache);
        const second = run(file, cache);
        assert.deepEqual(first, { output: "hello ada", tsNodeLoaded: true });
        assert.deepEqual(second, { output: "hello ada", tsNodeLoaded: false });
    });

    it("transpiles a file again once it changed", () => {
        run(file, cache);
        fs.writeFileSync(file, 'console.log("changed" as string);\n');
        assert.deepEqual(run(file, cache), { output: "changed", tsNodeLoaded: true });
    });

    it("keeps exactly what ts-node emits, source map included", () => {
        run(file, cache);
        const cached = fs.readdirSync(cache).filter((name) => name.endsWith(".js"));
        assert.equal(cached.length, 1);
        const tsNode = require("ts-node").create({ transpileOnly: true, cwd: REPOSITORY_ROOT }) as { compile(code: string, fileName: string): string };
        assert.equal(fs.readFileSync(path.join(cache, cached[0]), "utf8"), tsNode.compile(fs.readFileSync(file, "utf8"), file));
        assert.match(fs.readFileSync(path.join(cache, cached[0]), "utf8"), /\/\/# sourceMappingURL=data:application\/json/);
    });
});
