/**
 * The secrets rules: `secret-own-service-only` over the program's own stack with secrets (which
 * passes with the whole pack) and over that stack with one planted violation each; and
 * `secret-no-plaintext-environment` over functions and task definitions, by name and by shape,
 * with the platform's own variables accepted.
 */
import { strict as assert } from "assert";
import * as path from "node:path";
import { Types } from "../../policy/lib/types";
import { UNKNOWN_STRING_SENTINEL } from "../../policy/lib/unknown";
import { secretOwnServiceOnly } from "../../policy/rules/secret-own-service-only";
import { runProgramOffline, type OfflineRun } from "../../tools/offline";
import type { RegisteredResource } from "../../tools/registered-resource";
import { loadPackConfig, PACK_DIR, runPolicies } from "../../tools/policy-engine";
import { echoContainer } from "../../testing/fixtures/registries";
import { secretServices } from "../../testing/fixtures/secret-services";
import { containerDefinitionProps, functionProps, taskDefinitionProps } from "./fixtures";
import { validateResource, withField } from "./harness";

const READ = "secretsmanager:GetSecretValue";

describe("secrets rules", () => {
    describe("secret-own-service-only", function () {
        this.timeout(120_000);
        let run: OfflineRun;
        before(async () => {
            run = await runProgramOffline({ stack: "dev", services: [...secretServices, echoContainer({ secrets: ["PAYMENT_KEY"], scaling: { default: { minTasks: 1, maxTasks: 1 } } })] });
        });

        /** A copy of the run's resources with `change` applied to the one named `name` (or removed when it returns undefined). */
        const planted = (name: string, change: (resource: RegisteredResource) => RegisteredResource | undefined): RegisteredResource[] =>
            run.resources.flatMap((resource) => {
                if (resource.name !== name) return [resource];
                const changed = change(structuredClone(resource));
                return changed ? [changed] : [];
            });
        const findings = async (resources: readonly RegisteredResource[]) => (await runPolicies(resources, {}, [secretOwnServiceOnly])).violations.map((v) => `${v.resourceName}: ${v.message}`);
        const secretArn = (service: string) => run.resources.find((r) => r.type === Types.secretsManagerSecret && r.inputs.name === `serverless-microservices/dev/${service}`)!.outputs.arn as string;
        /** Sets an input as the engine would see it: in the inputs and the outputs the mock echoed. */
        const set = (resource: RegisteredResource, input: string, value: unknown) => {
            resource.inputs[input] = value;
            resource.outputs[input] = value;
            return resource;
        };
        const withStatement = (statement: object) => (policy: RegisteredResource) => {
            const document = JSON.parse(policy.inputs.policy);
            document.Statement.push(statement);
            return set(policy, "policy", JSON.stringify(document));
        };

        it("passes the program's stack with secrets, with every mandatory rule of the pack", async () => {
            const result = await runPolicies(run.resources, loadPackConfig(path.join(PACK_DIR, "config.dev.json")));
            assert.deepEqual(result.violations.filter((violation) => violation.level === "mandatory"), []);
            assert.deepEqual(await findings(run.resources), []);
        });

        it("rejects another service's role granted the read of a secret by its ARN", async () => {
            const resources = planted("neighbor-permissions", withStatement({ Sid: "Peek", Effect: "Allow", Action: READ, Resource: secretArn("vault") }));
            assert.deepEqual(await findings(resources), [
                `neighbor-permissions: Role neighbor-role may read secret vault-secrets: inline policy neighbor-permissions statement "Peek" allows "${READ}" on "${secretArn("vault")}". Only its service's roles may (vault-role).`,
            ]);
        });

        it("rejects a grant on every secret (\"*\") or a managed policy that reads them all, to any role but a secret's readers", async () => {
            const star = await findings(planted("vault-permissions", withStatement({ Sid: "All", Effect: "Allow", Action: "secretsmanager:Get*", Resource: "*" })));
            assert.equal(star.length, 2, star.join("\n")); // neighbor's and echo's secrets
            assert.ok(star.every((line) => line.startsWith("vault-permissions: Role vault-role may read secret ")));
            const managed = await findings(planted("neighbor-role", (role) => set(role, "managedPolicyArns", ["arn:aws:iam::aws:policy/SecretsManagerReadWrite"])));
            assert.equal(managed.length, 2, managed.join("\n")); // vault's and echo's; its own is its to read
            assert.ok(managed.some((line) => line.includes("may read secret vault-secrets: it attaches the AWS-managed policy SecretsManagerReadWrite")));
        });

        it("rejects a secret without a resource policy, naming its readers", async () => {
            const resources = planted("vault-secrets", (resource) => (resource.type === Types.secretsManagerSecretPolicy ? undefined : resource));
            assert.deepEqual(await findings(resources), [
                `vault-secrets: Secret vault-secrets has no resource policy denying ${READ} to every principal but its readers (vault-role): any role whose IAM policy allows it can read the service's values.`,
            ]);
        });

        it("rejects a resource policy that exempts a role other than the secret's readers", async () => {
            const neighborRole = run.resources.find((r) => r.name === "neighbor-role")!.outputs.arn as string;
            const resources = run.resources.map((resource) => {
                if (resource.type !== Types.secretsManagerSecretPolicy || resource.inputs.secretArn !== secretArn("vault")) return resource;
                const copy = structuredClone(resource);
                const document = JSON.parse(copy.inputs.policy);
                document.Statement[0].Condition.ArnNotEquals["aws:PrincipalArn"].push(neighborRole);
                return set(copy, "policy", JSON.stringify(document));
            });
            assert.deepEqual(await findings(resources), [`vault-secrets: Secret vault-secrets's resource policy lets ${neighborRole} read it, which is not the role of a function or task that uses it (vault-role).`]);
        });
    });

    describe("secret-no-plaintext-environment", () => {
        const lambda = (variables: Record<string, unknown>) => validateResource("secret-no-plaintext-environment", { type: Types.lambdaFunction, props: { ...functionProps(), environment: { variables } } });
        const task = (environment: Array<{ name: string; value: string }>) =>
            validateResource("secret-no-plaintext-environment", { type: Types.ecsTaskDefinition, props: taskDefinitionProps([containerDefinitionProps({ environment })]) });

        it("accepts the platform's variables: labels, a secret's ARN, hashes, log group names, JSON settings", async () => {
            assert.deepEqual(
                await lambda({
                    SERVICE_NAME: "users",
                    ROUTE_KEY: "GET /users/{id}",
                    SERVICE_SECRET_ARN: "arn:aws:secretsmanager:us-east-1:123456789012:secret:serverless-microservices/dev/users-AbCdEf",
                    DB_SECRET_ARN: "arn:aws:secretsmanager:us-east-1:123456789012:secret:rds!cluster-x-AbCdEf",
                    DB_MIGRATION_SET: "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
                    DB_USER: "users_app",
                    AWS_LAMBDA_LOG_GROUP: "/serverless-microservices/dev/users/get-users-id",
                    OUTBOX_RELAY_CHECK: JSON.stringify({ relayFunctionName: "users-outbox-relay-1a2b3c4", namespace: "AWS/Lambda" }),
                    NODE_EXTRA_CA_CERTS: "/var/runtime/ca-cert.pem",
                }),
                [],
            );
        });

        const planted: Array<[string, Record<string, string>, RegExp]> = [
            ["a literal under a *_KEY name", { STRIPE_API_KEY: "sk_live_abc" }, /STRIPE_API_KEY looks like a secret: its name says it holds a secret and its value is not an ARN/],
            ["a password", { DB_PASSWORD: "hunter2" }, /DB_PASSWORD looks like a secret: its name says/],
            ["a token", { GITHUB_TOKEN_VALUE: "ghp_x" }, /GITHUB_TOKEN_VALUE looks like a secret/],
            ["a secret", { WEBHOOK_SECRET: "whsec_1" }, /WEBHOOK_SECRET looks like a secret/],
            ["an AWS access key id under a neutral name", { UPSTREAM: "AKIAIOSFODNN7EXAMPLE" }, /UPSTREAM looks like a secret: its value looks like an AWS access key id/],
            ["a PEM private key", { TLS: "-----BEGIN RSA PRIVATE KEY-----\nMIIE\n-----END RSA PRIVATE KEY-----" }, /TLS looks like a secret: its value looks like a PEM private key/],
            ["a JWT", { BEARER: "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJhZGEifQ.c2lnbmF0dXJl" }, /BEARER looks like a secret: its value looks like a JWT/],
            ["a long random token", { UPSTREAM_AUTH: "q8ZfL2vX9mR4tB7nW1kJ6hY3sD0pA5cE" }, /UPSTREAM_AUTH looks like a secret: its value is a random-looking token/],
        ];
        for (const [what, variables, expected] of planted) {
            it(`rejects ${what} in a function's environment`, async () => {
                const messages = await lambda(variables);
                assert.equal(messages.length, 1, JSON.stringify(messages));
                assert.match(String(messages[0]), expected);
            });
        }

        it("rejects a secret in a container's environment, and accepts its plain settings", async () => {
            const messages = await task([
                { name: "GREETING", value: "hello" },
                { name: "API_PASSWORD", value: "p4ss" },
            ]);
            assert.equal(messages.length, 1, JSON.stringify(messages));
            assert.match(String(messages[0]), /^Container "app"'s environment variable API_PASSWORD looks like a secret/);
        });

        it("skips values unknown during preview, and honours ignoredNames", async () => {
            assert.deepEqual(await lambda({ API_KEY: UNKNOWN_STRING_SENTINEL }), []);
            const ignored = await validateResource(
                "secret-no-plaintext-environment",
                { type: Types.lambdaFunction, props: withField(functionProps(), "environment", { variables: { PARTITION_KEY: "tenant" } }) },
                { ignoredNames: ["PARTITION_KEY"] },
            );
            assert.deepEqual(ignored, []);
        });
    });
});
