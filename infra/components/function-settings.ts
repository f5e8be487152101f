/**
 * The settings every Lambda function of the platform shares, decided in one place: the runtime
 * pinned, arm64, JSON logs into the function's own group, X-Ray tracing, and the VPC and database
 * environment for functions that use the database. Their code comes from `infra/function-packaging.ts`.
 */
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { statementTimeoutFor } from "../../functions/runtime/data/database";
import { ENVIRONMENT } from "../../functions/runtime/environment";

/** Stack-wide function settings, built once by the program. */
export interface FunctionSettings {
    logRetentionDays: number;
    logLevel: "DEBUG" | "INFO" | "WARN" | "ERROR";
    tags: Record<string, string>;
    /**
     * Whether the stack releases new versions gradually (canary or linear through CodeDeploy): then
     * the program creates each function's alias but never moves it (`function.ts`).
     */
    gradualRelease: boolean;
    /** The log group name of a service's function, e.g. `/serverless-microservices/dev/users/get-users-id`. */
    logGroupName(service: string, functionId: string): string;
}

/**
 * Who a function signs in to the database as: its service's own login role, with an IAM token it
 * signs itself (`rds-db:connect` on that database user alone), or, for the migration worker only,
 * the master user, with the credentials each invocation brings from the migration launcher (so
 * the worker's role reads no secret and its subnets need no Secrets Manager endpoint).
 */
export type DatabaseSignIn = { user: string; userArn: pulumi.Input<string> } | { masterCredentials: "from-invocation" };

/** How a function reaches the database. */
export interface DatabaseConnection {
    host: pulumi.Input<string>;
    port: pulumi.Input<number>;
    name: pulumi.Input<string>;
    signIn: DatabaseSignIn;
    subnetIds: pulumi.Input<pulumi.Input<string>[]>;
    securityGroupIds: pulumi.Input<pulumi.Input<string>[]>;
    /**
     * `arn:<partition>:ec2:<region>:<account>`: where the subnets, security groups and the network
     * interfaces Lambda makes in them live, to scope the functions' network interface permissions.
     */
    ec2ArnPrefix: pulumi.Input<string>;
    /**
     * The interface endpoints the function calls from its subnets (a service's secrets, X-Ray). It is
     * created after them: a function created first fails its calls until their private DNS exists.
     */
    endpoints: pulumi.Resource[];
    /**
     * Hash of the migrations applied before this function deploys. Passing it makes every database
     * function wait for the migration run, so new code never meets an old schema.
     */
    migrationSet?: pulumi.Input<string>;
    /**
     * The service's event bucket, when its events are handed over through one
     * (`events.delivery: bucket-handover`): a function that publishes gets it as
     * `EVENT_HANDOVER_BUCKET` and writes there instead of calling EventBridge. @default none
     */
    eventHandoverBucket?: pulumi.Input<string>;
}

/**
 * Pinned rather than left to the provider, whose default moves with its releases (and would then
 * change every function on an unrelated upgrade). Node.js 24 accepts only handlers that take
 * `(event, context)` and return a promise: callback-style handlers (three parameters) fail at init.
 */
export const LAMBDA_RUNTIME = "nodejs24.x";
/** Graviton: ~20% cheaper per GB-second than x86_64 and as fast for this kind of code. */
export const LAMBDA_ARCHITECTURE = "arm64";

/** The environment `serviceDatabaseFromEnvironment` and `migrationClusterFromEnvironment` (functions/runtime/data/database-environment.ts) read. */
export function databaseEnvironment(database: DatabaseConnection, timeoutSeconds: number): Record<string, pulumi.Input<string>> {
    return {
        [ENVIRONMENT.databaseHost]: database.host,
        [ENVIRONMENT.databasePort]: pulumi.output(database.port).apply(String),
        [ENVIRONMENT.databaseName]: database.name,
        ...("user" in database.signIn ? { [ENVIRONMENT.databaseUser]: database.signIn.user } : {}),
        [ENVIRONMENT.databaseStatementTimeoutMs]: String(statementTimeoutFor(timeoutSeconds)),
        // Node 20+ runtimes load the RDS certificate authorities only when asked.
        NODE_EXTRA_CA_CERTS: "/var/runtime/ca-cert.pem",
        ...(database.migrationSet ? { [ENVIRONMENT.databaseMigrationSet]: database.migrationSet } : {}),
    };
}

export interface FunctionOptions {
    role: aws.iam.Role;
    memoryMb: number;
    timeoutSeconds: number;
    reservedConcurrency?: number;
    logGroup: aws.cloudwatch.LogGroup;
    database?: DatabaseConnection;
    environment?: Record<string, pulumi.Input<string>>;
    tags?: Record<string, string>;
}

/**
 * A trigger's variables beside the platform's: its service and what triggers it (labels for people:
 * a route key, or a consumer's `TRIGGER`), and the stack's bus for a function that publishes.
 */
export function triggerEnvironment(service: string, trigger: { routeKey: string } | { label: string }, eventBusName?: pulumi.Input<string>): Record<string, pulumi.Input<string>> {
    return {
        [ENVIRONMENT.serviceName]: service,
        ...("routeKey" in trigger ? { [ENVIRONMENT.routeKey]: trigger.routeKey } : { [ENVIRONMENT.trigger]: trigger.label }),
        ...(eventBusName ? { [ENVIRONMENT.eventBusName]: eventBusName } : {}),
    };
}

/** The `aws.lambda.Function` arguments every platform function shares (all but its code and handler). */
export function functionSettings(settings: FunctionSettings, options: FunctionOptions) {
    const { database } = options;
    return {
        runtime: LAMBDA_RUNTIME,
        architectures: [LAMBDA_ARCHITECTURE],
        role: options.role.arn,
        memorySize: options.memoryMb,
        timeout: options.timeoutSeconds,
        reservedConcurrentExecutions: options.reservedConcurrency,
        loggingConfig: {
            logFormat: "JSON",
            logGroup: options.logGroup.name,
            applicationLogLevel: settings.logLevel,
            systemLogLevel: "WARN",
        },
        tracingConfig: { mode: "Active" },
        vpcConfig: database && { subnetIds: database.subnetIds, securityGroupIds: database.securityGroupIds },
        environment: {
            // No NODE_OPTIONS=--enable-source-maps: the archive ships no source map (its identifiers
            // keep their names instead), and with the flag every read of `error.stack` goes
            // through Node's source-map lookup.
            variables: {
                ...(database ? databaseEnvironment(database, options.timeoutSeconds) : {}),
                ...options.environment,
                ...(database?.eventHandoverBucket && options.environment?.[ENVIRONMENT.eventBusName] ? { [ENVIRONMENT.eventHandoverBucket]: database.eventHandoverBucket } : {}),
            },
        },
        tags: { ...settings.tags, ...options.tags },
    };
}

/**
 * The group a schedule belongs to when it names none: every schedule of the platform. Scheduler
 * assumes a schedule's role on behalf of its group, so the group's ARN is the `aws:SourceArn` a
 * role's trust policy can require.
 */
const SCHEDULE_GROUP = "default";

/**
 * Lets EventBridge Scheduler assume the role, and only for a schedule of this account's default
 * group (`aws:SourceAccount`, `aws:SourceArn`): without them, any account's schedule that named this
 * role could act with it (the confused deputy AWS's Scheduler guide warns of). A wrong condition is
 * silent until then: Scheduler cannot assume the role, and each run goes to the dead-letter queue.
 */
export function schedulerAssumeRolePolicy(parent: pulumi.Resource): pulumi.Output<string> {
    const caller = aws.getCallerIdentityOutput({}, { parent });
    const region = aws.getRegionOutput({}, { parent });
    return pulumi.all([caller, region]).apply(([{ accountId, arn }, { region: name }]) =>
        JSON.stringify({
            Version: "2012-10-17",
            Statement: [
                {
                    Effect: "Allow",
                    Principal: { Service: "scheduler.amazonaws.com" },
                    Action: "sts:AssumeRole",
                    Condition: {
                        StringEquals: { "aws:SourceAccount": accountId },
                        ArnEquals: { "aws:SourceArn": `arn:${arn.split(":")[1] ?? "aws"}:scheduler:${name}:${accountId}:schedule-group/${SCHEDULE_GROUP}` },
                    },
                },
            ],
        }),
    );
}

/** Lets Lambda, and only Lambda, assume the role. */
export function lambdaAssumeRolePolicy(): string {
    return JSON.stringify({
        Version: "2012-10-17",
        Statement: [{ Effect: "Allow", Principal: { Service: "lambda.amazonaws.com" }, Action: "sts:AssumeRole" }],
    });
}

/**
 * The inline policy of a function role, and everything it grants: writing to the functions' own log
 * groups, sending traces, and, when they use the database, managing their VPC network interfaces
 * (`networkInterfaceStatements`) and signing in with `rds-db:connect` as the service's own database
 * user (the migration worker signs in with what its invocation brings, and needs nothing here).
 */
export function functionRolePolicy(logGroupArns: pulumi.Input<string>[], database?: DatabaseConnection, more: pulumi.Input<object>[] = []): pulumi.Output<string> {
    const signIn = database?.signIn;
    const resource = signIn !== undefined && "user" in signIn ? signIn.userArn : undefined;
    const network = database ? pulumi.all([database.ec2ArnPrefix, database.subnetIds, database.securityGroupIds]) : undefined;
    return pulumi.all([pulumi.all(logGroupArns), resource, pulumi.all(more), network]).apply(([arns, signInResource, extra, vpc]) => {
        const statements: object[] = [
            { Sid: "OwnLogGroups", Effect: "Allow", Action: ["logs:CreateLogStream", "logs:PutLogEvents"], Resource: arns.map((arn) => `${arn}:*`) },
            // X-Ray accepts no resource narrower than "*".
            { Sid: "Tracing", Effect: "Allow", Action: ["xray:PutTraceSegments", "xray:PutTelemetryRecords"], Resource: "*" },
        ];
        if (database && vpc) {
            statements.push(...networkInterfaceStatements(...vpc));
            if (signInResource !== undefined) statements.push({ Sid: "DatabaseConnect", Effect: "Allow", Action: ["rds-db:connect"], Resource: signInResource });
        }
        statements.push(...extra);
        return JSON.stringify({ Version: "2012-10-17", Statement: statements });
    });
}

/**
 * What Lambda does with a VPC function's role: the actions of AWSLambdaVPCAccessExecutionRole, each
 * on the narrowest resource EC2 checks it against. Creating an interface names its subnet and
 * security group, so it is allowed only in the stack's; the actions on an existing interface name
 * only the interface, whose id Lambda picks, so they take any in the account and region; the two
 * Describe actions take no resource narrower than "*" (Lambda's documentation says so of
 * DescribeNetworkInterfaces). Lambda checks these at CreateFunction with dry runs: only a deploy
 * proves them.
 */
function networkInterfaceStatements(ec2ArnPrefix: string, subnetIds: string[], securityGroupIds: string[]): object[] {
    const anyInterface = `${ec2ArnPrefix}:network-interface/*`;
    return [
        {
            Sid: "CreateNetworkInterfacesInOwnSubnets",
            Effect: "Allow",
            Action: "ec2:CreateNetworkInterface",
            Resource: [...subnetIds.map((id) => `${ec2ArnPrefix}:subnet/${id}`), ...securityGroupIds.map((id) => `${ec2ArnPrefix}:security-group/${id}`), anyInterface],
        },
        {
            Sid: "ManageNetworkInterfaces",
            Effect: "Allow",
            Action: ["ec2:DeleteNetworkInterface", "ec2:AssignPrivateIpAddresses", "ec2:UnassignPrivateIpAddresses"],
            Resource: anyInterface,
        },
        { Sid: "DescribeNetwork", Effect: "Allow", Action: ["ec2:DescribeNetworkInterfaces", "ec2:DescribeSubnets"], Resource: "*" },
    ];
}

/**
 * What a service that publishes may do on the stack's bus: `PutEvents` of events whose source is
 * the service itself (`events:source`), so no service can publish another's events.
 */
export function publishStatement(service: string, eventBusArn: pulumi.Input<string>): pulumi.Output<object> {
    return pulumi.output(eventBusArn).apply((arn) => ({
        Sid: "PublishOwnEvents",
        Effect: "Allow",
        Action: "events:PutEvents",
        Resource: arn,
        Condition: { StringEquals: { "events:source": service } },
    }));
}

/** What Lambda's poller needs of a consumer's own queues, through the function's role: receive, delete, read their attributes. */
export function consumeStatement(queueArns: pulumi.Input<string>[]): pulumi.Output<object> {
    return pulumi.all(queueArns).apply((arns) => ({
        Sid: "ConsumeOwnQueues",
        Effect: "Allow",
        Action: ["sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes", "sqs:ChangeMessageVisibility"],
        Resource: arns,
    }));
}
