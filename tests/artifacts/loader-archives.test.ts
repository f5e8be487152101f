/**
 * The TypeScript loader must not change what is deployed: closure serialization reads each
 * function's JavaScript as the loader emitted it, so every Lambda archive the program makes under
 * the project's loader (`tools/typescript-loader.js`, Pulumi.yaml `nodeargs`) must be byte for byte
 * the one the CLI's ts-node made (Pulumi.yaml `typescript: true` with
 * `PULUMI_NODEJS_TRANSPILE_ONLY=true`), from an empty cache and from a full one.
 */
import * as assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { REPOSITORY_ROOT } from "../../tools/offline";
import { TYPESCRIPT_LOADER_ARGS } from "../../tools/typescript-loader";

type Digests = Record<string, Record<string, string>>;

/**
 * How `@pulumi/pulumi/cmd/run` registers ts-node for a TypeScript program (its options, the
 * project's tsconfig.json over them), transpile-only as PULUMI_NODEJS_TRANSPILE_ONLY=true asks,
 * then requires the program from a file of its own, as run.js does (a program required from
 * `node -e` serializes some closures differently).
 */
const CLI_TS_NODE = `
const root = ${JSON.stringify(REPOSITORY_ROOT)};
const load = (name) => require(require.resolve(name, { paths: [root] }));
const compilerOptions = load("@pulumi/pulumi/tsutils").loadTypeScriptCompilerOptions("tsconfig.json");
load("ts-node").register({
    compiler: "typescript", transpileOnly: true, project: "tsconfig.json", skipProject: false,
    compilerOptions: { target: "ES2020", module: "nodenext", moduleResolution: "nodenext", sourceMap: "true", ...compilerOptions },
});
process.argv = [process.argv[0], "tools/archive-digests.ts", "dev"];
require(root + "/tools/archive-digests.ts");
`;

function digests(args: string[], env: NodeJS.ProcessEnv = {}): Digests {
    const output = execFileSync(process.execPath, args, { cwd: REPOSITORY_ROOT, env: { ...process.env, ...env }, encoding: "utf8", maxBuffer: 16 * 1024 * 1024, stdio: ["ignore", "pipe", "inherit"] });
    return JSON.parse(output.trim().split("\n").pop()!) as Digests;
}

describe("the TypeScript loader and the function archives", function () {
    this.timeout(240_000);
    let cache: string;
    let underTsNode: Digests;

    before(() => {
        cache = fs.mkdtempSync(path.join(os.tmpdir(), "loader-cache-"));
        const run = path.join(cache, "run-like-the-cli.js");
        fs.writeFileSync(run, CLI_TS_NODE);
        underTsNode = digests([run]);
    });
    after(() => fs.rmSync(cache, { recursive: true, force: true }));

    it("makes every archive of the dev stack byte for byte as the CLI's ts-node did, transpiling", () => {
        // Act
        const cold = digests([...TYPESCRIPT_LOADER_ARGS, "tools/archive-digests.ts", "dev"], { TYPESCRIPT_LOADER_CACHE: cache });
        // Assess
        assert.ok(Object.keys(underTsNode).length >= 10, `only ${Object.keys(underTsNode).length} functions`);
        assert.deepEqual(cold, underTsNode);
        assert.ok(fs.readdirSync(cache).some((file) => /^[0-9a-f]{64}\.js$/.test(file)), "nothing was cached");
    });

    it("makes them byte for byte the same again from its cache", () => {
        const warm = digests([...TYPESCRIPT_LOADER_ARGS, "tools/archive-digests.ts", "dev"], { TYPESCRIPT_LOADER_CACHE: cache });
        assert.deepEqual(warm, underTsNode);
    });
});
