/**
 * A function's code: its serialized closure bundled with the packages it loads into one file that
 * names them, and the closures that cannot become code refused with a message naming the function.
 */
import * as assert from "node:assert/strict";
import * as os from "node:os";
import * as pulumi from "@pulumi/pulumi";
import * as pg from "pg";
import { defineService } from "../../functions/runtime/service";
import { bundledPackagesOf, bundleTarget, functionCode, functionSource, HANDLER_FILE, identifiedCode, LAMBDA_HANDLER } from "../../infra/function-packaging";
import { runProgramOffline } from "../../tools/offline";
import { archiveFiles } from "../../testing/lambda/archive";

describe("function code: one bundled file per function", function () {
    this.timeout(30_000);

    it("bundles a closure with the packages it loads, naming them (with versions) on the first line", async () => {
        // Prepare
        const factory = () => {
            const pool = new pg.Pool({ max: 1 });
            return async () => (await pool.query("SELECT 1 AS one")).rows;
        };
        // Act
        const source = await functionSource("uses-pg", factory);
        // Assess
        const packages = bundledPackagesOf(source);
        assert.ok(packages.includes(`pg@${require("pg/package.json").version}`), packages.join(", "));
        assert.ok(packages.some((spec) => spec.startsWith("pg-pool@")), packages.join(", "));
        assert.doesNotMatch(source, /require\("pg"\)/, "pg is bundled, not left for the runtime to find");
        assert.match(source, /SELECT 1 AS one/);
        assert.match(source, /exports\.handler=/);
    });

    it("resolves packages from the project, whatever the working directory the program runs in", async () => {
        // Prepare
        const factory = () => async () => new pg.Client().port;
        const cwd = process.cwd();
        process.chdir(os.tmpdir());
        // Act
        let source: string;
        try {
            source = await functionSource("elsewhere", factory);
        } finally {
            process.chdir(cwd);
        }
        // Assess
        assert.ok(bundledPackagesOf(source).some((spec) => spec.startsWith("pg@")));
    });

    it("bundles no package into a closure that loads none", async () => {
        const source = await functionSource("plain", () => async () => ({ statusCode: 204 }));
        assert.deepEqual(bundledPackagesOf(source), []);
    });

    it("gives the function an archive holding __index.js alone, and the handler __index.handler", async () => {
        // Prepare, Act
        const { code, handler } = functionCode("plain", () => async () => ({ statusCode: 204 }));
        const files = await archiveFiles(await code);
        // Assess
        assert.equal(handler, LAMBDA_HANDLER);
        assert.deepEqual(
            files.map((file) => file.path),
            [HANDLER_FILE],
        );
    });

    it("refuses a closure that uses a Pulumi value at run time, naming the function", async () => {
        const factory = () => async () => pulumi.output(1);
        await assert.rejects(functionSource("touches-pulumi", factory), /^Error: Function "touches-pulumi": bundling its code failed: the code loads "@pulumi\/pulumi": a handler must not use Pulumi values at run time/);
    });

    it("refuses a closure that captures a secret, which would sit in the archive in plain text", async () => {
        const password = pulumi.secret("hunter2");
        const factory = () => async () => password;
        await assert.rejects(functionSource("captures-secret", factory), /^Error: Function "captures-secret": its closure cannot be serialized: Secret outputs cannot be captured by a closure\. Read secrets at run time/);
    });

    it("names a package the closure loads that is not installed", async () => {
        const factory = () => async () => require("a-package-nobody-installed");
        await assert.rejects(functionSource("needs-missing", factory), /^Error: Function "needs-missing": bundling its code failed: Could not resolve "a-package-nobody-installed"/);
    });

    it("fails the program run on a route whose closure cannot become code, naming its function", async () => {
        // Prepare
        const leaky = defineService({
            name: "leaky",
            description: "Reads a Pulumi value in its handler.",
            database: false,
            routes: { "GET /leaky": { description: "Leaks", handler: async () => ({ stack: pulumi.getStack() }) } },
        });
        // Act, Assess
        await assert.rejects(runProgramOffline({ stack: "dev", services: [leaky] }), /Function "leaky-get-leaky": bundling its code failed: the code loads "@pulumi\/pulumi"/);
    });

    it("serializes factories made from the same determinants once (by value for data, by identity for functions), and others anew", async () => {
        // Prepare: two factories whose closures differ, identified by the same determinants; the
        // text of the second is the first's, which shows it was not serialized again.
        const entry = (greeting: string) => () => greeting;
        const first = identifiedCode(() => entry("first"), entry, { service: "greeter", use: { database: false } });
        const sameByValue = identifiedCode(() => entry("second"), entry, { service: "greeter", use: { database: false } });
        const otherData = identifiedCode(() => entry("third"), entry, { service: "greeter", use: { database: true } });
        const otherFunction = identifiedCode(() => entry("fourth"), (greeting: string) => () => greeting, { service: "greeter", use: { database: false } });
        const unidentified = () => entry("fifth");
        // Act
        const [one, two, three, four, five] = await Promise.all([first, sameByValue, otherData, otherFunction, unidentified].map((factory, i) => functionSource(`f${i}`, factory)));
        // Assess
        assert.match(one, /"first"/);
        assert.equal(two, one, "same determinants: the first serialization's text");
        assert.match(three, /"third"/, "another value in the determinants");
        assert.match(four, /"fourth"/, "another function in the determinants");
        assert.match(five, /"fifth"/, "a factory without determinants is always serialized");
    });

    it("targets the pinned runtime's Node (nodejs24.x -> node24) and refuses a runtime that is not Node.js", () => {
        assert.equal(bundleTarget("nodejs24.x"), "node24");
        assert.equal(bundleTarget(), "node24");
        assert.throws(() => bundleTarget("python3.13"), /Lambda runtime "python3.13" is not a Node.js runtime/);
    });

    it("reads no package list from a file that has no banner", () => {
        assert.throws(() => bundledPackagesOf("exports.handler = async () => 1;\n"), /__index\.js does not start with "\/\/ Bundled packages:"/);
    });
});
