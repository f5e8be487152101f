import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import type { CorsConfig } from "../config";

/** What the Api component needs. Fields without a default are required. */
export interface ApiArgs {
    /** Retention of the access log group, in days (a value CloudWatch accepts). */
    logRetentionDays: number;
    /**
     * Steady-state requests per second for every route of the stage.
     * @default 100
     */
    throttlingRateLimit?: number;
    /**
     * Requests allowed in a burst above the rate.
     * @default 200
     */
    throttlingBurstLimit?: number;
    /** CORS answered by API Gateway itself (preflights never reach a function). @default none */
    cors?: CorsConfig;
    tags?: Record<string, string>;
}

const DEFAULTS = {
    throttlingRateLimit: 100,
    throttlingBurstLimit: 200,
} as const;

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
 * An API Gateway HTTP API (payload format 2.0) with its one `$default` stage: access logs in JSON
 * to a log group with retention, default throttling for every route, and CORS.
 */
export class Api extends pulumi.ComponentResource {
    readonly apiId: pulumi.Output<string>;
    /** `https://<id>.execute-api.<region>.amazonaws.com` */
    readonly url: pulumi.Output<string>;
    /** Prefix of the ARNs API Gateway invokes functions with; scopes their invoke permissions. */
    readonly executionArn: pulumi.Output<string>;
    readonly stageName: pulumi.Output<string>;

    constructor(name: string, args: ApiArgs, opts?: pulumi.ComponentResourceOptions) {
        super("microservices:api:Api", name, {}, opts);
        const settings = { ...DEFAULTS, ...args };
        const tags = args.tags ?? {};

        const api = new aws.apigatewayv2.Api(
            `${name}-http`,
            {
                protocolType: "HTTP",
                description: `HTTP API of ${pulumi.getProject()} (${pulumi.getStack()})`,
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

        const accessLogs = new aws.cloudwatch.LogGroup(
            `${name}-access-logs`,
            {
                name: pulumi.interpolate`/aws/apigateway/${pulumi.getProject()}-${pulumi.getStack()}/${name}`,
                retentionInDays: args.logRetentionDays,
                tags,
            },
            { parent: this },
        );

        const stage = new aws.apigatewayv2.Stage(
            `${name}-stage`,
            {
                apiId: api.id,
                name: "$default",
                autoDeploy: true,
                accessLogSettings: { destinationArn: accessLogs.arn, format: ACCESS_LOG_FORMAT },
                defaultRouteSettings: {
                    throttlingRateLimit: settings.throttlingRateLimit,
                    throttlingBurstLimit: settings.throttlingBurstLimit,
                    detailedMetricsEnabled: true,
                },
                tags,
            },
            { parent: this },
        );

        this.apiId = api.id;
        this.url = api.apiEndpoint;
        this.executionArn = api.executionArn;
        this.stageName = stage.name;
        this.registerOutputs({ apiId: this.apiId, url: this.url });
    }
}
