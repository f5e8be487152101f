/**
 * The contract of a container service: a long-lived process (any language, any dependency) that
 * serves some of the API's routes, next to the function services in the registry. It runs on
 * Fargate in the cloud and as a local process (or a Docker container) under `npm start`; both put
 * it behind the same HTTP API, authorizer, throttling and CORS as the function routes.
 *
 * What reaches the process, in the cloud and locally alike: the request as the client sent it
 * (method, path, query, body, headers) with the verified JWT claims in the `x-jwt-*` headers of
 * `CLAIM_HEADERS`, set by the gateway and never by the client: any copy the client sent is
 * overwritten or removed. Nothing here imports Pulumi.
 */
import { recordDeclaringFile, type AnyService, type RouteAuth, type RouteKey, type RouteRequest, type RouteResponses, type RouteThrottle, type ServiceDefinition } from "./service";

/** Where the image comes from: a folder with a Dockerfile, built and pushed at `pulumi up`, or an image already in a registry. */
export type ContainerImage =
    | {
          /** The build context: a folder holding the Dockerfile (usually the service's own folder). */
          context: string;
          /** The Dockerfile, relative to `context`. @default "Dockerfile" */
          dockerfile?: string;
      }
    | {
          /** An image reference such as `public.ecr.aws/org/app:1.4.2` or `<account>.dkr.ecr.<region>.amazonaws.com/app@sha256:...`. */
          uri: string;
      };

/** Tasks for one stack. */
export interface ContainerScaling {
    /** Tasks that always run; 0 lets the service idle at no compute cost (its routes then answer 503). */
    minTasks: number;
    /** Most tasks target tracking may run; at least 1 and at least `minTasks`. */
    maxTasks: number;
}

/** One route of a container service: the request goes to the process, so there is no handler. */
export interface ContainerRouteDefinition {
    /** One line for the route table. */
    description?: string;
    /** Who may call the route, as for function routes. @default "none" */
    auth?: RouteAuth;
    /** With `auth: "jwt"`: the token must carry one of these scopes, else 403. @default any valid token */
    scopes?: string[];
    /** Throttling of this route, overriding the stack's `api` defaults. */
    throttle?: RouteThrottle;
    /**
     * What the route accepts, for the API's OpenAPI document only: the process checks its own input.
     * @default described as any request
     */
    request?: RouteRequest;
    /** What the route answers, by status code, for the API's OpenAPI document. @default described as the process's answer */
    responses?: RouteResponses;
}

/**
 * A container service, declared in `functions/<name>/service.ts` with `defineContainerService` and
 * listed in `infra/registry.ts` like any service.
 */
export interface ContainerServiceDefinition {
    /** What tells it apart from a function service. */
    kind: "container";
    /** Lower-case DNS-safe name, unique in the registry (the same rule as function services). */
    name: string;
    /** What the service is for. */
    description: string;
    image: ContainerImage;
    /** The port the process listens on, inside the task and (as `PORT`) locally. */
    port: number;
    /** Fargate CPU units: 256 (0.25 vCPU), 512, 1024, 2048, 4096, 8192 or 16384. */
    cpu: number;
    /** Task memory in MiB; each CPU size accepts certain sizes (`FARGATE.taskSizes` in policy/lib/limits.ts). */
    memoryMb: number;
    /** A path the process answers 200 on while it can serve (`GET`, on `port`); checked by ECS and the local runtime. */
    healthCheckPath: string;
    /**
     * The health check ECS runs inside the container, as a Docker `CMD-SHELL` line.
     * @default `wget -q -O /dev/null http://127.0.0.1:<port><healthCheckPath> || exit 1` (busybox wget, in Alpine images)
     */
    healthCheckCommand?: string;
    /**
     * How long the API waits for an answer, in whole seconds; the HTTP API gives up at 30 s.
     * @default 29
     */
    timeoutSeconds?: number;
    /** Tasks per stack: `default`, and any stack's own by its name. */
    scaling: { default: ContainerScaling } & Partial<Record<string, ContainerScaling>>;
    /** Plain settings for the process; never secrets (the registry refuses names that look like one). @default none */
    environment?: Record<string, string>;
    /**
     * The secrets the process needs, by name (the rules of a function service's `secrets`). Each
     * reaches the process as an environment variable of that name: on Fargate ECS reads it from the
     * service's Secrets Manager secret when the task starts (a rotated value reaches new tasks),
     * locally `npm start` sets it from the data folder. @default none
     */
    secrets?: readonly string[];
    /** Whether the service keeps data in the stack's PostgreSQL cluster (its connection reaches the process as `DB_*`). */
    database: boolean;
    /** Folder of versioned `NNNN_name.sql` migrations, applied by the platform's runner like a function service's. */
    migrationsDir?: string;
    /**
     * The root filesystem is read-only; `/tmp` is a writable volume. Turn it off only for an image
     * that must write elsewhere. @default true
     */
    readOnlyRootFilesystem?: boolean;
    /** How `npm start` runs the service without Docker: its own language's runtime, from `cwd`. */
    local: {
        /** The program and its arguments, e.g. `["node", "server.mjs"]`; the Dockerfile's `CMD` must be the same. */
        command: string[];
        /** @default the build context's folder */
        cwd?: string;
    };
    /** Routes keyed `"METHOD /path"`, with the same access fields as function routes. */
    routes: Record<RouteKey, ContainerRouteDefinition>;
}

/**
 * Declares a container service with its fields type-checked.
 *
 * @example
 * export default defineContainerService({
 *   kind: "container", name: "reports", description: "Long-running reports", database: false,
 *   image: { context: __dirname }, port: 8080, cpu: 256, memoryMb: 512, healthCheckPath: "/health",
 *   scaling: { default: { minTasks: 0, maxTasks: 1 }, prod: { minTasks: 1, maxTasks: 2 } },
 *   local: { command: ["node", "server.mjs"] },
 *   routes: { "GET /reports/primes": { auth: "jwt" } },
 * });
 */
export function defineContainerService(definition: ContainerServiceDefinition): ContainerServiceDefinition {
    return recordDeclaringFile(definition, defineContainerService);
}

/**
 * The verified claims the gateway hands the process, claim -> header. In the cloud the route's
 * integration maps `$context.authorizer.claims.<claim>` onto the header (overwriting what the
 * client sent) and removes the header where the route passes no such claim; the local gateway
 * does the same (`claimsPassed` says which, for both).
 */
export const CLAIM_HEADERS = {
    sub: "x-jwt-sub",
    scope: "x-jwt-scope",
} as const;

export type PassedClaim = keyof typeof CLAIM_HEADERS;

/**
 * The claims a route passes to its process: `sub` on every route with `auth: "jwt"`, `scope` only
 * where the route requires scopes (there the authorizer has checked the token carries them). A
 * claim is mapped only where the token is sure to have it: a mapping whose value is missing from
 * the token would make the integration fail rather than send an empty header.
 */
export function claimsPassed(route: { auth?: string; scopes?: readonly string[] }): PassedClaim[] {
    if (route.auth !== "jwt") return [];
    return (route.scopes?.length ?? 0) > 0 ? ["sub", "scope"] : ["sub"];
}

/** The API Gateway request id the gateway hands the process, so its logs and answers can carry it. */
export const REQUEST_ID_HEADER = "x-apigw-request-id";

/** Every header only the gateway may set: what a client sends under these names never reaches the process. */
export const GATEWAY_HEADERS: readonly string[] = [...Object.values(CLAIM_HEADERS), REQUEST_ID_HEADER];

/** The variables the platform always sets on the process; a service's `environment` may not use these names. */
export const CONTAINER_ENVIRONMENT = {
    /** The port to listen on (the service's `port`). */
    port: "PORT",
    serviceName: "SERVICE_NAME",
    logLevel: "LOG_LEVEL",
} as const;

/**
 * Set on the task of a container service with `database: true`: where its image holds the RDS
 * certificate authorities, for Node.js (`NODE_EXTRA_CA_CERTS`) and for clients built on libpq
 * (`PGSSLROOTCERT`: psycopg, Ruby's pg, Go's pgx). Other clients take the file by their own
 * setting (a JDBC URL's `sslrootcert`, for example).
 */
export const CONTAINER_DATABASE_CA_ENVIRONMENT = {
    node: "NODE_EXTRA_CA_CERTS",
    libpq: "PGSSLROOTCERT",
} as const;

/**
 * Set only by the local runtime, for a container service with `database: true`: the connection
 * string of its database locally (the cloud task reads `DB_*` and the secret instead, as a function does).
 */
export const LOCAL_DATABASE_URL = "DATABASE_URL";

/**
 * Set only by the local runtime, on a container service run as a process: the address to listen
 * on, 127.0.0.1, so that nothing but the local gateway reaches the process (which trusts the
 * `x-jwt-*` headers the gateway sets). Inside an image, and on Fargate, it is unset and the process
 * listens on every interface, as the task's network needs.
 */
export const LOCAL_HOST = "HOST";

/** Any entry of the registry: a function service or a container service. */
export type RegisteredService = AnyService | ServiceDefinition | ContainerServiceDefinition;

/** Whether a registry entry is a container service. */
export function isContainerService(service: RegisteredService | undefined): service is ContainerServiceDefinition {
    return (service as { kind?: unknown } | undefined)?.kind === "container";
}
