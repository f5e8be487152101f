/**
 * A typed client of the API: paths, parameters and bodies checked at compile time against the
 * generated types (`generated/<stack>.d.ts`, from the OpenAPI document by `npm run openapi --
 * --write`), sent by `openapi-fetch`. For tests, tools, another service or a front end; never
 * inside a function's archive.
 *
 * @example
 * const api = createApiClient("http://127.0.0.1:3000", token);
 * const { data, error } = await api.GET("/users/{id}", { params: { path: { id } } });
 */
import createClient, { type Client, type ClientOptions } from "openapi-fetch";
import type { paths } from "./generated/dev";
import type { paths as serviceModulePaths } from "./generated/service-modules";

/** The routes of the registry as the dev stack serves them. */
export type ApiPaths = paths;

/** The routes of every service module under `functions/`, registered or not: for tests that serve the modules themselves. */
export type ServiceModulePaths = serviceModulePaths;

/**
 * A client of the API at `baseUrl`, sending `token` (a JWT) as its bearer token when given.
 * `options` are openapi-fetch's (headers, a fetch of its own, ...).
 */
export function createApiClient<Paths extends {} = ApiPaths>(baseUrl: string, token?: string, options: Omit<ClientOptions, "baseUrl"> = {}): Client<Paths> {
    const headers = { ...(token ? { authorization: `Bearer ${token}` } : {}), ...(options.headers as Record<string, string> | undefined) };
    return createClient<Paths>({ ...options, baseUrl, headers });
}
