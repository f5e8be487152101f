/**
 * The Lambda Node.js runtime, stood in for locally: the runtime's Node major, a folder holding the
 * packages the runtime provides (its /var/runtime/node_modules), and a process per function that
 * loads an unpacked archive with the runtime interface client's rules (`runner.js`) and invokes it.
 */
import { execFileSync, fork, type ChildProcess } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { ENVIRONMENT } from "../../functions/runtime/environment";
import { LAMBDA_RUNTIME } from "../../infra/components/function-settings";
import { bundle } from "../../infra/function-packaging";
import { REPOSITORY_ROOT } from "../../tools/offline";
import { isolatedTempDir, type MaterializedFunction } from "./archive";

/** The Node major of the pinned runtime: 24 for `nodejs24.x`. */
export const LAMBDA_NODE_MAJOR = Number(/^nodejs(\d+)\.x$/.exec(LAMBDA_RUNTIME)?.[1]);

/** Names a Node binary to use instead of looking for one: `NODE24_PATH` for `nodejs24.x`. */
export const LAMBDA_NODE_OVERRIDE = `NODE${LAMBDA_NODE_MAJOR}_PATH`;

let lambdaNode: string | undefined;

/**
 * A Node binary of the runtime's major: `$NODE24_PATH` if set, else the Node running this process
 * when its major matches, else the npm `node` package's (fetched once with npx).
 */
export function lambdaNodePath(): string {
    const override = process.env[LAMBDA_NODE_OVERRIDE];
    if (override) return override;
    if (Number(process.versions.node.split(".")[0]) === LAMBDA_NODE_MAJOR) return process.execPath;
    lambdaNode ??= execFileSync("npx", ["-y", `node@${LAMBDA_NODE_MAJOR}`, "-e", "process.stdout.write(process.execPath)"], { encoding: "utf8", timeout: 180_000 }).trim();
    return lambdaNode;
}

/** Runtime module folders laid out in this process, by package list: they are only read, so suites share them. */
const runtimeModuleFolders = new Map<string, Promise<string>>();

/**
 * The packages the runtime provides, laid out as it provides the AWS SDK in
 * /var/runtime/node_modules: whole package folders, the ones the bundler finds their code loads
 * (the product's own bundling step, so nothing here walks dependencies by hand). Made once per
 * process and package list, in a temporary folder with no node_modules above it (a package
 * missing from the layout must fail to load, not be found in the repository's), removed when the
 * process exits.
 */
export function provideRuntimeModules(packages: readonly string[]): Promise<string> {
    const key = JSON.stringify([...packages].sort());
    let folder = runtimeModuleFolders.get(key);
    if (!folder) {
        folder = layOutRuntimeModules(packages);
        runtimeModuleFolders.set(key, folder);
        folder.catch(() => runtimeModuleFolders.delete(key));
    }
    return folder;
}

async function layOutRuntimeModules(packages: readonly string[]): Promise<string> {
    const root = isolatedTempDir("lambda-runtime-modules-");
    process.once("exit", () => fs.rmSync(root, { recursive: true, force: true }));
    const modules = path.join(root, "node_modules");
    for (const name of packages) {
        const { packages: loaded } = await bundle({ file: require.resolve(name, { paths: [REPOSITORY_ROOT] }) }, []);
        for (const { folder } of loaded) {
            const destination = path.join(modules, path.relative("node_modules", folder));
            if (!fs.existsSync(destination)) fs.cpSync(path.join(REPOSITORY_ROOT, folder), destination, { recursive: true, dereference: true });
        }
    }
    return modules;
}

/**
 * What a database function needs beyond what the program gave it, to reach the embedded
 * PostgreSQL on `postgresPort` (no TLS), with placeholder credentials of its role, which route
 * functions sign their IAM tokens with (the test PostgreSQL trusts the service roles instead of
 * checking them, `trustRoles`).
 */
export function localDatabaseEnvironment(postgresPort: number): Record<string, string> {
    return {
        DB_HOST: "127.0.0.1",
        DB_PORT: String(postgresPort),
        DB_NAME: "app",
        DB_TLS: "disable",
        ...OFFLINE_CREDENTIALS,
    };
}

/** What a function signs its AWS calls with here: placeholders the stand-in endpoints do not check. */
export const OFFLINE_CREDENTIALS = {
    AWS_ACCESS_KEY_ID: "AKIAOFFLINEEXAMPLE",
    AWS_SECRET_ACCESS_KEY: "offline-secret-access-key",
    AWS_SESSION_TOKEN: "offline-session-token",
} as const;

/** What the migration launcher needs besides: the master secret, fetched by the real Secrets Manager client from the local endpoint at `secretsUrl` (`secrets-manager.ts`). */
export function localMasterSecretEnvironment(secretsUrl: string, secretArn: string): Record<string, string> {
    return { ...OFFLINE_CREDENTIALS, DB_SECRET_ARN: secretArn, AWS_ENDPOINT_URL_SECRETS_MANAGER: secretsUrl };
}

/** A database function reaches the cluster (`DB_HOST`): as its service's role (`DB_USER`) or, the migration worker, as the master user with the credentials its invocation brings. */
export function usesDatabase(environment: Readonly<Record<string, string>>): boolean {
    return environment.DB_HOST !== undefined;
}

/** The local environment of a function of the offline run: nothing for one without the database. */
/** The AWS SDK clients the functions leave to the runtime, which provides them in /var/runtime/node_modules. */
export const RUNTIME_SDK_CLIENTS = ["@aws-sdk/client-secrets-manager", "@aws-sdk/client-eventbridge", "@aws-sdk/client-cloudwatch", "@aws-sdk/client-lambda", "@aws-sdk/client-s3"];

/** Whether `fn` is an outbox relay's check (it calls CloudWatch and Lambda, never the database). */
export const isRelayCheck = (fn: Pick<MaterializedFunction, "environment">) => fn.environment[ENVIRONMENT.outboxRelayCheck] !== undefined;

/** Whether `fn` is a service's event forwarder (it reads the service's bucket and calls EventBridge, never the database). */
export const isEventForwarder = (fn: Pick<MaterializedFunction, "environment">) => fn.environment[ENVIRONMENT.eventHandoverBucket] !== undefined && !usesDatabase(fn.environment);

/** The stand-ins a function reaches here in place of the cloud's endpoints. */
export interface LocalEndpoints {
    postgresPort: number;
    secrets: { url: string; arn: string };
    eventBridgeUrl: string;
    /** The S3 stand-in (`s3.ts`), for functions that hand their events over through a bucket, and the forwarders. @default none */
    s3Url?: string;
    /** What the relay check needs to reach the CloudWatch and Lambda stand-ins. */
    relayCheckEnvironment: Record<string, string>;
}

/** What overrides the environment the Service component set, where the cloud differs from here: the database, the master secret, the bus and the relay check's APIs. */
export function localEnvironmentWithEndpoints(fn: Pick<MaterializedFunction, "environment">, endpoints: LocalEndpoints): Record<string, string> {
    const publishes = fn.environment.EVENT_BUS_NAME !== undefined;
    const readsSecrets = fn.environment[ENVIRONMENT.serviceSecretArn] !== undefined;
    const handsOver = fn.environment[ENVIRONMENT.eventHandoverBucket] !== undefined && endpoints.s3Url !== undefined;
    return {
        ...localEnvironmentFor(fn, endpoints.postgresPort, endpoints.secrets),
        ...(publishes ? { ...localDatabaseEnvironment(endpoints.postgresPort), AWS_ENDPOINT_URL_EVENTBRIDGE: endpoints.eventBridgeUrl } : {}),
        ...(handsOver ? { ...OFFLINE_CREDENTIALS, AWS_ENDPOINT_URL_S3: endpoints.s3Url! } : {}),
        ...(isEventForwarder(fn) ? { ...OFFLINE_CREDENTIALS, AWS_ENDPOINT_URL_EVENTBRIDGE: endpoints.eventBridgeUrl } : {}),
        // Its service's secret, from the same stand-in as the master secret (`placeholderSecretValues`).
        ...(readsSecrets ? { ...OFFLINE_CREDENTIALS, AWS_ENDPOINT_URL_SECRETS_MANAGER: endpoints.secrets.url } : {}),
        ...(isRelayCheck(fn) ? endpoints.relayCheckEnvironment : {}),
    };
}

export function localEnvironmentFor(fn: Pick<MaterializedFunction, "environment">, postgresPort: number, secrets: { url: string; arn: string }): Record<string, string> {
    return {
        ...(usesDatabase(fn.environment) ? localDatabaseEnvironment(postgresPort) : {}),
        ...(fn.environment.DB_SECRET_ARN !== undefined ? localMasterSecretEnvironment(secrets.url, secrets.arn) : {}),
    };
}

/** What `load()` reports: how the runtime's rules resolved the handler, and how long it took. */
export interface LoadedHandler {
    /** Time from the load request to a resolved handler (the module's import included), in ms. */
    loadMs: number;
    nodeVersion: string;
    /** The module file the handler came from, relative to the task root. */
    file: string;
    /** How Node loaded that module. */
    format: "commonjs" | "module";
    handler: { arity: number; async: boolean; streaming: boolean };
}

export interface LambdaProcess {
    /** Loads the handler as the runtime does at init; rejects with the runtime's error (`Runtime.*` names). */
    load(): Promise<LoadedHandler>;
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

const RUNNER = path.join(__dirname, "runner.js");

/** Starts a process of the runtime's Node that loads `fn` the way the Lambda Node.js runtime does. */
export function startFunction(fn: Pick<MaterializedFunction, "name" | "handler" | "directory" | "environment">, options: StartOptions): LambdaProcess {
    const environment: Record<string, string> = {
        PATH: process.env.PATH ?? "",
        LANG: "en_US.UTF-8",
        TZ: ":UTC",
        NODE_PATH: options.runtimeModules,
        LAMBDA_TASK_ROOT: fn.directory,
        LAMBDA_RUNTIME_DIR: path.dirname(options.runtimeModules),
        _HANDLER: fn.handler,
        AWS_EXECUTION_ENV: `AWS_Lambda_${LAMBDA_RUNTIME}`,
        AWS_LAMBDA_FUNCTION_NAME: fn.name,
        AWS_LAMBDA_FUNCTION_VERSION: "$LATEST",
        AWS_LAMBDA_FUNCTION_MEMORY_SIZE: "128",
        AWS_LAMBDA_LOG_GROUP_NAME: `/aws/lambda/${fn.name}`,
        AWS_LAMBDA_LOG_STREAM_NAME: "2026/01/01/[$LATEST]offline",
        AWS_REGION: "us-east-1",
        AWS_DEFAULT_REGION: "us-east-1",
        ...fn.environment,
        ...options.environment,
    };
    // The CA bundle lives in /var/runtime on Lambda; here the local PostgreSQL needs no TLS.
    delete environment.NODE_EXTRA_CA_CERTS;
    const child: ChildProcess = fork(RUNNER, [fn.directory, fn.handler], {
        execPath: options.node ?? lambdaNodePath(),
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
        // `reported` is what Lambda would answer a caller: the error's type and message alone.
        else waiter.reject(Object.assign(new Error(`${fn.name}: ${message.error.message}\n${message.error.stack}\n--- output ---\n${output}`), { name: message.error.name, reported: { errorType: message.error.name, errorMessage: message.error.message } }));
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
            const { loadMs, nodeVersion, file, format, handler } = await request({ type: "load" });
            return { loadMs, nodeVersion, file, format, handler };
        },
        invoke: async (event, invokeOptions) => {
            const reply = await request({ type: "invoke", event, requestId: invokeOptions?.requestId ?? "offline-request", timeoutMs: invokeOptions?.timeoutMs ?? 10_000 });
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
