/**
 * The local runtime's data folder is shared: PostgreSQL's files (written by the "postgres" user when
 * run as root) and the local issuer's key (private to the developer). Creating one must not lock
 * the other out — on a fresh clone the key is created first.
 */
import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { loadOrCreateSigningKey } from "../../local/issuer";
import { assertReachableByPostgresUser } from "../../local/postgres";

describe("local data folders", () => {
    let root: string;
    beforeEach(() => {
        root = fs.mkdtempSync(path.join(os.tmpdir(), "data-folders-"));
        fs.chmodSync(root, 0o755);
    });
    afterEach(() => fs.rmSync(root, { recursive: true, force: true }));

    it("keeps the signing key private without making .data private", async () => {
        // Prepare
        const data = path.join(root, ".data");
        // Act
        await loadOrCreateSigningKey(path.join(data, "jwt"));
        // Assess
        assert.equal(fs.statSync(path.join(data, "jwt")).mode & 0o777, 0o700);
        assert.equal(fs.statSync(data).mode & 0o005, 0o005, ".data must stay enterable by other users");
        assert.doesNotThrow(() => assertReachableByPostgresUser(data));
    });

    it("names the folder PostgreSQL cannot enter when started as root", function () {
        if (process.getuid?.() !== 0) this.skip(); // only root hands the server to another user
        const locked = path.join(root, "locked");
        fs.mkdirSync(locked, { mode: 0o700 });
        assert.throws(() => assertReachableByPostgresUser(path.join(locked)), new RegExp(`cannot enter ${locked} \\(mode 700\\)`));
    });
});
