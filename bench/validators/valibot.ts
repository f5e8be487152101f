/** The request's checks in valibot. */
import * as v from "valibot";
import type { Request } from "./requests";

const body = v.strictObject({ email: v.pipe(v.string(), v.trim(), v.email()), name: v.pipe(v.string(), v.trim(), v.minLength(1), v.maxLength(100)) });
const path = v.object({ id: v.pipe(v.string(), v.uuid()) });
const query = v.object({ limit: v.optional(v.pipe(v.string(), v.regex(/^-?\d{1,15}$/), v.transform(Number), v.integer(), v.minValue(1), v.maxValue(100)), "20") });

export function validate(request: Request): boolean {
    return v.safeParse(body, request.body).success && v.safeParse(path, request.path).success && v.safeParse(query, request.query).success;
}
export const handler = validate;
