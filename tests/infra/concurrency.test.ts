/**
 * Reserved concurrency as a stack setting: dev reserves nothing (a new account's quota of 10 allows
 * no reservation), prod applies the registry's, the migration function's 1 included; the sum is
 * checked against the account's quota before any resource, naming what reserves how much; and the
 * local runtime's container ceiling follows the same resolved value. Over the fixture registry
 * (`notes` reserves 10 per function, `ping` nothing), every figure derived from it.
 */
import * as assert from "node:assert/strict";
import { defineService } from "../../functions/runtime/service";
import { PROJECT, STACK_DEFAULTS } from "../../platform/config/stack-config";
import { MIGRATION_RESERVED_CONCURRENCY, reservationProblems, resolveRegistry } from "../../platform/registry/resolution";
import { createLocalServer } from "../../local/server";
import { lastRegistered, readStackConfig, runProgramOffline, type OfflineRun } from "../../tools/offline";
import { Types } from "../../policy/lib/types";
import { fixtureServices } from "../../testing/fixtures";
import { notes } from "../../testing/fixtures/registry";

const DEFAULTS = { memoryMb: 256, timeoutSeconds: 10 };
const services = fixtureServices;
/** What the fixture registry reserves where a stack applies reservations: notes' functions, and the migration function's. */
const NOTES_FUNCTIONS = Object.keys(notes.routes).length;
const NOTES_RESERVED = NOTES_FUNCTIONS * notes.reservedConcurrency!;
const TOTAL = NOTES_RESERVED + MIGRATION_RESERVED_CONCURRENCY;
const SHARES = `notes: ${NOTES_FUNCTIONS} functions x ${notes.reservedConcurrency}; the migration function: ${MIGRATION_RESERVED_CONCURRENCY}`;

function reservationsOf(run: OfflineRun): Record<string, number | undefined> {
    return Object.fromEntries(run.resources.filter((r) => r.type === Types.lambdaFunction).map((fn) => [fn.name, fn.inputs.reservedConcurrentExecutions]));
}

describe("reserved concurrency per stack", function () {
    this.timeout(120_000);

    it("reserves nothing in dev, not even for the migration function", async () => {
        // Act
        const run = await runProgramOffline({ stack: "dev", services });
        // Assess: every route's function and the migration runner's two (launcher and worker).
        const functions = services.reduce((sum, service) => sum + Object.keys(service.routes).length, 0) + 2;
        assert.deepEqual(Object.values(reservationsOf(run)), Array(functions).fill(undefined));
    });

    it("applies the registry's reservations in prod, 1 for the migration worker (which holds the database connection) and none for its launcher", async () => {
        // Act
        const run = await runProgramOffline({ stack: "prod", services });
        // Assess
        assert.deepEqual(reservationsOf(run), {
            "ping-get-ping": undefined,
            "notes-post-notes": 10,
            "notes-get-notes-id": 10,
            "notes-get-notes": 10,
            "notes-delete-notes-id": 10,
            "migrations-launcher": undefined,
            "migrations-function": 1,
        });
    });

    it("adds up every reservation, per service and for the migration function", () => {
        // Act
        const registry = resolveRegistry(services, DEFAULTS, { reservations: "registry" });
        const none = resolveRegistry(services, DEFAULTS, { reservations: "none" });
        // Assess
        assert.deepEqual(registry.reservations, { mode: "registry", migrationFunction: 1, services: [{ service: "notes", functions: NOTES_FUNCTIONS, perFunction: 10 }], total: TOTAL });
        assert.deepEqual(none.reservations, { mode: "none", services: [], total: 0 });
        assert.ok(none.routes.every((route) => route.reservedConcurrency === undefined));
    });

    it("reserves one migration run per database service, so services migrating at once (each from its own invocation) are not throttled", () => {
        // Prepare: a second database service beside notes, reserving nothing itself.
        const ledger = defineService({ name: "ledger", description: "x", database: true, migrationsDir: notes.migrationsDir, routes: { "GET /ledger": { handler: async () => ({}) } } });
        // Act
        const registry = resolveRegistry([...services, ledger], DEFAULTS, { reservations: "registry" });
        // Assess
        assert.equal(registry.reservations.migrationFunction, 2 * MIGRATION_RESERVED_CONCURRENCY);
        assert.equal(registry.reservations.total, NOTES_RESERVED + 2 * MIGRATION_RESERVED_CONCURRENCY);
    });

    describe("against the account's quota (100 must stay unreserved)", () => {
        const reservations = resolveRegistry(services, DEFAULTS, { reservations: "registry" }).reservations;

        it("accepts reservations that leave exactly 100 unreserved", () => {
            // Act
            const problems = reservationProblems(reservations, TOTAL + 100);
            // Assess
            assert.deepEqual(problems, []);
        });

        it("refuses one more, naming what reserves how much", () => {
            // Act
            const problems = reservationProblems(reservations, TOTAL + 99);
            // Assess
            assert.deepEqual(problems, [
                `the functions reserve ${TOTAL} concurrent executions (${SHARES}), but the account's quota of ${TOTAL + 99} ` +
                    `(concurrency.accountLimit) less the 100 AWS keeps unreserved leaves ${TOTAL - 1}; set concurrency.reservations to none, lower the services' ` +
                    "reservedConcurrency, or raise the quota (aws lambda get-account-settings shows it)",
            ]);
        });

        it("checks against AWS's default quota of 1000 when the stack states none", () => {
            // Prepare
            const greedy = defineService({ name: "greedy", description: "x", database: false, reservedConcurrency: 901, routes: { "GET /greedy": { handler: async () => ({}) } } });
            // Act
            const problems = reservationProblems(resolveRegistry([greedy], DEFAULTS, { reservations: "registry" }).reservations, undefined);
            // Assess
            assert.equal(problems.length, 1);
            assert.match(problems[0], /reserve 901 concurrent executions \(greedy: 1 function x 901\), but AWS's default quota of 1000 \(set concurrency\.accountLimit to your account's\) less the 100 AWS keeps unreserved leaves 900/);
        });

        it("has nothing to check when nothing is reserved, whatever the quota", () => {
            assert.deepEqual(reservationProblems(resolveRegistry(services, DEFAULTS, { reservations: "none" }).reservations, 10), []);
        });

        it("stops the program on a new account's quota of 10 before any resource is registered", async () => {
            // Prepare
            const config = { ...readStackConfig("prod"), [`${PROJECT}:concurrency`]: { reservations: "registry", accountLimit: 10 } };
            // Act
            const run = runProgramOffline({ stack: "prod", config, services });
            // Assess
            await assert.rejects(run, (error: Error) => error.message.includes(`serverless-microservices:concurrency.reservations: the functions reserve ${TOTAL} concurrent executions (${SHARES}), but the account's quota of 10`));
            assert.deepEqual(lastRegistered.filter((r) => r.type !== Types.stack).map((r) => r.urn), []);
        });
    });

    describe("the local runtime's containers", () => {
        /** The most invocations of one route running at once when `requests` arrive together. */
        async function peakConcurrency(reservations: "none" | "registry", requests: number): Promise<number> {
            let running = 0;
            let peak = 0;
            const slow = defineService({
                name: "slow",
                description: "Holds each request a moment",
                database: false,
                reservedConcurrency: 2,
                routes: {
                    "GET /slow": {
                        handler: async () => {
                            peak = Math.max(peak, ++running);
                            await new Promise((resolve) => setTimeout(resolve, 150));
                            running--;
                            return {};
                        },
                    },
                },
            });
            const server = createLocalServer({ routes: resolveRegistry([slow], DEFAULTS, { reservations }).routes, throttling: false });
            try {
                const url = await server.listen(0);
                const statuses = await Promise.all(Array.from({ length: requests }, () => fetch(`${url}/slow`).then((response) => response.status)));
                assert.deepEqual(statuses, Array(requests).fill(200));
            } finally {
                await server.close();
            }
            return peak;
        }

        it("run at most the service's reservation where the stack reserves, and the local default where it does not", async () => {
            // Act
            const reserved = await peakConcurrency("registry", 5);
            const unreserved = await peakConcurrency(STACK_DEFAULTS.concurrency.reservations, 5);
            // Assess
            assert.equal(reserved, 2);
            assert.equal(unreserved, 5);
        });
    });
});
