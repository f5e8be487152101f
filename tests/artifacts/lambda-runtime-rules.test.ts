/**
 * The stand-in for the Lambda Node.js runtime (`testing/lambda`) applies the runtime
 * interface client's loading rules, so an archive the runtime would refuse fails here too: the
 * handler string's syntax, the module lookup order, CommonJS versus ES modules, nested exports,
 * the refusal of callback-style handlers on Node 24, and the errors the runtime reports. Each case
 * is a small hand-written archive.
 */
import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { isolatedTempDir } from "../../testing/lambda/archive";
import { LAMBDA_NODE_MAJOR, startFunction, type LambdaProcess, type LoadedHandler } from "../../testing/lambda/runtime";

describe(`the Lambda runtime stand-in (Node ${LAMBDA_NODE_MAJOR}) loads handlers by the runtime's rules`, function () {
    this.timeout(30_000);

    let workDir: string;
    let runtimeModules: string;
    const started: LambdaProcess[] = [];

    before(() => {
        workDir = isolatedTempDir("lambda-rules-");
        runtimeModules = path.join(workDir, "runtime", "node_modules");
        fs.mkdirSync(runtimeModules, { recursive: true });
    });

    after(async () => {
        await Promise.all(started.map((process) => process.stop()));
        fs.rmSync(workDir, { recursive: true, force: true });
    });

    let cases = 0;
    /** Writes `files` as an unpacked archive and starts the runtime on it with `handler`. */
    function archive(handler: string, files: Record<string, string>): LambdaProcess {
        const directory = path.join(workDir, `case-${++cases}`);
        for (const [name, text] of Object.entries(files)) {
            fs.mkdirSync(path.dirname(path.join(directory, name)), { recursive: true });
            fs.writeFileSync(path.join(directory, name), text);
        }
        const process = startFunction({ name: `case-${cases}`, handler, directory, environment: {} }, { runtimeModules });
        started.push(process);
        return process;
    }

    async function loadError(process: LambdaProcess): Promise<Error> {
        try {
            await process.load();
        } catch (error) {
            return error as Error;
        }
        assert.fail("the handler loaded, but the runtime would refuse it");
    }

    const ASYNC_CJS = "exports.handler = async (event, context) => ({ statusCode: 200 });";

    it("resolves index.handler to index.js, loaded as CommonJS, and reports an async (event, context) handler", async () => {
        // Prepare
        const process = archive("index.handler", { "index.js": ASYNC_CJS });
        // Act
        const loaded: LoadedHandler = await process.load();
        // Assess
        assert.equal(loaded.file, "index.js");
        assert.equal(loaded.format, "commonjs");
        assert.deepEqual(loaded.handler, { arity: 2, async: true, streaming: false });
        assert.equal(Number(loaded.nodeVersion.slice(1).split(".")[0]), LAMBDA_NODE_MAJOR);
    });

    it("looks the module up as <name>, <name>.js, <name>.mjs, <name>.cjs, in that order", async () => {
        const process = archive("index.handler", {
            "index.js": "exports.handler = async () => 'js';",
            "index.mjs": "export const handler = async () => 'mjs';",
            "index.cjs": "exports.handler = async () => 'cjs';",
        });
        assert.equal((await process.load()).file, "index.js");
        assert.equal((await process.invoke({})).result, "js");
    });

    it("loads index.mjs as an ES module when there is no index.js", async () => {
        const process = archive("index.handler", { "index.mjs": "export const handler = async () => 'mjs';", "index.cjs": "exports.handler = async () => 'cjs';" });
        const loaded = await process.load();
        assert.deepEqual([loaded.file, loaded.format], ["index.mjs", "module"]);
    });

    it("loads a .js file as an ES module when the archive's package.json says type: module", async () => {
        const process = archive("index.handler", { "package.json": '{"type":"module"}', "index.js": "export const handler = async () => 'esm';" });
        const loaded = await process.load();
        assert.deepEqual([loaded.file, loaded.format], ["index.js", "module"]);
        assert.equal((await process.invoke({})).result, "esm");
    });

    it("reads a module root and nested export names: src/app.routes.get", async () => {
        const process = archive("src/app.routes.get", { "src/app.js": "exports.routes = { get: async () => 'nested' };" });
        assert.equal((await process.load()).file, path.join("src", "app.js"));
        assert.equal((await process.invoke({})).result, "nested");
    });

    it("finds the handler in an ES module's default export as well", async () => {
        const process = archive("index.handler", { "index.mjs": "export default { handler: async () => 'default' };" });
        await process.load();
        assert.equal((await process.invoke({})).result, "default");
    });

    it("refuses a callback-style handler (three parameters) with the error Node 24's runtime gives", async () => {
        const process = archive("index.handler", { "index.js": "exports.handler = (event, context, callback) => callback(null, 'done');" });
        const error = await loadError(process);
        assert.equal(error.name, "Runtime.CallbackHandlerDeprecated");
        assert.match(error.message, /AWS Lambda has removed support for callback-based function handlers starting with Node\.js 24/);
    });

    it("refuses a missing export and an export that is not a function (Runtime.HandlerNotFound)", async () => {
        const missing = await loadError(archive("index.handler", { "index.js": "exports.other = async () => 1;" }));
        assert.equal(missing.name, "Runtime.HandlerNotFound");
        assert.match(missing.message, /index\.handler is undefined or not exported/);
        const notAFunction = await loadError(archive("index.handler", { "index.js": "exports.handler = { async run() {} };" }));
        assert.equal(notAFunction.name, "Runtime.HandlerNotFound");
        assert.match(notAFunction.message, /index\.handler is not a function/);
    });

    it("refuses handler strings with `..` or without a module and export (Runtime.MalformedHandlerName)", async () => {
        const upwards = await loadError(archive("../index.handler", { "index.js": ASYNC_CJS }));
        assert.equal(upwards.name, "Runtime.MalformedHandlerName");
        assert.match(upwards.message, /is not a valid handler name/);
        const noDot = await loadError(archive("index", { "index.js": ASYNC_CJS }));
        assert.equal(noDot.name, "Runtime.MalformedHandlerName");
        assert.match(noDot.message, /Bad handler/);
    });

    it("reports a package the archive does not ship as Runtime.ImportModuleError, and bad syntax as Runtime.UserCodeSyntaxError", async () => {
        const unshipped = await loadError(archive("index.handler", { "index.js": `require("pg");\n${ASYNC_CJS}` }));
        assert.equal(unshipped.name, "Runtime.ImportModuleError");
        assert.match(unshipped.message, /Cannot find module 'pg'/);
        const broken = await loadError(archive("index.handler", { "index.js": "exports.handler = async (event => {;" }));
        assert.equal(broken.name, "Runtime.UserCodeSyntaxError");
    });

    it("invokes with the runtime's context and hands back the result as JSON", async () => {
        // Prepare
        const process = archive("index.handler", {
            "index.js": `exports.handler = async (event, context) => ({
                echo: event.ping,
                requestId: context.awsRequestId,
                functionName: context.functionName,
                logGroupName: context.logGroupName,
                remainingOk: context.getRemainingTimeInMillis() > 0 && context.getRemainingTimeInMillis() <= 5000,
                callbackWaits: "callbackWaitsForEmptyEventLoop" in context,
                at: new Date(0),
                dropped: undefined,
            });`,
        });
        await process.load();
        // Act
        const { result } = await process.invoke({ ping: "pong" }, { requestId: "req-42", timeoutMs: 5000 });
        // Assess
        assert.deepEqual(result, {
            echo: "pong",
            requestId: "req-42",
            functionName: `case-${cases}`,
            logGroupName: `/aws/lambda/case-${cases}`,
            remainingOk: true,
            callbackWaits: false,
            at: "1970-01-01T00:00:00.000Z",
        });
    });
});
