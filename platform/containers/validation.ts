/**
 * The checks a container service must pass, as named pure functions beside the function services'
 * (`platform/registry/validation.ts`, which calls `validateContainerService` for every container entry and
 * checks its routes against every other route of the registry). Each problem names the service and
 * the field, and says what is allowed. `dockerfileProblems` reads the Dockerfile the build would
 * use: it is never built here, so what can be checked without building is checked before any resource.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { CONTAINER_DATABASE_CA_ENVIRONMENT, CONTAINER_ENVIRONMENT, LOCAL_DATABASE_URL, LOCAL_HOST, type ContainerScaling, type ContainerServiceDefinition } from "../../functions/runtime/container";
import { ENVIRONMENT } from "../../functions/runtime/environment";
import { describeFargateTaskSizes, FARGATE, HTTP_API, isFargateTaskSize } from "../../policy/lib/limits";

/** How long the API may wait for a container: whole seconds up to the HTTP API's cut-off. */
export const CONTAINER_TIMEOUT_SECONDS = { min: 1, max: HTTP_API.integrationTimeoutMs.max / 1000 } as const;
/** What a container route waits when its service says nothing: a second under the cut-off, like a function route at its longest. */
export const DEFAULT_CONTAINER_TIMEOUT_SECONDS = CONTAINER_TIMEOUT_SECONDS.max - 1;
/** Ports a process may listen on: unprivileged, so the image need not run as root to bind it. */
export const CONTAINER_PORT = { min: 1024, max: 65_535 } as const;

const ENVIRONMENT_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
/** Names that say "secret": such values belong in Secrets Manager, never in a task definition. */
const SECRET_NAME = /(PASSWORD|PASSWD|SECRET|TOKEN|PRIVATE_KEY|API_KEY|CREDENTIAL)/i;
/** A health check path: absolute, no query or fragment, printable. */
const HEALTH_CHECK_PATH = /^\/[A-Za-z0-9._~\-/]*$/;
/**
 * A private ECR image, `<account>.dkr.ecr.<region>.amazonaws.com/<repository>[:tag][@sha256:digest]`:
 * tasks have no route to the internet, only to ECR through the stack's endpoints.
 */
const IMAGE_URI = /^\d{12}\.dkr\.ecr\.[a-z]{2}(?:-[a-z]+)+-\d\.amazonaws\.com\/[a-z0-9]+(?:[._\/-][a-z0-9]+)*(?::[A-Za-z0-9_][A-Za-z0-9_.-]{0,127})?(?:@sha256:[a-f0-9]{64})?$/;

/** Names the platform sets on the process itself. */
const RESERVED_ENVIRONMENT = new Set<string>([
    ...Object.values(CONTAINER_ENVIRONMENT),
    ...Object.values(CONTAINER_DATABASE_CA_ENVIRONMENT),
    ...Object.values(ENVIRONMENT),
    LOCAL_DATABASE_URL,
    LOCAL_HOST,
]);

/** The environment variables a container service's process gets besides its secrets: the platform's and its own `environment`'s. */
export function containerEnvironmentNames(service: Pick<ContainerServiceDefinition, "environment">): ReadonlySet<string> {
    const own = typeof service?.environment === "object" && service.environment !== null ? Object.keys(service.environment) : [];
    return new Set([...RESERVED_ENVIRONMENT, ...own]);
}

function isInteger(value: unknown, range: { min: number; max: number }): value is number {
    return typeof value === "number" && Number.isInteger(value) && value >= range.min && value <= range.max;
}

/** Fargate's CPU and memory: a size it runs. */
export function validateTaskSize(cpu: unknown, memoryMb: unknown, at: string): string[] {
    if (typeof cpu === "number" && typeof memoryMb === "number" && isFargateTaskSize(cpu, memoryMb)) return [];
    const sizes = FARGATE.taskSizes.map((size) => size.cpu);
    if (!sizes.includes(cpu as (typeof sizes)[number])) {
        return [`${at}: cpu ${JSON.stringify(cpu)} is not a Fargate size; use ${sizes.join(", ")} CPU units (1024 = 1 vCPU)`];
    }
    return [`${at}: memoryMb ${JSON.stringify(memoryMb)} does not go with cpu ${cpu}; Fargate runs ${describeFargateTaskSizes()} (CPU units with MiB)`];
}

/** `scaling`: a default and per-stack overrides, each 0 <= minTasks <= maxTasks <= the bound, maxTasks at least 1. */
export function validateScaling(scaling: unknown, at: string): string[] {
    if (typeof scaling !== "object" || scaling === null || (scaling as { default?: unknown }).default === undefined) {
        return [`${at}: scaling is required, e.g. { default: { minTasks: 0, maxTasks: 1 }, prod: { minTasks: 1, maxTasks: 4 } }`];
    }
    const problems: string[] = [];
    for (const [stack, entry] of Object.entries(scaling as Record<string, ContainerScaling | undefined>)) {
        const where = `${at}: scaling.${stack}`;
        const { minTasks, maxTasks } = entry ?? ({} as ContainerScaling);
        if (!isInteger(minTasks, { min: 0, max: FARGATE.maxTasks })) problems.push(`${where}.minTasks ${JSON.stringify(minTasks)} is not allowed; use an integer from 0 to ${FARGATE.maxTasks}`);
        if (!isInteger(maxTasks, { min: 1, max: FARGATE.maxTasks })) problems.push(`${where}.maxTasks ${JSON.stringify(maxTasks)} is not allowed; use an integer from 1 to ${FARGATE.maxTasks}`);
        else if (isInteger(minTasks, { min: 0, max: FARGATE.maxTasks }) && minTasks > maxTasks) problems.push(`${where}: minTasks ${minTasks} is above maxTasks ${maxTasks}`);
    }
    return problems;
}

/** The image: a build context folder with its Dockerfile, or a registry reference; exactly one. */
export function validateImage(image: ContainerServiceDefinition["image"] | undefined, at: string): string[] {
    const given = (image ?? {}) as { context?: unknown; dockerfile?: unknown; uri?: unknown };
    if ((given.context === undefined) === (given.uri === undefined)) {
        return [`${at}: image needs exactly one of context (a folder with a Dockerfile) or uri (an image in a registry)`];
    }
    if (given.uri !== undefined) {
        return typeof given.uri === "string" && IMAGE_URI.test(given.uri) ? [] : [`${at}: image.uri ${JSON.stringify(given.uri)} is not a private ECR image such as 123456789012.dkr.ecr.us-east-1.amazonaws.com/app:1.2.3 (tasks reach no other registry without a NAT gateway)`];
    }
    if (typeof given.context !== "string" || !fs.existsSync(given.context) || !fs.statSync(given.context).isDirectory()) {
        return [`${at}: image.context ${JSON.stringify(given.context)} is not a folder`];
    }
    const dockerfile = path.join(given.context, typeof given.dockerfile === "string" ? given.dockerfile : "Dockerfile");
    return fs.existsSync(dockerfile) ? [] : [`${at}: image.context has no ${path.relative(given.context, dockerfile)}; add one or set image.dockerfile`];
}

/** The process's own variables: valid names, none the platform sets, none that looks like a secret, string values. */
export function validateEnvironment(environment: unknown, at: string): string[] {
    if (environment === undefined) return [];
    if (typeof environment !== "object" || environment === null || Array.isArray(environment)) return [`${at}: environment must be an object of names to strings`];
    const problems: string[] = [];
    for (const [name, value] of Object.entries(environment)) {
        if (!ENVIRONMENT_NAME.test(name)) problems.push(`${at}: environment name ${JSON.stringify(name)} is not a variable name (letters, digits, _)`);
        else if (RESERVED_ENVIRONMENT.has(name)) problems.push(`${at}: environment.${name} is set by the platform; choose another name`);
        else if (SECRET_NAME.test(name)) problems.push(`${at}: environment.${name} looks like a secret; task definitions are readable in plain text, so keep secrets in Secrets Manager`);
        if (typeof value !== "string") problems.push(`${at}: environment.${name} must be a string`);
    }
    return problems;
}

/**
 * A container service's own fields (its name, description, `database` flag and `migrationsDir` are
 * checked like any service's by the caller): image, port, size, health check, timeout, scaling,
 * environment, local command.
 */
export function validateContainerService(service: ContainerServiceDefinition, at: string): string[] {
    const problems: string[] = [];
    problems.push(...validateImage(service.image, at));
    if (!isInteger(service.port, CONTAINER_PORT)) {
        problems.push(`${at}: port ${JSON.stringify(service.port)} is not allowed; use an integer from ${CONTAINER_PORT.min} to ${CONTAINER_PORT.max} (no root needed to bind it)`);
    }
    problems.push(...validateTaskSize(service.cpu, service.memoryMb, at));
    if (typeof service.healthCheckPath !== "string" || !HEALTH_CHECK_PATH.test(service.healthCheckPath)) {
        problems.push(`${at}: healthCheckPath ${JSON.stringify(service.healthCheckPath)} is not allowed; use an absolute path such as "/health" (no query)`);
    }
    if (service.healthCheckCommand !== undefined && (typeof service.healthCheckCommand !== "string" || service.healthCheckCommand.trim() === "")) {
        problems.push(`${at}: healthCheckCommand must be a shell command line that exits 0 when the process is healthy`);
    }
    if (service.timeoutSeconds !== undefined && !isInteger(service.timeoutSeconds, CONTAINER_TIMEOUT_SECONDS)) {
        problems.push(`${at}: timeoutSeconds ${JSON.stringify(service.timeoutSeconds)} is not allowed; use an integer from ${CONTAINER_TIMEOUT_SECONDS.min} to ${CONTAINER_TIMEOUT_SECONDS.max} (the HTTP API cuts requests at ${CONTAINER_TIMEOUT_SECONDS.max} s)`);
    }
    problems.push(...validateScaling(service.scaling, at));
    problems.push(...validateEnvironment(service.environment, at));
    const command = service.local?.command;
    if (!Array.isArray(command) || command.length === 0 || command.some((part) => typeof part !== "string" || part === "")) {
        problems.push(`${at}: local.command must be the program and its arguments, e.g. ["node", "server.mjs"]`);
    }
    if (service.local?.cwd !== undefined ? typeof service.local.cwd !== "string" || !fs.existsSync(service.local.cwd) : "uri" in (service.image ?? {})) {
        problems.push(`${at}: local.cwd must be a folder to run local.command in (required with image.uri; it defaults to image.context)`);
    }
    if (service.readOnlyRootFilesystem !== undefined && typeof service.readOnlyRootFilesystem !== "boolean") {
        problems.push(`${at}: readOnlyRootFilesystem must be true or false`);
    }
    return problems;
}

/** One instruction of a Dockerfile: its keyword and the rest of its (joined) line. */
function instructions(dockerfile: string): { keyword: string; argument: string }[] {
    const joined = dockerfile.replace(/\\\r?\n/g, " ");
    return joined
        .split(/\r?\n/)
        .map((line) => line.trim())
        .filter((line) => line !== "" && !line.startsWith("#"))
        .map((line) => {
            const [keyword, ...rest] = line.split(/\s+/);
            return { keyword: keyword.toUpperCase(), argument: rest.join(" ") };
        });
}

/**
 * What the Dockerfile must agree with in the registry, checked by reading it: the final stage runs
 * as a user other than root, exposes the declared port, and its `CMD` (exec form) is the command
 * the local runtime runs, so the process tested locally is the one the image starts.
 */
export function dockerfileProblems(dockerfile: string, expected: { port: number; command: readonly string[] }, at: string): string[] {
    const all = instructions(dockerfile);
    const lastFrom = all.map((instruction) => instruction.keyword).lastIndexOf("FROM");
    const finalStage = all.slice(lastFrom + 1);
    const problems: string[] = [];
    const users = finalStage.filter((instruction) => instruction.keyword === "USER");
    const user = users.at(-1)?.argument.split(":")[0];
    if (user === undefined || user === "root" || user === "0") {
        problems.push(`${at}: the Dockerfile's final stage must switch to a user other than root (USER node, USER 1000, ...)`);
    }
    const exposed = finalStage.filter((instruction) => instruction.keyword === "EXPOSE").flatMap((instruction) => instruction.argument.split(/\s+/).map((port) => port.split("/")[0]));
    if (!exposed.includes(String(expected.port))) {
        problems.push(`${at}: the Dockerfile must EXPOSE the declared port ${expected.port} (it exposes ${exposed.join(", ") || "none"})`);
    }
    const cmd = finalStage.filter((instruction) => instruction.keyword === "CMD").at(-1)?.argument;
    let command: unknown;
    try {
        command = cmd === undefined ? undefined : JSON.parse(cmd);
    } catch {
        command = undefined;
    }
    if (!Array.isArray(command) || JSON.stringify(command) !== JSON.stringify(expected.command)) {
        problems.push(`${at}: the Dockerfile's CMD must be the exec form of local.command, ${JSON.stringify(expected.command)} (it is ${cmd ?? "missing"})`);
    }
    return problems;
}

/** The Dockerfile check for a service built from a context; none for an image URI or a context that failed its own check. */
export function validateDockerfile(service: ContainerServiceDefinition, at: string): string[] {
    const image = service.image as { context?: string; dockerfile?: string };
    if (typeof image?.context !== "string") return [];
    const file = path.join(image.context, image.dockerfile ?? "Dockerfile");
    if (!fs.existsSync(file) || !Array.isArray(service.local?.command)) return [];
    return dockerfileProblems(fs.readFileSync(file, "utf8"), { port: service.port, command: service.local.command }, at);
}

