/**
 * What a container service's image is built from, and the tag it is pushed under: `build-<hash>`,
 * the hash taken over everything the build reads. Pushed tags are immutable (the repository says
 * `IMMUTABLE`) and each build has its own, so the images earlier task definitions run stay
 * tagged, and the lifecycle keeps the last `KEPT_BUILDS` of them for rollbacks.
 *
 * The tag must change whenever `@pulumi/docker-build` would build again, or it would push a second
 * image under a tag that exists and the push would fail. Its diff compares the build's inputs
 * (context and Dockerfile locations, an inline Dockerfile, named contexts, platforms) and a hash
 * of the context's files that `.dockerignore` leaves in (contents, path and mode), the Dockerfile
 * and the named contexts' files. The hash here covers the same: the build's inputs as JSON, then
 * every file of each context that its `.dockerignore` leaves in, with its path and permission bits.
 * It may change when docker-build's does not (then one more build is pushed), never the reverse.
 */
import { createHash } from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import ignore from "@balena/dockerignore";

/** The prefix of every build's tag; the lifecycle counts the images it keeps by it. */
export const BUILD_TAG_PREFIX = "build-";
/** Hex characters of the hash in a tag (64 bits: a collision within one repository is not a concern). */
const TAG_HASH_LENGTH = 16;
/** Builds an image repository keeps, the current one included: the images a rollback may go back to. */
export const KEPT_BUILDS = 10;

/** The build's inputs as `@pulumi/docker-build`'s `Image` takes them (all but tags, push and registries). */
export interface ImageBuild {
    context: { location: string; named?: Record<string, { location: string }> };
    dockerfile: { location: string } | { inline: string };
    platforms: string[];
}

/**
 * The files of a build context that Docker sends (what its `.dockerignore` leaves in), as paths
 * relative to `context` with `/`, sorted. Symbolic links are followed; a link to a folder is not.
 */
export function contextFiles(context: string): string[] {
    const ignoreFile = path.join(context, ".dockerignore");
    const rules = ignore();
    if (fs.existsSync(ignoreFile)) rules.add(fs.readFileSync(ignoreFile, "utf8").split(/\r?\n/));
    const files: string[] = [];
    const walk = (folder: string) => {
        for (const entry of fs.readdirSync(path.join(context, folder), { withFileTypes: true })) {
            const relative = folder ? `${folder}/${entry.name}` : entry.name;
            // Docker matches each file's whole path, so a file may come back in under an ignored folder (`!dir/keep`).
            if (entry.isDirectory()) walk(relative);
            else if ((entry.isFile() || (entry.isSymbolicLink() && fs.statSync(path.join(context, relative)).isFile())) && !rules.ignores(relative)) files.push(relative);
        }
    };
    walk("");
    return files.sort();
}

/** `build-<hash>` for `build`: the same inputs always give the same tag, any change a new one. */
export function buildTag(build: ImageBuild): string {
    const hash = createHash("sha256").update(JSON.stringify(build));
    const contexts = [build.context.location, ...Object.keys(build.context.named ?? {}).sort().map((name) => build.context.named![name].location)];
    for (const context of contexts) {
        hash.update(`\0context\0${context}\0`);
        for (const file of contextFiles(context)) {
            const full = path.join(context, file);
            hash.update(`${file}\0${(fs.statSync(full).mode & 0o777).toString(8)}\0`);
            hash.update(fs.readFileSync(full));
            hash.update("\0");
        }
    }
    if ("location" in build.dockerfile) hash.update(fs.readFileSync(build.dockerfile.location));
    return `${BUILD_TAG_PREFIX}${hash.digest("hex").slice(0, TAG_HASH_LENGTH)}`;
}

/**
 * The repository's lifecycle: the images of builds beyond the last `kept` expire. No rule touches
 * untagged images: every push of the platform is tagged and a tag never moves, so nothing becomes
 * untagged (the platform and attestation manifests of a pushed image index are its children, and
 * ECR counts them with it); a rule that expired untagged images would remove the images of
 * rolled-back deployments whenever a mutable tag moved on.
 */
export function lifecyclePolicy(kept = KEPT_BUILDS): string {
    return JSON.stringify({
        rules: [
            {
                rulePriority: 1,
                description: `Keep the last ${kept} builds (${BUILD_TAG_PREFIX}*)`,
                selection: { tagStatus: "tagged", tagPrefixList: [BUILD_TAG_PREFIX], countType: "imageCountMoreThan", countNumber: kept },
                action: { type: "expire" },
            },
        ],
    });
}
