/**
 * The tag a container image is pushed under, `build-<hash>`, over what the build reads: the same
 * context always gives the same tag, and every change docker-build would build again for (a
 * file's bytes, its name, its mode, the Dockerfile, a named context, an input) gives a new one;
 * what `.dockerignore` leaves out changes nothing.
 */
import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { buildTag, contextFiles, type ImageBuild } from "../../infra/image-build";

describe("image build tags", () => {
    let root: string;
    let context: string;
    let named: string;
    const build = (): ImageBuild => ({ context: { location: context }, dockerfile: { location: path.join(context, "Dockerfile") }, platforms: ["linux/arm64"] });

    beforeEach(() => {
        // Prepare: a context with a .dockerignore that leaves everything out but the server and its lib folder.
        root = fs.mkdtempSync(path.join(os.tmpdir(), "image-build-"));
        context = path.join(root, "service");
        named = path.join(root, "named");
        fs.mkdirSync(path.join(context, "lib"), { recursive: true });
        fs.mkdirSync(path.join(context, "notes"), { recursive: true });
        fs.mkdirSync(named);
        fs.writeFileSync(path.join(context, "Dockerfile"), 'FROM node:24-alpine\nCOPY server.mjs lib ./\nUSER node\nCMD ["node", "server.mjs"]\n');
        fs.writeFileSync(path.join(context, ".dockerignore"), "*\n!server.mjs\n!lib\nlib/*.test.mjs\n");
        fs.writeFileSync(path.join(context, "server.mjs"), "console.log('hello');\n");
        fs.writeFileSync(path.join(context, "lib", "util.mjs"), "export const one = 1;\n");
        fs.writeFileSync(path.join(context, "lib", "util.test.mjs"), "// a test\n");
        fs.writeFileSync(path.join(context, "notes", "todo.md"), "- nothing\n");
        fs.writeFileSync(path.join(named, "bundle.pem"), "certificate\n");
    });
    afterEach(() => fs.rmSync(root, { recursive: true }));

    it("takes the files Docker sends: what .dockerignore leaves in, exceptions included", () => {
        // Act, Assess
        assert.deepEqual(contextFiles(context), ["lib/util.mjs", "server.mjs"]);
    });

    it("gives the same context the same tag, build-<16 hex>", () => {
        // Act
        const [first, second] = [buildTag(build()), buildTag(build())];
        // Assess
        assert.equal(first, second);
        assert.match(first, /^build-[0-9a-f]{16}$/);
    });

    it("gives a new tag when one byte of a file the build sends changes", () => {
        // Prepare
        const before = buildTag(build());
        // Act
        fs.writeFileSync(path.join(context, "server.mjs"), "console.log('hellp');\n");
        // Assess
        assert.notEqual(buildTag(build()), before);
    });

    it("keeps the tag when a file .dockerignore leaves out changes", () => {
        // Prepare
        const before = buildTag(build());
        // Act
        fs.writeFileSync(path.join(context, "notes", "todo.md"), "- everything\n");
        fs.writeFileSync(path.join(context, "lib", "util.test.mjs"), "// another test\n");
        // Assess
        assert.equal(buildTag(build()), before);
    });

    const changes: Array<[string, () => ImageBuild | void]> = [
        ["a file is renamed", () => fs.renameSync(path.join(context, "lib", "util.mjs"), path.join(context, "lib", "utils.mjs"))],
        ["a file's mode changes", () => fs.chmodSync(path.join(context, "server.mjs"), 0o755)],
        ["the Dockerfile changes", () => fs.appendFileSync(path.join(context, "Dockerfile"), "EXPOSE 8080\n")],
        ["the platform changes", () => ({ ...build(), platforms: ["linux/amd64"] })],
        ["an inline Dockerfile changes", () => ({ ...build(), dockerfile: { inline: "FROM node:24-alpine\nUSER node\n" } })],
        ["a named context is added", () => ({ ...build(), context: { location: context, named: { extra: { location: named } } } })],
    ];
    for (const [what, change] of changes) {
        it(`gives a new tag when ${what}`, () => {
            // Prepare
            const before = buildTag(build());
            // Act
            const changed = change() ?? build();
            // Assess
            assert.notEqual(buildTag(changed), before);
        });
    }

    it("gives a new tag when a file of a named context changes", () => {
        // Prepare
        const withNamed = (): ImageBuild => ({ ...build(), context: { location: context, named: { extra: { location: named } } } });
        const before = buildTag(withNamed());
        // Act
        fs.writeFileSync(path.join(named, "bundle.pem"), "certificatf\n");
        // Assess
        assert.notEqual(buildTag(withNamed()), before);
    });
});
