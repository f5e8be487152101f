/**
 * The request every candidate checks: a JSON body `{ email, name }` (closed), a UUID path
 * parameter `id`, a query parameter `limit`, an integer 1-100 from its digits, 20 when absent.
 */
export interface Request {
    body: unknown;
    path: Record<string, string>;
    query: Record<string, string>;
}

export const VALID: Request[] = [
    { body: { email: "Ada@Example.com", name: "Ada Lovelace" }, path: { id: "00000000-0000-4000-8000-000000000000" }, query: { limit: "5" } },
    { body: { email: "grace@example.com", name: "Grace" }, path: { id: "00000000-0000-4000-8000-000000000001" }, query: {} },
];
export const INVALID: Request[] = [
    { body: { email: "nope", name: "", admin: true }, path: { id: "42" }, query: { limit: "1e3" } },
    { body: { email: "ada@example.com", name: "Ada" }, path: { id: "00000000-0000-4000-8000-000000000000" }, query: { limit: "0" } },
];
