/**
 * Each check's JSON Schema (valibot's converter) states what the check takes: its type, bounds,
 * format, enumeration, items, required fields and closedness, and an optional field's default.
 */
import * as assert from "node:assert/strict";
import { checkJsonSchema, isOptional, shapeJsonSchema } from "../../platform/api/json-schema";
import { array, boolean, dateTime, email, enumeration, integer, number, object, optional, refine, subject, text, uuid, type Check } from "../../functions/runtime/validate";

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
});
