import { strict as assert } from "assert";
import { Types } from "../../policy/lib/types";
import { UNKNOWN_STRING_SENTINEL } from "../../policy/lib/unknown";
import { rolePolicyDocument, rolePolicyProps } from "./fixtures";
import { validateResource, withField } from "./harness";

const ADMIN = "arn:aws:iam::aws:policy/AdministratorAccess";
const BASIC_EXECUTION = "arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole";

describe("iam-no-broad-managed-policies", () => {
    const attachment = (policyArn: string, config?: object) => validateResource(
        "iam-no-broad-managed-policies",
        { type: Types.iamRolePolicyAttachment, props: { role: "users-role", policyArn } },
        config,
    );

    it("accepts AWSLambdaBasicExecutionRole", async () => {
        // Prepare
        const arn = BASIC_EXECUTION;
        // Act
        const messages = await attachment(arn);
        // Assess
        assert.deepEqual(messages, []);
    });

    it("rejects an AdministratorAccess attachment", async () => {
        // Prepare
        const arn = ADMIN;
        // Act
        const messages = await attachment(arn);
        // Assess
        assert.deepEqual(messages, [`Attaches the AWS-managed policy AdministratorAccess (${ADMIN}), which grants far more than one service needs; grant the specific actions in an inline policy instead.`]);
    });

    it("rejects PowerUserAccess and *FullAccess attachments", async () => {
        // Prepare
        const arns = ["arn:aws:iam::aws:policy/PowerUserAccess", "arn:aws:iam::aws:policy/AmazonS3FullAccess", "arn:aws:iam::aws:policy/AWSLambda_FullAccess"];
        // Act
        const results = await Promise.all(arns.map((arn) => attachment(arn)));
        // Assess
        assert.deepEqual(results.map((m) => m.length), [1, 1, 1]);
    });

    it("accepts a customer-managed policy whose name contains FullAccess", async () => {
        // Prepare
        const arn = "arn:aws:iam::123456789012:policy/UsersTableFullAccess";
        // Act
        const messages = await attachment(arn);
        // Assess
        assert.deepEqual(messages, []);
    });

    it("rejects AdministratorAccess in a role's managedPolicyArns", async () => {
        // Prepare
        const props = { assumeRolePolicy: "{}", managedPolicyArns: [BASIC_EXECUTION, ADMIN] };
        // Act
        const messages = await validateResource("iam-no-broad-managed-policies", { type: Types.iamRole, props });
        // Assess
        assert.equal(messages.length, 1);
        assert.match((messages as string[])[0], /AdministratorAccess/);
    });

    it("rejects AdministratorAccess in a PolicyAttachment", async () => {
        // Prepare
        const props = { roles: ["users-role"], policyArn: ADMIN };
        // Act
        const messages = await validateResource("iam-no-broad-managed-policies", { type: Types.iamPolicyAttachment, props });
        // Assess
        assert.equal(messages.length, 1);
    });

    it("lets allowedPolicyArns accept a reviewed exception", async () => {
        // Prepare
        const arn = "arn:aws:iam::aws:policy/AmazonS3FullAccess";
        // Act
        const messages = await attachment(arn, { allowedPolicyArns: [arn] });
        // Assess
        assert.deepEqual(messages, []);
    });

    it("skips a policy ARN that is unknown during preview", async () => {
        // Prepare
        const arn = UNKNOWN_STRING_SENTINEL;
        // Act
        const messages = await attachment(arn);
        // Assess
        assert.deepEqual(messages, []);
    });
});

describe("iam-no-wildcard-actions", () => {
    const rolePolicy = (props: object, config?: object) =>
        validateResource("iam-no-wildcard-actions", { type: Types.iamRolePolicy, props }, config);
    const withStatement = (statement: object) => {
        const doc = rolePolicyDocument();
        doc.Statement = [...doc.Statement, statement];
        return rolePolicyProps(doc);
    };

    it("accepts a policy listing its actions", async () => {
        // Prepare
        const props = rolePolicyProps();
        // Act
        const messages = await rolePolicy(props);
        // Assess
        assert.deepEqual(messages, []);
    });

    it("rejects an Allow of \"*\"", async () => {
        // Prepare
        const props = withStatement({ Sid: "Everything", Effect: "Allow", Action: "*", Resource: "*" });
        // Act
        const messages = await rolePolicy(props);
        // Assess
        assert.deepEqual(messages, ["Policy statement \"Everything\" allows every action (\"*\"); list the actions the service needs."]);
    });

    it("rejects an Allow of a whole service (\"s3:*\")", async () => {
        // Prepare
        const props = withStatement({ Effect: "Allow", Action: ["s3:*"], Resource: "*" });
        // Act
        const messages = await rolePolicy(props);
        // Assess
        assert.deepEqual(messages, ["Policy statement 4 allows every action of a service (\"s3:*\"); list the actions the service needs."]);
    });

    it("lets forbidServiceWildcards false accept \"s3:*\" but not \"*\"", async () => {
        // Prepare
        const service = withStatement({ Effect: "Allow", Action: "s3:*", Resource: "*" });
        const everything = withStatement({ Effect: "Allow", Action: "*", Resource: "*" });
        // Act
        const serviceMessages = await rolePolicy(service, { forbidServiceWildcards: false });
        const everythingMessages = await rolePolicy(everything, { forbidServiceWildcards: false });
        // Assess
        assert.deepEqual(serviceMessages, []);
        assert.equal(everythingMessages.length, 1);
    });

    it("accepts a Deny of \"*\"", async () => {
        // Prepare
        const props = withStatement({ Effect: "Deny", Action: "*", Resource: "*", Condition: { Bool: { "aws:SecureTransport": "false" } } });
        // Act
        const messages = await rolePolicy(props);
        // Assess
        assert.deepEqual(messages, []);
    });

    it("rejects an Allow with NotAction", async () => {
        // Prepare
        const props = withStatement({ Effect: "Allow", NotAction: "iam:*", Resource: "*" });
        // Act
        const messages = await rolePolicy(props);
        // Assess
        assert.deepEqual(messages, ["Policy statement 4 allows everything except its NotAction list; use Action with the actions the service needs."]);
    });

    it("reads a document given as an object and a single Statement", async () => {
        // Prepare
        const props = { role: "users-role", policy: { Version: "2012-10-17", Statement: { Effect: "Allow", Action: "*", Resource: "*" } } };
        // Act
        const messages = await rolePolicy(props);
        // Assess
        assert.deepEqual(messages, ["Policy statement 1 allows every action (\"*\"); list the actions the service needs."]);
    });

    it("rejects \"*\" in a role's inline policy, naming the policy", async () => {
        // Prepare
        const props = { assumeRolePolicy: "{}", inlinePolicies: [{ name: "admin", policy: JSON.stringify({ Statement: [{ Effect: "Allow", Action: "*", Resource: "*" }] }) }] };
        // Act
        const messages = await validateResource("iam-no-wildcard-actions", { type: Types.iamRole, props });
        // Assess
        assert.deepEqual(messages, ["Inline policy \"admin\" statement 1 allows every action (\"*\"); list the actions the service needs."]);
    });

    it("reports a document that is not JSON instead of crashing", async () => {
        // Prepare
        const props = withField(rolePolicyProps(), "policy", "{not json");
        // Act
        const messages = await rolePolicy(props);
        // Assess
        assert.deepEqual(messages, ["Policy cannot be checked because it is not valid JSON."]);
    });

    it("skips a document that is unknown during preview", async () => {
        // Prepare
        const props = withField(rolePolicyProps(), "policy", UNKNOWN_STRING_SENTINEL);
        // Act
        const messages = await rolePolicy(props);
        // Assess
        assert.deepEqual(messages, []);
    });
});
