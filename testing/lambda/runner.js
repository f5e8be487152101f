"use strict";
/**
 * Runs one unpacked function archive the way the Lambda Node.js runtime does, in a process of its
 * own (forked by `runtime.ts` with the runtime's Node and environment), answering `load` and
 * `invoke` messages over IPC.
 *
 * Loading follows the runtime interface client (aws-lambda-nodejs-runtime-interface-client 4.x, the
 * one behind nodejs24.x): the handler string must not contain `..`; `lib/index.handler` means
 * module `index` under `lib/` and export `handler` (more dots name a nested export:
 * `index.routes.get`); the module is the first of `<name>`, `<name>.js`, `<name>.mjs`,
 * `<name>.cjs` that exists, loaded with `import()` (so `.js` is CommonJS unless a package.json says
 * `"type": "module"`), else whatever `require.resolve` finds; the export is looked up in the
 * module, then in its `default`; and a handler declaring three or more parameters (callback style)
 * is refused unless it streams. The errors carry the runtime's names and messages.
 */
const fs = require("node:fs");
const path = require("node:path");
const { performance } = require("node:perf_hooks");

const [taskRoot, handlerString] = process.argv.slice(2);
const STREAMING = Symbol.for("aws.lambda.runtime.handler.streaming");
const CALLBACK_ERROR_NODEJS22 =
    "ERROR: AWS Lambda does not support callback-based function handlers when using Node.js 22 with Managed Instances. To use Managed Instances, modify this function to use a supported handler signature. For more information see https://docs.aws.amazon.com/lambda/latest/dg/nodejs-handler.html.";
const CALLBACK_ERROR_NODEJS24_ABOVE =
    "ERROR: AWS Lambda has removed support for callback-based function handlers starting with Node.js 24. You need to modify this function to use a supported handler signature to use Node.js 24 or later. For more information see https://docs.aws.amazon.com/lambda/latest/dg/nodejs-handler.html.";

function runtimeError(name, message) {
    const error = new Error(message);
    error.name = name;
    return error;
}

function parseHandlerString(fullHandlerString) {
    if (fullHandlerString.includes("..")) {
        throw runtimeError(
            "Runtime.MalformedHandlerName",
            `'${fullHandlerString}' is not a valid handler name. Use absolute paths when specifying root directories in handler names.`,
        );
    }
    const handlerName = path.basename(fullHandlerString);
    const moduleRoot = fullHandlerString.substring(0, fullHandlerString.indexOf(handlerName)).replace(/\/$/, "");
    const match = handlerName.match(/^([^.]*)\.(.*)$/);
    if (!match || match.length !== 3) throw runtimeError("Runtime.MalformedHandlerName", "Bad handler");
    return { moduleRoot, moduleName: match[1], exportPath: match[2] };
}

async function loadModule(appRoot, moduleRoot, moduleName) {
    const withoutExtension = path.resolve(appRoot, moduleRoot, moduleName);
    try {
        for (const extension of ["", ".js", ".mjs", ".cjs"]) {
            const candidate = withoutExtension + extension;
            if (fs.existsSync(candidate)) return { module: await import(candidate), file: candidate };
        }
        const resolved = require.resolve(moduleName, { paths: [appRoot, path.join(appRoot, moduleRoot)] });
        return { module: require(resolved), file: resolved };
    } catch (error) {
        if (error instanceof SyntaxError) throw runtimeError("Runtime.UserCodeSyntaxError", String(error));
        if (error && error.code === "MODULE_NOT_FOUND") throw runtimeError("Runtime.ImportModuleError", String(error));
        throw error;
    }
}

function findIn(exportPath, module) {
    return exportPath.split(".").reduce((nested, key) => (nested && typeof nested === "object" ? nested[key] : undefined), module);
}

function resolveHandler(module, exportPath, fullHandlerString) {
    let handler = findIn(exportPath, module);
    if (!handler && module !== null && typeof module === "object" && "default" in module) handler = findIn(exportPath, module.default);
    if (!handler) throw runtimeError("Runtime.HandlerNotFound", `${fullHandlerString} is undefined or not exported`);
    if (typeof handler !== "function") throw runtimeError("Runtime.HandlerNotFound", `${fullHandlerString} is not a function`);
    return handler;
}

function isStreaming(handler) {
    const value = handler[STREAMING];
    if (!value) return false;
    if (value === "response") return true;
    throw runtimeError("Runtime.MalformedStreamingHandler", "Only response streaming is supported.");
}

let handler;

async function load() {
    const started = performance.now();
    const { moduleRoot, moduleName, exportPath } = parseHandlerString(handlerString);
    const { module, file } = await loadModule(taskRoot, moduleRoot, moduleName);
    handler = resolveHandler(module, exportPath, handlerString);
    const streaming = isStreaming(handler);
    if (handler.length >= 3 && !streaming) {
        handler = undefined;
        throw runtimeError(
            "Runtime.CallbackHandlerDeprecated",
            process.env.AWS_EXECUTION_ENV === "AWS_Lambda_nodejs22.x" ? CALLBACK_ERROR_NODEJS22 : CALLBACK_ERROR_NODEJS24_ABOVE,
        );
    }
    const loadMs = performance.now() - started;
    return {
        loadMs,
        nodeVersion: process.version,
        file: path.relative(taskRoot, file),
        // Node exposes a CommonJS module's namespace with a "module.exports" entry; an ES module has none.
        format: module !== null && typeof module === "object" && "module.exports" in module ? "commonjs" : "module",
        handler: { arity: handler.length, async: handler.constructor.name === "AsyncFunction", streaming },
    };
}

/** The context object the runtime passes (its Node 24 form: no callbackWaitsForEmptyEventLoop). */
function invokeContext(requestId, deadline) {
    const functionName = process.env.AWS_LAMBDA_FUNCTION_NAME;
    return {
        awsRequestId: requestId,
        invokedFunctionArn: `arn:aws:lambda:${process.env.AWS_REGION}:123456789012:function:${functionName}`,
        functionName,
        functionVersion: process.env.AWS_LAMBDA_FUNCTION_VERSION,
        memoryLimitInMB: process.env.AWS_LAMBDA_FUNCTION_MEMORY_SIZE,
        logGroupName: process.env.AWS_LAMBDA_LOG_GROUP_NAME,
        logStreamName: process.env.AWS_LAMBDA_LOG_STREAM_NAME,
        getRemainingTimeInMillis: () => deadline - Date.now(),
    };
}

let invocations = 0;

async function invoke(message) {
    if (!handler) throw new Error("The handler is not loaded.");
    if (handler[STREAMING]) throw new Error("This harness does not run streaming handlers.");
    const context = invokeContext(message.requestId, Date.now() + message.timeoutMs);
    invocations++;
    const started = performance.now();
    const result = await handler(message.event, context);
    const ms = performance.now() - started;
    // The runtime posts the result as JSON: what JSON cannot carry never reaches the caller.
    return { result: result === undefined ? undefined : JSON.parse(JSON.stringify(result)), ms, invocations };
}

process.on("message", async (message) => {
    try {
        const reply = message.type === "load" ? await load() : await invoke(message);
        process.send({ id: message.id, ok: true, ...reply });
    } catch (error) {
        process.send({ id: message.id, ok: false, error: { name: error && error.name, message: String(error && error.message), stack: String(error && error.stack) } });
    }
});
