/**
 * What a standard OpenAPI validator (`@seriousme/openapi-schema-validator`, against the OpenAPI
 * Initiative's published 3.1 schema) says of a document: nothing when it is valid.
 */
import { Validator } from "@seriousme/openapi-schema-validator";

export async function openApiProblems(document: unknown): Promise<string[]> {
    // A fresh validator per document: it keeps the last document it validated.
    const validator = new Validator();
    const result = await validator.validate(structuredClone(document) as never);
    if (result.valid) return [];
    const errors = Array.isArray(result.errors) ? result.errors : [result.errors];
    return errors.map((error) => (typeof error === "string" ? error : JSON.stringify(error)));
}

/** The OpenAPI version the validator took the document for (`3.1` for ours). */
export async function openApiVersion(document: unknown): Promise<string | undefined> {
    const validator = new Validator();
    await validator.validate(structuredClone(document) as never);
    return validator.version;
}
