/**
 * The database under mocks, for what only a real deployment would show: the engine version stays
 * the configured one, idle sessions are closed so that a 0-ACU cluster can pause, and the final
 * snapshot's name is unique across repeated deletions without changing during the cluster's life.
 */
import * as assert from "node:assert/strict";
import { IDLE_SESSION_TIMEOUT_SECONDS } from "../../infra/components/database";
import { parseStackConfig } from "../../platform/config/stack-config";
import { AURORA_SERVERLESS_V2 } from "../../policy/lib/limits";
import { Types } from "../../policy/lib/types";
import { readStackConfig, runProgramOffline, type OfflineRun } from "../../tools/offline";
import { fixtureServices } from "../../testing/fixtures";
import { ofType, one } from "../../testing/graph";

describe("the database under mocks", function () {
    this.timeout(120_000);
    const runs: Record<string, OfflineRun> = {};
    before(async () => {
        for (const stack of ["dev", "prod"]) runs[stack] = await runProgramOffline({ stack, services: fixtureServices });
    });

    for (const stack of ["dev", "prod"]) {
        it(`${stack}: turns automatic minor version upgrades off on every instance, so the engine stays at the configured version`, () => {
            const instances = ofType(runs[stack], Types.rdsClusterInstance);
            assert.ok(instances.length > 0);
            for (const instance of instances) assert.equal(instance.inputs.autoMinorVersionUpgrade, false, instance.name);
            assert.equal(one(runs[stack], Types.rdsCluster).inputs.engineVersion, parseStackConfig(stack, readStackConfig(stack)).database.engineVersion);
        });

        it(`${stack}: closes idle sessions before the shortest auto-pause delay, so frozen functions cannot keep the cluster awake`, () => {
            // Prepare
            const parameters: Array<{ name: string; value: string }> = one(runs[stack], Types.rdsClusterParameterGroup).inputs.parameters;
            // Act
            const timeout = parameters.find((p) => p.name === "idle_session_timeout");
            // Assess
            assert.equal(timeout?.value, String(IDLE_SESSION_TIMEOUT_SECONDS * 1000));
            assert.ok(IDLE_SESSION_TIMEOUT_SECONDS < AURORA_SERVERLESS_V2.autoPauseSeconds.min);
        });
    }

    it("names prod's final snapshot after a random suffix that is replaced only with the cluster", () => {
        // Prepare
        const cluster = one(runs.prod, Types.rdsCluster);
        const suffix = one(runs.prod, Types.randomId);
        // Act
        const identifier: string = cluster.inputs.finalSnapshotIdentifier;
        // Assess: computed from the suffix, which changes only with what would replace the cluster.
        assert.equal(identifier, `serverless-microservices-prod-database-final-${suffix.outputs.hex}`);
        assert.deepEqual(cluster.propertyDependencies.finalSnapshotIdentifier, [suffix.urn]);
        assert.deepEqual(Object.keys(suffix.inputs.keepers).sort(), ["databaseName", "dbSubnetGroupName", "engine", "engineMode", "masterUsername", "storageEncrypted"]);
        for (const [input, kept] of Object.entries(suffix.inputs.keepers)) assert.equal(kept, String(cluster.inputs[input]), input);
        assert.equal(suffix.parent, one(runs.prod, "serverless-microservices:database:Database").urn);
    });

    it("creates no suffix where the stack keeps no final snapshot (dev)", () => {
        assert.equal(ofType(runs.dev, Types.randomId).length, 0);
        assert.equal(one(runs.dev, Types.rdsCluster).inputs.finalSnapshotIdentifier, undefined);
    });
});
