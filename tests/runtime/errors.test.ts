/**
 * `constraintViolation`: PostgreSQL's integrity constraint violations as the client errors they stand
 * for, against a real PostgreSQL raising each one; anything else comes back untouched.
 */
import * as assert from "node:assert/strict";
import { conflict, constraintViolation, HttpError, isHttpError } from "../../functions/runtime/errors";
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
