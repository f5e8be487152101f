/**
 * The API's description on the local runtime: `GET /openapi.json` (the document, its server the
 * URL the client used) and the `/docs` reference page, in a real headless Chromium: the page lists
 * every operation of the document, sends a request with a bearer token through its own UI, and
 * asks nothing of any host but this one.
 */
import * as assert from "node:assert/strict";
import type { Browser, Page } from "playwright-core";
import auth from "../../functions/auth/service";
import users from "../../functions/users/service";
import { describedService } from "../../testing/fixtures/described-service";
import { launchChromium } from "../../testing/browser";
import { api, request, startTestRuntime, type TestRuntime } from "../../testing/local-runtime";
import { openApiProblems } from "../../testing/openapi";

/** True for a URL on this machine's loopback (or a data:/blob: URL, which goes nowhere). */
function isLocal(url: string): boolean {
    const { protocol, hostname } = new URL(url);
    return protocol === "data:" || protocol === "blob:" || hostname === "127.0.0.1" || hostname === "localhost" || hostname === "[::1]";
}

describe("e2e: the API's description on the local runtime", function () {
    this.timeout(120_000);
    let t: TestRuntime;

    before(async () => {
        t = await startTestRuntime([auth, users, describedService]);
    });
    after(async () => {
        await t?.stop();
    });

    describe("GET /openapi.json", () => {
        it("answers the valid OpenAPI 3.1 document of the routes it serves, its server the URL the client used", async () => {
            const response = await api(t.url).get("/openapi.json");
            assert.equal(response.status, 200);
            assert.match(String(response.headers["content-type"]), /^application\/json/);
            assert.deepEqual(await openApiProblems(response.json), []);
            assert.deepEqual(response.json.servers, [{ url: t.url, description: "The local runtime (npm start)." }]);
            const served = t.runtime.registry.apiRoutes.map((route) => `${route.method} ${route.path}`);
            assert.deepEqual(new Set(Object.values(response.json.paths).flatMap((item: any) => Object.values(item).map((op: any) => op["x-route-key"].replace(/ \(\w+\)$/, "")))), new Set(served));
            assert.equal(response.json.components.securitySchemes.jwt["x-issuer"], "local-issuer");
        });

        it("names localhost as the server to a client that came through localhost", async () => {
            const port = new URL(t.url).port;
            const response = await request(t.url, { path: "/openapi.json", headers: { host: `localhost:${port}` } });
            assert.deepEqual(response.json.servers.map((server: { url: string }) => server.url), [`http://localhost:${port}`]);
            // Any other Host header gets the address the server listens on, never the header's.
            const elsewhere = await request(t.url, { path: "/openapi.json", headers: { host: "evil.example" } });
            assert.deepEqual(elsewhere.json.servers.map((server: { url: string }) => server.url), [t.url]);
        });

        it("answers only GET and HEAD: a POST gets the gateway's 404 like any path without a route", async () => {
            assert.equal((await request(t.url, { method: "HEAD", path: "/openapi.json" })).status, 200);
            const post = await request(t.url, { method: "POST", path: "/openapi.json", body: {} });
            assert.deepEqual([post.status, post.json], [404, { message: "Not Found" }]);
        });
    });

    describe("GET /docs", () => {
        it("serves the page with a policy that lets it reach this server alone, and only the reference page's own files", async () => {
            const page = await api(t.url).get("/docs");
            assert.equal(page.status, 200);
            assert.match(String(page.headers["content-type"]), /^text\/html/);
            assert.match(String(page.headers["content-security-policy"]), /default-src 'self'/);
            assert.doesNotMatch(page.text, /https?:\/\//);
            assert.equal((await api(t.url).get("/docs/swagger-ui-bundle.js")).status, 200);
            assert.equal((await api(t.url).get("/docs/package.json")).status, 404);
            assert.equal((await api(t.url).get("/docs/../package.json")).status, 404);
        });

        describe("in headless Chromium", () => {
            let browser: Browser;
            let page: Page;
            const offHost: string[] = [];
            const requested: { url: string; method: string; authorization?: string }[] = [];

            /** Every request `page` makes passes here: one to another host is recorded and refused. */
            const recordRequests = (on: Page, seen: typeof requested, refused: string[]) =>
                on.route("**/*", async (route) => {
                    const sent = route.request();
                    seen.push({ url: sent.url(), method: sent.method(), authorization: (await sent.allHeaders()).authorization });
                    if (isLocal(sent.url())) await route.continue();
                    else {
                        refused.push(sent.url());
                        await route.abort();
                    }
                });

            before(async () => {
                browser = await launchChromium();
                page = await browser.newPage();
                await recordRequests(page, requested, offHost);
                await page.goto(`${t.url}/docs`);
                await page.locator(".opblock").first().waitFor();
            });
            after(async () => {
                await browser?.close();
            });

            it("lists every operation of the document", async () => {
                const document = (await api(t.url).get("/openapi.json")).json;
                const expected = Object.entries(document.paths).flatMap(([path, item]) => Object.keys(item as object).map((method) => `${method.toUpperCase()} ${path}`));
                const listed = await page.locator(".opblock .opblock-summary").evaluateAll((summaries) =>
                    summaries.map((summary) => `${summary.querySelector(".opblock-summary-method")?.textContent?.trim()} ${summary.querySelector(".opblock-summary-path")?.getAttribute("data-path")}`),
                );
                assert.deepEqual([...listed].sort(), [...expected].sort());
            });

            it("sends a request with a bearer token through its own UI and shows the answer", async () => {
                // Prepare: a token with the route's scope, given through the Authorize dialog.
                const token = await t.token({ sub: "docs-reader", scopes: ["things:read"] });
                await page.locator("button.authorize").first().click();
                await page.locator(".modal-ux input").first().fill(token);
                await page.locator(".modal-ux button.authorize").click();
                await page.locator(".modal-ux button.btn-done").click();
                // Act: GET /things/{id} with an id and a query parameter, then Execute.
                const operation = page.locator(".opblock-get", { has: page.locator('.opblock-summary-path[data-path="/things/{id}"]') });
                await operation.locator(".opblock-summary").click();
                await operation.locator('tr[data-param-name="id"] input').fill("6f1c1f57-4bd0-4c8b-9a43-8f3f0f0e2a11");
                await operation.locator('tr[data-param-name="limit"] input').fill("3");
                await operation.locator("button.execute").click();
                // Assess: the page shows the handler's answer, and the request carried the token.
                const status = operation.locator(".live-responses-table .response .response-col_status").first();
                await status.waitFor();
                assert.equal((await status.textContent())?.trim(), "200");
                assert.match((await operation.locator(".live-responses-table .response .response-col_description").first().textContent()) ?? "", /thing 6f1c1f57 x3/);
                const sent = requested.find((entry) => entry.url.startsWith(`${t.url}/things/`));
                assert.deepEqual(sent, { url: `${t.url}/things/6f1c1f57-4bd0-4c8b-9a43-8f3f0f0e2a11?limit=3`, method: "GET", authorization: `Bearer ${token}` });
            });

            it("would see a request to another host (the recorder the next check relies on)", async () => {
                const other = await browser.newPage();
                const refused: string[] = [];
                await recordRequests(other, [], refused);
                await other.goto(`${t.url}/openapi.json`);
                await other.evaluate(() => fetch("https://fonts.example.com/font.woff2").catch(() => undefined));
                await other.close();
                assert.deepEqual(refused, ["https://fonts.example.com/font.woff2"]);
            });

            it("asked nothing of any host but this one (scripts, styles, fonts, validators)", () => {
                assert.ok(requested.length >= 4, `the page's own requests were seen: ${requested.map((entry) => entry.url).join(", ")}`);
                assert.deepEqual(offHost, []);
            });
        });
    });
});
