/**
 * The offline program run kept per process (`runProgramOffline`, tools/offline.ts): the same stack,
 * config and registry get the run already made, frozen; anything that differs gets a run of its
 * own; a run that failed is made again.
 */
import * as assert from "node:assert/strict";
import { defineService } from "../../functions/runtime/service";
import { PROJECT } from "../../platform/config/stack-config";
import { lastRegistered, readStackConfig, runProgramOffline } from "../../tools/offline";
import { fixtureServices } from "../../testing/fixtures";

describe("the offline program run, kept per process", function () {
    this.timeout(120_000);

    it("hands out the run already made for the same stack, config and registry, also when the registry is a new list of the same services", async () => {
        // Act
        const first = await runProgramOffline({ stack: "dev", services: fixtureServices });
        const again = await runProgramOffline({ stack: "dev", services: [...fixtureServices], config: readStackConfig("dev") });
        // Assess
        assert.equal(again, first);
    });

    it("makes a run of its own when the stack, the config or a service differs", async () => {
        // Prepare
        const dev = await runProgramOffline({ stack: "dev", services: fixtureServices });
        const [ping, notes] = fixtureServices;
        // Act
        const prod = await runProgramOffline({ stack: "prod", services: fixtureServices });
        const longerLogs = await runProgramOffline({ stack: "dev", services: fixtureServices, config: { ...readStackConfig("dev"), [`${PROJECT}:logRetentionDays`]: 14 } });
        const otherHandler = await runProgramOffline({ stack: "dev", services: [{ ...ping, routes: { "GET /ping": { ...ping.routes["GET /ping"]!, handler: async () => ({}) } } }, notes] });
        // Assess
        for (const other of [prod, longerLogs, otherHandler]) assert.notEqual(other, dev);
        assert.ok(longerLogs.resources.some((resource) => resource.inputs.retentionInDays === 14));
    });

    it("freezes what it hands out, so no caller changes what another sees", async () => {
        // Prepare
        const run = await runProgramOffline({ stack: "dev", services: fixtureServices });
        // Act, Assess
        assert.throws(() => {
            (run.resources[0].inputs as Record<string, unknown>).changed = true;
        }, TypeError);
        assert.throws(() => (run.resources as unknown[]).push({}), TypeError);
    });

    it("runs the program again for a run that failed", async () => {
        // Prepare
        const broken = [defineService({ name: "extra", description: "x", database: false, routes: { "GET /x": { handler: async () => ({}), timeoutSeconds: 60 } } })];
        await assert.rejects(runProgramOffline({ stack: "dev", services: broken }), /timeoutSeconds 60 is not allowed/);
        const firstAttempt = lastRegistered;
        // Act
        await assert.rejects(runProgramOffline({ stack: "dev", services: broken }), /timeoutSeconds 60 is not allowed/);
        // Assess: the second rejection came from a run of its own.
        assert.notEqual(lastRegistered, firstAttempt);
    });
});
