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

/** 401: the request does not prove who sent it (a webhook's signature that does not match). */
export function unauthorized(message: string): HttpError {
    return new HttpError(401, "unauthorized", message);
}

/** 404: the addressed thing does not exist. */
export function notFound(message: string): HttpError {
    return new HttpError(404, "not_found", message);
}

/** 403: the caller is known but may not do this. */
export function forbidden(message: string): HttpError {
    return new HttpError(403, "forbidden", message);
}

/** What the ownership rule reads of a caller (`Caller` in `caller.ts` fits). */
export interface OwnershipCaller {
    readonly sub: string;
    has(scope: string): boolean;
}

/**
 * The ownership rule of a record, in the handler: passes when `caller` owns the record (`owner`,
 * the `sub` stored when it was created) or holds `adminScope` (an operator's scope, given to people
 * who act on other people's records), and throws otherwise. The gateway cannot decide this: its
 * route scopes are alternatives, and it never sees the record.
 *
 * A record that is missing (`owner` undefined, nothing was read) and one that is someone else's get
 * the same 404 with `notFound`, so a caller cannot tell other people's ids from unused ones. For a
 * record whose existence is no secret, `hidden: false` answers someone else's with 403 instead.
 * A record stored before owners were kept (`owner` null) is an operator's alone.
 *
 * Reading the owner first and then writing is safe without a lock as long as no route changes a
 * record's owner.
 *
 * @example
 * const me = callerOf(request);
 * const { rows } = await db.query<OrderRow>(`SELECT ${COLUMNS} FROM orders WHERE id = $1`, [id]);
 * assertOwnerOrAdmin(rows[0]?.placedBy, me, { adminScope: "orders:admin", notFound: "No order with this id." });
 * return rows[0];
 */
export function assertOwnerOrAdmin(
    owner: string | null | undefined,
    caller: OwnershipCaller,
    rule: { adminScope?: string; notFound: string; hidden?: boolean },
): void {
    if (owner === undefined) throw notFound(rule.notFound);
    if (owner !== null && owner === caller.sub) return;
    if (rule.adminScope !== undefined && caller.has(rule.adminScope)) return;
    throw rule.hidden === false ? forbidden("This belongs to someone else.") : notFound(rule.notFound);
}

/** 409: the request conflicts with what is stored (a unique key, say). */
export function conflict(message: string): HttpError {
    return new HttpError(409, "conflict", message);
}

/**
 * The client error a PostgreSQL integrity constraint violation stands for, for a handler to throw
 * from its `catch`; any other error comes back as it is (and becomes the wrapper's 500). By SQLSTATE:
 *
 * - `23505` unique violation: 409 `conflict` (the thing already exists);
 * - `23503` foreign key violation: 400 `validation_error` (the request refers to something that does
 *   not exist; a delete of a row others still refer to wants a 409: name its constraint);
 * - `23502` not-null and `23514` check violations: 400 `validation_error` (the input breaks a rule
 *   of the table that validation let through).
 *
 * `answers` overrides the answer per constraint name, for a message that says which rule was broken.
 * Not done by the wrapper for every handler on purpose: a constraint violation caused by the
 * handler's own bug is a 500, not the client's fault.
 *
 * @example
 * try {
 *     return await db.query("INSERT INTO orders (reference) VALUES ($1) RETURNING *", [reference]);
 * } catch (error) {
 *     throw constraintViolation(error, { orders_reference_key: conflict("An order with this reference already exists.") });
 * }
 */
export function constraintViolation(error: unknown, answers: Readonly<Record<string, HttpError>> = {}): unknown {
    const { code, constraint } = (error ?? {}) as { code?: unknown; constraint?: unknown };
    if (typeof constraint === "string" && Object.hasOwn(answers, constraint)) return answers[constraint];
    switch (code) {
        case "23505":
            return conflict("This conflicts with something that already exists.");
        case "23503":
            return badRequest("The request refers to something that does not exist.");
        case "23502":
        case "23514":
            return badRequest("The request breaks a rule of the stored data.");
        default:
            return error;
    }
}

/**
 * PostgreSQL's data exceptions that a value from the request causes when validation let it
 * through: a string too long for its column (22001), a date or time it cannot read (22007) or that
 * is out of its range (22008), a character its encoding cannot hold, such as NUL (22021), text that
 * is not a value of the column's type (22P02), and bytes that are not valid in the encoding (22P05).
 * Other SQLSTATEs (division by zero, a numeric overflow of the handler's own arithmetic, a syntax
 * error) are the handler's bug and stay a 500.
 */
export const CLIENT_DATA_EXCEPTIONS: Readonly<Record<string, string>> = {
    "22001": "A value is too long.",
    "22007": "A date or time is not valid.",
    "22008": "A date or time is out of range.",
    "22021": "A value holds a character that cannot be stored.",
    "22P02": "A value is not of the expected type.",
    "22P05": "A value holds bytes that are not valid text.",
};

/**
 * The 400 a PostgreSQL data exception from bad input stands for (see `CLIENT_DATA_EXCEPTIONS`), or
 * undefined for any other error. The route wrapper applies it to whatever a handler throws, so a
 * value that slips past validation costs the client a 400, never a 500.
 */
export function clientDataException(error: unknown): HttpError | undefined {
    const code = (error as { code?: unknown } | null | undefined)?.code;
    if (typeof code !== "string" || !Object.hasOwn(CLIENT_DATA_EXCEPTIONS, code)) return undefined;
    return badRequest(`The request holds a value the database refuses: ${CLIENT_DATA_EXCEPTIONS[code]}`);
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

/**
 * 503: a secret the service needs has no value yet, or could not be read. The handler stopped at
 * the read; the log line, not the answer, names the secret.
 */
export function secretUnavailable(): HttpError {
    return new HttpError(503, "not_configured", "The service is not fully configured yet; retry later.", undefined, {
        "retry-after": String(SECRET_RETRY_AFTER_SECONDS),
    });
}

/** How long a client is asked to wait when a secret is unavailable: someone has to set it. */
export const SECRET_RETRY_AFTER_SECONDS = 60;

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
