/**
 * Errors a handler throws to answer with a 4xx (and the platform's own 503). The wrapper maps them
 * to `{"error":{"code","message","requestId"}}`; anything else becomes a 500 that carries only the
 * request id.
 */
export class HttpError extends Error {
    constructor(
        readonly statusCode: number,
        readonly code: string,
        message: string,
        readonly details?: unknown,
        /** Response headers that belong to the answer, e.g. `retry-after`. */
        readonly headers?: Readonly<Record<string, string>>,
    ) {
        super(message);
        // Set again because Pulumi serializes this class for Lambda as a function that calls
        // `Error.call(this, message)`, which leaves `message` unset on the instance.
        this.message = message;
        this.name = "HttpError";
    }
}

/** 400: the request is malformed or fails validation. */
export function badRequest(message: string, details?: unknown): HttpError {
    return new HttpError(400, "validation_error", message, details);
}

/** 404: the addressed thing does not exist. */
export function notFound(message: string): HttpError {
    return new HttpError(404, "not_found", message);
}

/** 409: the request conflicts with what is stored (a unique key, say). */
export function conflict(message: string): HttpError {
    return new HttpError(409, "conflict", message);
}

/** How long a client is asked to wait before retrying a request the database could not serve. */
export const DATABASE_RETRY_AFTER_SECONDS = 1;

/**
 * 503: the database did not answer in time, or the connection was lost during the request. The
 * route wrapper answers this for a `DatabaseUnavailableError`; a new connection usually works a
 * moment later (a resumed cluster, a finished failover).
 */
export function databaseUnavailable(): HttpError {
    return new HttpError(503, "database_unavailable", "The database is not available right now; retry in a moment.", undefined, {
        "retry-after": String(DATABASE_RETRY_AFTER_SECONDS),
    });
}

/**
 * 503: an event the request publishes was not taken by the bus (EventBridge throttled or did not
 * answer). What the request wrote before it stays written; a transactional outbox closes that gap.
 */
export function eventsUnavailable(): HttpError {
    return new HttpError(503, "events_unavailable", "The request's event could not be published right now; retry in a moment.", undefined, {
        "retry-after": String(DATABASE_RETRY_AFTER_SECONDS),
    });
}

/** True for errors the wrapper turns into a client response. Duck-typed on purpose: a closure and
 * a module may hold different copies of the class once serialized. */
export function isHttpError(error: unknown): error is HttpError {
    return (
        typeof error === "object" &&
        error !== null &&
        (error as HttpError).name === "HttpError" &&
        typeof (error as HttpError).statusCode === "number" &&
        typeof (error as HttpError).code === "string"
    );
}
