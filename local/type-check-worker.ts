/**
 * The type check's own process (forked by `type-check.ts`): the TypeScript compiler over the
 * registry and every service file, with the project's `tsconfig.json` options, answering each
 * `{ type: "check" }` message with the diagnostics. Declaration files from `node_modules` are
 * parsed once and kept, so a re-check after an edit (watch mode) costs about the checking alone.
 *
 * The check is incremental across processes too: after each run it writes TypeScript's build info
 * (each file's content hash, the shape of what it exports, and the errors found in it) to the
 * request's `buildInfoFile`, and the next process starts from it, checking again only the files
 * whose content, or whose imports' exported types, changed. A file's errors are kept in the build
 * info with it, so a file that failed fails again without being checked again.
 *
 * Most of a check is parsing the packages' declaration files, which the build info cannot spare.
 * So a run that found no errors also writes a stamp beside it (`<build info>.clean.json`, the last
 * few, one per list of root files: the start of another registry does not drop the repository's): the
 * TypeScript version, the options, the root files and the content hash of every file the program
 * read. A check whose stamp still matches in all of these answers "no errors" without loading the
 * compiler, as `tsc --build` does for a project that is up to date. (Like `tsc --build`, it does not
 * notice a new file outside the root files that an unchanged import would now resolve to instead.)
 */
import * as crypto from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import type * as TypeScript from "typescript";
import type { TypeCheckRequest, TypeCheckResult } from "./type-check";

/** Loaded on the first check the stamp cannot answer: a check of an unchanged tree never loads it. */
let ts: typeof TypeScript;

const sourceCache = new Map<string, { mtimeMs: number; file: TypeScript.SourceFile }>();
let previous: TypeScript.EmitAndSemanticDiagnosticsBuilderProgram | undefined;

/** What a clean run's result depends on: if all of it is unchanged, so is the result. */
interface CleanStamp {
    typescript: string;
    /** The tsconfig file's content (the options come from it). */
    tsconfig: string;
    roots: string[];
    /** Every file the program read (packages' declarations included), with the SHA-1 of its content. */
    inputs: Record<string, string>;
    /** Project files checked. */
    files: number;
}

const stampFile = (request: TypeCheckRequest) => `${request.buildInfoFile}.clean.json`;
/** Stamps kept, the newest first: the repository's registry and a few others (a test's, `npm start --registry`'s). */
const STAMPS_KEPT = 4;
/** Of the text the compiler read; the stamp hashes what was checked, so an edit made during the check fails it. */
const hashOf = (text: string) => crypto.createHash("sha1").update(text).digest("hex");

function typeScriptVersion(): string {
    return (JSON.parse(fs.readFileSync(require.resolve("typescript/package.json"), "utf8")) as { version: string }).version;
}

const sameRoots = (stamp: CleanStamp, request: TypeCheckRequest) => JSON.stringify(stamp.roots) === JSON.stringify(request.files);

/** The stamps on disk; none when there is no file or it cannot be read (then the check runs in full). */
function readStamps(request: TypeCheckRequest): CleanStamp[] {
    try {
        const stamps = JSON.parse(fs.readFileSync(stampFile(request), "utf8")) as unknown;
        return Array.isArray(stamps) ? (stamps as CleanStamp[]) : [];
    } catch {
        return [];
    }
}

/** The stamp's project file count when a stamp of these root files holds for the tree as it is now; undefined when anything differs or cannot be read. */
function unchangedSinceCleanRun(request: TypeCheckRequest): number | undefined {
    const stamp = readStamps(request).find((candidate) => sameRoots(candidate, request));
    if (!stamp) return undefined;
    try {
        if (stamp.typescript !== typeScriptVersion() || stamp.tsconfig !== fs.readFileSync(request.tsconfig, "utf8")) return undefined;
        for (const [file, hash] of Object.entries(stamp.inputs)) if (hashOf(fs.readFileSync(file, "utf8")) !== hash) return undefined;
        return stamp.files;
    } catch {
        return undefined; // a file it read is gone
    }
}

/** After a clean run: the stamp of what it read, first. After one with errors: none for these root files, so their next check runs in full. */
function writeStamp(request: TypeCheckRequest, program: TypeScript.Program, errors: number, files: number): void {
    const others = readStamps(request).filter((stamp) => !sameRoots(stamp, request));
    if (errors > 0) {
        writeAtomically(stampFile(request), JSON.stringify(others));
        return;
    }
    const inputs = Object.fromEntries(program.getSourceFiles().map((file) => [file.fileName, hashOf(file.text)]));
    const stamp: CleanStamp = { typescript: ts.version, tsconfig: fs.readFileSync(request.tsconfig, "utf8"), roots: request.files, inputs, files };
    writeAtomically(stampFile(request), JSON.stringify([stamp, ...others].slice(0, STAMPS_KEPT)));
}

function compilerOptions(request: TypeCheckRequest): TypeScript.CompilerOptions {
    const parsed = ts.getParsedCommandLineOfConfigFile(request.tsconfig, {}, { ...ts.sys, onUnRecoverableConfigFileDiagnostic: () => undefined });
    return { ...(parsed?.options ?? { strict: true }), noEmit: true, incremental: true, tsBuildInfoFile: request.buildInfoFile };
}

/** Writes `text` to `file` by renaming a temporary file over it: a process reading it at the same time sees the old or the new whole. */
function writeAtomically(file: string, text: string): void {
    fs.mkdirSync(path.dirname(file), { recursive: true });
    const temporary = `${file}.tmp-${process.pid}`;
    fs.writeFileSync(temporary, text);
    fs.renameSync(temporary, file);
}

/** Files the current check read and parsed itself (`sourceCache` did not have them as they are). */
let parsedThisCheck = 0;

function cachingHost(options: TypeScript.CompilerOptions): TypeScript.CompilerHost {
    const host = ts.createIncrementalCompilerHost(options);
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
        if (file) {
            sourceCache.set(fileName, { mtimeMs, file });
            parsedThisCheck++;
        }
        return file;
    };
    return host;
}

function check(request: TypeCheckRequest): TypeCheckResult {
    const started = Date.now();
    const unchanged = unchangedSinceCleanRun(request);
    if (unchanged !== undefined) return { errors: [], files: unchanged, durationMs: Date.now() - started, unchanged: true };
    ts ??= require("typescript") as typeof TypeScript;
    const options = compilerOptions(request);
    const host = cachingHost(options);
    parsedThisCheck = 0;
    // This process's last run when there is one (its parsed files are kept), else the last run's build info on disk.
    const old = previous ?? ts.readBuilderProgram(options, host);
    const builder = ts.createEmitAndSemanticDiagnosticsBuilderProgram(request.files, options, host, old);
    previous = builder;
    // What `tsc` reports, in its order; semantic diagnostics come from the build info for files that did not change.
    const diagnostics = [
        ...builder.getConfigFileParsingDiagnostics(),
        ...builder.getOptionsDiagnostics(),
        ...builder.getGlobalDiagnostics(),
        ...builder.getSyntacticDiagnostics(),
        ...builder.getSemanticDiagnostics(),
    ];
    // With noEmit this writes the build info alone.
    builder.emit(undefined, (file, text) => writeAtomically(file, text));
    const program = builder.getProgram();
    const formatHost: TypeScript.FormatDiagnosticsHost = {
        getCanonicalFileName: (fileName) => fileName,
        getCurrentDirectory: () => request.root,
        getNewLine: () => "\n",
    };
    const errors = diagnostics
        .filter((diagnostic) => diagnostic.category === ts.DiagnosticCategory.Error)
        .map((diagnostic) => ts.formatDiagnostic(diagnostic, formatHost).trimEnd());
    const projectFiles = program.getSourceFiles().filter((file) => !file.fileName.includes("/node_modules/") && !path.relative(request.root, file.fileName).startsWith(".."));
    writeStamp(request, program, errors.length, projectFiles.length);
    return { errors, files: projectFiles.length, durationMs: Date.now() - started, parsed: parsedThisCheck };
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
