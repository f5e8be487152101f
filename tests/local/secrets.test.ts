/**
 * Secrets under `npm start`: the values in one file of the local data folder (mode 0600), set,
 * listed (names only) and unset with `npm run secret`, read by a service's local handlers through
 * the same `ctx.secrets` as in the cloud (its own values only), handed to a container process as
 * variables; a service whose declared secrets are unset is refused at start, naming each and the
 * command that sets it.
 */
import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { PassThrough } from "node:stream";
import { dockerRunArguments } from "../../local/containers";
import { startLocalRuntime } from "../../local/runtime";
import { localContainerSecrets, readLocalSecrets, setLocalSecret, unsetSecretsProblem } from "../../local/secrets";
import { createLocalServer, type LocalServer } from "../../local/server";
import { resolveRegistry } from "../../platform/registry/resolution";
import { echoContainer } from "../../testing/fixtures/registries";
import { fingerprint, secretServices } from "../../testing/fixtures/secret-services";
import { readValueFromStdin, runSecretCommand } from "../../tools/secret";

const DEFAULTS = { memoryMb: 128, timeoutSeconds: 5 };

describe("local secrets", () => {
    let dir: string;
    let file: string;
    beforeEach(() => {
        dir = fs.mkdtempSync(path.join(os.tmpdir(), "local-secrets-"));
        file = path.join(dir, "secrets.json");
    });
    afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

    /** Runs `npm run secret -- <argv>` against the test's file, with `value` on standard input. */
    async function secretCommand(argv: string[], value = "") {
        const lines: string[] = [];
        const code = await runSecretCommand(argv, { file, services: secretServices, readValue: async () => value, write: (line) => lines.push(line) });
        return { code, lines };
    }

    describe("npm run secret", () => {
        it("sets a value into a file only its owner can read, and never prints it", async () => {
            const { code, lines } = await secretCommand(["set", "vault", "API_KEY"], "sk_local_1");
            assert.equal(code, 0);
            assert.equal(fs.statSync(file).mode & 0o777, 0o600);
            assert.deepEqual(readLocalSecrets(file), { vault: { API_KEY: "sk_local_1" } });
            assert.ok(!lines.join("\n").includes("sk_local_1"));
        });

        it("lists every declared secret by name with whether it is set, never a value", async () => {
            await secretCommand(["set", "vault", "API_KEY"], "sk_local_1");
            const { code, lines } = await secretCommand(["list"]);
            assert.equal(code, 0);
            assert.deepEqual(lines, ["vault API_KEY set", "vault SIGNING_KEY unset", "neighbor OWN_TOKEN unset"]);
            assert.deepEqual((await secretCommand(["list", "neighbor"])).lines, ["neighbor OWN_TOKEN unset"]);
        });

        it("unsets a value", async () => {
            await secretCommand(["set", "vault", "API_KEY"], "sk_local_1");
            const { code } = await secretCommand(["unset", "vault", "API_KEY"]);
            assert.equal(code, 0);
            assert.deepEqual(readLocalSecrets(file), {});
        });

        it("refuses a secret the service does not declare, a service with none, and an empty value, changing nothing", async () => {
            assert.deepEqual(await secretCommand(["set", "vault", "OWN_TOKEN"], "x"), { code: 2, lines: ['Service "vault" declares no secret OWN_TOKEN; it declares API_KEY, SIGNING_KEY.'] });
            assert.deepEqual(await secretCommand(["set", "nobody", "API_KEY"], "x"), { code: 2, lines: ['No service "nobody" declares secrets; these do: vault, neighbor.'] });
            assert.deepEqual(await secretCommand(["set", "vault", "API_KEY"], ""), { code: 2, lines: ["No value read for vault API_KEY; nothing changed."] });
            assert.equal((await secretCommand(["set", "vault"], "x")).code, 2);
            assert.equal(fs.existsSync(file), false);
        });

        it("reads a piped value whole, less one final newline", async () => {
            const stdin = new PassThrough() as unknown as NodeJS.ReadStream;
            const reading = readValueFromStdin(stdin);
            (stdin as unknown as PassThrough).end("-----BEGIN PRIVATE KEY-----\nabc\n-----END PRIVATE KEY-----\n");
            assert.equal(await reading, "-----BEGIN PRIVATE KEY-----\nabc\n-----END PRIVATE KEY-----");
        });
    });

    describe("npm start", () => {
        it("refuses to start while a declared secret is unset, naming each and the command that sets it, before anything starts", async () => {
            setLocalSecret(file, "vault", "API_KEY", "sk_local_1");
            await assert.rejects(
                startLocalRuntime({ services: secretServices, secretsFile: file, port: 0 }),
                (error: Error) => {
                    assert.equal(error.name, "UnsetSecretsError");
                    assert.match(error.message, /service "vault": SIGNING_KEY; set it with: npm run secret -- set vault SIGNING_KEY/);
                    assert.match(error.message, /service "neighbor": OWN_TOKEN; set it with: npm run secret -- set neighbor OWN_TOKEN/);
                    assert.doesNotMatch(error.message, /API_KEY/);
                    return true;
                },
            );
        });

        it("names a container service's unset secrets too", () => {
            const registry = resolveRegistry([echoContainer({ secrets: ["PAYMENT_KEY"] })], DEFAULTS);
            assert.match(unsetSecretsProblem(registry.containers, file)!, /service "echo": PAYMENT_KEY; set it with: npm run secret -- set echo PAYMENT_KEY/);
            setLocalSecret(file, "echo", "PAYMENT_KEY", "pk");
            assert.equal(unsetSecretsProblem(registry.containers, file), undefined);
        });
    });

    describe("local handlers", () => {
        let server: LocalServer;
        let url: string;
        beforeEach(async () => {
            server = createLocalServer({ routes: resolveRegistry(secretServices, DEFAULTS).routes, secretsFile: file, throttling: false, writeLog: () => undefined });
            url = await server.listen(0);
        });
        afterEach(() => server.close());

        it("get their own service's values through ctx.secrets, a value set while running at once", async () => {
            setLocalSecret(file, "vault", "API_KEY", "sk_local_1");
            setLocalSecret(file, "vault", "SIGNING_KEY", "whsec_local");
            const first = await fetch(`${url}/vault/fingerprints`);
            assert.equal(first.status, 200);
            assert.deepEqual(await first.json(), { apiKey: fingerprint("sk_local_1"), signingKey: fingerprint("whsec_local") });
            setLocalSecret(file, "vault", "API_KEY", "sk_local_2");
            assert.equal(((await (await fetch(`${url}/vault/fingerprints`)).json()) as { apiKey: string }).apiKey, fingerprint("sk_local_2"));
        });

        it("answer 503 when a value is removed while running", async () => {
            setLocalSecret(file, "vault", "API_KEY", "sk_local_1");
            const response = await fetch(`${url}/vault/fingerprints`);
            assert.equal(response.status, 503);
            assert.equal(((await response.json()) as { error: { code: string } }).error.code, "not_configured");
        });

        it("see no other service's values", async () => {
            setLocalSecret(file, "vault", "API_KEY", "sk_local_1");
            setLocalSecret(file, "neighbor", "OWN_TOKEN", "neighbor-token");
            const response = await fetch(`${url}/neighbor/peek`);
            assert.equal(response.status, 200);
            assert.deepEqual(await response.json(), { read: false, reason: 'Service "neighbor" reads secret "API_KEY", which it does not declare; add it to the service\'s secrets.' });
        });
    });

    describe("container processes", () => {
        it("get their own declared values as variables, and Docker gets only the names on its command line", () => {
            setLocalSecret(file, "echo", "PAYMENT_KEY", "pk_local");
            setLocalSecret(file, "echo", "UNDECLARED", "nope");
            setLocalSecret(file, "vault", "API_KEY", "sk_local_1");
            assert.deepEqual(localContainerSecrets(file, "echo", ["PAYMENT_KEY"]), { PAYMENT_KEY: "pk_local" });
            const echo = resolveRegistry([echoContainer({ secrets: ["PAYMENT_KEY"] })], DEFAULTS).containers[0];
            const args = dockerRunArguments(echo, 4321, { GREETING: "hello" }, ["PAYMENT_KEY"]);
            assert.ok(args.join(" ").includes("--env PAYMENT_KEY "), args.join(" "));
            assert.ok(!args.join(" ").includes("pk_local"));
        });
    });
});
