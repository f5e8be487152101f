/**
 * The docs stay walkable: the README is a landing page of at most 250 lines that links every page
 * under docs/, and every relative link in the README and in docs/ reaches a file that exists (and,
 * for a link to a heading of a Markdown file, a heading that exists), as GitHub renders them.
 */
import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { REPOSITORY_ROOT } from "../../platform/config/stack-files";

/** The most lines the landing README may have. */
const README_MAX_LINES = 250;

/** How many lines a text has, a final newline ending the last one rather than starting another. */
function lineCount(text: string): number {
    return text === "" ? 0 : text.split("\n").length - (text.endsWith("\n") ? 1 : 0);
}

/** Markdown text without its fenced code blocks and inline code spans, where brackets are not links. */
function prose(markdown: string): string {
    return markdown.replace(/^(```|~~~)[^\n]*\n[\s\S]*?^\1[ \t]*$/gm, "").replace(/`[^`\n]*`/g, "");
}

/** The targets of the inline links and images of a Markdown text, in order. */
function linkTargets(markdown: string): string[] {
    return [...prose(markdown).matchAll(/!?\[[^\]]*\]\(\s*<?([^)\s>]+)>?(?:\s+"[^"]*")?\s*\)/g)].map((match) => match[1]);
}

/** The anchors GitHub gives a Markdown file's headings: lower case, punctuation dropped, each space a dash, repeats numbered. */
function headingAnchors(markdown: string): Set<string> {
    const anchors = new Set<string>();
    const seen = new Map<string, number>();
    for (const match of prose(markdown).matchAll(/^#{1,6}[ \t]+(.+?)[ \t#]*$/gm)) {
        const slug = match[1]
            .toLowerCase()
            .replace(/[^\p{L}\p{N}\s_-]/gu, "")
            .replace(/\s/g, "-");
        const count = seen.get(slug) ?? 0;
        seen.set(slug, count + 1);
        anchors.add(count === 0 ? slug : `${slug}-${count}`);
    }
    return anchors;
}

/** The relative links of `files` (paths relative to `root`) that reach no file, or no heading of the Markdown file they name, as `file: target`. */
function brokenLinks(root: string, files: readonly string[]): string[] {
    const broken: string[] = [];
    for (const file of files) {
        const text = fs.readFileSync(path.join(root, file), "utf8");
        for (const target of linkTargets(text)) {
            if (/^[a-z][a-z0-9+.-]*:/i.test(target)) continue; // https:, mailto:: not a file of the repository
            const [pathPart, anchor] = target.split("#", 2) as [string, string | undefined];
            const resolved = pathPart === "" ? path.join(root, file) : path.resolve(path.dirname(path.join(root, file)), decodeURIComponent(pathPart));
            if (!resolved.startsWith(root + path.sep) && resolved !== root) {
                broken.push(`${file}: ${target} (outside the repository)`);
            } else if (!fs.existsSync(resolved)) {
                broken.push(`${file}: ${target}`);
            } else if (anchor !== undefined && resolved.endsWith(".md") && !headingAnchors(fs.readFileSync(resolved, "utf8")).has(anchor)) {
                broken.push(`${file}: ${target} (no such heading)`);
            }
        }
    }
    return broken;
}

/** The pages of `pages` (paths relative to the README's folder) that the README links to nowhere. */
function unlinkedPages(readme: string, pages: readonly string[]): string[] {
    const linked = new Set(linkTargets(readme).map((target) => path.normalize(target.split("#")[0])));
    return pages.filter((page) => !linked.has(path.normalize(page)));
}

/** Every Markdown file under docs/, relative to the repository. */
function docsPages(root: string): string[] {
    return (fs.readdirSync(path.join(root, "docs"), { recursive: true, withFileTypes: true }) as fs.Dirent[])
        .filter((entry) => entry.isFile() && entry.name.endsWith(".md"))
        .map((entry) => path.relative(root, path.join(entry.parentPath, entry.name)))
        .sort();
}

describe("the docs", () => {
    const readme = fs.readFileSync(path.join(REPOSITORY_ROOT, "README.md"), "utf8");
    const pages = docsPages(REPOSITORY_ROOT);

    it(`keeps the README to at most ${README_MAX_LINES} lines`, () => {
        const lines = lineCount(readme);
        assert.ok(lines <= README_MAX_LINES, `README.md has ${lines} lines; move detail into a page under docs/`);
    });

    it("links every page under docs/ from the README", () => {
        assert.ok(pages.length > 0, "docs/ holds pages");
        assert.deepEqual(unlinkedPages(readme, pages), []);
    });

    it("has every relative link of the README and of docs/ reach a file, and a heading where it names one", () => {
        assert.deepEqual(brokenLinks(REPOSITORY_ROOT, ["README.md", ...pages]), []);
    });

    describe("the checks themselves", () => {
        let root: string;
        before(() => {
            // Prepare: a README and a page with good and bad links.
            root = fs.mkdtempSync(path.join(os.tmpdir(), "docs-links-"));
            fs.mkdirSync(path.join(root, "docs"));
            fs.mkdirSync(path.join(root, "examples"));
            fs.writeFileSync(path.join(root, "docs", "a.md"), "# Page A\n\n## Events, queues and schedules\n\n## 1. The service\n\n## Twice\n\n## Twice\n\nBack to [the README](../README.md), [here](#page-a), [examples](../examples).\n");
            fs.writeFileSync(
                path.join(root, "README.md"),
                [
                    "# Title",
                    "[A](docs/a.md), [its events](docs/a.md#events-queues-and-schedules), [one](docs/a.md#1-the-service), [again](docs/a.md#twice-1)",
                    "[gone](docs/gone.md) and [no heading](docs/a.md#nowhere), [web](https://example.com/x.md), [mail](mailto:a@example.com)",
                    "`[not a link](nowhere.md)`",
                    "```md",
                    "[not a link either](nowhere.md)",
                    "```",
                    "[up](../outside.md)",
                    "",
                ].join("\n"),
            );
        });
        after(() => fs.rmSync(root, { recursive: true, force: true }));

        it("finds links outside code only, and reports a missing file, a missing heading and a link out of the repository", () => {
            // Act
            const broken = brokenLinks(root, ["README.md", "docs/a.md"]);
            // Assess
            assert.deepEqual(broken, ["README.md: docs/gone.md", "README.md: docs/a.md#nowhere (no such heading)", "README.md: ../outside.md (outside the repository)"]);
        });

        it("makes GitHub's heading anchors", () => {
            assert.deepEqual([...headingAnchors(fs.readFileSync(path.join(root, "docs", "a.md"), "utf8"))], ["page-a", "events-queues-and-schedules", "1-the-service", "twice", "twice-1"]);
        });

        it("counts lines as an editor shows them", () => {
            assert.deepEqual([lineCount("a\n".repeat(README_MAX_LINES + 1)), lineCount("a\nb"), lineCount("")], [README_MAX_LINES + 1, 2, 0]);
        });

        it("reports a page the README does not link", () => {
            const readmeText = fs.readFileSync(path.join(root, "README.md"), "utf8");
            assert.deepEqual(unlinkedPages(readmeText, ["docs/a.md", "docs/b.md"]), ["docs/b.md"]);
        });
    });
});
