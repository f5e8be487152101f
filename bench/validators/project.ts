/** The request's checks with this project's `functions/runtime/validate.ts` (on valibot). */
import { checkShape, email, integer, optional, text, uuid } from "../../functions/runtime/validate";
import type { Request } from "./requests";

const shapes = { body: { email: email(), name: text({ max: 100 }) }, path: { id: uuid() }, query: { limit: optional(integer({ min: 1, max: 100 }), 20) } };

export function validate(request: Request): boolean {
    const body = request.body as Record<string, unknown>;
    const unknownField = Object.keys(body).some((key) => !Object.hasOwn(shapes.body, key));
    const outcomes = [checkShape(body, shapes.body, "json"), checkShape(request.path, shapes.path, "text"), checkShape(request.query, shapes.query, "text")];
    return !unknownField && outcomes.every((outcome) => outcome.ok);
}
export const handler = validate;
