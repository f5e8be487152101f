/**
 * `auth`: the smallest possible service: no database, one route, and a response shape of its own
 * (`{"message"}` rather than the platform's error bodies): a handler may answer with any body.
 */
import { defineService, type ApiRequest } from "../runtime/service";
import { object, text } from "../runtime/validate";

const AUTHENTICATED = { statusCode: 200, body: { message: "User authenticated successfully" } };
const INVALID_REQUEST = { statusCode: 400, body: { message: "Invalid request" } };
/** Its answers' one shape. */
const MESSAGE = object({ message: text({ max: 100 }) });

/** True for `{"request": {"type": "Create", ...}}`; reading a malformed JSON body throws. */
function isCreateRequest(request: ApiRequest): boolean {
    const body = request.body as { request?: { type?: unknown } } | undefined;
    return typeof body === "object" && body !== null && body.request?.type === "Create";
}

export default defineService({
    name: "auth",
    description: "Authenticates a user from a Create request (the seed's example).",
    database: false,
    memoryMb: 256,
    timeoutSeconds: 5,
    routes: {
        "POST /auth": {
            description: "Authenticate a Create request",
            // No `request`: any bad body answers this service's own 400, never the platform's.
            responses: {
                200: { description: "Authenticated", body: MESSAGE },
                400: { description: "Not a Create request, or not JSON", body: MESSAGE },
            },
            handler: async (request) => {
                try {
                    return isCreateRequest(request) ? AUTHENTICATED : INVALID_REQUEST;
                } catch {
                    return INVALID_REQUEST; // not JSON: this service answers every bad request the same way
                }
            },
        },
    },
});
