import { strict as assert } from "assert";
import { UNKNOWN_STRING_SENTINEL } from "../../policy/lib/unknown";
import { validateResource } from "./harness";

describe("api-route-authorization", () => {
    const route = (props: Record<string, unknown>) => ({ type: "aws:apigatewayv2/route:Route", props: { apiId: "api", target: "integrations/i", ...props } });
    const PUBLIC = { publicRoutes: ["POST /auth"] };

    it("Compliance 1: accepts a route with a JWT authorizer", async () => {
        assert.deepEqual(await validateResource("api-route-authorization", route({ routeKey: "POST /users", authorizationType: "JWT", authorizerId: "a1" }), PUBLIC), []);
    });

    it("Compliance 2: accepts an open route listed in publicRoutes", async () => {
        assert.deepEqual(await validateResource("api-route-authorization", route({ routeKey: "POST /auth", authorizationType: "NONE" }), PUBLIC), []);
    });

    it("Noncompliance 1: reports an open route not listed as public, naming it", async () => {
        assert.deepEqual(await validateResource("api-route-authorization", route({ routeKey: "DELETE /users/{id}", authorizationType: "NONE" }), PUBLIC), [
            'Route "DELETE /users/{id}" has no authorizer and is not listed in publicRoutes; protect it or list it as intentionally public.',
        ]);
    });

    it("Noncompliance 2: treats a route without authorizationType as open (API Gateway's default)", async () => {
        assert.equal((await validateResource("api-route-authorization", route({ routeKey: "GET /x" }), PUBLIC)).length, 1);
    });

    it("skips a route whose routeKey is unknown during preview", async () => {
        assert.deepEqual(await validateResource("api-route-authorization", route({ routeKey: UNKNOWN_STRING_SENTINEL, authorizationType: "NONE" }), PUBLIC), []);
    });
});
