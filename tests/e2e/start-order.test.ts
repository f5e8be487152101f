/**
 * `npm start` in a process of its own, as a person runs it: a registry it refuses is reported before
 * anything starts (no PostgreSQL, no type check) and the command ends with nothing of it left
 * running, so nothing prints after the shell's prompt has come back; a start it accepts type-checks
 * once and ends the checking process after that check unless it watches. The plan refuses the same
 * registry before it starts a type check.
 */
import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { freePort } from "../../local/postgres";
import { main as plan } from "../../tools/plan";
import { killRuntimeProcess, processesMentioning, startRuntimeProcess, waitFor } from "../../testing/runtime-process";
import { RUNTIME_SERVICE, scratchRegistry, serviceWithOneRoute, type ScratchRegistry } from "../../testing/scratch-registry";
import { TYPE_CHECK_PATIENCE_MS } from "../../testing/eventually";

/** The processes of process group `group` (what a terminal's Ctrl-C or a closed shell reaches), from /proc. */
function groupMembers(group: number): number[] {
    return fs
        .readdirSync("/proc")
        .filter((entry) => /^\d+$/.test(entry))
        .filter((entry) => {
            try {
                const fields = fs.readFileSync(`/proc/${entry}/stat`, "utf8").replace(/^.*\) /, "").split(" ");
                return fields[0] !== "Z" && Number(fields[2]) === group;
            } catch {
                return false;
            }
        })
        .map(Number);
}

/** A service whose route timeout is more than the HTTP API allows: the registry refuses it. */
const refusedService = `import { defineService } from ${RUNTIME_SERVICE};

export default defineService({
    name: "slow",
    description: "Waits too long",
    database: false,
    routes: { "GET /slow": { timeoutSeconds: 45, handler: async () => ({ answer: "late" }) } },
});
`;

describe("e2e: what npm start and npm run plan start, and in which order", function () {
    this.timeout(TYPE_CHECK_PATIENCE_MS + 60_000);
    let scratch: ScratchRegistry;
    let root: string;

    beforeEach(() => {
        root = fs.mkdtempSync(path.join(os.tmpdir(), "start-order-"));
        fs.chmodSync(root, 0o755); // PostgreSQL runs as its own user when we are root
    });
    afterEach(() => {
        scratch?.remove();
        fs.rmSync(root, { recursive: true, force: true });
    });

    it("refuses a registry before it starts PostgreSQL or the type check, and leaves nothing running that could print after the prompt", async () => {
        // Prepare
        scratch = scratchRegistry({ slow: refusedService });
        // Act
        const run = startRuntimeProcess({ port: await freePort(), dataDir: path.join(root, "postgres"), args: ["--registry", scratch.registryModule], typeCheck: true });
        const code = await run.exited();
        const closed = await Promise.all([run.child.stdout!, run.child.stderr!].map((stream) => (stream.readableEnded || stream.destroyed ? undefined : new Promise((resolve) => stream.once("close", resolve)))));
        // Assess
        assert.equal(code, 1, run.output());
        assert.equal(closed.length, 2, "every writer of its output has closed it");
        assert.match(run.output(), /The local runtime did not start: .*service "slow"/s);
        assert.match(run.output(), /timeoutSeconds 45/);
        assert.doesNotMatch(run.output(), /Starting PostgreSQL|Type check|EPIPE/);
        assert.deepEqual(groupMembers(run.child.pid!), []);
    });

    it("ends the type check's process after its first check when not watching, and keeps serving", async () => {
        // Prepare
        scratch = scratchRegistry({ fine: serviceWithOneRoute("fine", "ok") });
        const run = startRuntimeProcess({ port: await freePort(), dataDir: path.join(root, "postgres"), args: ["--registry", scratch.registryModule], typeCheck: true });
        try {
            await run.ready;
            // Act
            await waitFor(() => /Type check: no errors/.test(run.output()), TYPE_CHECK_PATIENCE_MS, `no type check result:\n${run.output()}`);
            await waitFor(() => !groupMembers(run.child.pid!).some((pid) => processesMentioning("type-check-worker").some((worker) => worker.pid === pid)), 10_000, "the type check's process is still running");
            // Assess: the runtime itself still runs.
            assert.equal(run.child.exitCode, null);
            assert.ok(groupMembers(run.child.pid!).includes(run.child.pid!));
        } finally {
            killRuntimeProcess(run);
        }
    });

    it("refuses the same registry in npm run plan before it starts a type check", async () => {
        // Prepare
        scratch = scratchRegistry({ slow: refusedService });
        const { default: slow } = await import(path.join(scratch.dir, "services", "slow", "service.ts"));
        let err = "";
        const workersBefore = processesMentioning("type-check-worker").map((worker) => worker.pid);
        // Act
        const code = await plan(["--stack", "dev"], { out: () => undefined, err: (text) => (err += text), services: [slow], typeCheck: { registryModule: scratch.registryModule } });
        // Assess
        assert.equal(code, 2);
        assert.match(err, /plan failed: .*service "slow".*timeoutSeconds 45/s);
        assert.deepEqual(processesMentioning("type-check-worker").filter((worker) => !workersBefore.includes(worker.pid)), []);
    });
});
