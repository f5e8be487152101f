/**
 * Validators as JSON Schema 2020-12 (the dialect of OpenAPI 3.1 and AsyncAPI 3.0), for the API's
 * description and the event contracts: valibot's own converter (`@valibot/to-json-schema`) over
 * the schema each check describes itself by (`describeCheck`). Runs at build and plan time only:
 * nothing here is ever serialized into a function (the converter is a devDependency).
 */
import { toJsonSchema } from "@valibot/to-json-schema";
import { describeCheck, type Check, type Shape } from "../../functions/runtime/validate";

/** A JSON Schema 2020-12 document or subschema. */
export type JsonSchema = Record<string, unknown>;

/**
 * The actions that normalize a value or refuse what JSON Schema has no keyword for (code-point
 * lengths, control characters, real calendar dates, finite numbers): the checks state what JSON
 * Schema can say of them in a `metadata` action beside them. Any other action the converter does
 * not know is an error, never silently left out.
 */
const BEYOND_JSON_SCHEMA = ["check", "trim", "to_lower_case", "transform", "finite"];

/** One value's schema; `{}` (anything) for a hand-written check, which cannot say what it takes. */
export function checkJsonSchema(check: Check<unknown>): JsonSchema {
    const description = describeCheck(check);
    if (!description) return {};
    const { $schema: _dialect, ...schema } = toJsonSchema(description.schema, { target: "draft-2020-12", errorMode: "throw", ignoreActions: BEYOND_JSON_SCHEMA }) as JsonSchema;
    return schema;
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
    return describeCheck(check)?.optional === true;
}
