import { strict as assert } from "assert";
import { Types } from "../../policy/lib/types";
import { UNKNOWN_STRING_SENTINEL } from "../../policy/lib/unknown";
import { databaseFunctionProps, functionProps } from "./fixtures";
import { StackSpec, validateStack, withField } from "./harness";

describe("db-connection-budget", () => {
    const fn = (name: string, props: object): StackSpec => ({ type: Types.lambdaFunction, name, props });
    const happy = (): StackSpec[] => [
        fn("users-create-user", databaseFunctionProps("users-create-user", 10)),
        fn("users-list-users", databaseFunctionProps("users-list-users", 20)),
        fn("auth-token", functionProps("auth-token")),
    ];

    it("accepts database functions whose reserved concurrency fits the budget", async () => {
        // Prepare
        const specs = happy();
        // Act
        const reported = await validateStack("db-connection-budget", specs);
        // Assess
        assert.deepEqual(reported, []);
    });

    it("rejects a database function without reserved concurrency", async () => {
        // Prepare
        const specs = happy();
        specs[0].props = withField(specs[0].props, "reservedConcurrentExecutions", undefined);
        // Act
        const reported = await validateStack("db-connection-budget", specs);
        // Assess
        assert.deepEqual(reported, [{
            resource: "users-create-user",
            message: "Database function has no reserved concurrency, so the connections it opens are unbounded; set reservedConcurrentExecutions.",
        }]);
    });

    it("rejects reserved concurrency summing above maxConnections", async () => {
        // Prepare
        const specs = happy();
        specs[1].props = withField(specs[1].props, "reservedConcurrentExecutions", 95);
        // Act
        const reported = await validateStack("db-connection-budget", specs);
        // Assess
        assert.deepEqual(reported, [{
            message: "Database functions may hold 105 connections (users-create-user 10, users-list-users 95) but the budget is 100 (maxConnections); lower their reservedConcurrentExecutions or raise the budget with the cluster's minimum capacity.",
        }]);
    });

    it("lets a config override of maxConnections reject a sum the default accepts", async () => {
        // Prepare
        const specs = happy();
        // Act
        const reported = await validateStack("db-connection-budget", specs, { maxConnections: 25 });
        // Assess
        assert.equal(reported.length, 1);
        assert.match(reported[0].message, /may hold 30 connections .* budget is 25/);
    });

    it("ignores functions outside the VPC or without the database secret", async () => {
        // Prepare
        const specs = [fn("no-vpc", withField(databaseFunctionProps("no-vpc"), "vpcConfig", undefined)), fn("no-secret", withField(databaseFunctionProps("no-secret"), "environment.variables.DB_SECRET_ARN", undefined))];
        specs.forEach((s) => delete s.props.reservedConcurrentExecutions);
        // Act
        const reported = await validateStack("db-connection-budget", specs);
        // Assess
        assert.deepEqual(reported, []);
    });

    it("skips reserved concurrency that is unknown during preview", async () => {
        // Prepare
        const specs = happy();
        specs[0].props = withField(specs[0].props, "reservedConcurrentExecutions", UNKNOWN_STRING_SENTINEL);
        // Act
        const reported = await validateStack("db-connection-budget", specs);
        // Assess
        assert.deepEqual(reported, []);
    });
});
