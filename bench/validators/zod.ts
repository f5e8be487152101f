/** The request's checks in zod 4's tree-shakable build, `zod/mini`. */
import { z } from "zod/mini";
import type { Request } from "./requests";

const body = z.strictObject({ email: z.email(), name: z.string().check(z.trim(), z.minLength(1), z.maxLength(100)) });
const path = z.object({ id: z.uuid() });
const query = z.object({ limit: z._default(z.pipe(z.string().check(z.regex(/^-?\d{1,15}$/)), z.pipe(z.transform(Number), z.int().check(z.minimum(1), z.maximum(100)))), 20) });

export function validate(request: Request): boolean {
    return body.safeParse(request.body).success && path.safeParse(request.path).success && query.safeParse(request.query).success;
}
export const handler = validate;
