/**
 * The plan's secrets: each service's declared secrets, the secret that holds them and the command
 * that sets them (the program never does), and their price among the idle costs.
 */
import * as assert from "node:assert/strict";
import { formatPlan } from "../../tools/plan/render";
import { planStack, type StackPlan } from "../../tools/plan/model";
import { fixtureServices } from "../../testing/fixtures";
import { secretServices } from "../../testing/fixtures/secret-services";

describe("plan: secrets", function () {
    this.timeout(120_000);
    let plan: StackPlan;
    let without: StackPlan;
    before(async () => {
        plan = await planStack({ stack: "dev", services: secretServices });
        without = await planStack({ stack: "dev", services: fixtureServices.filter((service) => !service.database) });
    });

    it("lists each service's declared secrets, its secret's name and how to set them", () => {
        assert.deepEqual(
            plan.secrets.map(({ service, name, declared }) => ({ service, name, declared })),
            [
                { service: "vault", name: "serverless-microservices/dev/vault", declared: ["API_KEY", "SIGNING_KEY"] },
                { service: "neighbor", name: "serverless-microservices/dev/neighbor", declared: ["OWN_TOKEN"] },
            ],
        );
        assert.equal(
            plan.secrets[0].setCommand,
            'aws secretsmanager put-secret-value --secret-id serverless-microservices/dev/vault --secret-string file://values.json  # {"API_KEY": "...", "SIGNING_KEY": "..."}',
        );
        const text = formatPlan(plan);
        assert.match(text, /SECRETS\n {2}values are set out of band/);
        assert.match(text, /  vault: serverless-microservices\/dev\/vault holds API_KEY, SIGNING_KEY\n    set: aws secretsmanager put-secret-value --secret-id serverless-microservices\/dev\/vault/);
    });

    it("prices one secret per service that declares secrets", () => {
        const line = (p: StackPlan) => p.cost.idle.lines.find((entry) => entry.item === "Secrets Manager secrets")!;
        assert.equal(line(plan).amount - line(without).amount, 2 * 0.4);
        assert.match(formatPlan(without), /SECRETS\n {2}none \(no service declares secrets\)/);
    });
});
