/**
 * Compliant "happy path" resources, shaped like the program registers them. Each failing test
 * changes one field of one of these.
 */
import { Types } from "../../policy/lib/types";
import type { Props, StackSpec } from "./harness";

export const ACCOUNT = "123456789012";
export const REGION = "eu-west-1";

export function functionProps(name = "users-get-user"): Props {
    return {
        name,
        runtime: "nodejs22.x",
        architectures: ["arm64"],
        timeout: 10,
        memorySize: 256,
        loggingConfig: {
            logFormat: "JSON",
            logGroup: `/aws/lambda/${name}`,
            applicationLogLevel: "INFO",
            systemLogLevel: "WARN",
        },
        tracingConfig: { mode: "Active" },
        role: `arn:aws:iam::${ACCOUNT}:role/users-role`,
        tags: { service: "users" },
    };
}

/** A route function that signs in to the database as its service's role `user`. */
export function databaseFunctionProps(name = "users-create-user", reserved = 10, user = "users_app"): Props {
    return {
        ...functionProps(name),
        reservedConcurrentExecutions: reserved,
        vpcConfig: { subnetIds: ["subnet-1", "subnet-2"], securityGroupIds: ["sg-functions"] },
        environment: { variables: { DB_USER: user, DB_NAME: "app" } },
    };
}

/** The managed master secret of `clusterProps()`'s cluster. */
export const MASTER_SECRET_ARN = `arn:aws:secretsmanager:${REGION}:${ACCOUNT}:secret:rds!cluster-2f1c9b7e-1111-4e6f-9a0b-5d3c2b1a0f9e-XyZ123`;

/** One database service's invocation of the migration function: its login role and connection limit (and no migrations). */
export function migrationInvocationProps({ service, connectionLimit }: { service: string; connectionLimit: number }): Props {
    return {
        functionName: "migrations-function",
        input: JSON.stringify({
            migrationSetHash: "0".repeat(64),
            login: "iam",
            service: { service, schema: service, ownerRole: `${service}_owner`, loginRole: `${service}_app`, connectionLimit, statementTimeoutMs: 9000 },
            migrations: [],
        }),
    };
}

export function logGroupProps(name = "/aws/lambda/users-get-user", retentionInDays = 30): Props {
    return { name, retentionInDays };
}

export function stageProps(): Props {
    return {
        apiId: "api123",
        name: "$default",
        autoDeploy: true,
        accessLogSettings: {
            destinationArn: `arn:aws:logs:${REGION}:${ACCOUNT}:log-group:/aws/apigateway/api`,
            format: JSON.stringify({ requestId: "$context.requestId", status: "$context.status" }),
        },
        defaultRouteSettings: { throttlingBurstLimit: 100, throttlingRateLimit: 50 },
    };
}

export function clusterProps(): Props {
    return {
        engine: "aurora-postgresql",
        engineVersion: "17.4",
        engineMode: "provisioned",
        storageEncrypted: true,
        manageMasterUserPassword: true,
        masterUsername: "app",
        backupRetentionPeriod: 14,
        deletionProtection: true,
        enabledCloudwatchLogsExports: ["postgresql"],
        serverlessv2ScalingConfiguration: { minCapacity: 0.5, maxCapacity: 4 },
        masterUserSecrets: [{ secretArn: MASTER_SECRET_ARN, secretStatus: "active" }],
        tags: { service: "platform" },
    };
}

export function clusterInstanceProps(): Props {
    return { clusterIdentifier: "app-cluster", instanceClass: "db.serverless", engine: "aurora-postgresql", publiclyAccessible: false };
}

export function rolePolicyDocument(): Props {
    return {
        Version: "2012-10-17",
        Statement: [
            { Sid: "Logs", Effect: "Allow", Action: ["logs:CreateLogStream", "logs:PutLogEvents"], Resource: "arn:aws:logs:*:*:log-group:/aws/lambda/users-*" },
            { Sid: "Tracing", Effect: "Allow", Action: ["xray:PutTraceSegments", "xray:PutTelemetryRecords"], Resource: "*" },
            { Sid: "Secret", Effect: "Allow", Action: "secretsmanager:GetSecretValue", Resource: `arn:aws:secretsmanager:${REGION}:${ACCOUNT}:secret:db-abc` },
        ],
    };
}

export function rolePolicyProps(document: Props = rolePolicyDocument()): Props {
    return { role: "users-role", policy: JSON.stringify(document) };
}

export interface ApiChainOptions {
    functionTimeout?: unknown;
    integrationTimeoutMs?: unknown;
    /** "dependencies": link only by propertyDependencies (preview); "values": only by id / ARN. */
    linkBy?: "dependencies" | "values";
}

/**
 * One route -> integration -> function chain (plus the API), as stack resources: props are
 * outputs over inputs, so ids and ARNs are there.
 */
export function apiChain(opts: ApiChainOptions = {}): StackSpec[] {
    const linkBy = opts.linkBy ?? "dependencies";
    const fn: Props = { ...functionProps("users-get-user"), arn: `arn:aws:lambda:${REGION}:${ACCOUNT}:function:users-get-user` };
    if ("functionTimeout" in opts) {
        fn.timeout = opts.functionTimeout;
    }
    const integration: Props = {
        id: "intg123",
        apiId: "api123",
        integrationType: "AWS_PROXY",
        integrationUri: fn.arn,
        payloadFormatVersion: "2.0",
        timeoutMilliseconds: 30000,
    };
    if ("integrationTimeoutMs" in opts) {
        integration.timeoutMilliseconds = opts.integrationTimeoutMs;
    }
    const route: Props = { apiId: "api123", routeKey: "GET /users/{id}", target: "integrations/intg123" };
    const deps = linkBy === "dependencies";
    return [
        { type: Types.lambdaFunction, name: "users-get-user", props: fn },
        { type: "aws:apigatewayv2/api:Api", name: "api", props: { id: "api123", protocolType: "HTTP" } },
        {
            type: Types.httpApiIntegration,
            name: "users-get-user-integration",
            props: integration,
            propertyDependencies: deps ? { apiId: ["api"], integrationUri: ["users-get-user"] } : {},
        },
        {
            type: Types.httpApiRoute,
            name: "users-get-user-route",
            props: route,
            propertyDependencies: deps ? { apiId: ["api"], target: ["users-get-user-integration"] } : {},
        },
    ];
}

/** One container as the ServiceContainer component defines it; `overrides` replace fields. */
export function containerDefinitionProps(overrides: Record<string, unknown> = {}) {
    return {
        name: "app",
        image: "123456789012.dkr.ecr.us-east-1.amazonaws.com/echo@sha256:" + "0".repeat(64),
        essential: true,
        logConfiguration: { logDriver: "awslogs", options: { "awslogs-group": "/svc/dev/echo/container", "awslogs-region": "us-east-1", "awslogs-stream-prefix": "echo" } },
        healthCheck: { command: ["CMD-SHELL", "wget -q -O /dev/null http://127.0.0.1:8080/health || exit 1"] },
        privileged: false,
        ...overrides,
    };
}

/** A Fargate task definition holding `containers`. */
export function taskDefinitionProps(containers: object[] = [containerDefinitionProps()]): Props {
    return { family: "echo", networkMode: "awsvpc", requiresCompatibilities: ["FARGATE"], cpu: "256", memory: "512", containerDefinitions: JSON.stringify(containers) };
}

export const ecsServiceProps = (): Props => ({ name: "echo", launchType: "FARGATE", networkConfiguration: { subnets: ["subnet-1"], securityGroups: ["sg-1"], assignPublicIp: false } });
export const privateIntegrationProps = (): Props => ({ integrationType: "HTTP_PROXY", connectionType: "VPC_LINK", connectionId: "vpclink-1", integrationUri: "arn:aws:servicediscovery:us-east-1:123456789012:service/srv-1", payloadFormatVersion: "1.0", timeoutMilliseconds: 29000 });
