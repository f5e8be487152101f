/**
 * `npm run openapi`: arguments refused with exit 2, the document printed or written, and the
 * committed generated files (platform/api/generated/) kept what the registry gives.
 */
import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { services } from "../../infra/services";
import { generatedFiles, main, REGENERATE_COMMAND } from "../../tools/openapi";
import { describedService } from "../../testing/fixtures/described-service";
import { openApiProblems } from "../../testing/openapi";

async function run(argv: string[], registry = services) {
    const out: string[] = [];
    const err: string[] = [];
    const code = await main(argv, { out: (text) => out.push(text), err: (text) => err.push(text), services: registry });
    return { code, out: out.join("\n"), err: err.join("\n") };
}

describe("npm run openapi", function () {
    this.timeout(60_000);

    for (const [argv, message] of [
        [[], /--stack is required/],
        [["--stack"], /--stack needs a value/],
        [["--stack", "dev", "--verbose"], /unknown argument --verbose/],
        [["--stack", "dev", "--local", "127.0.0.1:3000"], /--local "127.0.0.1:3000" is not a URL/],
        [["--stack", "dev", "--local", "ftp://127.0.0.1:3000"], /must be an http\(s\) base URL/],
        [["--stack", "dev", "--local", "http://127.0.0.1:3000/api"], /without a path/],
        [["--write", "--stack", "dev"], /--write takes no --stack/],
        [["--check"], /--check goes with --write/],
    ] as const) {
        it(`refuses ${JSON.stringify(argv)} with exit 2 and the usage`, async () => {
            const result = await run([...argv]);
            assert.equal(result.code, 2);
            assert.match(result.err, message);
            assert.match(result.err, /usage: npm run openapi/);
            assert.equal(result.out, "");
        });
    }

    it("refuses a stack that has no settings with exit 2, naming it", async () => {
        const result = await run(["--stack", "nowhere"]);
        assert.equal(result.code, 2);
        assert.match(result.err, /openapi failed: .*"nowhere"/);
    });

    it("refuses a registry the program refuses, naming the service, with exit 2", async () => {
        const result = await run(["--stack", "dev"], [{ ...describedService, name: "Bad Name" } as never]);
        assert.equal(result.code, 2);
        assert.match(result.err, /Bad Name/);
    });

    it("prints a valid OpenAPI 3.1 document of the stack, with the local URL as its server under --local", async () => {
        const result = await run(["--stack", "dev", "--local", "http://127.0.0.1:3999"]);
        assert.equal(result.code, 0, result.err);
        const document = JSON.parse(result.out);
        assert.deepEqual(await openApiProblems(document), []);
        assert.deepEqual(document.servers, [{ url: "http://127.0.0.1:3999", description: "The local runtime (npm start)." }]);
        assert.equal(document.components.securitySchemes.jwt["x-issuer"], "local-issuer");
    });

    it("writes the document to --out instead of printing it", async () => {
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "openapi-"));
        try {
            const file = path.join(dir, "api.json");
            const result = await run(["--stack", "prod", "--out", file]);
            assert.equal(result.code, 0, result.err);
            assert.equal(result.out, "");
            assert.equal(JSON.parse(fs.readFileSync(file, "utf8")).openapi, "3.1.0");
        } finally {
            fs.rmSync(dir, { recursive: true, force: true });
        }
    });

    describe("the committed generated files", () => {
        it("are what the registry gives now (else: run the command it names)", async () => {
            for (const [file, text] of await generatedFiles()) {
                assert.ok(fs.existsSync(file), `${path.relative(process.cwd(), file)} is missing: run ${REGENERATE_COMMAND}`);
                assert.ok(fs.readFileSync(file, "utf8") === text, `${path.relative(process.cwd(), file)} is not what the registry gives: run ${REGENERATE_COMMAND}`);
            }
        });

        it("--write --check passes on them, and fails with the command to run when the registry differs", async () => {
            const fresh = await run(["--write", "--check"]);
            assert.equal(fresh.code, 0, fresh.err);
            const changed = await run(["--write", "--check"], [...services, describedService]);
            assert.equal(changed.code, 1);
            assert.match(changed.err, /platform\/api\/generated\/dev\.openapi\.json, platform\/api\/generated\/dev\.d\.ts/);
            assert.match(changed.err, new RegExp(`run ${REGENERATE_COMMAND}`));
        });
    });
});
