/**
 * The type check's own process (forked by `type-check.ts`): the TypeScript compiler over the
 * registry and every service file, with the project's `tsconfig.json` options, answering each
 * `{ type: "check" }` message with the diagnostics. Declaration files from `node_modules` are
 * parsed once and kept, so a re-check after an edit (watch mode) costs about the checking alone.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import * as ts from "typescript";
import type { TypeCheckRequest, TypeCheckResult } from "./type-check";

const sourceCache = new Map<string, { mtimeMs: number; file: ts.SourceFile }>();
let previous: ts.Program | undefined;

function compilerOptions(tsconfig: string): ts.CompilerOptions {
    const parsed = ts.getParsedCommandLineOfConfigFile(tsconfig, {}, { ...ts.sys, onUnRecoverableConfigFileDiagnostic: () => undefined });
    return { ...(parsed?.options ?? { strict: true }), noEmit: true };
}

function cachingHost(options: ts.CompilerOptions): ts.CompilerHost {
    const host = ts.createCompilerHost(options);
    const readSource = host.getSourceFile.bind(host);
    host.getSourceFile = (fileName, languageVersion, onError, shouldCreate) => {
        let mtimeMs: number;
        try {
            mtimeMs = fs.statSync(fileName).mtimeMs;
        } catch {
            return readSource(fileName, languageVersion, onError, shouldCreate);
        }
        const cached = sourceCache.get(fileName);
        if (cached && cached.mtimeMs === mtimeMs) return cached.file;
        const file = readSource(fileName, languageVersion, onError, shouldCreate);
        if (file) sourceCache.set(fileName, { mtimeMs, file });
        return file;
    };
    return host;
}

function check(request: TypeCheckRequest): TypeCheckResult {
    const started = Date.now();
    const options = compilerOptions(request.tsconfig);
    const host = cachingHost(options);
    const program = ts.createProgram({ rootNames: request.files, options, host, oldProgram: previous });
    previous = program;
    const diagnostics = ts.getPreEmitDiagnostics(program);
    const formatHost: ts.FormatDiagnosticsHost = {
        getCanonicalFileName: (fileName) => fileName,
        getCurrentDirectory: () => request.root,
        getNewLine: () => "\n",
    };
    const errors = diagnostics
        .filter((diagnostic) => diagnostic.category === ts.DiagnosticCategory.Error)
        .map((diagnostic) => ts.formatDiagnostic(diagnostic, formatHost).trimEnd());
    const projectFiles = program.getSourceFiles().filter((file) => !file.fileName.includes("/node_modules/") && !path.relative(request.root, file.fileName).startsWith(".."));
    return { errors, files: projectFiles.length, durationMs: Date.now() - started };
}

process.on("message", (message: TypeCheckRequest) => {
    let result: TypeCheckResult;
    try {
        result = check(message);
    } catch (error) {
        result = { errors: [`the type check itself failed: ${(error as Error).message}`], files: 0, durationMs: 0 };
    }
    // The parent may have gone while the check ran (a refused start, Ctrl-C): nobody is left to tell.
    if (process.connected) process.send?.({ id: message.id, ...result }, (error: Error | null) => error && process.exit(0));
    else process.exit(0);
});
// The parent going away (Ctrl-C, a crash) ends the check too.
process.on("disconnect", () => process.exit(0));
