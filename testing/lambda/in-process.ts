/**
 * An unpacked archive run inside this process, for tests that stand in for AWS with
 * `aws-sdk-client-mock` (which patches the SDK clients of this process): `__index.js` compiled as
 * the runtime compiles a CommonJS handler, its `require` limited to what the Lambda runtime gives a
 * function (Node's built-ins, and the AWS SDK from /var/runtime/node_modules: here this
 * repository's copy, the one the mocks patch), so a package the archive does not bundle still fails
 * to load. Each invocation sees only the function's environment (what the program set, with the
 * test's overrides) as `process.env`, restored afterwards; an invocation made from inside another
 * (a mocked Lambda `Invoke`) sees its own and gives the outer one back. Results and errors come
 * back as the runtime reports them: the result through JSON, an error as `errorType` (its name) and
 * `errorMessage`.
 */
import * as fs from "node:fs";
import Module, { isBuiltin } from "node:module";
import * as path from "node:path";
import { HANDLER_EXPORT, HANDLER_FILE } from "../../infra/function-packaging";
import { REPOSITORY_ROOT } from "../../tools/offline";
import type { MaterializedFunction } from "./archive";

/** What the runtime reports of a handler's error: `errorType` is its name. */
export interface ReportedError {
    errorType: string;
    errorMessage: string;
}

export interface InProcessFunction {
    name: string;
    /** Runs the handler with `event`; resolves to its result through JSON, or rejects with the handler's error. */
    invoke(event: unknown): Promise<any>;
    /** Runs the handler and reports as Lambda's `Invoke` does: the result, or the error's type and message. */
    invokeReported(event: unknown): Promise<{ result: unknown } | { error: ReportedError }>;
}

/** The variables Lambda sets on every function, beside the function's own. */
function lambdaVariables(fn: Pick<MaterializedFunction, "name" | "handler" | "directory">): Record<string, string> {
    return {
        PATH: process.env.PATH ?? "",
        TZ: ":UTC",
        LAMBDA_TASK_ROOT: fn.directory,
        _HANDLER: fn.handler,
        AWS_LAMBDA_FUNCTION_NAME: fn.name,
        AWS_LAMBDA_FUNCTION_VERSION: "$LATEST",
        AWS_REGION: "us-east-1",
        AWS_DEFAULT_REGION: "us-east-1",
    };
}

/** Loads `fn`'s `__index.js` into this process; `environment` overrides what the program set, where the cloud differs from here. */
export function loadInProcess(fn: Pick<MaterializedFunction, "name" | "handler" | "directory" | "environment">, environment: Record<string, string> = {}): InProcessFunction {
    const file = path.join(fn.directory, HANDLER_FILE);
    const loaded = new Module(file);
    loaded.filename = file;
    // What the runtime resolves for a function beyond its archive: Node's built-ins and the AWS SDK.
    loaded.require = ((id: string) => {
        if (isBuiltin(id)) return require(id);
        if (id.startsWith("@aws-sdk/")) return require(require.resolve(id, { paths: [REPOSITORY_ROOT] }));
        throw Object.assign(new Error(`Cannot find module '${id}' (the archive does not bundle it, and the Lambda runtime provides only the AWS SDK)`), { code: "MODULE_NOT_FOUND" });
    }) as NodeJS.Require;
    (loaded as unknown as { _compile(source: string, filename: string): void })._compile(fs.readFileSync(file, "utf8"), file);
    const handler = (loaded.exports as Record<string, unknown>)[HANDLER_EXPORT];
    if (typeof handler !== "function") throw new Error(`${fn.name}: ${HANDLER_FILE} exports no function "${HANDLER_EXPORT}"`);
    const variables = { ...lambdaVariables(fn), ...fn.environment, ...environment };
    delete variables.NODE_EXTRA_CA_CERTS; // /var/runtime's CA bundle; the local PostgreSQL needs no TLS

    const invoke = async (event: unknown): Promise<any> => {
        const outer = process.env;
        process.env = { ...variables };
        try {
            const context = { awsRequestId: `${fn.name}-run`, functionName: fn.name, functionVersion: "$LATEST", getRemainingTimeInMillis: () => 60_000 };
            const result = await (handler as (event: unknown, context: unknown) => Promise<unknown>)(JSON.parse(JSON.stringify(event ?? null)), context);
            return result === undefined ? undefined : JSON.parse(JSON.stringify(result));
        } finally {
            process.env = outer;
        }
    };
    return {
        name: fn.name,
        invoke,
        invokeReported: async (event) => {
            try {
                return { result: await invoke(event) };
            } catch (error) {
                return { error: { errorType: (error as Error)?.name ?? "Error", errorMessage: String((error as Error)?.message ?? error) } };
            }
        },
    };
}
