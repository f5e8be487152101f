/**
 * `constraintViolation`: PostgreSQL's integrity constraint violations as the client errors they stand
 * for, against a real PostgreSQL raising each one; anything else comes back untouched. And the data
 * exceptions bad input causes, which the route wrapper answers with 400 (`clientDataException`).
 */
import * as assert from "node:assert/strict";
import { clientDataException, conflict, constraintViolation, HttpError, isHttpError } from "../../functions/runtime/errors";
import { createRouteHandler } from "../../functions/runtime/handler";
import { createLogger } from "../../functions/runtime/logger";
import { httpApiEvent } from "../../testing/events";
import { usePostgres } from "../support/postgres";

describe("constraint violations as client errors", () => {
    const postgres = usePostgres();

    /** The error PostgreSQL raises for `sql`, through the handlers' database module. */
    async function raised(sql: string): Promise<unknown> {
        return postgres().db.query(sql).then(
            () => assert.fail(`${sql} succeeded`),
            (error: unknown) => error,
        );
    }

    before(async () => {
        await postgres().sql(`CREATE TABLE parents (id int PRIMARY KEY);
            CREATE TABLE things (id int PRIMARY KEY, name text NOT NULL, amount int CONSTRAINT things_amount_positive CHECK (amount > 0),
                parent int REFERENCES parents (id), CONSTRAINT things_name_key UNIQUE (name));
            INSERT INTO parents VALUES (1); INSERT INTO things VALUES (1, 'taken', 1, 1)`);
    });

    for (const [label, sql, status, code] of [
        ["a unique violation (23505) is 409 conflict", "INSERT INTO things (id, name) VALUES (2, 'taken')", 409, "conflict"],
        ["a foreign key violation (23503) is 400", "INSERT INTO things (id, name, parent) VALUES (3, 'orphan', 99)", 400, "validation_error"],
        ["a not-null violation (23502) is 400", "INSERT INTO things (id, name) VALUES (4, NULL)", 400, "validation_error"],
        ["a check violation (23514) is 400", "INSERT INTO things (id, name, amount) VALUES (5, 'negative', -1)", 400, "validation_error"],
    ] as const) {
        it(label, async () => {
            // Act
            const answer = constraintViolation(await raised(sql));
            // Assess
            assert.ok(isHttpError(answer), String(answer));
            assert.deepEqual([answer.statusCode, answer.code], [status, code]);
        });
    }

    it("answers with the handler's own error for a named constraint", async () => {
        const mine = conflict("A thing with this name already exists.");
        assert.equal(constraintViolation(await raised("INSERT INTO things (id, name) VALUES (6, 'taken')"), { things_name_key: mine }), mine);
        // Another constraint of the same kind keeps the default answer.
        const other = constraintViolation(await raised("INSERT INTO things (id, name) VALUES (1, 'free')"), { things_name_key: mine });
        assert.ok(other instanceof HttpError && other !== mine && other.statusCode === 409);
    });

    it("returns any other error as it is, for the wrapper's 500", async () => {
        const syntax = await raised("SELEC 1");
        assert.equal(constraintViolation(syntax), syntax);
        const plain = new Error("boom");
        assert.equal(constraintViolation(plain), plain);
        assert.equal(constraintViolation(undefined), undefined);
    });
});

describe("PostgreSQL data exceptions from bad input as 400, through the route wrapper", () => {
    const postgres = usePostgres();
    const invoke = (sql: string, values: unknown[]) =>
        createRouteHandler(async () => (await postgres().db.query(sql, values)).rows, { service: "test", routeKey: "POST /things", logger: createLogger({ write: () => undefined }) })(httpApiEvent({ routeKey: "POST /things", requestId: "rid-22" }));

    before(() => postgres().sql("CREATE TABLE short_names (name varchar(3))"));

    // Each statement passes a value as a parameter, the way a handler passes what validation let through.
    for (const [code, label, sql, values] of [
        ["22001", "a string too long for its column", "INSERT INTO short_names (name) VALUES ($1)", ["abcd"]],
        ["22007", "a date PostgreSQL cannot read", "SELECT $1::timestamptz", ["the day after tomorrow"]],
        ["22008", "a date out of range", "SELECT $1::timestamptz", ["0000-01-01T00:00:00Z"]],
        ["22021", "a NUL in text", "SELECT $1::text", ["a\u0000b"]],
        ["22P02", "text that is not a UUID", "SELECT $1::uuid", ["not-a-uuid"]],
        ["22P05", "a JSON \\u0000 escape, which jsonb cannot hold", "SELECT $1::jsonb", ['{"a":"\\u0000"}']],
    ] as const) {
        it(`${code}, ${label}: 400 validation_error`, async () => {
            // Prepare: the statement does raise it.
            const raised = await postgres().db.query(sql, [...values]).then(() => undefined, (error: { code?: string }) => error.code);
            assert.equal(raised, code);
            // Act
            const response = await invoke(sql, [...values]);
            // Assess
            assert.equal(response.statusCode, 400);
            assert.equal(JSON.parse(response.body!).error.code, "validation_error");
            assert.ok(isHttpError(clientDataException({ code })));
        });
    }

    it("keeps other errors a 500: a handler's own bug is not the client's fault", async () => {
        for (const [sql, values] of [
            ["SELECT 1 / $1::int", [0]], // 22012 division by zero: a data exception, but not from bad input
            ["SELEC $1::int", [1]], // 42601 syntax error
        ] as const) {
            const response = await invoke(sql, [...values]);
            assert.equal(response.statusCode, 500, sql);
        }
        assert.equal(clientDataException(new Error("boom")), undefined);
        assert.equal(clientDataException({ code: "23505" }), undefined);
    });
});
