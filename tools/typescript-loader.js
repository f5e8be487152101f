/**
 * The project's TypeScript loader, for `node --require ./tools/typescript-loader.js`: `npm start`,
 * the scripts, the processes they spawn and the Pulumi program (Pulumi.yaml `nodeargs`).
 *
 * It runs each `.ts` file of the project as ts-node's transpile-only mode emits it, and keeps that
 * JavaScript in `node_modules/.cache/typescript-loader/`, keyed by the file's path and content,
 * the versions of ts-node and TypeScript and the project's tsconfig.json. A file seen before is
 * read from there: neither ts-node nor the TypeScript compiler is loaded unless a file changed,
 * which saves most of a start's second and ~100 MB of memory. The JavaScript is ts-node's own
 * output, byte for byte, because closure serialization reads it: another emitter (esbuild, swc)
 * would change every function archive (`tests/artifacts/loader-archives.test.ts` compares them).
 *
 * Type errors are not reported here: `npm test` (tsc) and the background type check do that.
 * Each file keeps the source map ts-node appends, so `node --enable-source-maps` (which `npm start`
 * uses) shows stack traces in the TypeScript sources; it is off elsewhere because the Pulumi SDK
 * formats a stack trace for every promise it makes. V8's compile cache is on too
 * (`module.enableCompileCache`), in the same folder, so the packages' JavaScript is not compiled
 * again on every start.
 */
"use strict";
const crypto = require("node:crypto");
const fs = require("node:fs");
const Module = require("node:module");
const path = require("node:path");

const ROOT = path.resolve(__dirname, "..");
/** `TYPESCRIPT_LOADER_CACHE` moves it (the tests start from an empty one). */
const CACHE_DIR = process.env.TYPESCRIPT_LOADER_CACHE || path.join(ROOT, "node_modules", ".cache", "typescript-loader");

/** What the emitted JavaScript depends on besides the file itself. */
function emitterFingerprint() {
    const version = (name) => JSON.parse(fs.readFileSync(require.resolve(`${name}/package.json`, { paths: [ROOT] }), "utf8")).version;
    return [`ts-node@${version("ts-node")}`, `typescript@${version("typescript")}`, fs.readFileSync(path.join(ROOT, "tsconfig.json"), "utf8")].join("\n");
}

let fingerprint;
let service;

/** ts-node's transpile-only compiler, as `ts-node/register/transpile-only` creates it, made at the first cache miss. */
function transpile(source, filename) {
    service ??= require(require.resolve("ts-node", { paths: [ROOT] })).create({ transpileOnly: true, cwd: ROOT });
    return service.compile(source, filename);
}

function compiled(source, filename) {
    fingerprint ??= emitterFingerprint();
    const key = crypto.createHash("sha256").update(fingerprint).update("\0").update(filename).update("\0").update(source).digest("hex");
    const file = path.join(CACHE_DIR, `${key}.js`);
    try {
        return fs.readFileSync(file, "utf8");
    } catch {
        // not cached yet
    }
    const output = transpile(source, filename);
    try {
        fs.mkdirSync(CACHE_DIR, { recursive: true });
        // Whole or not at all: processes that start together may write the same entry.
        const temporary = `${file}.${process.pid}.tmp`;
        fs.writeFileSync(temporary, output);
        fs.renameSync(temporary, file);
    } catch {
        // A read-only tree still runs, transpiling every time.
    }
    return output;
}

/** The node arguments that run a process with this loader: for processes the project spawns. */
exports.TYPESCRIPT_LOADER_ARGS = ["--require", __filename];

// Another loader already in the process (mocha's ts-node) keeps its place.
if (!Module._extensions[".ts"]) {
    Module._extensions[".ts"] = function loadTypeScript(module, filename) {
        if (filename.includes(`${path.sep}node_modules${path.sep}`)) throw new Error(`${filename}: TypeScript inside node_modules is not loaded by this project's loader.`);
        module._compile(compiled(fs.readFileSync(filename, "utf8"), filename), filename);
    };
    try {
        Module.enableCompileCache?.(path.join(CACHE_DIR, "v8"));
    } catch {
        // No compile cache: modules are compiled as usual.
    }
}
