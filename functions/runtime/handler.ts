/**
 * The one wrapper between the platform and a route's business logic. The Lambda closure and the
 * local server both call `createRouteHandler`, so a handler behaves the same in both places.
 */
import type { Context as LambdaContext } from "aws-lambda";
import { CONNECT_DEADLINE_MARGIN_MS, isDatabaseUnavailable, type Database } from "./database";
import { logLevelFromEnvironment } from "./environment";
import { databaseUnavailable, isHttpError } from "./errors";
import { errorResponse, formatResponse, parseRequest, type HttpApiEvent, type HttpApiResult } from "./http";
import { createLogger, type Logger } from "./logger";
import type { HandlerContext, RouteHandler } from "./service";

/** What the wrapper needs to know about its route, beyond the handler itself. */
export interface RouteRuntimeOptions {
    service: string;
    routeKey: string;
    /** Opens the service's database; called once per container, on the first request. */
    openDatabase?: () => Database;
    /** Where log lines go. @default a JSON logger on standard output, at the level the environment names */
    logger?: Logger;
}

/** The subset of the Lambda context the wrapper reads; the local server provides the same. */
export type InvocationContext = Pick<LambdaContext, "awsRequestId" | "getRemainingTimeInMillis">;

export type LambdaHttpHandler = (event: HttpApiEvent, context?: InvocationContext) => Promise<HttpApiResult>;

/**
 * Wraps a route handler: parses the event, gives the handler its context, maps its result and its
 * errors to an API Gateway v2 response. Client errors become 4xx JSON; a database that did not
 * answer (no connection before the invocation's deadline, or one lost during a statement) becomes
 * a 503 with `retry-after`; anything unexpected becomes a 500 that carries the request id and
 * nothing of the error itself.
 */
export function createRouteHandler(handler: RouteHandler, options: RouteRuntimeOptions): LambdaHttpHandler {
    const baseLogger = options.logger ?? createLogger({ level: logLevelFromEnvironment(), fields: { service: options.service, route: options.routeKey } });
    let database: Database | undefined;

    return async (event, context) => {
        const requestId = event.requestContext?.requestId || context?.awsRequestId || "";
        const log = baseLogger.child({ requestId });
        try {
            const request = parseRequest(event);
            if (options.openDatabase) database ??= options.openDatabase();
            // Connects give up in time for a clean 503 before the platform ends the invocation.
            const connectDeadline = context ? Date.now() + context.getRemainingTimeInMillis() - CONNECT_DEADLINE_MARGIN_MS : undefined;
            const handlerContext: HandlerContext = {
                log,
                requestId,
                db: connectDeadline === undefined ? database : database?.withConnectDeadline(connectDeadline),
                remainingTimeMs: () => context?.getRemainingTimeInMillis() ?? Number.POSITIVE_INFINITY,
            };
            const result = await handler(request, handlerContext);
            return formatResponse(result, requestId);
        } catch (error) {
            if (isHttpError(error)) {
                log.info("request rejected", { statusCode: error.statusCode, code: error.code, reason: error.message });
                return errorResponse(error, requestId);
            }
            if (isDatabaseUnavailable(error)) {
                log.warn("database unavailable", { error, cause: error.cause, causeCode: (error.cause as { code?: string } | undefined)?.code });
                return errorResponse(databaseUnavailable(), requestId);
            }
            log.error("unhandled error", { error });
            return formatResponse(
                {
                    statusCode: 500,
                    body: { error: { code: "internal_error", message: "Internal server error.", requestId } },
                },
                requestId,
            );
        }
    };
}
