/**
 * The local runtime's container pieces on their own: how the mode is chosen, the environment a
 * process gets, the `docker run` it would get under Docker (Docker itself is not here), the headers
 * the gateway sends it, and the leash that ends a process once the runtime is gone.
 */
import * as assert from "node:assert/strict";
import { spawn } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { resolveRegistry } from "../../platform/registry/resolution";
import { upstreamHeaders } from "../../local/container-proxy";
import { containerEnvironment, containerModeFromEnv, dockerRunArguments, LocalContainers, localImageTag } from "../../local/containers";
import { echoContainer } from "../../testing/fixtures/registries";

const resolved = (database = false) => resolveRegistry([echoContainer({ database })], { memoryMb: 256, timeoutSeconds: 10 }, { stack: "dev" }).containers[0];

/** The pids of the programs named `name` whose parent is `pid`, from /proc. */
function childrenOf(pid: number, name: string): number[] {
    return fs
        .readdirSync("/proc")
        .filter((entry) => /^\d+$/.test(entry))
        .filter((entry) => {
            try {
                const parent = Number(fs.readFileSync(`/proc/${entry}/stat`, "utf8").replace(/^.*\) /, "").split(" ")[1]);
                return parent === pid && fs.readFileSync(`/proc/${entry}/comm`, "utf8").trim() === name;
            } catch {
                return false;
            }
        })
        .map(Number);
}

function alive(pid: number): boolean {
    try {
        process.kill(pid, 0);
        return true;
    } catch {
        return false;
    }
}

describe("local container services", () => {
    it("chooses Docker only when asked or when its daemon answers, and refuses other values", () => {
        assert.equal(containerModeFromEnv({}, () => false), "process");
        assert.equal(containerModeFromEnv({}, () => true), "docker");
        assert.equal(containerModeFromEnv({ LOCAL_CONTAINERS: "process" }, () => true), "process");
        assert.equal(containerModeFromEnv({ LOCAL_CONTAINERS: "docker" }, () => false), "docker");
        assert.throws(() => containerModeFromEnv({ LOCAL_CONTAINERS: "podman" }), /LOCAL_CONTAINERS="podman" is not allowed; use process, docker or auto\./);
    });

    it("gives a process its declared variables and the platform's, and none of the runtime's secrets", () => {
        // Act
        const environment = containerEnvironment(resolved(true), {
            port: 41000,
            logLevel: "DEBUG",
            databaseUrl: "postgres://echo_app:pw@127.0.0.1:5433/app",
            inherited: { PATH: "/usr/bin", HOME: "/root", AWS_SECRET_ACCESS_KEY: "x", JWT_ISSUER: "y" },
        });
        // Assess
        assert.deepEqual(environment, {
            PATH: "/usr/bin",
            HOME: "/root",
            GREETING: "hello",
            PORT: "41000",
            SERVICE_NAME: "echo",
            LOG_LEVEL: "DEBUG",
            HOST: "127.0.0.1",
            DATABASE_URL: "postgres://echo_app:pw@127.0.0.1:5433/app",
            DB_HOST: "127.0.0.1",
            DB_PORT: "5433",
            DB_NAME: "app",
            DB_USER: "echo_app",
            DB_STATEMENT_TIMEOUT_MS: "4000",
            DB_TLS: "disable",
        });
    });

    it("leaves the database out of a service that does not use it", () => {
        const environment = containerEnvironment(resolved(false), { port: 41000, logLevel: "INFO", databaseUrl: "postgres://a@127.0.0.1/app", inherited: {} });
        assert.equal(environment.DATABASE_URL, undefined);
        assert.equal(environment.DB_HOST, undefined);
    });

    it("runs the image under Docker as its task runs: read-only, no capabilities, published on 127.0.0.1, the database on the host", () => {
        // Prepare
        const service = resolved(true);
        const environment = containerEnvironment(service, { port: 41000, logLevel: "INFO", databaseUrl: "postgres://postgres:pw@127.0.0.1:5433/app", inherited: { PATH: "/usr/bin" } });
        // Act
        const args = dockerRunArguments(service, 41000, environment);
        // Assess
        assert.deepEqual(args.slice(0, 12), ["run", "--rm", "--init", "--name", "serverless-microservices-echo-41000", "--publish", "127.0.0.1:41000:8080", "--cap-drop", "ALL", "--tmpfs", "/tmp", "--read-only"]);
        assert.ok(args.includes("PORT=8080"), "inside the container the process listens on its declared port");
        assert.ok(args.includes("DATABASE_URL=postgres://postgres:pw@host.docker.internal:5433/app"));
        assert.ok(args.includes("DB_HOST=host.docker.internal"));
        assert.ok(!args.some((arg) => arg.startsWith("PATH=")));
        assert.ok(!args.some((arg) => arg.startsWith("HOST=")), "inside its container the process listens on every interface, as on Fargate");
        assert.equal(args[args.length - 1], localImageTag(service));
    });

    it("sends the client's headers without hop-by-hop and gateway headers, then the gateway's own", () => {
        // Act
        const headers = upstreamHeaders({
            rawHeaders: ["Host", "127.0.0.1", "X-JWT-Sub", "mallory", "Connection", "keep-alive", "X-Multi", "a", "x-multi", "b", "X-Apigw-Request-Id", "forged", "Content-Length", "99"],
            requestId: "req-1",
            claims: { sub: "ada", scope: "echo:write" },
            body: Buffer.from("{}"),
        });
        // Assess
        assert.deepEqual(headers, { host: "127.0.0.1", "x-multi": ["a", "b"], "x-apigw-request-id": "req-1", "x-jwt-sub": "ada", "x-jwt-scope": "echo:write", "content-length": "2" });
    });

    it("does not announce a restart of a service whose process Ctrl-C ended while the runtime stops", async function () {
        this.timeout(30_000);
        // Prepare: the echo service running as a process.
        const notices: string[] = [];
        const containers = new LocalContainers([resolved(false)], { mode: "process", logLevel: "INFO", onNotice: (notice) => notices.push(notice), writeLog: () => undefined });
        await containers.start();
        const service = containers.upstream("echo")!;
        const leash = service.pid!;
        // Node names its main thread; that is the process's name in /proc.
        const [echo] = childrenOf(leash, "MainThread");
        assert.ok(echo !== undefined && alive(echo));
        try {
            // Act: the runtime begins to stop, and Ctrl-C reaches the service's processes.
            containers.stopRestarting();
            process.kill(leash, "SIGINT");
            process.kill(echo, "SIGINT");
            while (alive(leash)) await new Promise((resolve) => setTimeout(resolve, 20));
            await new Promise((resolve) => setTimeout(resolve, 100));
            // Assess
            assert.deepEqual(notices.filter((notice) => /starting it again/.test(notice)), []);
            assert.equal(service.starts, 1);
        } finally {
            await containers.stop();
        }
    });

    it("ends the process once the runtime's end of the leash closes, as when the runtime is killed", async function () {
        this.timeout(20_000);
        // Prepare: the leash around a process that would run for a minute.
        const leash = spawn("/bin/sh", [path.join(__dirname, "..", "..", "local", "process-leash.sh"), "sleep", "60"], { stdio: ["pipe", "ignore", "inherit"] });
        await new Promise((resolve) => setTimeout(resolve, 300));
        const [child] = childrenOf(leash.pid!, "sleep");
        assert.ok(child !== undefined && alive(child));
        // Act: what the kernel does when the runtime dies.
        leash.stdin!.end();
        const exited = await new Promise<number | null>((resolve) => leash.once("exit", (code) => resolve(code)));
        // Assess
        assert.notEqual(exited, 0, "sleep was stopped, not finished");
        assert.equal(alive(child), false);
    });
});
