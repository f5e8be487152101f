/**
 * An HTTP API route to a function: the route's Function (`function.ts`), its integration, the
 * route (with its authorization) and the permission that lets the API invoke it. The integration
 * and the permission both name the function's `live` alias: one without the other answers 500.
 * Only the route's
 * own resources are made here; the role and the function's settings come from the service.
 */
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { functionUse } from "../../functions/runtime/entry/lambda";
import { entryCode } from "../function-packaging";
import { createRouteEntry, routeEntry } from "../../functions/runtime/entry/route";
import { HTTP_API } from "../../policy/lib/limits";
import { ComponentTypes } from "../../policy/lib/types";
import type { ResolvedRoute } from "../../platform/model";
import { Function } from "./function";
import { triggerEnvironment, type DatabaseConnection, type FunctionSettings } from "./function-settings";

/** What an HttpRoute needs. Fields without a default are required. */
export interface HttpRouteArgs {
    /** The route, validated and with its settings resolved. */
    route: ResolvedRoute;
    /** The HTTP API the route joins. */
    apiId: pulumi.Input<string>;
    /** The API's execution ARN; the invoke permission is scoped to it. */
    apiExecutionArn: pulumi.Input<string>;
    /** The API's JWT authorizer, for a route with `auth: "jwt"`. @default none (then the route may not use jwt) */
    jwtAuthorizerId?: pulumi.Input<string>;
    /** The service's role, and its permissions (the function waits for them). */
    role: aws.iam.Role;
    permissions: pulumi.Input<pulumi.Resource>;
    settings: FunctionSettings;
    /** The database and its network, for a route of a database service. @default none */
    database?: DatabaseConnection;
    /** The stack's event bus, for a service that publishes. @default none */
    eventBusName?: pulumi.Input<string>;
    /** The service's secret (`ServiceSecret`), for a service that declares secrets: its ARN reaches the function's environment. @default none */
    secretArn?: pulumi.Input<string>;
}

export class HttpRoute extends pulumi.ComponentResource {
    readonly function: Function;

    constructor(name: string, args: HttpRouteArgs, opts?: pulumi.ComponentResourceOptions) {
        super(ComponentTypes.httpRoute, name, {}, opts);
        const { route } = args;

        this.function = new Function(
            name,
            {
                service: route.service,
                functionId: route.id,
                description: `${route.routeKey}: ${route.description}`,
                // Only this closure is serialized: the route's own handler, its service's event contracts and
                // the runtime, never the registry or any Pulumi value.
                code: entryCode(createRouteEntry, routeEntry(route), functionUse(route)),
                role: args.role,
                permissions: args.permissions,
                memoryMb: route.memoryMb,
                timeoutSeconds: route.timeoutSeconds,
                reservedConcurrency: route.reservedConcurrency,
                database: route.database ? args.database : undefined,
                environment: triggerEnvironment(route.service, { routeKey: route.routeKey }, route.events ? args.eventBusName : undefined),
                settings: args.settings,
                secretArn: args.secretArn,
            },
            { parent: this },
        );

        // Before the integration that needs it: an integration on the alias without its permission answers 500.
        const permission = new aws.lambda.Permission(
            name,
            {
                action: "lambda:InvokeFunction",
                function: this.function.name,
                qualifier: this.function.alias?.name,
                principal: "apigateway.amazonaws.com",
                sourceArn: pulumi.interpolate`${args.apiExecutionArn}/*/${sourceArnRoute(route)}`,
            },
            { parent: this },
        );
        const integration = new aws.apigatewayv2.Integration(
            name,
            {
                apiId: args.apiId,
                integrationType: "AWS_PROXY",
                integrationMethod: "POST",
                integrationUri: this.function.targetArn,
                payloadFormatVersion: "2.0",
                // One second more than the function's timeout, so the function's own timeout fires first.
                timeoutMilliseconds: Math.min(HTTP_API.integrationTimeoutMs.max, (route.timeoutSeconds + 1) * 1000),
            },
            { parent: this, dependsOn: [permission] },
        );

        new aws.apigatewayv2.Route(
            name,
            {
                apiId: args.apiId,
                routeKey: route.routeKey,
                target: pulumi.interpolate`integrations/${integration.id}`,
                ...routeAuthorization(route, args.jwtAuthorizerId),
            },
            { parent: this },
        );

        this.registerOutputs({ functionName: this.function.name });
    }
}

/** The Route inputs that make API Gateway check a JWT (and its scopes) before the function (or container) runs. */
export function routeAuthorization(route: Pick<ResolvedRoute, "auth" | "scopes" | "routeKey">, jwtAuthorizerId: pulumi.Input<string> | undefined) {
    if (route.auth !== "jwt") return { authorizationType: "NONE" };
    if (!jwtAuthorizerId) throw new Error(`Route "${route.routeKey}" uses auth "jwt" but the API has no JWT authorizer.`);
    return {
        authorizationType: "JWT",
        authorizerId: jwtAuthorizerId,
        authorizationScopes: route.scopes.length > 0 ? route.scopes : undefined,
    };
}

/** `GET /users/{id}` -> `GET/users/*`: the method and path part of the invoking ARN. */
function sourceArnRoute(route: Pick<ResolvedRoute, "method" | "path">): string {
    const method = route.method === "ANY" ? "*" : route.method;
    return `${method}${route.path.replace(/\{[^}]+\}/g, "*")}`;
}
