/**
 * The API's OpenAPI 3.1 document (`platform/api/openapi.ts`): valid for a standard validator for
 * the real stacks and a fixture whose routes declare their input and answers, and saying what each
 * route is: its parameters, body, answers, authorization, scopes, throttling and servers.
 */
import * as assert from "node:assert/strict";
import { inputsForStack } from "../../infra/program-inputs";
import { services } from "../../infra/services";
import { API_DESCRIPTION_PATHS, openApiDocument, openApiPath, type OpenApiDocument, type OpenApiOperation } from "../../platform/api/openapi";
import { resolveRegistry, RegistryError } from "../../platform/registry/resolution";
import { pathProblems, validateRouteDescription } from "../../platform/triggers/route";
import { defineService } from "../../functions/runtime/service";
import { describedService, THING_BODY, THING_NAME, THING_PATH, THING_QUERY } from "../../testing/fixtures/described-service";
import { checkJsonSchema, shapeJsonSchema } from "../../platform/api/json-schema";
import { openApiProblems, openApiVersion } from "../../testing/openapi";
import { echoContainer } from "../../testing/fixtures/registries";

const documentOf = (stack: string, registry = services, server?: Parameters<typeof openApiDocument>[0]["server"]) => {
    const inputs = inputsForStack(stack, registry);
    return { document: openApiDocument({ registry: inputs.registry, config: inputs.config, server }), inputs };
};
const operation = (document: OpenApiDocument, path: string, method: string): OpenApiOperation => {
    const found = document.paths[path]?.[method];
    assert.ok(found, `${method.toUpperCase()} ${path} is in the document`);
    return found;
};
const DEV = documentOf("dev").document;
const FIXTURE = documentOf("dev", [describedService]).document;

describe("OpenAPI document", () => {
    describe("validates as OpenAPI 3.1 with a standard validator", () => {
        for (const [label, document] of [
            ["the dev stack", DEV],
            ["the prod stack", documentOf("prod").document],
            ["the fixture that declares requests and responses", FIXTURE],
            ["the dev stack served locally", documentOf("dev", services, { kind: "local", url: "http://127.0.0.1:3000", jwt: { issuer: "local-issuer", audience: ["local"] } }).document],
        ] as const) {
            it(label, async () => {
                assert.deepEqual(await openApiProblems(document), []);
                assert.equal(await openApiVersion(document), "3.1");
                assert.equal(document.openapi, "3.1.0");
            });
        }

        it("and the validator refuses a broken document (no info, a path parameter no operation declares)", async () => {
            const { info: _info, ...withoutInfo } = structuredClone(FIXTURE);
            assert.match((await openApiProblems(withoutInfo)).join("\n"), /info/);
            const broken = structuredClone(FIXTURE);
            (operation(broken, "/things/{id}", "get").responses as Record<string, unknown>) = "none" as never;
            assert.notDeepEqual(await openApiProblems(broken), []);
        });
    });

    it("lists every route of the registry, function and container routes, each once with a unique operation id", () => {
        const { inputs } = documentOf("dev");
        const listed = Object.entries(DEV.paths).flatMap(([path, item]) => Object.entries(item).map(([method, op]) => ({ key: `${method.toUpperCase()} ${path}`, op })));
        const routes = inputs.registry.apiRoutes.map((route) => `${route.method} ${openApiPath(route.path)}`);
        assert.deepEqual(listed.map((entry) => entry.key).sort(), [...routes].sort());
        const ids = listed.map((entry) => entry.op.operationId);
        assert.equal(new Set(ids).size, ids.length);
        for (const route of inputs.registry.apiRoutes) {
            const op = operation(DEV, openApiPath(route.path), route.method.toLowerCase());
            assert.equal(op.summary, route.description);
            assert.deepEqual(op.tags, [route.service]);
            assert.deepEqual(op.security, route.auth === "jwt" ? [{ jwt: route.scopes }] : undefined, route.routeKey);
        }
    });

    it("describes a route's path and query parameters from its declared shapes: required unless optional, a path parameter without a shape as a string", () => {
        const parameters = operation(FIXTURE, "/things/{id}", "get").parameters;
        assert.deepEqual(parameters, [
            { name: "id", in: "path", required: true, schema: checkJsonSchema(THING_PATH.id) },
            { name: "limit", in: "query", required: false, schema: checkJsonSchema(THING_QUERY.limit) },
            { name: "q", in: "query", required: false, schema: checkJsonSchema(THING_QUERY.q) },
        ]);
        const [id, limit, q] = (parameters ?? []).map((parameter) => parameter.schema as Record<string, unknown>);
        assert.deepEqual([id.type, id.format], ["string", "uuid"]);
        assert.deepEqual([limit.type, limit.minimum, limit.maximum], ["integer", 1, 50]);
        assert.deepEqual([q.type, q.maxLength], ["string", 20]);
        assert.deepEqual(operation(FIXTURE, "/files/{path}", "get").parameters, [
            { name: "path", in: "path", required: true, schema: { type: "string" }, description: "The rest of the path: may hold `/`.", "x-greedy": true },
        ]);
    });

    it("describes a declared body as a closed JSON object with its required fields", () => {
        const body = operation(FIXTURE, "/things", "post").requestBody as { required: boolean; content: Record<string, { schema: Record<string, any> }> };
        assert.equal(body.required, true);
        assert.deepEqual(Object.keys(body.content), ["application/json"]);
        const schema = body.content["application/json"].schema;
        assert.deepEqual({ ...schema }, shapeJsonSchema(THING_BODY, { closed: true }));
        assert.equal(schema.type, "object");
        assert.equal(schema.additionalProperties, false);
        assert.deepEqual(schema.required, ["name", "email", "count"]);
        assert.deepEqual(Object.keys(schema.properties), ["name", "email", "count", "note"]);
        assert.equal(schema.properties.email.format, "email");
        assert.equal(operation(FIXTURE, "/things", "get").requestBody, undefined);
        // A body method that declares no shape takes any JSON, for its handler to check.
        assert.deepEqual(operation(FIXTURE, "/anything", "post").requestBody, {
            required: false,
            description: "Any JSON: the route declares no shape, so what reads the body checks it.",
            content: { "application/json": { schema: {} } },
        });
    });

    it("gives the described answers, and the platform's error answers where the platform gives them", () => {
        const read = operation(FIXTURE, "/things/{id}", "get").responses;
        assert.deepEqual(read["200"], { description: "The thing's name", content: { "application/json": { schema: checkJsonSchema(THING_NAME) } } });
        // A described error without a body carries the platform's error shape.
        assert.equal((read["404"] as { description: string }).description, "No thing with this id");
        assert.deepEqual(Object.keys((read["404"] as { content: object }).content), ["application/json"]);
        for (const status of ["400", "401", "403", "429", "503"]) assert.ok(read[status], `GET /things/{id} answers ${status}`);
        assert.equal(read["413"], undefined, "a GET has no body to be too large");

        const create = operation(FIXTURE, "/things", "post").responses;
        assert.deepEqual(create["201"], { description: "Created" });
        assert.equal((create["409"] as { description: string }).description, "A thing with this name exists");
        assert.deepEqual(create["413"], { $ref: "#/components/responses/PayloadTooLarge" });
        assert.equal(create["401"], undefined, "a public route has no 401");
        assert.equal(create["403"], undefined);

        // A jwt route without scopes answers 401 but not the gateway's 403.
        const devUsers = operation(DEV, "/users", "post").responses;
        assert.ok(devUsers["401"]);
        assert.equal(devUsers["403"], undefined);
        assert.deepEqual(operation(FIXTURE, "/things", "get").responses.default, { description: "The handler's answer (the route describes none)." });
    });

    it("gives the 400's issue list and the error shape of functions/runtime/errors.ts as shared components (those in use)", () => {
        const components = FIXTURE.components as { schemas: Record<string, any>; responses: Record<string, any> };
        assert.deepEqual(Object.keys(components.responses).sort(), ["BadRequest", "Forbidden", "NotFound", "PayloadTooLarge", "ServiceUnavailable", "TooManyRequests", "Unauthorized"]);
        assert.deepEqual(components.schemas.PlatformError.properties.error.required, ["code", "message", "requestId"]);
        assert.deepEqual(components.schemas.Issue.required, ["field", "problem"]);
        const validation = components.schemas.ValidationError.allOf[1].properties.error.properties;
        assert.deepEqual(validation.code, { const: "validation_error" });
        assert.deepEqual(validation.details.properties.issues.items, { $ref: "#/components/schemas/Issue" });
        assert.deepEqual(components.responses.ServiceUnavailable.headers["retry-after"].schema, { type: "integer" });
    });

    it("describes the JWT scheme with the stack's issuer and audience, and each jwt route's scopes", () => {
        const { inputs } = documentOf("dev");
        const scheme = (DEV.components as { securitySchemes: Record<string, any> }).securitySchemes.jwt;
        assert.equal(scheme.type, "http");
        assert.equal(scheme.scheme, "bearer");
        assert.equal(scheme["x-issuer"], inputs.config.auth.jwt!.issuer);
        assert.deepEqual(scheme["x-audience"], inputs.config.auth.jwt!.audience);
        assert.equal(scheme["x-openid-configuration"], `${inputs.config.auth.jwt!.issuer}/.well-known/openid-configuration`);
        assert.match(scheme.description, new RegExp(inputs.config.auth.jwt!.audience[0]));
        assert.deepEqual(operation(FIXTURE, "/things/{id}", "get").security, [{ jwt: ["things:read", "things:admin"] }]);
        assert.equal(operation(FIXTURE, "/things", "post").security, undefined);
    });

    it("gives the throttling that applies as x-throttling: the route's own, else the stack's defaults", () => {
        const { inputs } = documentOf("dev");
        const stack = { rateLimit: inputs.config.api.throttlingRateLimit, burstLimit: inputs.config.api.throttlingBurstLimit };
        assert.deepEqual(operation(FIXTURE, "/things", "post")["x-throttling"], { rateLimit: 5, burstLimit: 10, source: "route" });
        assert.deepEqual(operation(FIXTURE, "/things", "get")["x-throttling"], { ...stack, source: "stack" });
        assert.deepEqual((FIXTURE["x-throttling"] as Record<string, unknown>).rateLimit, stack.rateLimit);
    });

    it("describes an ANY route once per method, and a container route it knows nothing of with a generic answer", () => {
        const anything = FIXTURE.paths["/anything"];
        assert.deepEqual(Object.keys(anything).sort(), ["delete", "get", "head", "options", "patch", "post", "put"]);
        assert.equal(anything.get.operationId, "described.getAnything");
        assert.equal(anything.get["x-route-key"], "ANY /anything (GET)");
        const reports = operation(DEV, "/reports/primes", "get");
        assert.equal(reports["x-container-service"], "reports");
        assert.match((reports.responses.default as { description: string }).description, /container service reports/);
    });

    it("describes a container route by what its service declares, when it declares it", () => {
        const echo = echoContainer({ routes: { "POST /echo": { description: "Echo a thing", request: { body: THING_BODY }, responses: { 200: { description: "The thing, echoed" } } } } });
        const document = documentOf("dev", [echo]).document;
        const op = operation(document, "/echo", "post");
        assert.deepEqual((op.requestBody as { content: Record<string, { schema: unknown }> }).content["application/json"].schema, shapeJsonSchema(THING_BODY, { closed: true }));
        assert.deepEqual(op.responses["200"], { description: "The thing, echoed" });
        assert.equal(op.responses.default, undefined);
        assert.deepEqual(op.responses["400"], { $ref: "#/components/responses/BadRequest" });
        assert.equal(op["x-container-service"], "echo");
    });

    it("names the servers: the execute-api URL with its id as a variable, a custom domain when the stack has one, or the local URL", () => {
        assert.deepEqual((DEV.servers as any[])[0].url, "https://{apiId}.execute-api.us-east-1.amazonaws.com");
        const { inputs } = documentOf("dev");
        const withDomain = openApiDocument({ registry: inputs.registry, config: { ...inputs.config, domain: { name: "api.example.com", certificateArn: "arn", hostedZoneId: undefined } } });
        assert.deepEqual(withDomain.servers, [{ url: "https://api.example.com", description: "The dev stack's custom domain." }]);
        const local = openApiDocument({ registry: inputs.registry, config: inputs.config, server: { kind: "local", url: "http://127.0.0.1:4321", jwt: { issuer: "local-issuer", audience: ["local"] } } });
        assert.deepEqual(local.servers, [{ url: "http://127.0.0.1:4321", description: "The local runtime (npm start)." }]);
        assert.equal((local.components as any).securitySchemes.jwt["x-issuer"], "local-issuer");
    });

    it("takes info from package.json", () => {
        // eslint-disable-next-line @typescript-eslint/no-require-imports
        const pkg = require("../../package.json") as { name: string; version: string };
        assert.equal((DEV.info as { title: string }).title, pkg.name);
        assert.equal((DEV.info as { version: string }).version, pkg.version);
    });

    describe("a route's request and responses", () => {
        const problemsOf = (route: Record<string, unknown>, routeKey = "GET /things/{id}") => validateRouteDescription(route, routeKey.split(" ")[1], `service "s", route "${routeKey}"`);

        it("pass when they are shapes of checks and described answers by status", () => {
            assert.deepEqual(problemsOf({ request: { path: THING_PATH, query: THING_QUERY }, responses: { 200: { description: "The thing", body: THING_NAME }, 404: { description: "None" } } }), []);
            assert.deepEqual(problemsOf({}), []);
        });

        for (const [label, route, expected] of [
            ["a part a request does not have", { request: { headers: {} } }, /request\.headers is not a part of a request; use path, query, body/],
            ["a field that is not a check", { request: { query: { limit: 10 } } }, /request\.query must map each field to a check/],
            ["a path field the path does not have", { request: { path: { name: THING_NAME } } }, /request\.path\.name is not a parameter of the path \/things\/\{id\}; its parameters are id/],
            ["a status that is not one", { responses: { 99: { description: "Too low" } } }, /responses\.99 is not an HTTP status code/],
            ["an answer without a description", { responses: { 200: { description: " " } } }, /responses\.200 needs a description/],
            ["a body that is not a check", { responses: { 200: { description: "The thing", body: { type: "string" } } } }, /responses\.200\.body must be a check/],
        ] as const) {
            it(`are refused with ${label}, naming the route`, () => {
                const problems = problemsOf(route as Record<string, unknown>);
                assert.equal(problems.length, 1, problems.join("\n"));
                assert.match(problems[0], /^service "s", route "GET \/things\/\{id\}": /);
                assert.match(problems[0], expected);
            });
        }

        it("stop the registry before anything is resolved, for a function route and a container route alike", () => {
            const wrong = defineService({ name: "wrong", description: "Describes a path field it lacks", database: false, routes: { "GET /wrong": { request: { path: { id: THING_PATH.id } }, handler: async () => "x" } } });
            assert.throws(() => resolveRegistry([wrong], { memoryMb: 256, timeoutSeconds: 10 }), /service "wrong".*request\.path\.id is not a parameter of the path \/wrong, which has none/s);
            const container = echoContainer({ routes: { "GET /echo": { responses: { 200: { description: "" } } } } });
            assert.throws(() => resolveRegistry([container], { memoryMb: 256, timeoutSeconds: 10 }), /"echo".*route "GET \/echo": responses\.200 needs a description/s);
        });
    });

    describe("the description's own paths", () => {
        it("are refused as registry routes, with the reason", () => {
            for (const path of [API_DESCRIPTION_PATHS.document, API_DESCRIPTION_PATHS.docs, `${API_DESCRIPTION_PATHS.docs}/guide`]) {
                assert.match(pathProblems(path).join(), /reserved for the API's description/, path);
            }
            assert.deepEqual(pathProblems("/documents"), []);
            assert.deepEqual(pathProblems("/openapi"), []);
        });

        it("stop a registry that declares one before anything is resolved, naming the service", () => {
            const squatter = defineService({ name: "squatter", description: "Takes /docs", database: false, routes: { "GET /docs": { handler: async () => "mine" } } });
            assert.throws(
                () => resolveRegistry([squatter], { memoryMb: 256, timeoutSeconds: 10 }),
                (error: unknown) => error instanceof RegistryError && /squatter/.test(error.message) && /\/docs is reserved/.test(error.message),
            );
        });
    });
});
