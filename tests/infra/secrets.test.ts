/**
 * Secrets in the deployed stack (the program under mocks): one Secrets Manager secret per service
 * that declares secrets, with no value from the program, readable by that service's role alone
 * (its resource policy denies every other principal, and no other role's policy grants it); each
 * function of the service gets the secret's ARN and nothing else; a database service's functions
 * reach it through the VPC's Secrets Manager endpoint; a container service's tasks get each value as
 * a variable that ECS reads with the task execution role.
 */
import * as assert from "node:assert/strict";
import { ENVIRONMENT } from "../../functions/runtime/environment";
import type { RegisteredService } from "../../functions/runtime/container";
import { Types } from "../../policy/lib/types";
import { runProgramOffline, type OfflineRun } from "../../tools/offline";
import type { RegisteredResource } from "../../tools/registered-resource";
import { fixtureServices } from "../../testing/fixtures";
import { echoContainer } from "../../testing/fixtures/registries";
import { secretServices } from "../../testing/fixtures/secret-services";
import { ofType, one } from "../../testing/graph";

interface Statement {
    Sid?: string;
    Effect: string;
    Principal?: unknown;
    Action: string | string[];
    Resource: string | string[];
    Condition?: Record<string, Record<string, string[]>>;
}
const list = (value: string | string[]) => (Array.isArray(value) ? value : [value]);
const statementsOf = (policy: string): Statement[] => JSON.parse(policy).Statement;
const READ = "secretsmanager:GetSecretValue";

/** The ARNs a role's inline policy lets it read secrets of. */
function readableSecrets(run: OfflineRun, role: RegisteredResource): string[] {
    return ofType(run, Types.iamRolePolicy)
        .filter((policy) => policy.propertyDependencies.role?.includes(role.urn))
        .flatMap((policy) => statementsOf(policy.inputs.policy))
        .filter((statement) => statement.Effect === "Allow" && list(statement.Action).includes(READ))
        .flatMap((statement) => list(statement.Resource));
}

const notesWithSecret = (): RegisteredService => {
    const notes = fixtureServices.find((service) => service.name === "notes")!;
    return { ...notes, secrets: ["NOTES_KEY"] } as RegisteredService;
};

describe("secrets in the deployed stack", function () {
    this.timeout(180_000);
    let run: OfflineRun;
    before(async () => {
        run = await runProgramOffline({ stack: "dev", services: [...fixtureServices, ...secretServices] });
    });

    const secretOf = (service: string) => ofType(run, Types.secretsManagerSecret).find((secret) => secret.inputs.name === `serverless-microservices/dev/${service}`);
    const roleOf = (service: string) => one(run, Types.iamRole, `${service}-role`);

    it("creates one secret per service that declares secrets, named for the project, stack and service, and none for the others", () => {
        const names = ofType(run, Types.secretsManagerSecret).map((secret) => secret.inputs.name);
        assert.deepEqual(names.sort(), ["serverless-microservices/dev/neighbor", "serverless-microservices/dev/vault"]);
        assert.match(secretOf("vault")!.inputs.description, /API_KEY, SIGNING_KEY/);
    });

    it("deletes a dev stack's secrets at once on destroy, so the stack can be created again the same day", () => {
        for (const secret of ofType(run, Types.secretsManagerSecret)) assert.equal(secret.inputs.recoveryWindowInDays, 0, secret.inputs.name);
    });

    it("keeps a prod stack's deleted secrets restorable for 30 days, as it protects its data", async () => {
        const prod = await runProgramOffline({ stack: "prod", services: [...fixtureServices, ...secretServices] });
        const windows = ofType(prod, Types.secretsManagerSecret).map((secret) => secret.inputs.recoveryWindowInDays);
        assert.deepEqual(windows, [30, 30]);
    });

    it("never gives a secret a value: no SecretVersion, no secretString anywhere in the program", () => {
        assert.equal(run.resources.filter((resource) => resource.type.startsWith("aws:secretsmanager/secretVersion")).length, 0);
        for (const secret of ofType(run, Types.secretsManagerSecret)) assert.equal(secret.inputs.secretString, undefined);
    });

    it("denies reading a secret to every principal but its service's role, by the secret's resource policy", () => {
        for (const service of ["vault", "neighbor"]) {
            const secret = secretOf(service)!;
            const policy = ofType(run, Types.secretsManagerSecretPolicy).find((candidate) => candidate.inputs.secretArn === secret.outputs.arn);
            assert.ok(policy, `no resource policy on ${service}'s secret`);
            assert.deepEqual(statementsOf(policy.inputs.policy), [
                {
                    Sid: "OnlyItsServiceReads",
                    Effect: "Deny",
                    Principal: "*",
                    Action: READ,
                    Resource: secret.outputs.arn,
                    Condition: { ArnNotEquals: { "aws:PrincipalArn": [roleOf(service).outputs.arn] } },
                },
            ]);
            assert.equal(policy.inputs.blockPublicPolicy, true);
        }
    });

    it("lets each service's role read its own secret and no other", () => {
        assert.deepEqual(readableSecrets(run, roleOf("vault")), [secretOf("vault")!.outputs.arn]);
        assert.deepEqual(readableSecrets(run, roleOf("neighbor")), [secretOf("neighbor")!.outputs.arn]);
        assert.deepEqual(readableSecrets(run, roleOf("ping")), []);
    });

    it("gives each function of the service the secret's ARN in its environment, and functions of other services nothing", () => {
        const variables = (name: string) => one(run, Types.lambdaFunction, name).inputs.environment.variables as Record<string, string>;
        assert.equal(variables("vault-get-vault-fingerprints")[ENVIRONMENT.serviceSecretArn], secretOf("vault")!.outputs.arn);
        assert.equal(variables("vault-schedule-check")[ENVIRONMENT.serviceSecretArn], secretOf("vault")!.outputs.arn);
        assert.equal(variables("neighbor-get-neighbor-peek")[ENVIRONMENT.serviceSecretArn], secretOf("neighbor")!.outputs.arn);
        assert.equal(variables("ping-get-ping")[ENVIRONMENT.serviceSecretArn], undefined);
    });

    describe("a database service that declares secrets", () => {
        let withDatabase: OfflineRun;
        before(async () => {
            withDatabase = await runProgramOffline({ stack: "dev", services: [notesWithSecret()] });
        });

        it("reaches its secret through the VPC's Secrets Manager endpoint, which its functions are created after", () => {
            const endpoint = ofType(withDatabase, Types.vpcEndpoint).find((candidate) => String(candidate.inputs.serviceName).endsWith(".secretsmanager"));
            assert.ok(endpoint, "no Secrets Manager endpoint");
            const functions = ofType(withDatabase, Types.lambdaFunction).filter((fn) => fn.inputs.environment?.variables?.[ENVIRONMENT.serviceSecretArn] !== undefined);
            assert.ok(functions.length > 0);
            for (const fn of functions) assert.ok(fn.dependencies.includes(endpoint.urn), `${fn.name} is not created after the endpoint`);
            assert.equal(ofType(withDatabase, Types.vpcEndpoint).filter((candidate) => String(candidate.inputs.serviceName).endsWith(".secretsmanager")).length, 1);
        });
    });

    describe("a container service that declares secrets", () => {
        let withContainer: OfflineRun;
        before(async () => {
            const echo = echoContainer({ secrets: ["PAYMENT_KEY"], scaling: { default: { minTasks: 1, maxTasks: 1 } } });
            withContainer = await runProgramOffline({ stack: "dev", services: [...fixtureServices.filter((service) => !service.database), echo] });
        });

        it("hands the process each value as a variable ECS reads from the secret with the execution role, which alone may read it", () => {
            const secret = one(withContainer, Types.secretsManagerSecret);
            const [definition] = JSON.parse(one(withContainer, Types.ecsTaskDefinition).inputs.containerDefinitions);
            assert.deepEqual(definition.secrets, [{ name: "PAYMENT_KEY", valueFrom: `${secret.outputs.arn}:PAYMENT_KEY::` }]);
            assert.ok(!definition.environment.some((variable: { name: string }) => variable.name === "PAYMENT_KEY"));
            const execution = one(withContainer, Types.iamRole, "echo-execution");
            assert.deepEqual(readableSecrets(withContainer, execution), [secret.outputs.arn]);
            assert.deepEqual(readableSecrets(withContainer, one(withContainer, Types.iamRole, "echo-task")), []);
            const policy = one(withContainer, Types.secretsManagerSecretPolicy);
            assert.deepEqual(statementsOf(policy.inputs.policy)[0].Condition, { ArnNotEquals: { "aws:PrincipalArn": [execution.outputs.arn] } });
        });

        it("gives a dev container service's secret the same immediate deletion as a function service's", () => {
            assert.equal(one(withContainer, Types.secretsManagerSecret).inputs.recoveryWindowInDays, 0);
        });

        it("creates the Secrets Manager endpoint for the tasks even without a database", () => {
            assert.ok(ofType(withContainer, Types.vpcEndpoint).some((candidate) => String(candidate.inputs.serviceName).endsWith(".secretsmanager")));
        });
    });
});
