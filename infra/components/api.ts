import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { ComponentTypes } from "../../policy/lib/types";
import type { CorsConfig } from "../../platform/config/stack-config";
import { accessLogGroupName } from "../../platform/naming";

/** What the Api component needs. Fields without a default are required. */
export interface ApiArgs {
    /** The environment (`dev` for every stack of dev): the API's description names it. */
    environment: string;
    /** CORS answered by API Gateway itself (preflights never reach a function). @default none */
    cors?: CorsConfig;
    /**
     * The issuer and audiences of a JWT authorizer shared by every route with `auth: "jwt"` (one
     * authorizer per API). @default no authorizer
     */
    jwt?: { issuer: string; audience: string[] };
    /** @default none */
    tags?: Record<string, string>;
}

/** What the ApiStage component needs. Fields without a default are required. */
export interface ApiStageArgs {
    /** The environment: the access log group's name carries it, so every layout names it alike. */
    environment: string;
    apiId: pulumi.Input<string>;
    /** Retention of the access log group, in days (a value CloudWatch accepts). */
    logRetentionDays: number;
    /** Steady-state requests per second for every route of the stage (`api.throttlingRateLimit`). */
    throttlingRateLimit: number;
    /** Requests allowed in a burst above the rate (`api.throttlingBurstLimit`). */
    throttlingBurstLimit: number;
    /**
     * Per-route throttling overrides from the registry, by route key (none: an empty list). Must be
     * empty when `routeThrottlesOwnedByServices` is set.
     */
    routeThrottles: { routeKey: string; rateLimit: number; burstLimit: number }[];
    /**
     * The routes' throttles are set by the stacks that own the routes (`RouteThrottle` in
     * `route-throttle.ts`), not by this stage: it registers no `routeSettings` and ignores changes to
     * them, so an `up` or a refresh of the stage's stack never removes another stack's throttles.
     * AWS refuses a route setting naming a route the API does not have, so a stage whose routes live
     * in other stacks cannot list their settings. @default false: the stage sets `routeThrottles`
     */
    routeThrottlesOwnedByServices?: boolean;
    /** A custom domain mapped to the stage, with an optional Route 53 alias. @default the execute-api URL */
    domain?: { name: string; certificateArn: string; hostedZoneId?: string };
    /** @default none */
    tags?: Record<string, string>;
}

/**
 * Detailed (per-route) metrics on every route. A route's own settings replace the stage's default
 * ones field by field, so each route setting repeats it, or the route would lose its metrics.
 */
export const DETAILED_METRICS_ENABLED = true;

/**
 * The fields of every access log line: enough to find a request (requestId matches the function's
 * logs and the `x-request-id` header), see who called what, and tell an API error from a function error.
 */
export const ACCESS_LOG_FORMAT = JSON.stringify({
    requestId: "$context.requestId",
    ip: "$context.identity.sourceIp",
    requestTime: "$context.requestTime",
    httpMethod: "$context.httpMethod",
    routeKey: "$context.routeKey",
    path: "$context.path",
    status: "$context.status",
    protocol: "$context.protocol",
    responseLength: "$context.responseLength",
    responseLatency: "$context.responseLatency",
    integrationLatency: "$context.integrationLatency",
    integrationStatus: "$context.integrationStatus",
    integrationError: "$context.integrationErrorMessage",
    errorMessage: "$context.error.message",
    userAgent: "$context.identity.userAgent",
});

/**
 * An API Gateway HTTP API (payload format 2.0) with CORS and, when routes ask for it, the one JWT
 * authorizer they share. Its stage is a separate component (`ApiStage`) created after the routes,
 * because per-route settings can only name routes that already exist.
 */
export class Api extends pulumi.ComponentResource {
    readonly apiId: pulumi.Output<string>;
    /** `https://<id>.execute-api.<region>.amazonaws.com` */
    readonly endpoint: pulumi.Output<string>;
    /** Prefix of the ARNs API Gateway invokes functions with; scopes their invoke permissions. */
    readonly executionArn: pulumi.Output<string>;
    /** The JWT authorizer's id, when `jwt` was given. */
    readonly jwtAuthorizerId?: pulumi.Output<string>;

    constructor(name: string, args: ApiArgs, opts?: pulumi.ComponentResourceOptions) {
        super(ComponentTypes.api, name, {}, opts);
        const tags = args.tags ?? {};

        const api = new aws.apigatewayv2.Api(
            `${name}-http`,
            {
                protocolType: "HTTP",
                description: `HTTP API of ${pulumi.getProject()} (${args.environment})`,
                corsConfiguration: args.cors && {
                    allowOrigins: args.cors.allowOrigins,
                    allowMethods: args.cors.allowMethods,
                    allowHeaders: args.cors.allowHeaders,
                    exposeHeaders: args.cors.exposeHeaders,
                    allowCredentials: args.cors.allowCredentials,
                    maxAge: args.cors.maxAgeSeconds,
                },
                tags,
            },
            { parent: this },
        );

        if (args.jwt) {
            const authorizer = new aws.apigatewayv2.Authorizer(
                `${name}-jwt`,
                {
                    apiId: api.id,
                    authorizerType: "JWT",
                    name: "jwt",
                    identitySources: ["$request.header.Authorization"],
                    jwtConfiguration: { issuer: args.jwt.issuer, audiences: args.jwt.audience },
                },
                { parent: this },
            );
            this.jwtAuthorizerId = authorizer.id;
        }

        this.apiId = api.id;
        this.endpoint = api.apiEndpoint;
        this.executionArn = api.executionArn;
        this.registerOutputs({ apiId: this.apiId, endpoint: this.endpoint });
    }
}

/**
 * The API's one `$default` stage (so URLs carry no stage prefix): JSON access logs to a log group
 * with retention, default throttling for every route and the registry's per-route overrides, and
 * the custom domain when the stack has one.
 */
export class ApiStage extends pulumi.ComponentResource {
    readonly stageName: pulumi.Output<string>;
    /** The URL clients use: the custom domain when there is one, else the execute-api URL. */
    readonly url?: pulumi.Output<string>;
    /** Where to point a CNAME or alias when the domain's DNS is not in Route 53. */
    readonly domainTarget?: pulumi.Output<string>;

    constructor(name: string, args: ApiStageArgs, opts?: pulumi.ComponentResourceOptions) {
        super(ComponentTypes.apiStage, name, {}, opts);
        const tags = args.tags ?? {};
        const ownedByServices = args.routeThrottlesOwnedByServices ?? false;
        if (ownedByServices && args.routeThrottles.length > 0) {
            throw new Error(
                `ApiStage ${name}: routeThrottles must be empty with routeThrottlesOwnedByServices (the services' stacks set them through RouteThrottle); given ${args.routeThrottles.map((route) => route.routeKey).join(", ")}`,
            );
        }

        const accessLogs = new aws.cloudwatch.LogGroup(
            `${name}-access-logs`,
            {
                name: accessLogGroupName(pulumi.getProject(), args.environment, name),
                retentionInDays: args.logRetentionDays,
                tags,
            },
            { parent: this },
        );

        const stage = new aws.apigatewayv2.Stage(
            `${name}-stage`,
            {
                apiId: args.apiId,
                name: "$default",
                autoDeploy: true,
                accessLogSettings: { destinationArn: accessLogs.arn, format: ACCESS_LOG_FORMAT },
                defaultRouteSettings: {
                    throttlingRateLimit: args.throttlingRateLimit,
                    throttlingBurstLimit: args.throttlingBurstLimit,
                    detailedMetricsEnabled: DETAILED_METRICS_ENABLED,
                },
                routeSettings: ownedByServices
                    ? undefined
                    : args.routeThrottles.map((route) => ({
                          routeKey: route.routeKey,
                          throttlingRateLimit: route.rateLimit,
                          throttlingBurstLimit: route.burstLimit,
                          detailedMetricsEnabled: DETAILED_METRICS_ENABLED,
                      })),
                tags,
            },
            // Children do not inherit a component's dependsOn; the stage itself must wait for the routes.
            { parent: this, dependsOn: opts?.dependsOn, ignoreChanges: ownedByServices ? ["routeSettings"] : undefined },
        );
        this.stageName = stage.name;

        if (args.domain) {
            const domain = new aws.apigatewayv2.DomainName(
                `${name}-domain`,
                {
                    domainName: args.domain.name,
                    domainNameConfiguration: { certificateArn: args.domain.certificateArn, endpointType: "REGIONAL", securityPolicy: "TLS_1_2" },
                    tags,
                },
                { parent: this },
            );
            new aws.apigatewayv2.ApiMapping(`${name}-mapping`, { apiId: args.apiId, domainName: domain.id, stage: stage.id }, { parent: this });
            if (args.domain.hostedZoneId) {
                new aws.route53.Record(
                    `${name}-alias`,
                    {
                        zoneId: args.domain.hostedZoneId,
                        name: args.domain.name,
                        type: "A",
                        aliases: [
                            {
                                name: domain.domainNameConfiguration.targetDomainName,
                                zoneId: domain.domainNameConfiguration.hostedZoneId,
                                evaluateTargetHealth: false,
                            },
                        ],
                    },
                    { parent: this },
                );
            }
            this.url = pulumi.output(`https://${args.domain.name}`);
            this.domainTarget = domain.domainNameConfiguration.targetDomainName;
        }
        this.registerOutputs({ stageName: this.stageName, url: this.url });
    }
}
