/**
 * Function bundles kept between processes (`FUNCTION_BUNDLE_CACHE`, infra/bundle-cache.ts): a kept
 * bundle is handed out again only while every file it was made from is unchanged; a changed entry
 * or a changed file it requires is bundled afresh; without the setting nothing is kept.
 */
import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { BUNDLE_CACHE_VARIABLE } from "../../infra/bundle-cache";
import { bundle } from "../../infra/function-packaging";

describe("function bundles kept between processes", () => {
    let work: string;
    let cache: string;
    let entry: string;
    let setting: string | undefined;

    beforeEach(() => {
        // Prepare: an entry that requires a file beside it, and an empty cache folder in use.
        work = fs.mkdtempSync(path.join(os.tmpdir(), "bundle-cache-"));
        cache = path.join(work, "cache");
        entry = path.join(work, "entry.js");
        fs.writeFileSync(entry, 'module.exports = require("./greeting");\n');
        fs.writeFileSync(path.join(work, "greeting.js"), 'module.exports = "first greeting";\n');
        setting = process.env[BUNDLE_CACHE_VARIABLE];
        process.env[BUNDLE_CACHE_VARIABLE] = cache;
    });
    afterEach(() => {
        if (setting === undefined) delete process.env[BUNDLE_CACHE_VARIABLE];
        else process.env[BUNDLE_CACHE_VARIABLE] = setting;
        fs.rmSync(work, { recursive: true, force: true });
    });

    /** Marks every kept bundle's text, so that a bundle handed out from the cache shows it. */
    const markKept = () => {
        for (const file of fs.readdirSync(cache)) {
            const kept = JSON.parse(fs.readFileSync(path.join(cache, file), "utf8"));
            fs.writeFileSync(path.join(cache, file), JSON.stringify({ ...kept, text: `${kept.text}/* from the cache */` }));
        }
    };

    it("hands out the kept bundle while the entry and the files it requires are unchanged", async () => {
        // Act
        const first = await bundle({ file: entry });
        markKept();
        const again = await bundle({ file: entry });
        // Assess
        assert.match(first.text, /first greeting/);
        assert.equal(again.text, `${first.text}/* from the cache */`);
        assert.deepEqual(again.packages, first.packages);
    });

    it("bundles afresh when a file the entry requires changed, and when the entry changed", async () => {
        // Prepare
        await bundle({ file: entry });
        markKept();
        // Act: a required file changes.
        fs.writeFileSync(path.join(work, "greeting.js"), 'module.exports = "second greeting";\n');
        const afterDependency = await bundle({ file: entry });
        // Act: the entry changes.
        fs.writeFileSync(entry, 'module.exports = require("./greeting") + " and more";\n');
        const afterEntry = await bundle({ file: entry });
        // Assess
        assert.match(afterDependency.text, /second greeting/);
        assert.doesNotMatch(afterDependency.text, /from the cache/);
        assert.match(afterEntry.text, /and more/);
        assert.doesNotMatch(afterEntry.text, /from the cache/);
    });

    it("keeps nothing when no cache folder is set", async () => {
        // Prepare
        delete process.env[BUNDLE_CACHE_VARIABLE];
        // Act
        await bundle({ file: entry });
        // Assess
        assert.equal(fs.existsSync(cache), false);
    });
});
