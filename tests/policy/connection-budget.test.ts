import { strict as assert } from "assert";
import { estimatedMaxConnections } from "../../policy/lib/limits";
import { Types } from "../../policy/lib/types";
import { UNKNOWN_STRING_SENTINEL } from "../../policy/lib/unknown";
import * as path from "node:path";
import { migrationRunRequest } from "../../platform/data-plan";
import { parseStackConfig } from "../../platform/config/stack-config";
import { resolveRegistry } from "../../platform/registry/resolution";
import { services } from "../../infra/services";
import { loadPackConfig, PACK_DIR, runPolicies } from "../../tools/policy-engine";
import { readStackConfig, runProgramOffline } from "../../tools/offline";
import { clusterProps, databaseFunctionProps, functionProps, migrationInvocationProps } from "./fixtures";
import { StackSpec, validateStack, withField } from "./harness";

describe("db-connection-budget", () => {
    const fn = (name: string, props: object): StackSpec => ({ type: Types.lambdaFunction, name, props });
    /** A cluster of 0.5-4 ACU (about 840 max_connections), two database services with their limits, and a function without the database. */
    const happy = (usersLimit = 50, ordersLimit = 20): StackSpec[] => [
        { type: Types.rdsCluster, name: "database-cluster", props: clusterProps() },
        { type: Types.lambdaInvocation, name: "users-migrations", props: migrationInvocationProps({ service: "users", connectionLimit: usersLimit }) },
        { type: Types.lambdaInvocation, name: "orders-migrations", props: migrationInvocationProps({ service: "orders", connectionLimit: ordersLimit }) },
        fn("users-create-user", databaseFunctionProps("users-create-user", 10, "users_app")),
        fn("orders-list-orders", databaseFunctionProps("orders-list-orders", 10, "orders_app")),
        fn("auth-token", functionProps("auth-token")),
    ];

    it("accepts database functions whose roles have limits that fit the cluster's max_connections less the headroom", async () => {
        // Prepare
        const specs = happy();
        // Act
        const reported = await validateStack("db-connection-budget", specs);
        // Assess
        assert.deepEqual(reported, []);
    });

    it("rejects a database function whose role no migration run gives a connection limit", async () => {
        // Prepare
        const specs = happy();
        specs[4].props = withField(specs[4].props, "environment.variables.DB_USER", "reports_app");
        // Act
        const reported = await validateStack("db-connection-budget", specs);
        // Assess
        assert.deepEqual(reported, [{
            resource: "orders-list-orders",
            message: 'Database function signs in as "reports_app", which no migration run gives a connection limit, so the connections it opens are unbounded; give its service its migration invocation (the run sets the role\'s limit).',
        }]);
    });

    it("rejects role limits summing above the cluster's estimated max_connections less the headroom", async () => {
        // Prepare: 4 ACU gives about 840 connections; 10 are kept back.
        const specs = happy(800, 31);
        // Act
        const reported = await validateStack("db-connection-budget", specs);
        // Assess
        assert.equal(estimatedMaxConnections(0.5, 4), 840);
        assert.deepEqual(reported, [{
            message: "The services' roles may hold 831 connections (users_app 800, orders_app 31) but the cluster allows 840 (max_connections, estimated from the cluster's maximum capacity) less 10 of headroom, 830; lower their ceilings or raise the maximum capacity.",
        }]);
    });

    it("accepts the same limits once the cluster's maximum capacity is raised", async () => {
        // Prepare
        const specs = happy(800, 31);
        specs[0].props = withField(specs[0].props, "serverlessv2ScalingConfiguration.maxCapacity", 8);
        // Act
        const reported = await validateStack("db-connection-budget", specs);
        // Assess
        assert.deepEqual(reported, []);
    });

    it("lets a config's maxConnections and headroom reject a sum the estimate accepts", async () => {
        // Prepare
        const specs = happy();
        // Act
        const reported = await validateStack("db-connection-budget", specs, { maxConnections: 70, headroomConnections: 5 });
        // Assess
        assert.equal(reported.length, 1);
        assert.match(reported[0].message, /may hold 70 connections .* allows 70 \(max_connections, maxConnections\) less 5 of headroom, 65/);
    });

    it("ignores functions outside the VPC or without a database user", async () => {
        // Prepare
        const specs = [
            fn("no-vpc", withField(databaseFunctionProps("no-vpc", 10, "ghost_app"), "vpcConfig", undefined)),
            fn("no-user", withField(databaseFunctionProps("no-user", 10, "ghost_app"), "environment.variables.DB_USER", undefined)),
        ];
        // Act
        const reported = await validateStack("db-connection-budget", specs);
        // Assess
        assert.deepEqual(reported, []);
    });

    it("skips a database user that is unknown during preview", async () => {
        // Prepare
        const specs = happy();
        specs[4].props = withField(specs[4].props, "environment.variables.DB_USER", UNKNOWN_STRING_SENTINEL);
        // Act
        const reported = await validateStack("db-connection-budget", specs);
        // Assess
        assert.deepEqual(reported, []);
    });

    it("totals every service's role over the program's one invocation per service (infra/registry.ts, dev): lowering the budget below the sum reports every role", async function () {
        this.timeout(120_000);
        // Prepare: the roles the whole registry asks for, as one request would have listed them.
        const stack = parseStackConfig("dev", readStackConfig("dev"));
        const whole = migrationRunRequest(resolveRegistry(services, stack.functionDefaults, { stack: "dev", reservations: stack.concurrency.reservations }), stack.database.connectionsPerFunction, "iam").services;
        const total = whole.reduce((sum, service) => sum + service.connectionLimit, 0);
        const { resources } = await runProgramOffline({ stack: "dev" });
        const config = loadPackConfig(path.join(PACK_DIR, "config.dev.json"));
        const findings = async (maxConnections: number) =>
            (await runPolicies(resources, { ...config, "db-connection-budget": { ...(config["db-connection-budget"] as object), maxConnections, headroomConnections: 10 } })).violations.filter((v) => v.policy === "db-connection-budget");
        // Act: a cluster that holds exactly the sum plus the headroom, and one a connection short.
        const fits = await findings(total + 10);
        const over = await findings(total + 10 - 1);
        // Assess
        assert.ok(whole.length > 1, "the registry has more than one database service");
        assert.deepEqual(fits, []);
        assert.equal(over.length, 1);
        assert.ok(over[0].message.startsWith(`The services' roles may hold ${total} connections (`), over[0].message);
        for (const service of whole) assert.ok(over[0].message.includes(`${service.loginRole} ${service.connectionLimit}`), `${service.loginRole} in ${over[0].message}`);
    });
});
