/**
 * The checks beyond strings and integers, and how path and query text is read: exactly the forms
 * listed, nothing looser; JSON bodies are never coerced.
 */
import * as assert from "node:assert/strict";
import { array, boolean, enumeration, integer, number, object, optional, parseBody, refine, text } from "../../functions/runtime/validate";

describe("input validation: text coercion, numbers, booleans, enumerations, arrays, nested objects", () => {
    const int = integer({ min: -1000, max: Number.MAX_SAFE_INTEGER });
    const num = number({ min: -1000, max: 1e15 });
    const bool = boolean();
    /** The parameter is refused. */
    const X = Symbol("refused");
    const matrix: Array<[string, { int: unknown; num: unknown; bool: unknown }]> = [
        ["5", { int: 5, num: 5, bool: X }],
        ["-0", { int: -0, num: -0, bool: X }],
        ["5.0", { int: X, num: 5, bool: X }],
        ["1e3", { int: X, num: X, bool: X }],
        [" 5", { int: X, num: X, bool: X }],
        ["0x10", { int: X, num: X, bool: X }],
        ["+5", { int: X, num: X, bool: X }],
        ["", { int: X, num: X, bool: X }],
        ["1".repeat(15), { int: 111111111111111, num: 111111111111111, bool: X }],
        ["1".repeat(16), { int: X, num: X, bool: X }],
        ["true", { int: X, num: X, bool: true }],
        ["false", { int: X, num: X, bool: false }],
        ["TRUE", { int: X, num: X, bool: X }],
        ["1", { int: 1, num: 1, bool: X }],
    ];
    for (const [input, expected] of matrix) {
        const described = Object.entries(expected).map(([name, value]) => `${name}: ${value === X ? "refused" : String(Object.is(value, -0) ? "-0" : value)}`);
        it(`reads the parameter ${JSON.stringify(input)} as ${described.join(", ")}`, () => {
            for (const [name, check] of [["int", int], ["num", num], ["bool", bool]] as const) {
                const outcome = check(input, "text");
                const wanted = expected[name];
                if (wanted === X) assert.equal(outcome.ok, false, `${name} took ${JSON.stringify(input)}`);
                else assert.deepEqual(outcome, { ok: true, value: wanted }, `${name} of ${JSON.stringify(input)}`);
            }
        });
    }

    it("takes JSON numbers and booleans only as themselves in a body", () => {
        assert.deepEqual(number({ min: 0, max: 1 })(0.5, "json"), { ok: true, value: 0.5 });
        for (const bad of ["0.5", Infinity, NaN, 2, -0.1, null]) assert.equal(number({ min: 0, max: 1 })(bad, "json").ok, false, String(bad));
        assert.deepEqual(boolean()(true, "json"), { ok: true, value: true });
        for (const bad of ["true", 1, 0, null]) assert.equal(boolean()(bad, "json").ok, false, String(bad));
    });

    it("enumeration() takes exactly one of its values and names them", () => {
        const status = enumeration(["open", "closed"]);
        assert.deepEqual(status("open", "text"), { ok: true, value: "open" });
        assert.deepEqual(status("Open", "json"), { ok: false, problem: "must be one of: open, closed" });
    });

    it("names every bad item and nested field of a body by its path, unknown nested fields among them", () => {
        const shape = { items: array(object({ sku: text({ max: 8 }), quantity: integer({ min: 1, max: 9 }) }), { min: 1, max: 3 }), note: optional(text({ max: 5 }), "none") };
        assert.deepEqual(parseBody({ items: [{ sku: "A1", quantity: 2 }] }, shape), { items: [{ sku: "A1", quantity: 2 }], note: "none" });
        assert.throws(
            () => parseBody({ items: [{ sku: "A1", quantity: 2 }, { sku: "", quantity: 0, colour: "red" }, { quantity: 1 }] }, shape),
            (error: { details: { issues: unknown } }) => {
                assert.deepEqual(error.details.issues, [
                    { field: "items.1.sku", problem: "must not be empty" },
                    { field: "items.1.quantity", problem: "must be an integer from 1 to 9" },
                    { field: "items.1.colour", problem: "is not a field of this request (allowed: sku, quantity)" },
                    { field: "items.2.sku", problem: "is required" },
                ]);
                return true;
            },
        );
        for (const items of [[], [1, 2, 3, 4].map(() => ({ sku: "a", quantity: 1 })), "a,b"]) {
            assert.throws(() => parseBody({ items }, shape), (error: { details: { issues: Array<{ field: string }> } }) => error.details.issues[0].field === "items", JSON.stringify(items));
        }
    });

    it("refine() adds a check of one's own to a base check", () => {
        const even = refine(integer({ min: 0, max: 10 }), (value) => value % 2 === 0, "must be even");
        assert.deepEqual(even("4", "text"), { ok: true, value: 4 });
        assert.deepEqual(even("3", "text"), { ok: false, problem: "must be even" });
        assert.deepEqual(even("11", "text"), { ok: false, problem: "must be an integer from 0 to 10" });
    });
});
