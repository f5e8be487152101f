/**
 * The outbox relay's wake (`relayWake: on-alarm`) as a component under mocks, with extra targets:
 * each function named (e.g. a bucket-handover forwarder, which sweeps its bucket when woken with
 * anything that is not an S3 notification) gets the same rule target (retries and the dead-letter
 * queue) and an invoke permission for that rule alone, beside the relay's; every-minute registers
 * none of it. The whole program's wake resources are tested in `outbox-infra.test.ts`.
 */
import * as assert from "node:assert/strict";
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { OutboxRelay, type OutboxRelayWake } from "../../infra/components/outbox-relay";
import { EVENT_DELIVERY_RETRY } from "../../infra/components/queue-subscription";
import { resolveRegistry } from "../../platform/registry/resolution";
import { Types } from "../../policy/lib/types";
import { eventRegistry } from "../../testing/fixtures/event-services";
import { mockArn, registered, type Registration } from "../../testing/pulumi-mocks";

const FORWARDER = "arn:aws:lambda:us-east-1:123456789012:function:accounts-forwarder:live";
const SWEEPER = "arn:aws:lambda:us-east-1:123456789012:function:accounts-sweeper:live";

/** The `accounts` relay of the event fixture, woken as `wake` says. */
function relayOf(wake: OutboxRelayWake): () => void {
    const service = resolveRegistry(eventRegistry, { memoryMb: 256, timeoutSeconds: 10 }).services.find((candidate) => candidate.name === "accounts")!;
    return () => {
        const role = new aws.iam.Role("accounts-role", { assumeRolePolicy: "{}" });
        new OutboxRelay("accounts-outbox-relay", {
            service,
            role,
            permissions: role,
            settings: { logRetentionDays: 7, logLevel: "INFO", tags: { project: "serverless-microservices" }, gradualRelease: false, logGroupName: (name, id) => `/serverless-microservices/dev/${name}/${id}` },
            database: {
                host: "db.example",
                port: 5432,
                name: "app",
                signIn: { user: "accounts_app", userArn: "arn:aws:rds-db:us-east-1:123456789012:dbuser:cluster-1/accounts_app" },
                subnetIds: ["subnet-1"],
                securityGroupIds: ["sg-1"],
                ec2ArnPrefix: "arn:aws:ec2:us-east-1:123456789012",
                endpoints: [],
            },
            eventBusName: "serverless-microservices-dev",
            producers: { functionNames: [pulumi.output("accounts-post-accounts")], logGroups: [{ functionId: "post-accounts", name: "/serverless-microservices/dev/accounts/post-accounts" }], longestTimeoutSeconds: 10 },
            wake,
        });
    };
}

describe("the outbox relay's wake targets under mocks", function () {
    this.timeout(60_000);
    const ofType = (resources: Registration[], type: string) => resources.filter((resource) => resource.type === type);

    it("gives each extra target the relay's rule target, retries and dead-letter queue, and an invoke permission for that rule alone", async () => {
        // Act
        const resources = await registered(relayOf({ mode: "on-alarm", alarmName: "serverless-microservices-dev-accounts-outbox-wake", extraTargets: [FORWARDER, SWEEPER] }));
        // Assess
        const [rule] = ofType(resources, Types.eventRule);
        const targets = ofType(resources, Types.eventTarget);
        const permissions = ofType(resources, Types.lambdaPermission);
        const extraTargets = targets.filter((target) => [FORWARDER, SWEEPER].includes(target.inputs.arn));
        assert.equal(ofType(resources, Types.eventRule).length, 1);
        assert.equal(targets.length, 3, "the relay and the two extra targets");
        assert.deepEqual(extraTargets.map((target) => target.inputs.arn), [FORWARDER, SWEEPER]);
        const deadLetterQueue = ofType(resources, Types.sqsQueue).find((queue) => queue.name === "accounts-outbox-relay-wake-dlq")!;
        for (const target of targets) {
            assert.equal(target.inputs.rule, rule.name);
            assert.deepEqual(target.inputs.retryPolicy, EVENT_DELIVERY_RETRY);
            assert.equal(target.inputs.deadLetterConfig.arn, mockArn(Types.sqsQueue, deadLetterQueue.name));
        }
        // Each permission names the function and its alias apart, as the relay's does.
        const unqualified = (arn: string) => arn.slice(0, arn.lastIndexOf(":"));
        assert.deepEqual(
            permissions
                .filter((permission) => [FORWARDER, SWEEPER].map(unqualified).includes(permission.inputs.function))
                .map((permission) => [permission.inputs.function, permission.inputs.qualifier, permission.inputs.principal, permission.inputs.action]),
            [
                [unqualified(FORWARDER), "live", "events.amazonaws.com", "lambda:InvokeFunction"],
                [unqualified(SWEEPER), "live", "events.amazonaws.com", "lambda:InvokeFunction"],
            ],
        );
        assert.equal(permissions.length, 3);
        for (const permission of permissions) assert.equal(permission.inputs.sourceArn, mockArn(Types.eventRule, rule.name), permission.name);
        assert.deepEqual(ofType(resources, Types.schedulerSchedule), []);
    });

    it("registers no rule, target, permission or wake alarm when the relay is checked every minute, and its check function instead", async () => {
        // Act
        const resources = await registered(relayOf({ mode: "every-minute" }));
        // Assess
        for (const type of [Types.eventRule, Types.eventTarget, Types.lambdaPermission, Types.metricAlarm]) assert.deepEqual(ofType(resources, type), [], type);
        // Its schedule's role reads the account's identity, which these mocks do not answer: the program's tests cover it.
        assert.ok(ofType(resources, Types.lambdaFunction).some((fn) => fn.name === "accounts-outbox-relay-check"));
    });
});
