/**
 * `npm run token` (tools/token.ts): the flags, what it prints, its errors, and that the runtime's
 * authorizer accepts what it mints.
 */
import * as assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { createAuthorizerFor } from "../../local/authorizer";
import { LOCAL_AUDIENCE, LOCAL_ISSUER } from "../../local/issuer";
import { REPOSITORY_ROOT } from "../../local/stack-config";
import { main } from "../../tools/token";

function payloadOf(token: string): Record<string, any> {
    return JSON.parse(Buffer.from(token.split(".")[1], "base64url").toString("utf8"));
}

describe("tools/token.ts (npm run token)", () => {
    let root: string;
    let dir: string;

    before(() => {
        root = fs.mkdtempSync(path.join(os.tmpdir(), "token-cli-"));
        dir = path.join(root, "jwt");
    });
    after(() => fs.rmSync(root, { recursive: true, force: true }));

    /** Runs main(argv) with captured output. */
    async function run(argv: string[], env: NodeJS.ProcessEnv = {}): Promise<{ code: number; out: string[]; err: string[] }> {
        const out: string[] = [];
        const err: string[] = [];
        const code = await main(argv, { out: (line) => out.push(line), err: (line) => err.push(line), env });
        return { code, out, err };
    }

    it("prints one token and nothing else, creating the key on first use", async () => {
        assert.equal(fs.existsSync(dir), false);
        const { code, out, err } = await run(["--sub", "ada", "--dir", dir]);
        assert.equal(code, 0);
        assert.deepEqual(err, []);
        assert.equal(out.length, 1);
        assert.match(out[0], /^[\w-]+\.[\w-]+\.[\w-]+$/);
        assert.ok(fs.existsSync(path.join(dir, "signing-key.jwk.json")));
        const payload = payloadOf(out[0]);
        assert.equal(payload.sub, "ada");
        assert.equal(payload.iss, LOCAL_ISSUER);
        assert.equal(payload.aud, LOCAL_AUDIENCE);
        assert.equal(payload.exp - payload.iat, 3600, "an hour by default");
        assert.equal("scope" in payload, false);
        assert.equal(typeof payload.jti, "string");
    });

    it("takes scopes (repeated, or space/comma separated), a lifetime, audiences and extra claims", async () => {
        const { code, out } = await run([
            "--sub=grace",
            "--scope", "users:admin",
            "--scope", "a b,c",
            "--expires", "15m",
            "--audience", "x",
            "--audience=y",
            "--claim", "email=grace@example.com",
            "--claim", "level=42",
            "--claim", 'groups=["admins"]',
            "--claim", "note=a=b",
            "--dir", dir,
        ]);
        assert.equal(code, 0);
        const payload = payloadOf(out[0]);
        assert.equal(payload.sub, "grace");
        assert.equal(payload.scope, "users:admin a b c");
        assert.equal(payload.exp - payload.iat, 900);
        assert.deepEqual(payload.aud, ["x", "y"]);
        assert.equal(payload.email, "grace@example.com");
        assert.equal(payload.level, 42);
        assert.deepEqual(payload.groups, ["admins"]);
        assert.equal(payload.note, "a=b");
    });

    it("mints a verified email with --email: the email and email_verified claims an ID token carries", async () => {
        const { code, out } = await run(["--sub", "carol", "--email", "carol@example.com", "--dir", dir]);
        assert.equal(code, 0);
        const payload = payloadOf(out[0]);
        assert.deepEqual([payload.email, payload.email_verified], ["carol@example.com", true]);
    });

    it("signs with the same key every time, which the local runtime's authorizer accepts", async () => {
        const first = (await run(["--sub", "u1", "--dir", dir])).out[0];
        const second = (await run(["--sub", "u2", "--scope", "users:admin", "--dir", dir])).out[0];
        const header = (token: string) => JSON.parse(Buffer.from(token.split(".")[0], "base64url").toString("utf8"));
        assert.equal(header(first).kid, header(second).kid);
        assert.equal(header(first).alg, "RS256");
        const authorizer = await createAuthorizerFor({ kind: "local", dir });
        const decision = await authorizer.authorize(`Bearer ${second}`, ["users:admin"]);
        assert.equal(decision.ok, true);
        assert.equal(decision.ok && decision.claims.sub, "u2");
        const forbidden = await authorizer.authorize(`Bearer ${first}`, ["users:admin"]);
        assert.equal(!forbidden.ok && forbidden.response.statusCode, 403);
    });

    it("uses LOCAL_JWT_DIR when --dir is not given", async () => {
        const envDir = path.join(root, "from-env");
        assert.equal((await run(["--sub", "env"], { LOCAL_JWT_DIR: envDir })).code, 0);
        assert.ok(fs.existsSync(path.join(envDir, "signing-key.jwk.json")));
    });

    for (const [label, argv, message] of [
        ["no --sub", ["--dir", "x"], /--sub is required/],
        ["an empty --sub", ["--sub", "", "--dir", "x"], /--sub is required/],
        ["--sub without a value", ["--sub"], /--sub needs a value/],
        ["a flag as a value", ["--sub", "--scope", "x"], /--sub needs a value/],
        ["an unknown flag", ["--sub", "a", "--role", "admin"], /Unknown flag --role/],
        ["a stray argument", ["ada"], /Unexpected argument "ada"/],
        ["a bad lifetime", ["--sub", "a", "--expires", "soon"], /not a time span/],
        ["a negative lifetime", ["--sub", "a", "--expires", "-1h"], /not a time span/],
        ["a claim without =", ["--sub", "a", "--claim", "email"], /name=value/],
        ["a claim the flags own", ["--sub", "a", "--claim", "aud=x"], /cannot set aud/],
        ["an --email that is not one", ["--sub", "a", "--email", "carol"], /--email "carol" is not an email address/],
    ] as const) {
        it(`exits 2 with the usage on ${label}`, async () => {
            const { code, out, err } = await run([...argv]);
            assert.equal(code, 2);
            assert.deepEqual(out, []);
            assert.match(err.join("\n"), message);
            assert.match(err.join("\n"), /Usage: npm run token/);
        });
    }

    it("prints the usage on --help", async () => {
        const { code, out } = await run(["--help"]);
        assert.equal(code, 0);
        assert.match(out[0], /^Usage: npm run token -- --sub <id>/);
    });

    it("runs as a script (what `npm run token` starts) and prints only the token", () => {
        const result = spawnSync(
            process.execPath,
            [path.join(REPOSITORY_ROOT, "node_modules", ".bin", "ts-node"), "--transpile-only", "tools/token.ts", "--sub", "script", "--scope", "users:admin"],
            { cwd: REPOSITORY_ROOT, env: { ...process.env, LOCAL_JWT_DIR: dir }, encoding: "utf8" },
        );
        assert.equal(result.status, 0, result.stderr);
        assert.match(result.stdout, /^[\w-]+\.[\w-]+\.[\w-]+\n$/);
        assert.equal(payloadOf(result.stdout.trim()).sub, "script");
        const bad = spawnSync(process.execPath, [path.join(REPOSITORY_ROOT, "node_modules", ".bin", "ts-node"), "--transpile-only", "tools/token.ts"], {
            cwd: REPOSITORY_ROOT,
            env: { ...process.env, LOCAL_JWT_DIR: dir },
            encoding: "utf8",
        });
        assert.equal(bad.status, 2);
        assert.equal(bad.stdout, "");
    });
});
