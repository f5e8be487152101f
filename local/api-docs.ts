/**
 * The API's description on the local server: `GET /openapi.json` (the OpenAPI document, its server
 * the local URL) and `GET /docs`, a reference page from which a person can send requests to the
 * local API with a bearer token (Swagger UI, served from `node_modules/swagger-ui-dist`). The page
 * fetches nothing off this machine: its scripts and styles come from here, its online validator
 * badge is off, and its Content-Security-Policy lets it reach this server alone.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { API_DESCRIPTION_PATHS, type OpenApiDocument } from "../platform/api/openapi";
import type { GatewayResponse } from "./response";

/** The Swagger UI files the page loads, under `/docs/`: nothing else of the package is served. */
const SWAGGER_UI_FILES: Record<string, string> = {
    "swagger-ui.css": "text/css; charset=utf-8",
    "swagger-ui-bundle.js": "text/javascript; charset=utf-8",
    "favicon-32x32.png": "image/png",
};

/** The page's own script, apart from the page so the policy needs no inline script. */
const INIT_SCRIPT = `window.addEventListener("load", function () {
    window.ui = SwaggerUIBundle({
        url: ${JSON.stringify(API_DESCRIPTION_PATHS.document)},
        dom_id: "#swagger-ui",
        deepLinking: true,
        tryItOutEnabled: true,
        persistAuthorization: false,
        displayOperationId: true,
        validatorUrl: null,
        presets: [SwaggerUIBundle.presets.apis],
        layout: "BaseLayout",
    });
});
`;

const PAGE = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>API reference (local)</title>
<link rel="icon" type="image/png" href="${API_DESCRIPTION_PATHS.docs}/favicon-32x32.png">
<link rel="stylesheet" href="${API_DESCRIPTION_PATHS.docs}/swagger-ui.css">
</head>
<body>
<div id="swagger-ui"></div>
<script src="${API_DESCRIPTION_PATHS.docs}/swagger-ui-bundle.js"></script>
<script src="${API_DESCRIPTION_PATHS.docs}/init.js"></script>
</body>
</html>
`;

/**
 * Only this server, for everything: a font, script, image or request to anywhere else is refused by
 * the browser itself. Swagger UI sets styles inline and draws its icons as data: URLs.
 */
const CONTENT_SECURITY_POLICY = "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; script-src 'self'; connect-src 'self'; frame-ancestors 'none'";

/** Where swagger-ui-dist is installed, or undefined when it is not (a production install without dev dependencies). */
function swaggerUiDir(): string | undefined {
    try {
        return path.dirname(require.resolve("swagger-ui-dist/package.json"));
    } catch {
        return undefined;
    }
}

function send(statusCode: number, contentType: string, body: string | Buffer, extra: Record<string, string> = {}): GatewayResponse {
    return { statusCode, headers: { "content-type": contentType, "cache-control": "no-store", "x-content-type-options": "nosniff", ...extra }, body: Buffer.from(body) };
}

/**
 * The answer to a GET or HEAD of one of the description's paths (`isApiDescriptionPath`):
 * `document(baseUrl)` gives the document for the URL the client reached this server at.
 */
export function apiDescriptionResponse(requestPath: string, baseUrl: string, document: (baseUrl: string) => OpenApiDocument): GatewayResponse {
    if (requestPath === API_DESCRIPTION_PATHS.document) return send(200, "application/json", JSON.stringify(document(baseUrl)), { "access-control-allow-origin": "*" });
    const csp = { "content-security-policy": CONTENT_SECURITY_POLICY };
    if (requestPath === API_DESCRIPTION_PATHS.docs || requestPath === `${API_DESCRIPTION_PATHS.docs}/`) return send(200, "text/html; charset=utf-8", PAGE, csp);
    const file = requestPath.slice(API_DESCRIPTION_PATHS.docs.length + 1);
    if (file === "init.js") return send(200, "text/javascript; charset=utf-8", INIT_SCRIPT);
    if (!Object.hasOwn(SWAGGER_UI_FILES, file)) return send(404, "application/json", JSON.stringify({ message: "Not Found" }));
    const dir = swaggerUiDir();
    if (!dir) return send(503, "application/json", JSON.stringify({ message: "The reference page needs the dev dependencies (swagger-ui-dist): run npm ci." }));
    return send(200, SWAGGER_UI_FILES[file], fs.readFileSync(path.join(dir, file)));
}

/**
 * The base URL a client reached the server at, from its Host header when that names this machine
 * on the server's port (so a page loaded from `localhost` sends its requests to `localhost`, not
 * cross-origin to `127.0.0.1`); else the URL the server listens on.
 */
export function requestBaseUrl(host: string | undefined, listening: string): string {
    const { port } = new URL(listening);
    const match = /^(127\.0\.0\.1|localhost|\[::1\]):(\d+)$/.exec(host ?? "");
    return match && match[2] === port ? `http://${match[1]}:${port}` : listening;
}
