/**
 * The Lambda code archives of an offline run, as they would be uploaded and unpacked: the Pulumi
 * asset tree of a function's `code` flattened into files, zipped (deflate, as the engine does),
 * and unzipped into a folder the way Lambda lays out `/var/task`.
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import * as fflate from "fflate";
import { bundledPackagesOf, HANDLER_FILE } from "../../infra/function-packaging";
import { REPOSITORY_ROOT } from "../../tools/offline";
import { type RegisteredResource } from "../../tools/registered-resource";

export interface ArchiveFile {
    /** Path inside the archive, `/`-separated, e.g. `__index.js`. */
    path: string;
    data: Buffer;
}

/**
 * The files of a Pulumi asset or archive. File paths inside it are read relative to `cwd`, the
 * directory the program ran in (the engine resolves them the same way).
 */
export async function archiveFiles(archive: unknown, cwd: string = process.cwd()): Promise<ArchiveFile[]> {
    const files: ArchiveFile[] = [];
    await collect(await archive, "", cwd, files);
    const seen = new Set<string>();
    for (const file of files) {
        if (seen.has(file.path)) throw new Error(`The archive holds ${file.path} twice.`);
        seen.add(file.path);
    }
    return files.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}

async function collect(value: any, prefix: string, cwd: string, files: ArchiveFile[]): Promise<void> {
    const [text, file, assets] = await Promise.all([value?.text, value?.path, value?.assets]);
    if (assets !== undefined && assets !== null) {
        for (const [name, inner] of Object.entries(assets as Record<string, unknown>)) await collect(await inner, join(prefix, name), cwd, files);
    } else if (text !== undefined && text !== null) {
        files.push({ path: prefix, data: Buffer.from(String(text), "utf8") });
    } else if (file !== undefined && file !== null) {
        const source = path.resolve(cwd, String(file));
        if (fs.statSync(source).isDirectory()) {
            for (const found of walk(source)) files.push({ path: join(prefix, path.relative(source, found).split(path.sep).join("/")), data: fs.readFileSync(found) });
        } else {
            files.push({ path: prefix, data: fs.readFileSync(source) });
        }
    } else {
        throw new Error(`Unsupported asset at "${prefix}": ${value?.constructor?.name ?? typeof value}`);
    }
}

function join(prefix: string, name: string): string {
    return prefix ? `${prefix}/${name}` : name;
}

/** Every file under `directory`, following symbolic links as the engine does. */
function walk(directory: string): string[] {
    const result: string[] = [];
    for (const entry of fs.readdirSync(directory)) {
        const full = path.join(directory, entry);
        if (fs.statSync(full).isDirectory()) result.push(...walk(full));
        else result.push(full);
    }
    return result;
}

/** 1980-01-01, fixed so the same files give the same zip. */
const FIXED_TIME = new Date(1980, 0, 1);

/** Zips `files` the way the Pulumi engine does for an upload (deflate, default level). */
export function zipFiles(files: readonly ArchiveFile[]): Buffer {
    const entries: fflate.Zippable = {};
    for (const file of files) entries[file.path] = [new Uint8Array(file.data), { level: 6, mtime: FIXED_TIME }];
    return Buffer.from(fflate.zipSync(entries));
}

/** Unpacks a zip into `directory` as Lambda does into /var/task; refuses entries that would escape it. */
export function unzipTo(zip: Buffer, directory: string): string[] {
    const entries = fflate.unzipSync(new Uint8Array(zip));
    const written: string[] = [];
    for (const [name, data] of Object.entries(entries)) {
        if (name.endsWith("/")) continue; // directory entries
        if (path.isAbsolute(name) || name.split("/").includes("..")) {
            throw new Error(`Archive entry "${name}" points outside the function's folder; Lambda would not find it.`);
        }
        const target = path.join(directory, ...name.split("/"));
        fs.mkdirSync(path.dirname(target), { recursive: true });
        fs.writeFileSync(target, data);
        written.push(name);
    }
    return written.sort();
}

export interface MaterializedFunction {
    /** The function's Pulumi resource name, e.g. `users-get-users-id`. */
    name: string;
    /** The runtime's handler string, e.g. `__index.handler`. */
    handler: string;
    /** Environment variables the program gave the function. */
    environment: Record<string, string>;
    /** Where the archive was unpacked (the function's /var/task). */
    directory: string;
    /** Every file of the archive, sorted. */
    files: string[];
    zippedBytes: number;
    unzippedBytes: number;
    /** The packages bundled into its code, by name, as its `__index.js` lists them. */
    packages: string[];
}

/** The Lambda functions of an offline run. */
export function lambdaFunctions(resources: readonly RegisteredResource[]): RegisteredResource[] {
    return resources.filter((resource) => resource.type === "aws:lambda/function:Function");
}

/** Writes `files` as a function archive would arrive: zipped, then unpacked into `<parent>/<name>`. */
export function unpackArchive(files: readonly ArchiveFile[], parent: string, name: string): { directory: string; files: string[]; zippedBytes: number; unzippedBytes: number } {
    const zip = zipFiles(files);
    const directory = path.join(parent, name);
    fs.rmSync(directory, { recursive: true, force: true });
    fs.mkdirSync(directory, { recursive: true });
    return { directory, files: unzipTo(zip, directory), zippedBytes: zip.length, unzippedBytes: files.reduce((sum, file) => sum + file.data.length, 0) };
}

/** Flattens, zips and unpacks one function's code into `<parent>/<name>`. */
export async function materializeFunction(resource: RegisteredResource, parent: string): Promise<MaterializedFunction> {
    const unpacked = unpackArchive(await archiveFiles(resource.inputs.code), parent, resource.name);
    const entry = path.join(unpacked.directory, HANDLER_FILE);
    const packages = fs.existsSync(entry) ? bundledPackagesOf(fs.readFileSync(entry, "utf8")).map((spec) => spec.slice(0, spec.lastIndexOf("@"))) : [];
    const variables = (resource.inputs.environment?.variables ?? {}) as Record<string, unknown>;
    return {
        name: resource.name,
        handler: String(resource.inputs.handler),
        environment: Object.fromEntries(Object.entries(variables).filter(([, v]) => typeof v === "string")) as Record<string, string>,
        ...unpacked,
        packages,
    };
}

/**
 * A fresh folder under the OS temp directory where nothing above decides how Node loads what is
 * unpacked there: no node_modules (packages the archive does not ship) and no package.json (its
 * `type` would decide whether `.js` files are CommonJS or ES modules). /var/task has neither.
 */
export function isolatedTempDir(prefix: string): string {
    const directory = fs.mkdtempSync(path.join(fs.realpathSync(os.tmpdir()), prefix));
    for (let current = directory; ; current = path.dirname(current)) {
        if (fs.existsSync(path.join(current, "node_modules"))) {
            throw new Error(`${current} has a node_modules folder: archives unpacked below it could load packages they do not ship.`);
        }
        if (fs.existsSync(path.join(current, "package.json"))) {
            throw new Error(`${current} has a package.json: its "type" would decide how the archives' .js files load.`);
        }
        if (current === REPOSITORY_ROOT || current.startsWith(REPOSITORY_ROOT + path.sep)) throw new Error(`${directory} is inside the repository.`);
        if (current === path.dirname(current)) break;
    }
    return directory;
}
