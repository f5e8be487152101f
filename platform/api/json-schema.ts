/**
 * Validators as JSON Schema 2020-12 (the dialect of OpenAPI 3.1 and AsyncAPI 3.0), for the API's
 * description and the event contracts. Runs at build and plan time only: nothing here is ever
 * serialized into a function.
 */
import type { Check, FieldSchema, Shape } from "../../functions/runtime/validate";

/** A JSON Schema 2020-12 document or subschema. */
export type JsonSchema = Record<string, unknown>;

/** One value's schema. */
export function checkJsonSchema(check: Check<unknown>): JsonSchema {
    const schema: FieldSchema | undefined = check.schema;
    if (!schema) return {};
    const { optional: _optional, ...rest } = schema;
    return { ...rest };
}

/**
 * An object with the shape's fields: those that are not optional are required. `closed` refuses
 * other fields (a JSON body); path and query parameters are described one by one instead.
 */
export function shapeJsonSchema(shape: Shape, options: { closed: boolean }): JsonSchema {
    const properties: Record<string, JsonSchema> = {};
    const required: string[] = [];
    for (const [field, check] of Object.entries(shape)) {
        properties[field] = checkJsonSchema(check);
        if (!isOptional(check)) required.push(field);
    }
    return { type: "object", properties, ...(required.length > 0 ? { required } : {}), ...(options.closed ? { additionalProperties: false } : {}) };
}

/** Whether a field may be absent. */
export function isOptional(check: Check<unknown>): boolean {
    return check.schema?.optional === true;
}
