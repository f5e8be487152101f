import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { createDatabase } from "../../functions/runtime/database";
import { ENVIRONMENT, routeDatabaseFromEnvironment } from "../../functions/runtime/environment";
import { createRouteHandler, type LambdaHttpHandler } from "../../functions/runtime/handler";
import { HTTP_API } from "../../policy/lib/limits";
import { ComponentTypes } from "../../policy/lib/types";
import type { ResolvedRoute } from "../registry-resolution";
import { withPreviousType } from "./component-type";
import { functionRolePolicy, functionSettings, lambdaAssumeRolePolicy, type DatabaseConnection, type FunctionSettings } from "./function-settings";
import { functionCode } from "../function-packaging";
import { routeResourceName } from "../naming";

/** What a ServiceFunctions component needs. Fields without a default are required. */
export interface ServiceFunctionsArgs {
    /** The service's routes, already validated and with their settings resolved. */
    routes: ResolvedRoute[];
    /** The HTTP API the routes join. */
    apiId: pulumi.Input<string>;
    /** The API's execution ARN; invoke permissions are scoped to it. */
    apiExecutionArn: pulumi.Input<string>;
    /** The API's JWT authorizer, for routes with `auth: "jwt"`. @default none (then no route may use jwt) */
    jwtAuthorizerId?: pulumi.Input<string>;
    /** Settings every function of the stack shares (retention, log level, tags). */
    settings: FunctionSettings;
    /** The database and its network, for services that use it. @default none */
    database?: DatabaseConnection;
}

/**
 * The code of one route's function. Only this closure is serialized: it captures the route's own
 * handler and the runtime helpers, never the registry or any Pulumi value, and its factory runs
 * once per container (the database connection is opened on the first request and kept).
 */
export function routeHandlerFactory(route: Pick<ResolvedRoute, "handler" | "service" | "routeKey" | "database">): () => LambdaHttpHandler {
    const { handler, service, routeKey } = route;
    if (route.database) {
        return () => createRouteHandler(handler, { service, routeKey, openDatabase: () => createDatabase(routeDatabaseFromEnvironment()) });
    }
    return () => createRouteHandler(handler, { service, routeKey });
}

/**
 * The functions of one service (its `ServiceDefinition`, `functions/<service>/service.ts`): an IAM
 * role with only what the service needs, and per route a log group, a Lambda function made from the
 * route's handler, an integration, a route and an invoke permission.
 */
export class ServiceFunctions extends pulumi.ComponentResource {
    /** Function name per route key. */
    readonly functionNames: pulumi.Output<Record<string, string>>;
    readonly roleArn: pulumi.Output<string>;

    constructor(name: string, args: ServiceFunctionsArgs, opts?: pulumi.ComponentResourceOptions) {
        super(ComponentTypes.serviceFunctions, name, {}, withPreviousType("serviceFunctions", opts));
        const { settings, database } = args;
        const usesDatabase = args.routes.some((route) => route.database);

        const logGroups = args.routes.map(
            (route) =>
                new aws.cloudwatch.LogGroup(
                    routeResourceName(name, route.id),
                    { name: settings.logGroupName(name, route.id), retentionInDays: settings.logRetentionDays, tags: settings.tags },
                    { parent: this },
                ),
        );

        const role = new aws.iam.Role(
            `${name}-role`,
            { description: `Functions of the ${name} service`, assumeRolePolicy: lambdaAssumeRolePolicy(), tags: settings.tags },
            { parent: this },
        );
        const permissions = new aws.iam.RolePolicy(
            `${name}-permissions`,
            { role: role.id, policy: functionRolePolicy(logGroups.map((group) => group.arn), usesDatabase ? database : undefined) },
            { parent: this },
        );

        const functionNames: Record<string, pulumi.Output<string>> = {};
        args.routes.forEach((route, index) => {
            const resourceName = routeResourceName(name, route.id);
            const fn = new aws.lambda.Function(
                resourceName,
                {
                    description: `${route.routeKey}: ${route.description}`.slice(0, 256),
                    ...functionCode(resourceName, routeHandlerFactory(route)),
                    ...functionSettings(settings, {
                        role,
                        memoryMb: route.memoryMb,
                        timeoutSeconds: route.timeoutSeconds,
                        reservedConcurrency: route.reservedConcurrency,
                        logGroup: logGroups[index],
                        database: route.database ? database : undefined,
                        environment: { [ENVIRONMENT.serviceName]: name, [ENVIRONMENT.routeKey]: route.routeKey },
                    }),
                },
                // Lambda checks the role's permissions when it creates a VPC function's network
                // interfaces, so the policy must be attached before the function exists.
                { parent: this, dependsOn: [permissions, ...(route.database && database ? database.endpoints : [])] },
            );

            const integration = new aws.apigatewayv2.Integration(
                resourceName,
                {
                    apiId: args.apiId,
                    integrationType: "AWS_PROXY",
                    integrationMethod: "POST",
                    integrationUri: fn.arn,
                    payloadFormatVersion: "2.0",
                    // One second more than the function's timeout, so the function's own timeout fires first.
                    timeoutMilliseconds: Math.min(HTTP_API.integrationTimeoutMs.max, (route.timeoutSeconds + 1) * 1000),
                },
                { parent: this },
            );

            new aws.apigatewayv2.Route(
                resourceName,
                {
                    apiId: args.apiId,
                    routeKey: route.routeKey,
                    target: pulumi.interpolate`integrations/${integration.id}`,
                    ...routeAuthorization(route, args.jwtAuthorizerId),
                },
                { parent: this },
            );

            new aws.lambda.Permission(
                resourceName,
                {
                    action: "lambda:InvokeFunction",
                    function: fn.name,
                    principal: "apigateway.amazonaws.com",
                    sourceArn: pulumi.interpolate`${args.apiExecutionArn}/*/${sourceArnRoute(route)}`,
                },
                { parent: this },
            );
            functionNames[route.routeKey] = fn.name;
        });

        this.functionNames = pulumi.output(functionNames);
        this.roleArn = role.arn;
        this.registerOutputs({ functionNames: this.functionNames, roleArn: this.roleArn });
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
