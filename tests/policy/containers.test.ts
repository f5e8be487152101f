/**
 * The container rules, each on a compliant resource and with one field changed per failing case;
 * then each rule's violation planted into the program's own offline run of dev and prod (with a
 * fixture registry holding a container service), where the pack must report it as mandatory.
 */
import { strict as assert } from "assert";
import * as path from "node:path";
import { Types } from "../../policy/lib/types";
import { UNKNOWN_STRING_SENTINEL } from "../../policy/lib/unknown";
import { loadPackConfig, PACK_DIR, runPolicies } from "../../tools/policy-engine";
import { type ResourceRecord } from "../../tools/registered-resource";
import { runProgramOffline } from "../../tools/offline";
import { ping } from "../../testing/fixtures/registry";
import { echoContainer } from "../../testing/fixtures/registries";
import { containerDefinitionProps as container, ecsServiceProps as serviceProps, privateIntegrationProps, taskDefinitionProps } from "./fixtures";
import { NOT_APPLICABLE, validateResource, validateStack, withField, type Props } from "./harness";

describe("container rules", () => {
    describe("ecs-task-size", () => {
        const check = (props: Props, config?: object) => validateResource("ecs-task-size", { type: Types.ecsTaskDefinition, props }, config);

        it("accepts 256 CPU units with 512 MiB", async () => {
            assert.deepEqual(await check(taskDefinitionProps()), []);
        });

        it("rejects 256 CPU units with 4096 MiB, a pair Fargate does not run", async () => {
            // Prepare
            const props = withField(taskDefinitionProps(), "memory", "4096");
            // Act
            const messages = await check(props);
            // Assess
            assert.equal(messages.length, 1);
            assert.match(String(messages[0]), /^Task cpu 256 with memory 4096 MiB is not a Fargate size; Fargate runs 256 with 512, 1024, 2048; 512 with 1024-4096/);
        });

        it("rejects 8192 CPU units, above the pack's 4096 ceiling, unless the stack raises it", async () => {
            // Prepare
            const props = withField(withField(taskDefinitionProps(), "cpu", "8192"), "memory", "16384");
            // Act
            const strict = await check(props);
            const raised = await check(props, { maxCpu: 8192 });
            // Assess
            assert.deepEqual(strict, ["Task cpu 8192 is outside 256-4096 CPU units; choose a size within the bounds."]);
            assert.deepEqual(raised, []);
        });

        it("rejects a task definition without memory", async () => {
            const messages = await check(withField(taskDefinitionProps(), "memory", undefined));
            assert.deepEqual(messages, ["Task cpu and memory must both be set (cpu 256, memory unset); without them a Fargate task definition is refused."]);
        });

        it("skips a size that is unknown during preview", async () => {
            assert.deepEqual(await check(withField(taskDefinitionProps(), "cpu", UNKNOWN_STRING_SENTINEL)), []);
        });
    });

    describe("ecs-container-logging", () => {
        const stack = (task: Props, retentionInDays: number | null = 7) => [
            { type: Types.logGroup, name: "echo-container", props: { name: "/svc/dev/echo/container", ...(retentionInDays !== null ? { retentionInDays } : {}) } },
            { type: Types.ecsTaskDefinition, name: "echo-task", props: task },
        ];

        it("accepts awslogs into a log group of the stack with a retention", async () => {
            assert.deepEqual(await validateStack("ecs-container-logging", stack(taskDefinitionProps())), []);
        });

        it("reports a container without a log configuration", async () => {
            // Prepare
            const task = taskDefinitionProps([container({ logConfiguration: undefined })]);
            // Act
            const reported = await validateStack("ecs-container-logging", stack(task));
            // Assess
            assert.deepEqual(reported, [{ resource: "echo-task", message: 'Container "app" has no awslogs log configuration (none); its output is lost when the task stops.' }]);
        });

        it("reports a container logging into a group the stack does not create", async () => {
            const task = taskDefinitionProps([container({ logConfiguration: { logDriver: "awslogs", options: { "awslogs-group": "/elsewhere" } } })]);
            const reported = await validateStack("ecs-container-logging", stack(task));
            assert.deepEqual(reported, [{ resource: "echo-task", message: 'Container "app" logs to "/elsewhere", which is not a log group of this stack; create it with a retention.' }]);
        });

        it("reports a log group that keeps logs forever", async () => {
            const reported = await validateStack("ecs-container-logging", stack(taskDefinitionProps(), null));
            assert.deepEqual(reported, [{ resource: "echo-task", message: 'Container "app" logs to "/svc/dev/echo/container", which has no retention; set retentionInDays on that log group.' }]);
        });
    });

    describe("ecs-container-health-check", () => {
        const check = (props: Props) => validateResource("ecs-container-health-check", { type: Types.ecsTaskDefinition, props });

        it("accepts an essential container with a health check command", async () => {
            assert.deepEqual(await check(taskDefinitionProps()), []);
        });

        it("rejects an essential container without one", async () => {
            const messages = await check(taskDefinitionProps([container({ healthCheck: undefined })]));
            assert.equal(messages.length, 1);
            assert.match(String(messages[0]), /^Container "app" has no health check; a hung process keeps receiving traffic\./);
        });

        it("does not ask it of a sidecar marked non-essential", async () => {
            assert.deepEqual(await check(taskDefinitionProps([container(), container({ name: "sidecar", essential: false, healthCheck: undefined })])), []);
        });

        it("reports container definitions that are not JSON", async () => {
            assert.deepEqual(await check(withField(taskDefinitionProps(), "containerDefinitions", "[{")), ["containerDefinitions is not valid JSON."]);
        });
    });

    describe("ecs-no-public-ip", () => {
        const check = (props: Props) => validateResource("ecs-no-public-ip", { type: Types.ecsService, props });

        it("accepts tasks without a public IP", async () => {
            assert.deepEqual(await check(serviceProps()), []);
        });

        it("rejects tasks that get a public IP", async () => {
            const messages = await check(withField(serviceProps(), "networkConfiguration.assignPublicIp", true));
            assert.deepEqual(messages, ["Tasks get a public IP (networkConfiguration.assignPublicIp is true); set it to false and reach AWS through the VPC's endpoints."]);
        });

        it("does not apply to task definitions", async () => {
            assert.equal(await validateResource("ecs-no-public-ip", { type: Types.ecsTaskDefinition, props: taskDefinitionProps() }), NOT_APPLICABLE);
        });
    });

    describe("ecs-not-privileged", () => {
        const check = (props: Props) => validateResource("ecs-not-privileged", { type: Types.ecsTaskDefinition, props });

        it("accepts unprivileged containers", async () => {
            assert.deepEqual(await check(taskDefinitionProps()), []);
        });

        it("rejects a privileged container", async () => {
            assert.deepEqual(await check(taskDefinitionProps([container({ privileged: true })])), ['Container "app" is privileged; set privileged to false.']);
        });
    });

    describe("api-private-integration-timeout", () => {
        const check = (props: Props) => validateResource("api-private-integration-timeout", { type: Types.httpApiIntegration, props });

        it("accepts a VPC link integration that waits 29 s", async () => {
            assert.deepEqual(await check(privateIntegrationProps()), []);
        });

        it("rejects one that leaves the wait to the default", async () => {
            const messages = await check(withField(privateIntegrationProps(), "timeoutMilliseconds", undefined));
            assert.deepEqual(messages, ["Private integration timeout is not set (API Gateway waits 30000 ms, a choice nobody made); set timeoutMilliseconds between 50 and 30000 ms."]);
        });

        it("rejects one above the HTTP API's 30 s", async () => {
            const messages = await check(withField(privateIntegrationProps(), "timeoutMilliseconds", 45000));
            assert.deepEqual(messages, ["Private integration timeout 45000 ms is above the maximum of 30000 ms; set timeoutMilliseconds between 50 and 30000 ms."]);
        });

        it("leaves function integrations to api-timeout-budget", async () => {
            assert.deepEqual(await check({ integrationType: "AWS_PROXY", integrationUri: "arn:aws:lambda:us-east-1:1:function:f" }), []);
        });
    });
});

describe("container rules over the program's offline run", function () {
    this.timeout(120_000);
    const registry = [ping, echoContainer()];
    /** One planted violation per rule: the resource type, the input, the value. */
    const plants: { rule: string; type: string; field: string; value: (current: any) => unknown }[] = [
        { rule: "ecs-task-size", type: Types.ecsTaskDefinition, field: "memory", value: () => "4096" },
        { rule: "ecs-container-logging", type: Types.ecsTaskDefinition, field: "containerDefinitions", value: (defs) => JSON.stringify(JSON.parse(defs).map((c: object) => ({ ...c, logConfiguration: undefined }))) },
        { rule: "ecs-container-health-check", type: Types.ecsTaskDefinition, field: "containerDefinitions", value: (defs) => JSON.stringify(JSON.parse(defs).map((c: object) => ({ ...c, healthCheck: undefined }))) },
        { rule: "ecs-no-public-ip", type: Types.ecsService, field: "networkConfiguration.assignPublicIp", value: () => true },
        { rule: "ecs-not-privileged", type: Types.ecsTaskDefinition, field: "containerDefinitions", value: (defs) => JSON.stringify(JSON.parse(defs).map((c: object) => ({ ...c, privileged: true }))) },
        { rule: "api-private-integration-timeout", type: Types.httpApiIntegration, field: "timeoutMilliseconds", value: () => 31000 },
    ];

    for (const stack of ["dev", "prod"]) {
        describe(`${stack}`, () => {
            let resources: ResourceRecord[];
            const config = loadPackConfig(path.join(PACK_DIR, `config.${stack}.json`));

            before(async () => {
                resources = (await runProgramOffline({ stack, services: registry })).resources;
            });

            it("passes with the container service as the program builds it", async () => {
                const result = await runPolicies(resources, config);
                assert.deepEqual(result.violations.filter((v) => v.level === "mandatory"), []);
            });

            for (const plant of plants) {
                it(`reports ${plant.rule} as mandatory when its violation is planted`, async () => {
                    // Prepare: the first resource of the type the rule reads (a VPC link integration for the timeout).
                    const target = resources.find((r) => r.type === plant.type && (plant.type !== Types.httpApiIntegration || r.inputs.connectionType === "VPC_LINK"))!;
                    const current = plant.field.split(".").reduce((value: any, key) => value?.[key], target.inputs);
                    const value = plant.value(current);
                    const changed = resources.map((r) => (r === target ? { ...r, inputs: withField(r.inputs, plant.field, value), outputs: withField(r.outputs ?? {}, plant.field, value) } : r));
                    // Act
                    const result = await runPolicies(changed, config);
                    // Assess
                    const found = result.violations.filter((v) => v.policy === plant.rule);
                    assert.ok(found.length > 0, `${plant.rule} not reported`);
                    assert.ok(found.every((v) => v.level === "mandatory" && v.resourceName === target.name), JSON.stringify(found));
                });
            }
        });
    }
});
