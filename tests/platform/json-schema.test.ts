/**
 * Each check's JSON Schema (valibot's converter) states what the check takes: its type, bounds,
 * format, enumeration, items, required fields and closedness, and an optional field's default.
 * Checked twice: the keywords themselves, and sample values through a JSON Schema 2020-12
 * validator (Ajv with its formats): what the check takes is valid, what it refuses for a reason
 * JSON Schema can state is not. (What it refuses beyond JSON Schema, a control character or
 * February 30th, the schema cannot say, and a value the check trims into its bounds is measured
 * trimmed by the check alone.)
 */
import * as assert from "node:assert/strict";
import Ajv2020 from "ajv/dist/2020";
import addFormats from "ajv-formats";
import { checkJsonSchema, isOptional, shapeJsonSchema } from "../../platform/api/json-schema";
import { array, boolean, dateTime, email, enumeration, integer, nullable, number, object, optional, refine, subject, text, uuid, type Check } from "../../functions/runtime/validate";

describe("validators as JSON Schema 2020-12", () => {
    const cases: Array<[string, Check<unknown>, Record<string, unknown>]> = [
        ["text", text({ min: 2, max: 10 }), { type: "string", minLength: 2, maxLength: 10 }],
        ["subject", subject(), { type: "string", minLength: 1, maxLength: 255 }],
        ["email", email(), { type: "string", format: "email", maxLength: 254, pattern: "^[^\\s@]+@[^\\s@]+\\.[^\\s@]+$" }],
        ["uuid", uuid(), { type: "string", format: "uuid", pattern: "^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$" }],
        ["dateTime", dateTime(), { type: "string", format: "date-time" }],
        ["integer", integer({ min: 1, max: 5 }), { type: "integer", minimum: 1, maximum: 5 }],
        ["number", number({ min: 0, max: 2.5 }), { type: "number", minimum: 0, maximum: 2.5 }],
        ["boolean", boolean(), { type: "boolean" }],
        ["enumeration", enumeration(["a", "b"]), { type: "string", enum: ["a", "b"] }],
        ["optional with a default", optional(integer({ min: 1, max: 5 }), 3), { type: "integer", minimum: 1, maximum: 5, default: 3 }],
        ["refine", refine(text({ max: 5 }), (value) => value !== "x", "must not be x"), { type: "string", minLength: 1, maxLength: 5, description: "must not be x" }],
        [
            "array of objects",
            array(object({ sku: text({ max: 5 }) }), { min: 1, max: 3 }),
            { type: "array", minItems: 1, maxItems: 3, items: { type: "object", properties: { sku: { type: "string", minLength: 1, maxLength: 5 } }, required: ["sku"], additionalProperties: false } },
        ],
    ];
    for (const [name, check, expected] of cases) {
        it(`${name}() is described as ${JSON.stringify(expected)}`, () => {
            assert.deepEqual(checkJsonSchema(check), expected);
        });
    }

    it("a hand-written check is described as anything ({})", () => {
        assert.deepEqual(checkJsonSchema(((value: unknown) => ({ ok: true, value })) as Check<unknown>), {});
    });

    it("a body's shape is a closed object whose optional fields are not required", () => {
        const shape = { name: text({ max: 5 }), limit: optional(integer({ min: 1, max: 5 }), 2) };
        assert.equal(isOptional(shape.limit), true);
        assert.equal(isOptional(shape.name), false);
        assert.deepEqual(shapeJsonSchema(shape, { closed: true }), {
            type: "object",
            properties: { name: { type: "string", minLength: 1, maxLength: 5 }, limit: { type: "integer", minimum: 1, maximum: 5, default: 2 } },
            required: ["name"],
            additionalProperties: false,
        });
    });

    describe("sample values: what the check takes, its schema takes; what it refuses for a reason the schema states, the schema refuses", () => {
        const ajv = addFormats(new Ajv2020({ strict: true }));
        const samples: Array<[string, Check<unknown>, unknown[], unknown[]]> = [
            ["text", text({ min: 2, max: 5 }), ["Ada", "Zoë", "😀😀"], ["A", "Lovelace", 5, null]],
            ["subject", subject(), ["auth0|ada", " ada "], ["", "x".repeat(256), 1]],
            ["email", email(), ["ada@example.com", "Ada@Example.COM"], ["nope", "a@b", "a b@c.de", 5]],
            ["uuid", uuid(), ["00000000-0000-4000-8000-00000000000a", "00000000-0000-4000-8000-00000000000A"], ["42", "00000000-0000-4000-8000-00000000000g", 42]],
            ["dateTime", dateTime(), ["2026-11-27T11:39:07.194Z", "0001-01-01T00:00:00+14:00"], ["2026-11-27", "2026-11-27T11:39:07", 1764243547194]],
            ["integer", integer({ min: 1, max: 5 }), [1, 5], [0, 6, 2.5, "3"]],
            ["number", number({ min: 0, max: 2.5 }), [0, 2.5, 1.25], [-0.5, 3, "1"]],
            ["boolean", boolean(), [true, false], ["true", 1, null]],
            ["enumeration", enumeration(["open", "closed"]), ["open", "closed"], ["Open", "", 1]],
            ["nullable", nullable(integer({ min: 1, max: 5 })), [null, 3], [0, "3"]],
            ["refine", refine(integer({ min: 0, max: 10 }), (value) => value % 2 === 0, "must be even"), [0, 4], [11, -1]],
            ["array of objects", array(object({ sku: text({ max: 5 }), count: optional(integer({ min: 1, max: 9 }), 1) }), { min: 1, max: 2 }), [[{ sku: "A1" }], [{ sku: "A1", count: 2 }, { sku: "B" }]], [[], [{}], [{ sku: "A1", colour: "red" }], [{ sku: "A1" }, { sku: "A2" }, { sku: "A3" }], [{ sku: "A1", count: 0 }]]],
        ];
        for (const [name, check, taken, refused] of samples) {
            it(`${name}()`, () => {
                const validate = ajv.compile(checkJsonSchema(check));
                for (const value of taken) {
                    assert.equal(check(value, "json").ok, true, `the check takes ${JSON.stringify(value)}`);
                    assert.equal(validate(value), true, `its schema takes ${JSON.stringify(value)}: ${ajv.errorsText(validate.errors)}`);
                }
                for (const value of refused) {
                    assert.equal(check(value, "json").ok, false, `the check refuses ${JSON.stringify(value)}`);
                    assert.equal(validate(value), false, `its schema refuses ${JSON.stringify(value)}`);
                }
            });
        }

        it("a body's shape: its schema refuses an unknown field and a missing required one, as parseBody does", () => {
            const validate = ajv.compile(shapeJsonSchema({ name: text({ max: 5 }), limit: optional(integer({ min: 1, max: 5 }), 2) }, { closed: true }));
            assert.equal(validate({ name: "Ada" }), true);
            assert.equal(validate({ name: "Ada", limit: 3 }), true);
            assert.equal(validate({ limit: 3 }), false);
            assert.equal(validate({ name: "Ada", admin: true }), false);
        });
    });
});
