/**
 * The Lambda code archives of an offline run, as they would be uploaded and unpacked: the Pulumi
 * asset tree of a function's `code` flattened into files, zipped (deflate, as the engine does),
 * and unzipped into a folder the way Lambda lays out `/var/task`. Also what the artifact tests
 * and the benchmark need to run such a folder like the Node.js runtime: a copy of the AWS SDK v3
 * as the runtime provides it, and a Node 22 child process that loads and invokes the handler.
 */
import { execFileSync, fork, type ChildProcess } from "node:child_process";
import { randomUUID } from "node:crypto";
import * as fs from "node:fs";
import * as http from "node:http";
import type { AddressInfo } from "node:net";
import * as os from "node:os";
import * as path from "node:path";
import * as fflate from "fflate";
import { REPOSITORY_ROOT, type OfflineResource } from "./offline";

export interface ArchiveFile {
    /** Path inside the archive, `/`-separated, e.g. `node_modules/pg/lib/index.js`. */
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

// ---------------------------------------------------------------------------------------------
// Zipping and unzipping (fflate): enough to measure the upload and to unpack it as Lambda does.

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
    return written;
}

// ---------------------------------------------------------------------------------------------
// The functions of an offline run, materialized.

export interface MaterializedFunction {
    /** The function's Pulumi resource name, e.g. `users-get-users-id`. */
    name: string;
    /** `__index.handler` for every CallbackFunction. */
    handler: string;
    /** Environment variables the program gave the function. */
    environment: Record<string, string>;
    /** Where the archive was unpacked (the function's /var/task). */
    directory: string;
    files: string[];
    zippedBytes: number;
    unzippedBytes: number;
    /** Top-level packages under node_modules/. */
    packages: string[];
}

/** The Lambda functions of an offline run. */
export function lambdaFunctions(resources: readonly OfflineResource[]): OfflineResource[] {
    return resources.filter((resource) => resource.type === "aws:lambda/function:Function");
}

/** Flattens, zips and unpacks one function's code into `<parent>/<name>`. */
export async function materializeFunction(resource: OfflineResource, parent: string): Promise<MaterializedFunction> {
    const files = await archiveFiles(resource.inputs.code);
    const zip = zipFiles(files);
    const directory = path.join(parent, resource.name);
    fs.rmSync(directory, { recursive: true, force: true });
    fs.mkdirSync(directory, { recursive: true });
    const written = unzipTo(zip, directory);
    const packages = new Set<string>();
    for (const file of written) {
        const match = /^node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(file);
        if (match) packages.add(match[1]);
    }
    const variables = (resource.inputs.environment?.variables ?? {}) as Record<string, unknown>;
    return {
        name: resource.name,
        handler: String(resource.inputs.handler),
        environment: Object.fromEntries(Object.entries(variables).filter(([, v]) => typeof v === "string")) as Record<string, string>,
        directory,
        files: written,
        zippedBytes: zip.length,
        unzippedBytes: files.reduce((sum, file) => sum + file.data.length, 0),
        packages: [...packages].sort(),
    };
}

/** A fresh folder under the OS temp directory, away from any node_modules of the repository. */
export function isolatedTempDir(prefix: string): string {
    const directory = fs.mkdtempSync(path.join(fs.realpathSync(os.tmpdir()), prefix));
    for (let current = directory; ; current = path.dirname(current)) {
        if (fs.existsSync(path.join(current, "node_modules"))) {
            throw new Error(`${current} has a node_modules folder: archives unpacked below it could load packages they do not ship.`);
        }
        if (current === REPOSITORY_ROOT || current.startsWith(REPOSITORY_ROOT + path.sep)) throw new Error(`${directory} is inside the repository.`);
        if (current === path.dirname(current)) break;
    }
    return directory;
}

/**
 * Copies `packages` and their dependencies (transitively) from the repository's node_modules into
 * `<target>/node_modules`, flat where possible, as npm lays them out. With the AWS SDK clients
 * this mimics /var/runtime/node_modules of the Node.js runtime.
 */
export function copyPackages(packages: readonly string[], target: string, root = REPOSITORY_ROOT): string {
    const modules = path.join(target, "node_modules");
    const seen = new Set<string>();
    const visit = (name: string, from: string) => {
        let folder: string | undefined;
        for (let directory = from; ; directory = path.dirname(directory)) {
            const candidate = path.join(directory, "node_modules", name);
            if (fs.existsSync(path.join(candidate, "package.json"))) {
                folder = candidate;
                break;
            }
            if (directory === root || directory === path.dirname(directory)) break;
        }
        if (!folder) throw new Error(`Package ${name} is not installed.`);
        if (seen.has(folder)) return;
        seen.add(folder);
        const destination = path.join(modules, path.relative(path.join(root, "node_modules"), folder));
        fs.cpSync(folder, destination, { recursive: true, dereference: true });
        const manifest = JSON.parse(fs.readFileSync(path.join(folder, "package.json"), "utf8")) as { dependencies?: object };
        for (const dependency of Object.keys(manifest.dependencies ?? {})) visit(dependency, folder);
    };
    for (const name of packages) visit(name, root);
    return modules;
}

// ---------------------------------------------------------------------------------------------
// Running an unpacked function like the Node.js runtime does.

let node22: string | undefined;

/** The path of a Node 22 binary (the `nodejs22.x` runtime's major), fetched once with `npx node@22`. */
export function node22Path(): string {
    if (process.env.NODE22_PATH) return process.env.NODE22_PATH;
    node22 ??= execFileSync("npx", ["-y", "node@22", "-e", "process.stdout.write(process.execPath)"], { encoding: "utf8", timeout: 120_000 }).trim();
    return node22;
}

/**
 * What the child runs: it loads `<task>/<module>.js` with `require` (as the runtime's CommonJS path
 * does), then answers invoke requests over IPC with the handler's result and the time it took.
 */
const RUNNER_SOURCE = String.raw`"use strict";
const { performance } = require("node:perf_hooks");
const path = require("node:path");
const [taskRoot, handlerString] = process.argv.slice(2);
const [moduleName, exportName] = handlerString.split(".");
let handler;
let invocations = 0;
process.on("message", async (message) => {
    try {
        if (message.type === "load") {
            const started = performance.now();
            const loaded = require(path.join(taskRoot, moduleName + ".js"));
            handler = loaded[exportName];
            const loadMs = performance.now() - started;
            if (typeof handler !== "function") throw new Error(handlerString + " is not a function");
            process.send({ id: message.id, ok: true, loadMs, nodeVersion: process.version });
        } else if (message.type === "invoke") {
            const deadline = Date.now() + (message.timeoutMs || 10000);
            const context = {
                awsRequestId: message.requestId,
                functionName: process.env.AWS_LAMBDA_FUNCTION_NAME,
                functionVersion: "$LATEST",
                invokedFunctionArn: "arn:aws:lambda:us-east-1:123456789012:function:" + process.env.AWS_LAMBDA_FUNCTION_NAME,
                memoryLimitInMB: "128",
                logGroupName: "/aws/lambda/" + process.env.AWS_LAMBDA_FUNCTION_NAME,
                logStreamName: "offline",
                callbackWaitsForEmptyEventLoop: true,
                getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
            };
            invocations++;
            const started = performance.now();
            const result = await handler(message.event, context);
            process.send({ id: message.id, ok: true, result, ms: performance.now() - started, invocations });
        }
    } catch (error) {
        process.send({ id: message.id, ok: false, error: { name: error && error.name, message: String(error && error.message), stack: String(error && error.stack) } });
    }
});
`;

export interface LambdaProcess {
    /** Time the `require` of the handler module took, in ms. */
    load(): Promise<{ loadMs: number; nodeVersion: string }>;
    invoke<T = any>(event: unknown, options?: { requestId?: string; timeoutMs?: number }): Promise<{ result: T; ms: number }>;
    /** What the function wrote to stdout/stderr so far (its log lines). */
    output(): string;
    stop(): Promise<void>;
}

export interface StartOptions {
    /** Folder holding the AWS SDK the way /var/runtime/node_modules does; the only NODE_PATH entry. */
    runtimeModules: string;
    /** Extra environment (the function's variables, endpoints, credentials). */
    environment?: Record<string, string>;
    node?: string;
}

/** Starts a Node 22 process that loads `fn` the way the Lambda Node.js runtime does. */
export function startFunction(fn: Pick<MaterializedFunction, "name" | "handler" | "directory" | "environment">, options: StartOptions): LambdaProcess {
    const runner = path.join(path.dirname(fn.directory), "lambda-runner.js");
    if (!fs.existsSync(runner)) fs.writeFileSync(runner, RUNNER_SOURCE);
    const environment: Record<string, string> = {
        PATH: process.env.PATH ?? "",
        LANG: "en_US.UTF-8",
        TZ: ":UTC",
        NODE_PATH: options.runtimeModules,
        LAMBDA_TASK_ROOT: fn.directory,
        LAMBDA_RUNTIME_DIR: path.dirname(options.runtimeModules),
        AWS_LAMBDA_FUNCTION_NAME: fn.name,
        AWS_LAMBDA_FUNCTION_VERSION: "$LATEST",
        AWS_LAMBDA_FUNCTION_MEMORY_SIZE: "128",
        AWS_EXECUTION_ENV: "AWS_Lambda_nodejs22.x",
        AWS_REGION: "us-east-1",
        AWS_DEFAULT_REGION: "us-east-1",
        ...fn.environment,
        ...options.environment,
    };
    // The function's NODE_OPTIONS (--enable-source-maps) is honoured; /var/runtime paths are not here.
    delete environment.NODE_EXTRA_CA_CERTS;
    const child: ChildProcess = fork(runner, [fn.directory, fn.handler], {
        execPath: options.node ?? node22Path(),
        execArgv: [], // not the parent's (ts-node): the runtime starts plain node
        cwd: fn.directory,
        env: environment,
        stdio: ["ignore", "pipe", "pipe", "ipc"],
    });
    let output = "";
    child.stdout!.on("data", (chunk) => (output += chunk));
    child.stderr!.on("data", (chunk) => (output += chunk));
    let nextId = 0;
    const pending = new Map<number, { resolve: (value: any) => void; reject: (error: Error) => void }>();
    child.on("message", (message: any) => {
        const waiter = pending.get(message.id);
        if (!waiter) return;
        pending.delete(message.id);
        if (message.ok) waiter.resolve(message);
        else waiter.reject(Object.assign(new Error(`${fn.name}: ${message.error.message}\n${message.error.stack}\n--- output ---\n${output}`), { name: message.error.name }));
    });
    child.on("exit", (code) => {
        for (const waiter of pending.values()) waiter.reject(new Error(`${fn.name}: the process exited (${code}).\n${output}`));
        pending.clear();
    });
    const request = (message: object): Promise<any> =>
        new Promise((resolve, reject) => {
            const id = nextId++;
            pending.set(id, { resolve, reject });
            child.send({ ...message, id });
        });
    return {
        load: async () => {
            const reply = await request({ type: "load" });
            return { loadMs: reply.loadMs, nodeVersion: reply.nodeVersion };
        },
        invoke: async (event, invokeOptions) => {
            const reply = await request({ type: "invoke", event, requestId: invokeOptions?.requestId ?? "offline-request", timeoutMs: invokeOptions?.timeoutMs });
            return { result: reply.result, ms: reply.ms };
        },
        output: () => output,
        stop: () =>
            new Promise((resolve) => {
                if (child.exitCode !== null || child.signalCode !== null) return resolve();
                child.once("exit", () => resolve());
                child.kill();
            }),
    };
}

// ---------------------------------------------------------------------------------------------
// API Gateway HTTP API (payload 2.0) events, shaped as the service sends them.

export interface EventOptions {
    /** The route key that matched, e.g. `GET /users/{id}`. */
    routeKey: string;
    /** The request path, e.g. `/users/42`. */
    path: string;
    pathParameters?: Record<string, string>;
    /** Query parameters in request order; a repeated name is allowed. */
    query?: Array<[string, string]>;
    /** Header names in any case; API Gateway passes them lower-cased. */
    headers?: Record<string, string>;
    cookies?: string[];
    /** Sent base64-encoded unless `base64: false`, as API Gateway does for most content types. */
    body?: string;
    base64?: boolean;
    requestId?: string;
}

/**
 * An event as API Gateway v2 builds it: lower-case headers (cookies moved to `cookies`), the raw
 * query string and `queryStringParameters` with repeated names joined by commas, the body
 * base64-encoded, and a full `requestContext`.
 */
export function apiGatewayEvent(options: EventOptions) {
    const method = options.routeKey.split(" ")[0];
    const requestId = options.requestId ?? randomUUID();
    const headers: Record<string, string> = {
        accept: "*/*",
        host: "a1b2c3d4e5.execute-api.us-east-1.amazonaws.com",
        "user-agent": "artifact-tests/1.0",
        "x-amzn-trace-id": `Root=1-${Date.now().toString(16)}-${requestId.replace(/-/g, "").slice(0, 24)}`,
        "x-forwarded-for": "203.0.113.7",
        "x-forwarded-port": "443",
        "x-forwarded-proto": "https",
    };
    for (const [name, value] of Object.entries(options.headers ?? {})) headers[name.toLowerCase()] = value;
    if (options.body !== undefined) headers["content-length"] = String(Buffer.byteLength(options.body));
    const queryStringParameters: Record<string, string> = {};
    for (const [name, value] of options.query ?? []) {
        queryStringParameters[name] = name in queryStringParameters ? `${queryStringParameters[name]},${value}` : value;
    }
    const rawQueryString = (options.query ?? []).map(([name, value]) => `${encodeURIComponent(name)}=${encodeURIComponent(value)}`).join("&");
    const base64 = options.body !== undefined && options.base64 !== false;
    const now = new Date();
    return {
        version: "2.0",
        routeKey: options.routeKey,
        rawPath: options.path,
        rawQueryString,
        ...(options.cookies ? { cookies: options.cookies } : {}),
        headers,
        ...(options.query?.length ? { queryStringParameters } : {}),
        ...(options.pathParameters ? { pathParameters: options.pathParameters } : {}),
        requestContext: {
            accountId: "123456789012",
            apiId: "a1b2c3d4e5",
            domainName: "a1b2c3d4e5.execute-api.us-east-1.amazonaws.com",
            domainPrefix: "a1b2c3d4e5",
            http: { method, path: options.path, protocol: "HTTP/1.1", sourceIp: "203.0.113.7", userAgent: "artifact-tests/1.0" },
            requestId,
            routeKey: options.routeKey,
            stage: "$default",
            time: now.toUTCString(),
            timeEpoch: now.getTime(),
        },
        ...(options.body !== undefined ? { body: base64 ? Buffer.from(options.body).toString("base64") : options.body } : {}),
        isBase64Encoded: base64,
    };
}

// ---------------------------------------------------------------------------------------------
// The database secret, served locally.

/** The ARN the local endpoint answers for. */
export const LOCAL_SECRET_ARN = "arn:aws:secretsmanager:us-east-1:123456789012:secret:rds!cluster-local-AbCdEf";

/**
 * A Secrets Manager endpoint (JSON protocol) that knows one secret, the embedded PostgreSQL's
 * credentials; the real SDK client reaches it through `AWS_ENDPOINT_URL_SECRETS_MANAGER`.
 */
export function startSecretsEndpoint(): Promise<{ url: string; requests: Array<{ target: string; secretId: string }>; close(): Promise<void> }> {
    const requests: Array<{ target: string; secretId: string }> = [];
    const server = http.createServer((request, response) => {
        let body = "";
        request.on("data", (chunk) => (body += chunk));
        request.on("end", () => {
            const target = String(request.headers["x-amz-target"] ?? "");
            const input = JSON.parse(body || "{}") as { SecretId?: string };
            requests.push({ target, secretId: String(input.SecretId) });
            response.setHeader("content-type", "application/x-amz-json-1.1");
            if (target !== "secretsmanager.GetSecretValue" || input.SecretId !== LOCAL_SECRET_ARN) {
                response.statusCode = 400;
                response.end(JSON.stringify({ __type: "ResourceNotFoundException", message: "Secrets Manager can't find the specified secret." }));
                return;
            }
            response.end(
                JSON.stringify({
                    ARN: LOCAL_SECRET_ARN,
                    Name: "rds!cluster-local",
                    SecretString: JSON.stringify({ username: "postgres", password: "postgres" }),
                    VersionId: "00000000-0000-0000-0000-000000000001",
                    VersionStages: ["AWSCURRENT"],
                    CreatedDate: Date.now() / 1000,
                }),
            );
        });
    });
    return new Promise((resolve) =>
        server.listen(0, "127.0.0.1", () =>
            resolve({
                url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
                requests,
                close: () => new Promise((done) => server.close(() => done())),
            }),
        ),
    );
}

