/**
 * Requests with one bad value each, generated from an operation of the API's OpenAPI document:
 * for every declared path and query parameter and body field, a value of the wrong type, too long,
 * empty, with a control character, out of range, not one of its values, a required one missing,
 * and a body with a field it does not have. Every other value is a good one, so the one bad value
 * is what the API must refuse (with a 400).
 */
import { randomUUID } from "node:crypto";
import type { JsonSchema } from "../platform/api/json-schema";
import type { OpenApiOperation } from "../platform/api/openapi";

export interface BadRequest {
    /** What is wrong, e.g. `body.name too long`. */
    label: string;
    /** The field that is wrong, as the request names it (`name`, `id`); undefined when the body as a whole is. */
    field?: string;
    method: string;
    /** Path and query string, encoded. */
    path: string;
    /** A JSON body (an object or a list, serialized by the sender), or undefined for none. */
    body?: object;
}

interface Parameter {
    name: string;
    in: "path" | "query";
    required: boolean;
    schema: JsonSchema;
}

/** A value the schema accepts. */
export function goodValue(schema: JsonSchema): unknown {
    if (Array.isArray(schema.enum)) return schema.enum[0];
    if ("const" in schema) return schema.const;
    if ("default" in schema) return schema.default;
    switch (schema.type) {
        case "integer":
        case "number": {
            const minimum = typeof schema.minimum === "number" ? schema.minimum : 0;
            const maximum = typeof schema.maximum === "number" ? schema.maximum : minimum + 10;
            return Math.min(Math.max(minimum, 1), maximum);
        }
        case "boolean":
            return true;
        case "array":
            return Array.from({ length: typeof schema.minItems === "number" ? schema.minItems : 1 }, () => goodValue((schema.items as JsonSchema) ?? {}));
        case "object":
            return goodObject(schema);
        case "string":
        default:
            switch (schema.format) {
                case "uuid":
                    return randomUUID();
                case "email":
                    return `bad-values-${randomUUID().slice(0, 8)}@example.com`;
                case "date-time":
                    return new Date().toISOString();
                default:
                    return "x".repeat(Math.max(typeof schema.minLength === "number" ? schema.minLength : 1, 1));
            }
    }
}

/** An object with a good value for every required property and none for the others. */
function goodObject(schema: JsonSchema): Record<string, unknown> {
    const properties = (schema.properties ?? {}) as Record<string, JsonSchema>;
    const required = (schema.required ?? []) as string[];
    return Object.fromEntries(required.map((name) => [name, goodValue(properties[name] ?? {})]));
}

/**
 * Bad values for one field: `source` "json" keeps types (a number for a string is wrong), "text"
 * is a path or query parameter, where every value is a string and an empty one means absent.
 */
export function badValues(schema: JsonSchema, source: "json" | "text", required: boolean): { kind: string; value: unknown }[] {
    const bad: { kind: string; value: unknown }[] = [];
    const text = source === "text";
    const emptyIsAbsent = text && !required;
    if (Array.isArray(schema.enum)) {
        bad.push({ kind: "not one of its values", value: "not-one-of-them" });
        return bad;
    }
    switch (schema.type) {
        case "integer":
        case "number":
            bad.push({ kind: "wrong type", value: text ? "abc" : "5" });
            if (schema.type === "integer") bad.push({ kind: "not whole", value: text ? "1.5" : 1.5 });
            if (typeof schema.maximum === "number") bad.push({ kind: "out of range (above)", value: text ? String(schema.maximum + 1) : schema.maximum + 1 });
            if (typeof schema.minimum === "number") bad.push({ kind: "out of range (below)", value: text ? String(schema.minimum - 1) : schema.minimum - 1 });
            if (!emptyIsAbsent) bad.push({ kind: "empty", value: "" });
            break;
        case "boolean":
            bad.push({ kind: "wrong type", value: text ? "maybe" : "true" });
            break;
        case "array":
            if (!text) bad.push({ kind: "wrong type", value: "not a list" });
            if (typeof schema.maxItems === "number") bad.push({ kind: "too many items", value: Array.from({ length: schema.maxItems + 1 }, () => goodValue((schema.items as JsonSchema) ?? {})) });
            break;
        case "object":
            if (!text) bad.push({ kind: "wrong type", value: "not an object" }, { kind: "unknown field", value: { ...goodObject(schema), unexpected: 1 } });
            break;
        case "string":
            if (!text) bad.push({ kind: "wrong type", value: 12345 });
            if (typeof schema.maxLength === "number") {
                const tooLong = schema.format === "email" ? `${"a".repeat(schema.maxLength)}@example.com` : "x".repeat(schema.maxLength + 1);
                bad.push({ kind: "too long", value: tooLong });
            }
            if (!emptyIsAbsent && (schema.format !== undefined || (typeof schema.minLength === "number" && schema.minLength > 0))) bad.push({ kind: "empty", value: "" });
            bad.push({ kind: "control character", value: schema.format === "email" ? "a\u0001b@example.com" : `${goodValue(schema)}\u0001` });
            if (schema.format !== undefined) bad.push({ kind: `not a ${schema.format}`, value: "not-a-value-of-this-format" });
            break;
        default:
            break;
    }
    return bad;
}

function pathWith(template: string, pathValues: Record<string, string>, query: Record<string, string>): string {
    const path = template.replace(/\{([^}]+)\}/g, (_, name: string) => encodeURIComponent(pathValues[name]));
    const search = new URLSearchParams(query).toString();
    return search ? `${path}?${search}` : path;
}

/**
 * Every bad request for `operation` (`method` on `path`, as the document has them): none when the
 * route declares nothing to check. A path parameter without a declared shape takes any text, so
 * it gets a good value and no bad ones.
 */
export function badRequests(path: string, method: string, operation: OpenApiOperation): BadRequest[] {
    const parameters = (operation.parameters ?? []) as unknown as Parameter[];
    const bodySchema = (operation.requestBody as { required?: boolean; content?: Record<string, { schema: JsonSchema }> } | undefined)?.required
        ? (operation.requestBody as { content: Record<string, { schema: JsonSchema }> }).content["application/json"].schema
        : undefined;
    const declared = (parameter: Parameter) => Object.keys(parameter.schema).some((key) => key !== "type") || parameter.in === "query";
    const goodPath = Object.fromEntries(parameters.filter((p) => p.in === "path").map((p) => [p.name, String(goodValue(p.schema))]));
    const goodQuery = Object.fromEntries(parameters.filter((p) => p.in === "query" && p.required).map((p) => [p.name, String(goodValue(p.schema))]));
    const goodBody: Record<string, unknown> | undefined = bodySchema ? goodObject(bodySchema) : undefined;
    const upper = method.toUpperCase();
    const requests: BadRequest[] = [];
    for (const parameter of parameters.filter(declared)) {
        // An empty path segment matches no route (the gateway's 404), so a path parameter is never empty.
        const values = badValues(parameter.schema, "text", parameter.required).filter(({ value }) => !(parameter.in === "path" && value === ""));
        for (const { kind, value } of values) {
            const pathValues = parameter.in === "path" ? { ...goodPath, [parameter.name]: String(value) } : goodPath;
            const query = parameter.in === "query" ? { ...goodQuery, [parameter.name]: String(value) } : goodQuery;
            requests.push({ label: `${parameter.in} ${parameter.name} ${kind}`, field: parameter.name, method: upper, path: pathWith(path, pathValues, query), body: goodBody });
        }
        if (parameter.in === "query" && parameter.required) {
            const { [parameter.name]: _missing, ...rest } = goodQuery;
            requests.push({ label: `query ${parameter.name} missing`, field: parameter.name, method: upper, path: pathWith(path, goodPath, rest), body: goodBody });
        }
    }
    if (bodySchema && goodBody) {
        const properties = (bodySchema.properties ?? {}) as Record<string, JsonSchema>;
        const required = (bodySchema.required ?? []) as string[];
        const at = pathWith(path, goodPath, goodQuery);
        for (const [name, schema] of Object.entries(properties)) {
            for (const { kind, value } of badValues(schema, "json", required.includes(name))) {
                requests.push({ label: `body ${name} ${kind}`, field: name, method: upper, path: at, body: { ...goodBody, [name]: value } });
            }
            if (required.includes(name)) {
                const { [name]: _missing, ...rest } = goodBody;
                requests.push({ label: `body ${name} missing`, field: name, method: upper, path: at, body: rest });
            }
        }
        requests.push({ label: "body with an unknown field", field: "unexpected", method: upper, path: at, body: { ...goodBody, unexpected: "field" } });
        requests.push({ label: "body not an object", method: upper, path: at, body: [goodBody] });
    }
    return requests;
}
