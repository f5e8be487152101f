/** The request's checks in TypeBox 1.x: the schemas are JSON Schema, compiled; the query's integer is read from its digits first. */
import Type from "typebox";
import { Compile } from "typebox/compile";
import type { Request } from "./requests";

const body = Compile(Type.Object({ email: Type.String({ format: "email" }), name: Type.String({ minLength: 1, maxLength: 100 }) }, { additionalProperties: false }));
const path = Compile(Type.Object({ id: Type.String({ format: "uuid" }) }));
const query = Compile(Type.Object({ limit: Type.Optional(Type.String({ pattern: "^-?\\d{1,15}$" })) }));
const limit = Compile(Type.Integer({ minimum: 1, maximum: 100 }));

export function validate(request: Request): boolean {
    if (!body.Check(request.body) || !path.Check(request.path) || !query.Check(request.query)) return false;
    return limit.Check(request.query.limit === undefined ? 20 : Number(request.query.limit));
}
export const handler = validate;
