/**
 * Container services under `npm start`: each runs as a local process from the command its
 * registry entry declares (or as its image under Docker, when Docker is there), with the
 * environment its Fargate task gets, on a free port of 127.0.0.1, behind the local gateway.
 *
 * Each is supervised the way ECS supervises a task: it serves once its health check path answers
 * 200; a process that exits, or fails its health check three times in a row, is started again
 * after a backoff (1 s, doubling to 10 s while starts keep failing); while it is not serving, its
 * routes answer 503. A process never outlives the runtime (`process-leash.sh`).
 */
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import * as http from "node:http";
import * as path from "node:path";
import { CONTAINER_ENVIRONMENT, LOCAL_DATABASE_URL, LOCAL_HOST } from "../functions/runtime/container";
import { ENVIRONMENT } from "../functions/runtime/environment";
import { DEFAULT_SECRETS_FILE, localContainerSecrets } from "./secrets";
import { statementTimeoutFor } from "../functions/runtime/data/database";
import type { ResolvedContainerService } from "../platform/model";
import { freePort } from "./postgres";

const LEASH_SCRIPT = path.join(__dirname, "process-leash.sh");
/** How long a start may take to answer its health check (ECS's start period is 30 s). */
const START_TIMEOUT_MS = 30_000;
/** Time between health checks of a serving process. */
const HEALTH_INTERVAL_MS = 5_000;
const HEALTH_TIMEOUT_MS = 2_000;
/** Consecutive failed health checks before the process is replaced, as ECS's `retries`. */
const HEALTH_RETRIES = 3;
const RESTART_BACKOFF = { initialMs: 1_000, maxMs: 10_000 } as const;
/** Variables of the runtime's own environment a process needs to run at all; nothing else is passed on. */
const INHERITED_ENVIRONMENT = ["PATH", "HOME", "LANG", "TMPDIR", "TZ", "NODE_PATH"];

/** How container services run: as processes, or as their images under Docker. */
export type ContainerMode = "process" | "docker";

/**
 * `LOCAL_CONTAINERS=process|docker|auto` (default auto): Docker when its daemon answers, else
 * processes. A wrong value is an error naming what is allowed.
 */
export function containerModeFromEnv(env: NodeJS.ProcessEnv = process.env, dockerAvailable: () => boolean = isDockerAvailable): ContainerMode {
    const value = (env.LOCAL_CONTAINERS ?? "auto").trim().toLowerCase();
    if (value === "process" || value === "docker") return value;
    if (value !== "auto" && value !== "") throw new Error(`LOCAL_CONTAINERS=${JSON.stringify(env.LOCAL_CONTAINERS)} is not allowed; use process, docker or auto.`);
    return dockerAvailable() ? "docker" : "process";
}

/** Whether a Docker daemon answers (within 3 s). */
export function isDockerAvailable(): boolean {
    const probe = spawnSync("docker", ["info", "--format", "{{.ServerVersion}}"], { stdio: "ignore", timeout: 3_000 });
    return probe.status === 0;
}

/**
 * The process's environment: the service's own variables and what the platform sets on its task
 * (`PORT`, `SERVICE_NAME`, `LOG_LEVEL`, and for a database service the `DB_*` names of
 * `functions/runtime/environment.ts`, plus `DATABASE_URL` and `HOST=127.0.0.1`, which only the
 * local runtime sets), with the few variables of the runtime's environment a program needs to start.
 */
export function containerEnvironment(service: ResolvedContainerService, options: { port: number; logLevel: string; databaseUrl?: string; inherited?: NodeJS.ProcessEnv }): Record<string, string> {
    const inherited = options.inherited ?? process.env;
    const environment: Record<string, string> = {};
    for (const name of INHERITED_ENVIRONMENT) if (inherited[name] !== undefined) environment[name] = inherited[name]!;
    Object.assign(environment, service.environment, {
        [CONTAINER_ENVIRONMENT.port]: String(options.port),
        [CONTAINER_ENVIRONMENT.serviceName]: service.name,
        [CONTAINER_ENVIRONMENT.logLevel]: options.logLevel,
        // Loopback only: anything that reached the port directly would skip the gateway's JWT check.
        [LOCAL_HOST]: "127.0.0.1",
    });
    if (service.database && options.databaseUrl) {
        const url = new URL(options.databaseUrl);
        Object.assign(environment, {
            [LOCAL_DATABASE_URL]: options.databaseUrl,
            [ENVIRONMENT.databaseHost]: url.hostname,
            [ENVIRONMENT.databasePort]: url.port || "5432",
            [ENVIRONMENT.databaseName]: decodeURIComponent(url.pathname.replace(/^\//, "")),
            [ENVIRONMENT.databaseUser]: decodeURIComponent(url.username),
            [ENVIRONMENT.databaseStatementTimeoutMs]: String(statementTimeoutFor(service.timeoutSeconds)),
            [ENVIRONMENT.databaseTls]: "disable",
        });
    }
    return environment;
}

/** The image tag a service's local build gets. */
export function localImageTag(service: Pick<ResolvedContainerService, "name">): string {
    return `serverless-microservices-local/${service.name}:latest`;
}

/**
 * `docker run` for a service, as close to its Fargate task as Docker gets: read-only root
 * filesystem with a writable `/tmp`, no capabilities, an init process, the declared port published
 * on 127.0.0.1 only, and the task's environment (the database reached on the host's address).
 */
export function dockerRunArguments(service: ResolvedContainerService, hostPort: number, environment: Record<string, string>, secretNames: readonly string[] = []): string[] {
    const args = ["run", "--rm", "--init", "--name", `serverless-microservices-${service.name}-${hostPort}`, "--publish", `127.0.0.1:${hostPort}:${service.port}`, "--cap-drop", "ALL", "--tmpfs", "/tmp"];
    if (service.readOnlyRootFilesystem) args.push("--read-only");
    args.push("--add-host", "host.docker.internal:host-gateway");
    const inside: Record<string, string> = { ...environment, [CONTAINER_ENVIRONMENT.port]: String(service.port) };
    // Inside its container the process listens on every interface, as on Fargate; Docker publishes it on 127.0.0.1.
    for (const name of [...INHERITED_ENVIRONMENT, LOCAL_HOST]) delete inside[name];
    for (const [name, value] of Object.entries(inside)) {
        const reachable = name === LOCAL_DATABASE_URL || name === ENVIRONMENT.databaseHost ? value.replace(/127\.0\.0\.1|localhost/, "host.docker.internal") : value;
        args.push("--env", `${name}=${reachable}`);
    }
    // By name only: Docker takes each value from its own environment, so none is on a command line `ps` shows.
    for (const name of secretNames) args.push("--env", name);
    args.push(localImageTag(service));
    return args;
}

/** One GET of the health check path; true on a 2xx within the timeout. */
function healthy(port: number, healthCheckPath: string): Promise<boolean> {
    return new Promise((resolve) => {
        const req = http.get({ host: "127.0.0.1", port, path: healthCheckPath, timeout: HEALTH_TIMEOUT_MS, agent: false }, (res) => {
            res.resume();
            resolve((res.statusCode ?? 0) >= 200 && (res.statusCode ?? 0) < 300);
        });
        req.on("timeout", () => req.destroy());
        req.on("error", () => resolve(false));
    });
}

export interface LocalContainerOptions {
    mode: ContainerMode;
    logLevel: string;
    /**
     * A database service's connection: its own login role's, as the function routes of a service
     * get theirs (the local runtime's `serviceDatabaseUrl`). @default no database
     */
    serviceDatabaseUrl?: (service: string) => string;
    /** Where the services' secrets are (`local/secrets.ts`): each declared one reaches the process as a variable. @default DEFAULT_SECRETS_FILE */
    secretsFile?: string;
    /** Where the process's output goes, one line at a time (JSON lines as they are; others wrapped in JSON). */
    writeLog?: (line: string) => void;
    /** What a person should know: a start, an exit, a restart. @default standard error */
    onNotice?: (message: string) => void;
    /**
     * Time between health checks of a serving process; tests pass less so that the three failures
     * that replace an unhealthy one come in a second or two. @default 5 s
     */
    healthCheckIntervalMs?: number;
}

/** Where the gateway sends a container route's requests, while the service serves. */
export interface ContainerUpstream {
    readonly service: string;
    /** The port it serves on now; undefined while it is not serving. */
    readonly port: number | undefined;
}

/** One supervised container service. */
export class LocalContainer implements ContainerUpstream {
    readonly service: string;
    private child?: ChildProcess;
    private currentPort?: number;
    private serving = false;
    private stopping = false;
    private backoffMs: number = RESTART_BACKOFF.initialMs;
    private restartTimer?: NodeJS.Timeout;
    private healthTimer?: NodeJS.Timeout;
    private firstReady?: Promise<boolean>;
    /** How many times a process of this service was started. */
    starts = 0;

    constructor(
        private readonly definition: ResolvedContainerService,
        private readonly options: LocalContainerOptions,
    ) {
        this.service = definition.name;
    }

    get port(): number | undefined {
        return this.serving ? this.currentPort : undefined;
    }

    /** The running process's pid (the leash's), for tests and notices. */
    get pid(): number | undefined {
        return this.child?.pid;
    }

    /** Starts the service; resolves once it serves, or false when its first start did not get there. */
    start(): Promise<boolean> {
        this.firstReady ??= this.launch();
        return this.firstReady;
    }

    /**
     * From now on the process ending is expected, not a fault to repair: Ctrl-C reaches every process
     * of the terminal's group at once, the service's too, before the runtime comes to stop it.
     */
    stopRestarting(): void {
        this.stopping = true;
        clearTimeout(this.restartTimer);
    }

    /** Stops the service (SIGTERM, then SIGKILL after 5 s) and starts nothing again. */
    async stop(): Promise<void> {
        this.stopping = true;
        this.serving = false;
        clearTimeout(this.restartTimer);
        clearInterval(this.healthTimer);
        const child = this.child;
        if (!child || child.exitCode !== null || child.signalCode !== null) return;
        const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
        child.kill("SIGTERM");
        const force = setTimeout(() => child.kill("SIGKILL"), 5_000);
        await exited;
        clearTimeout(force);
    }

    private notice(message: string): void {
        (this.options.onNotice ?? ((text: string) => process.stderr.write(`${text}\n`)))(message);
    }

    private log(stream: "stdout" | "stderr", line: string): void {
        if (line.trim() === "") return;
        const write = this.options.writeLog ?? ((text: string) => process.stdout.write(`${text}\n`));
        try {
            const parsed = JSON.parse(line) as unknown;
            if (parsed && typeof parsed === "object" && !Array.isArray(parsed)) return write(JSON.stringify({ service: this.service, ...parsed }));
        } catch {
            // not JSON: wrapped below
        }
        write(JSON.stringify({ timestamp: new Date().toISOString(), level: stream === "stderr" ? "WARN" : "INFO", service: this.service, message: line, source: "container" }));
    }

    private async launch(): Promise<boolean> {
        const port = await freePort();
        const environment = containerEnvironment(this.definition, {
            port,
            logLevel: this.options.logLevel,
            databaseUrl: this.definition.database ? this.options.serviceDatabaseUrl?.(this.definition.name) : undefined,
        });
        // As ECS hands them to the task: each declared secret as a variable of its name.
        const secrets = localContainerSecrets(this.options.secretsFile ?? DEFAULT_SECRETS_FILE, this.definition.name, this.definition.secrets);
        const [program, ...args] =
            this.options.mode === "docker" ? ["docker", ...dockerRunArguments(this.definition, port, environment, Object.keys(secrets))] : this.definition.local.command;
        this.currentPort = port;
        this.starts++;
        const child = spawn("/bin/sh", [LEASH_SCRIPT, program, ...args], {
            cwd: this.definition.local.cwd,
            env: this.options.mode === "docker" ? { ...process.env, ...secrets } : { ...environment, ...secrets },
            stdio: ["pipe", "pipe", "pipe"],
        });
        this.child = child;
        child.stdin!.on("error", () => undefined); // the leash may be gone already
        for (const stream of ["stdout", "stderr"] as const) {
            let pending = "";
            child[stream]!.setEncoding("utf8").on("data", (chunk: string) => {
                const lines = (pending + chunk).split("\n");
                pending = lines.pop() ?? "";
                for (const line of lines) this.log(stream, line);
            });
        }
        const exited = new Promise<void>((resolve) =>
            child.once("exit", (code, signal) => {
                this.serving = false;
                clearInterval(this.healthTimer);
                if (!this.stopping) this.scheduleRestart(`exited (${signal ?? `code ${code}`})`);
                resolve();
            }),
        );
        child.once("error", (error) => this.notice(`Container service ${this.service}: ${program} could not start: ${error.message}`));

        const deadline = Date.now() + START_TIMEOUT_MS;
        let settled = false;
        void exited.then(() => (settled = true));
        while (!settled && !this.stopping && Date.now() < deadline) {
            if (await healthy(port, this.definition.healthCheckPath)) {
                if (settled || this.child !== child) return false;
                this.serving = true;
                this.backoffMs = RESTART_BACKOFF.initialMs;
                this.watchHealth(child, port);
                this.notice(`Container service ${this.service} serves on 127.0.0.1:${port} (${this.options.mode}, pid ${child.pid}).`);
                return true;
            }
            await new Promise((resolve) => setTimeout(resolve, 100));
        }
        if (!settled && !this.stopping) {
            this.notice(`Container service ${this.service} did not answer ${this.definition.healthCheckPath} within ${START_TIMEOUT_MS / 1000} s; replacing it.`);
            child.kill("SIGTERM");
        }
        return false;
    }

    /** Health checks while it serves: three failures in a row replace the process, as ECS does. */
    private watchHealth(child: ChildProcess, port: number): void {
        let failures = 0;
        this.healthTimer = setInterval(async () => {
            if (this.child !== child || !this.serving) return;
            failures = (await healthy(port, this.definition.healthCheckPath)) ? 0 : failures + 1;
            if (failures >= HEALTH_RETRIES && this.child === child) {
                this.serving = false;
                this.notice(`Container service ${this.service} failed ${HEALTH_RETRIES} health checks; replacing it.`);
                child.kill("SIGTERM");
            }
        }, this.options.healthCheckIntervalMs ?? HEALTH_INTERVAL_MS);
        this.healthTimer.unref();
    }

    private scheduleRestart(why: string): void {
        const wait = this.backoffMs;
        this.backoffMs = Math.min(this.backoffMs * 2, RESTART_BACKOFF.maxMs);
        this.notice(`Container service ${this.service} ${why}; its routes answer 503; starting it again in ${wait / 1000} s.`);
        this.restartTimer = setTimeout(() => {
            if (!this.stopping) void this.launch();
        }, wait);
        this.restartTimer.unref();
    }
}

/**
 * Builds each service's image when running under Docker (`docker build`, the host's platform),
 * so `docker run` finds it. A failed build is an error naming the service.
 */
export function buildLocalImages(services: readonly ResolvedContainerService[]): void {
    for (const service of services) {
        if (!("context" in service.image)) {
            const pulled = spawnSync("docker", ["pull", service.image.uri], { stdio: "inherit" });
            if (pulled.status !== 0) throw new Error(`Container service ${service.name}: docker pull ${service.image.uri} failed.`);
            spawnSync("docker", ["tag", service.image.uri, localImageTag(service)], { stdio: "inherit" });
            continue;
        }
        const built = spawnSync("docker", ["build", "--tag", localImageTag(service), "--file", path.join(service.image.context, service.image.dockerfile), service.image.context], { stdio: "inherit" });
        if (built.status !== 0) throw new Error(`Container service ${service.name}: docker build of ${service.image.context} failed.`);
    }
}

/** Every container service of a registry, started together and stopped together. */
export class LocalContainers {
    private readonly containers: Map<string, LocalContainer>;

    constructor(services: readonly ResolvedContainerService[], options: LocalContainerOptions) {
        if (options.mode === "docker") buildLocalImages(services);
        this.containers = new Map(services.map((service) => [service.name, new LocalContainer(service, options)]));
    }

    /** Starts them all; resolves when each serves or its first start failed (its routes then answer 503 until a restart works). */
    async start(): Promise<void> {
        await Promise.all([...this.containers.values()].map((container) => container.start()));
    }

    upstream(service: string): LocalContainer | undefined {
        return this.containers.get(service);
    }

    /** Marks every service as stopping at once (`LocalContainer.stopRestarting`). */
    stopRestarting(): void {
        for (const container of this.containers.values()) container.stopRestarting();
    }

    async stop(): Promise<void> {
        await Promise.all([...this.containers.values()].map((container) => container.stop()));
    }
}
