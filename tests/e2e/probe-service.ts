/**
 * A test-only service whose routes exercise what the local API Gateway must get right: route
 * precedence, event fields, response mapping, failures and timeouts. Never in the real registry.
 */
import { defineService } from "../../functions/runtime/service";

/** What the slow route saw of its deadline, for the timeout test (its response is never seen). */
export const slowRouteObservations: { remainingMsAtStart?: number; finished?: boolean } = {};

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export const probeService = defineService({
    name: "probe",
    description: "Test routes for the local API Gateway",
    database: false,
    routes: {
        "POST /echo/{id}": {
            description: "Echoes what the handler received",
            handler: async (request) => ({
                routeKey: request.routeKey,
                method: request.method,
                path: request.path,
                pathParameters: request.pathParameters,
                query: request.query,
                cookies: request.cookies,
                headers: request.headers,
                bodyLength: request.rawBody?.length ?? 0,
            }),
        },
        "GET /echo/{id}": { handler: async (request) => ({ matched: "GET /echo/{id}", id: request.pathParameters.id }) },
        "GET /echo/me": { handler: async () => ({ matched: "GET /echo/me" }) },
        "ANY /files/{proxy+}": { handler: async (request) => ({ matched: "ANY /files/{proxy+}", proxy: request.pathParameters.proxy }) },
        "GET /files/readme": { handler: async () => ({ matched: "GET /files/readme" }) },
        "GET /shortcut": { handler: async () => ({ hello: "world" }) },
        "GET /response": {
            handler: async () => ({
                statusCode: 202,
                headers: { "X-Custom": "yes", "Access-Control-Allow-Origin": "https://evil.example" },
                cookies: ["session=abc; Path=/; HttpOnly", "theme=dark; Path=/"],
                body: { accepted: true },
            }),
        },
        "GET /binary": { handler: async () => ({ statusCode: 200, headers: { "content-type": "image/png" }, body: Buffer.from([0, 1, 2, 254, 255]) }) },
        "GET /throws": {
            handler: async () => {
                throw new Error("database password is hunter2");
            },
        },
        "GET /rejects": {
            description: "Fails so that even the wrapper's catch throws: the invocation itself errors",
            handler: async () => {
                throw {
                    get name(): string {
                        throw new Error("not even the error can be read");
                    },
                };
            },
        },
        "GET /bad-status": { handler: async () => ({ statusCode: 42, body: "no such status" }) },
        "GET /slow": {
            description: "Runs past its 1 s timeout",
            timeoutSeconds: 1,
            handler: async (_request, context) => {
                slowRouteObservations.remainingMsAtStart = context.remainingTimeMs();
                await sleep(1500);
                slowRouteObservations.finished = true;
                return { late: true };
            },
        },
    },
});

/**
 * Test routes for the API edge: protected routes that show what the authorizer handed the
 * function, and a route with a small throttle. Never in the real registry.
 */
export const edgeProbeService = defineService({
    name: "edge-probe",
    description: "Test routes for JWT authorization and throttling",
    database: false,
    routes: {
        "GET /probe/whoami": {
            description: "Any valid token; answers with the claims it received",
            auth: "jwt",
            handler: async (request) => ({ claims: request.claims ?? null }),
        },
        "GET /probe/admin": {
            description: "A token with probe:admin or probe:root",
            auth: "jwt",
            scopes: ["probe:admin", "probe:root"],
            handler: async (request) => ({ claims: request.claims ?? null }),
        },
        "GET /probe/public": {
            description: "No token needed; the stack's default throttle",
            handler: async (request) => ({ claims: request.claims ?? null }),
        },
        "GET /probe/limited": {
            description: "1 request per second, bursts of 2",
            throttle: { rateLimit: 1, burstLimit: 2 },
            handler: async () => ({ ok: true }),
        },
    },
});
