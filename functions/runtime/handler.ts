/**
 * The one wrapper between the platform and a route's business logic. A route's entry
 * (`entry/route.ts`) calls it for the Lambda closure and for the local gateway alike, so a handler
 * behaves the same in both places.
 */
import { isDatabaseUnavailable } from "./data/database";
import { logLevelFromEnvironment } from "./environment";
import { clientDataException, databaseUnavailable, eventsUnavailable, isHttpError } from "./errors";
import { isEventPublishError } from "./outbox/publisher";
import { createContextFactory, type InvocationContext, type ServiceResources } from "./handler-context";
import { errorResponse, formatResponse, parseRequest, type HttpApiEvent, type HttpApiResult } from "./http/payload";
import { createLogger, type Logger } from "./logger";
import { READ_ONLY_METHODS, routeRunsInTransaction, type RouteHandler, type RouteInput, type RouteRequest } from "./service";
import { checkRequest } from "./validate";

export type { InvocationContext } from "./handler-context";

/** What the wrapper needs to know about its route, beyond the handler itself. */
export interface RouteRuntimeOptions extends ServiceResources {
    service: string;
    routeKey: string;
    /** Where log lines go. @default a JSON logger on standard output, at the level the environment names */
    logger?: Logger;
    /** The route's declared `transaction`. @default the rule of `RouteDefinition.transaction` for its method */
    transaction?: boolean;
    /** What the route accepts: checked before the handler runs, one 400 naming every bad field. @default nothing checked */
    request?: RouteRequest;
}

export type LambdaHttpHandler = (event: HttpApiEvent, context?: InvocationContext) => Promise<HttpApiResult>;

/**
 * Wraps a route handler: parses the event, gives the handler its context, maps its result and its
 * errors to an API Gateway v2 response. Client errors become 4xx JSON, and so do the PostgreSQL
 * data exceptions a bad value causes (`clientDataException`: a NUL in text, a date out of range,
 * ...), since what validation let through is still the client's mistake; a database that did not
 * answer (no connection before the invocation's deadline, or one lost during a statement) becomes
 * a 503 with `retry-after`; anything unexpected becomes a 500 that carries the request id and
 * nothing of the error itself.
 */
export function createRouteHandler(handler: RouteHandler, options: RouteRuntimeOptions): LambdaHttpHandler {
    const baseLogger = options.logger ?? createLogger({ level: logLevelFromEnvironment(), fields: { service: options.service, route: options.routeKey } });
    const transaction = routeRunsInTransaction(options.routeKey, options.transaction, { database: Boolean(options.openDatabase), publishes: Boolean(options.events) });
    const contextFor = createContextFactory(options, {
        service: options.service,
        unitOfWork: transaction,
        publishingRefused:
            `route "${options.routeKey}" of service "${options.service}" runs without a transaction (${READ_ONLY_METHODS.join(" and ")} routes do unless they ` +
            "declare `transaction: true`, the others when they declare `transaction: false`), and a database service's events are written " +
            "into its outbox inside one: declare `transaction: true` on the route",
    });

    return async (event, context) => {
        const requestId = event.requestContext?.requestId || context?.awsRequestId || "";
        const log = baseLogger.child({ requestId });
        try {
            const request = parseRequest(event);
            if (options.request) request.input = checkRequest(request, options.request) satisfies RouteInput;
            const invocation = contextFor(requestId, log, context);
            let result: unknown;
            try {
                result = await handler(request, invocation.context);
            } catch (error) {
                await invocation.finish(false);
                throw error;
            }
            const response = formatResponse(result, requestId);
            // A 4xx or 5xx answer keeps nothing of what the handler wrote (in a unit of work).
            await invocation.finish((response.statusCode ?? 200) < 400);
            return response;
        } catch (thrown) {
            const dataException = clientDataException(thrown);
            if (dataException) log.info("value refused by the database", { sqlState: (thrown as { code: string }).code, reason: (thrown as Error).message });
            const error = dataException ?? thrown;
            if (isHttpError(error)) {
                log.info("request rejected", { statusCode: error.statusCode, code: error.code, reason: error.message });
                return errorResponse(error, requestId);
            }
            if (isDatabaseUnavailable(error)) {
                log.warn("database unavailable", { error, cause: error.cause, causeCode: (error.cause as { code?: string } | undefined)?.code });
                return errorResponse(databaseUnavailable(), requestId);
            }
            if (isEventPublishError(error)) {
                log.warn("event not published", { error, cause: error.cause });
                return errorResponse(eventsUnavailable(), requestId);
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
