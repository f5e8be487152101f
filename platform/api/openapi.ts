/**
 * The API's OpenAPI 3.1 document, built from the resolved registry and the stack's settings: every
 * route of the HTTP API (function and container routes) with its parameters, body, described
 * answers, authorization and throttling, and the error answers the gateway and the runtime give.
 * Runs at build and plan time and in the local server; nothing here is serialized into a function.
 *
 * @example
 * const { config, registry } = inputsForStack("dev", services);
 * const document = openApiDocument({ registry, config });
 */
import { HTTP_METHODS, type RouteRequest, type RouteResponses, type RouteThrottle } from "../../functions/runtime/service";
import { LAMBDA } from "../../policy/lib/limits";
import type { StackConfig } from "../config/stack-config";
import type { ResolvedContainerRoute, ResolvedRegistry, ResolvedRoute } from "../model";
import { checkJsonSchema, isOptional, shapeJsonSchema, type JsonSchema } from "./json-schema";

/** The OpenAPI version of the document: the one whose schemas are JSON Schema 2020-12. */
export const OPENAPI_VERSION = "3.1.0";

/**
 * Paths the local server answers itself (the document and the reference page): no registry route
 * may take them, so the description of the API is never hidden behind one of its routes.
 */
export const API_DESCRIPTION_PATHS = { document: "/openapi.json", docs: "/docs" } as const;

/** Whether `path` is one of `API_DESCRIPTION_PATHS` (the reference page's files included, under `/docs/`). */
export function isApiDescriptionPath(path: string): boolean {
    return path === API_DESCRIPTION_PATHS.document || path === API_DESCRIPTION_PATHS.docs || path.startsWith(`${API_DESCRIPTION_PATHS.docs}/`);
}

/** The name of the bearer-token security scheme every `auth: "jwt"` route refers to. */
export const JWT_SECURITY_SCHEME = "jwt";

/** Where the document says the API is served. */
export type ApiServer =
    /** The stack's own URL: its custom domain when it has one, else the HTTP API's execute-api URL. */
    | { kind: "stack" }
    /**
     * A local runtime (`npm start`) at `url`, whose tokens come from `issuer` for `audience` (the
     * local issuer's, unless the runtime trusts a remote one).
     */
    | { kind: "local"; url: string; jwt: { issuer: string; audience: readonly string[] } };

export interface OpenApiInput {
    /** The routes, resolved for the stack (`resolveRegistry`). */
    registry: Pick<ResolvedRegistry, "services" | "routes" | "containers">;
    /** The stack's settings: its region, domain, `auth.jwt` and `api` throttling. */
    config: Pick<StackConfig, "stack" | "region" | "domain" | "auth" | "api">;
    /** @default the stack's own URL */
    server?: ApiServer;
    /** `info.title` and `info.version`. @default this project's name and version (package.json) */
    info?: { title: string; version: string };
}

/** An OpenAPI 3.1 document, as plain JSON. */
export type OpenApiDocument = Record<string, unknown> & { openapi: string; paths: Record<string, Record<string, OpenApiOperation>> };

export interface OpenApiOperation {
    operationId: string;
    summary: string;
    tags: string[];
    parameters?: Record<string, unknown>[];
    requestBody?: Record<string, unknown>;
    responses: Record<string, unknown>;
    security?: Record<string, string[]>[];
    [extension: `x-${string}`]: unknown;
}

/** The methods OpenAPI has an operation for: an `ANY` route is described once per method. */
const OPERATION_METHODS = HTTP_METHODS.filter((method) => method !== "ANY").map((method) => method.toLowerCase());
/** Methods whose requests carry a body, so the gateway's 413 for an oversized one applies. */
const BODY_METHODS = ["post", "put", "patch"];

/** The error bodies of the API, shared by every operation (`components.schemas`). */
const ERROR_SCHEMAS: Record<string, JsonSchema> = {
    Issue: {
        type: "object",
        description: "One bad field of a request.",
        properties: {
            field: { type: "string", description: "The field, as the request named it." },
            problem: { type: "string", description: "What is wrong with it, e.g. `must not be empty`." },
        },
        required: ["field", "problem"],
    },
    PlatformError: {
        type: "object",
        description: "An error the service or the runtime answered (`functions/runtime/errors.ts`).",
        properties: {
            error: {
                type: "object",
                properties: {
                    code: { type: "string", description: "Stable and machine-readable, e.g. `validation_error`, `not_found`, `conflict`, `database_unavailable`." },
                    message: { type: "string", description: "For a person to read." },
                    requestId: { type: "string", description: "The request's id; every log line of the request carries it." },
                    details: { description: "More about the error, when there is more." },
                },
                required: ["code", "message", "requestId"],
            },
        },
        required: ["error"],
    },
    ValidationError: {
        description: "A 400 naming every bad field of the path, the query and the body at once.",
        allOf: [
            { $ref: "#/components/schemas/PlatformError" },
            {
                type: "object",
                properties: {
                    error: {
                        type: "object",
                        properties: {
                            code: { const: "validation_error" },
                            details: {
                                type: "object",
                                properties: { issues: { type: "array", items: { $ref: "#/components/schemas/Issue" }, minItems: 1 } },
                                required: ["issues"],
                            },
                        },
                    },
                },
            },
        ],
    },
    GatewayError: {
        type: "object",
        description: "An answer of the API gateway itself, before or instead of the service.",
        properties: { message: { type: "string", examples: ["Unauthorized", "Too Many Requests"] } },
        required: ["message"],
    },
};

const json = (schema: JsonSchema) => ({ "application/json": { schema } });
const ref = (kind: "schemas" | "responses", name: string) => ({ $ref: `#/components/${kind}/${name}` });
const oneOfRefs = (...names: string[]) => ({ anyOf: names.map((name) => ref("schemas", name)) });

/** The error answers of the API, shared by every operation (`components.responses`), by status code. */
const ERROR_RESPONSES: Record<string, { name: string; response: Record<string, unknown> }> = {
    "400": {
        name: "BadRequest",
        response: {
            description: "The request is malformed (a body that is not JSON) or fails validation: every bad field is listed in `error.details.issues`.",
            content: json(oneOfRefs("ValidationError", "PlatformError")),
        },
    },
    "401": {
        name: "Unauthorized",
        response: { description: "No bearer token, or one the gateway does not accept (signature, issuer, audience, expiry).", content: json(ref("schemas", "GatewayError")) },
    },
    "403": {
        name: "Forbidden",
        response: { description: "The token carries none of the route's scopes, or the caller may not touch this record.", content: json(oneOfRefs("GatewayError", "PlatformError")) },
    },
    "404": {
        name: "NotFound",
        response: { description: "Nothing with this id (or nothing this caller may see).", content: json(oneOfRefs("PlatformError", "GatewayError")) },
    },
    "409": {
        name: "Conflict",
        response: { description: "The request conflicts with what is stored.", content: json(ref("schemas", "PlatformError")) },
    },
    "413": {
        name: "PayloadTooLarge",
        response: { description: `The body is larger than a function takes (${LAMBDA.payloadBytes / 1024 / 1024} MB).`, content: json(ref("schemas", "GatewayError")) },
    },
    "429": {
        name: "TooManyRequests",
        response: { description: "Over the route's throttling limits (`x-throttling`); retry later.", content: json(ref("schemas", "GatewayError")) },
    },
    "503": {
        name: "ServiceUnavailable",
        response: {
            description: "The service could not answer in time, or a dependency (the database, the event bus, a secret) is not available; retry later.",
            headers: { "retry-after": { description: "Seconds to wait before retrying, when the service knows.", schema: { type: "integer" } } },
            content: json(oneOfRefs("PlatformError", "GatewayError")),
        },
    },
};

/** The project's name and version, as `package.json` has them. */
function projectInfo(): { title: string; version: string } {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { name, version } = require("../../package.json") as { name: string; version: string };
    return { title: name, version };
}

/** The servers of the document for `server`. */
function serversFor(config: OpenApiInput["config"], server: ApiServer): Record<string, unknown>[] {
    if (server.kind === "local") return [{ url: server.url, description: "The local runtime (npm start)." }];
    if (config.domain) return [{ url: `https://${config.domain.name}`, description: `The ${config.stack} stack's custom domain.` }];
    return [
        {
            url: `https://{apiId}.execute-api.${config.region}.amazonaws.com`,
            description: `The ${config.stack} stack's HTTP API (its id is the stack output \`apiUrl\`'s first label).`,
            variables: { apiId: { default: "api-id", description: "The HTTP API's id." } },
        },
    ];
}

/** The bearer scheme, with who issues the tokens and for whom. */
function jwtScheme(config: OpenApiInput["config"], server: ApiServer): Record<string, unknown> | undefined {
    const jwt = server.kind === "local" ? server.jwt : config.auth.jwt;
    if (!jwt) return undefined;
    const local = server.kind === "local";
    return {
        type: "http",
        scheme: "bearer",
        bearerFormat: "JWT",
        description:
            `A JWT from ${jwt.issuer} for audience ${jwt.audience.join(" or ")}, RS256-signed. ` +
            (local ? "Mint one with `npm run token -- --sub <id> [--scope <scope>]`." : "Routes that list scopes need a token carrying one of them."),
        "x-issuer": jwt.issuer,
        "x-audience": [...jwt.audience],
        ...(local ? {} : { "x-openid-configuration": `${jwt.issuer.replace(/\/$/, "")}/.well-known/openid-configuration` }),
    };
}

/** The OpenAPI path of a route path: a greedy `{proxy+}` becomes `{proxy}` (OpenAPI has no greedy parameter). */
export function openApiPath(path: string): string {
    return path.replace(/\{([A-Za-z_][A-Za-z0-9_]*)\+\}/g, "{$1}");
}

/** The path parameters of a route path, each marked greedy or not. */
function pathParameters(path: string): { name: string; greedy: boolean }[] {
    return [...path.matchAll(/\{([A-Za-z_][A-Za-z0-9_]*)(\+?)\}/g)].map((match) => ({ name: match[1], greedy: match[2] === "+" }));
}

/** `get-users-id` -> `getUsersId`. */
function camelCase(id: string): string {
    return id.replace(/-([a-z0-9])/g, (_, letter: string) => letter.toUpperCase());
}

function parametersOf(path: string, request: RouteRequest | undefined): Record<string, unknown>[] {
    const parameters: Record<string, unknown>[] = pathParameters(path).map(({ name, greedy }) => {
        const check = request?.path?.[name];
        return {
            name,
            in: "path",
            required: true,
            schema: check ? checkJsonSchema(check) : { type: "string" },
            ...(greedy ? { description: "The rest of the path: may hold `/`.", "x-greedy": true } : {}),
        };
    });
    for (const [name, check] of Object.entries(request?.query ?? {})) {
        parameters.push({ name, in: "query", required: !isOptional(check), schema: checkJsonSchema(check) });
    }
    return parameters;
}

/** The route's own described answers; an error status it describes without a body gets the error shape. */
function describedResponses(responses: RouteResponses | undefined): Record<string, unknown> {
    const described: Record<string, unknown> = {};
    for (const [status, response] of Object.entries(responses ?? {})) {
        const error = ERROR_RESPONSES[status];
        if (response.body) described[status] = { description: response.description, content: json(checkJsonSchema(response.body)) };
        else if (error && Number(status) >= 400) described[status] = { ...error.response, description: response.description };
        else described[status] = { description: response.description };
    }
    return described;
}

/** The error answers the platform gives on this route whatever its handler does, by status. */
function platformErrors(route: ResolvedRoute | ResolvedContainerRoute, method: string, kind: "function" | "container"): string[] {
    const statuses: string[] = [];
    // A function route answers 400 to a body that is not JSON and to a value the database refuses.
    if (kind === "function" || route.request) statuses.push("400");
    if (route.auth === "jwt") statuses.push("401");
    if (route.scopes.length > 0) statuses.push("403");
    if (pathParameters(route.path).length > 0) statuses.push("404");
    if (kind === "function" && BODY_METHODS.includes(method)) statuses.push("413");
    statuses.push("429", "503");
    return statuses;
}

/**
 * A declared body as a closed JSON object; a route of a body method that declares none takes any
 * JSON its handler (or its container's process) checks itself.
 */
function requestBodyOf(route: ResolvedRoute | ResolvedContainerRoute, method: string): { requestBody?: Record<string, unknown> } {
    if (route.request?.body) return { requestBody: { required: true, content: json(shapeJsonSchema(route.request.body, { closed: true })) } };
    if (!BODY_METHODS.includes(method)) return {};
    return { requestBody: { required: false, description: "Any JSON: the route declares no shape, so what reads the body checks it.", content: json({}) } };
}

function operationFor(route: ResolvedRoute | ResolvedContainerRoute, method: string, kind: "function" | "container", stackThrottle: RouteThrottle): OpenApiOperation {
    const routeMethod = route.method === "ANY" ? method.toUpperCase() : route.method;
    const operationId = `${route.service}.${camelCase(route.method === "ANY" ? `${method}-${route.id.replace(/^any-/, "")}` : route.id)}`;
    const parameters = parametersOf(route.path, route.request);
    const responses: Record<string, unknown> = describedResponses(route.responses);
    if (Object.keys(responses).length === 0) {
        responses.default =
            kind === "container"
                ? { description: `Answered by the container service ${route.service}: its own server decides the status and the body.` }
                : { description: "The handler's answer (the route describes none)." };
    }
    for (const status of platformErrors(route, method, kind)) responses[status] ??= ref("responses", ERROR_RESPONSES[status].name);
    return {
        operationId,
        summary: route.description,
        tags: [route.service],
        ...(parameters.length > 0 ? { parameters } : {}),
        ...requestBodyOf(route, method),
        responses,
        ...(route.auth === "jwt" ? { security: [{ [JWT_SECURITY_SCHEME]: [...route.scopes] }] } : {}),
        "x-route-key": route.routeKey === `${routeMethod} ${route.path}` ? route.routeKey : `${route.routeKey} (${routeMethod})`,
        "x-throttling": route.throttle ? { ...route.throttle, source: "route" } : { ...stackThrottle, source: "stack" },
        ...(kind === "container" ? { "x-container-service": route.service } : {}),
    };
}

/**
 * The OpenAPI 3.1 document of the stack's API. Operation ids are `<service>.<routeId in camel
 * case>` (`users.getUsersId`), tags are service names, and `x-throttling` gives the limits that
 * apply (`source: "route"` for a route's own `throttle`, else the stack's `api` defaults).
 */
export function openApiDocument(input: OpenApiInput): OpenApiDocument {
    const { registry, config } = input;
    const server = input.server ?? { kind: "stack" };
    const stackThrottle = { rateLimit: config.api.throttlingRateLimit, burstLimit: config.api.throttlingBurstLimit };
    const routes = [
        ...registry.routes.map((route) => ({ route, kind: "function" as const })),
        ...registry.containers.flatMap((container) => container.routes.map((route) => ({ route, kind: "container" as const }))),
    ];
    const paths: Record<string, Record<string, OpenApiOperation>> = {};
    for (const { route, kind } of routes) {
        const item = (paths[openApiPath(route.path)] ??= {});
        const methods = route.method === "ANY" ? OPERATION_METHODS.filter((method) => !routes.some((other) => other.route.path === route.path && other.route.method.toLowerCase() === method)) : [route.method.toLowerCase()];
        for (const method of methods) item[method] = operationFor(route, method, kind, stackThrottle);
    }
    const scheme = jwtScheme(config, server);
    const usedErrors = new Set(Object.values(paths).flatMap((item) => Object.values(item).flatMap((operation) => Object.values(operation.responses))));
    const responses = Object.fromEntries(
        Object.values(ERROR_RESPONSES)
            .filter(({ name }) => [...usedErrors].some((response) => (response as { $ref?: string }).$ref === `#/components/responses/${name}`))
            .map(({ name, response }) => [name, response]),
    );
    const tags = [...registry.services, ...registry.containers].filter((service) => service.routes.length > 0).map((service) => ({ name: service.name, description: service.description }));
    return {
        openapi: OPENAPI_VERSION,
        info: {
            ...(input.info ?? projectInfo()),
            description: `The HTTP API of the ${config.stack} stack, generated from the service registry (\`npm run openapi -- --stack ${config.stack}\`): never edit it by hand.`,
        },
        servers: serversFor(config, server),
        tags,
        paths,
        components: {
            schemas: ERROR_SCHEMAS,
            responses,
            ...(scheme ? { securitySchemes: { [JWT_SECURITY_SCHEME]: scheme } } : {}),
        },
        "x-throttling": { ...stackThrottle, description: "The stage's default limits for every route without its own (requests per second, burst)." },
    };
}
