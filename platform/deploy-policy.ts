/**
 * The IAM policy a service stack's deploy role needs, scoped to that service wherever AWS lets a
 * policy name the resource: every function, role, queue, rule, schedule, log group, alarm and secret
 * of a service carries its name (`<service>-...`, `/<project>/<env>/<service>/...`,
 * `<project>-<env>-<service>-...`), so one team's role cannot touch another service's. What AWS
 * cannot scope is listed in `UNSCOPED`, each with why, and granted on the shared resource alone.
 *
 * Names the program derives (platform/naming.ts) are what make the prefixes hold; a service whose
 * name begins with another's and a dash (`users`, `users-admin`) would share the other's prefix, so
 * the registry check of the stack-per-service layout refuses such pairs (`prefixCollisions`).
 */
import { NAME_RULES } from "../policy/lib/limits";
import { alarmName, eventBusName, fitName, serviceDashboardName, serviceSecretName } from "./naming";

export interface DeployScope {
    project: string;
    environment: string;
    service: string;
    region: string;
    account: string;
    /** @default "aws" */
    partition?: string;
    /** The shared HTTP API's id, from the platform stack's outputs; `*` when not yet known. */
    apiId: string;
    /** The migration launcher's name (what a service's migration invocation calls), from the platform stack's outputs, for a database service. */
    migrationFunctionName?: string;
}

export interface PolicyStatement {
    Sid: string;
    Effect: "Allow";
    Action: string[];
    Resource: string[];
    Condition?: Record<string, Record<string, string | string[]>>;
}

export interface PolicyDocument {
    Version: "2012-10-17";
    Statement: PolicyStatement[];
}

/** What a service stack changes that IAM cannot narrow to that service, and why. */
export const UNSCOPED = {
    apiRoutes:
        "Routes and integrations on the shared HTTP API: API Gateway names them by generated ids (/apis/<id>/routes/<routeId>), never by path or service, so the role may change any route of the API.",
    stageRouteSettings: "Per-route throttles are settings of the API's one stage: updating one route's settings is UpdateStage on the whole stage.",
    migrationRun:
        "Invoking the platform's migration function, which applies the SQL the invocation carries for the service it names; which schema a service's SQL may touch is the migration function's check, not IAM's.",
    containers:
        "A container service's task definitions (RegisterTaskDefinition takes no resource) and Cloud Map services (generated ids): grant them on * for a container service's stack; its ECR repository and ECS service carry its name.",
    releaseRole:
        "Granting CodeDeploy's role (the platform's) the service's aliases: an inline policy on a role the platform owns, so the deploy role may put any inline policy on that one role.",
    roleCreation:
        "Creating the service's IAM roles and their inline policies: a role the deploy role creates could be given more than the deploy role has. Attach a permissions boundary to the roles (not set by the program) where that matters.",
} as const;

/** Services whose resources would share a name prefix: `users` and `users-admin` (`users-*` matches both). */
export function prefixCollisions(services: readonly string[]): Array<[string, string]> {
    return services.flatMap((a) => services.filter((b) => b !== a && b.startsWith(`${a}-`)).map((b): [string, string] => [a, b]));
}

export function serviceDeployPolicy(scope: DeployScope): PolicyDocument {
    const { project, environment, service, region, account } = scope;
    const partition = scope.partition ?? "aws";
    const arn = (product: string, resource: string) => `arn:${partition}:${product}:${region}:${account}:${resource}`;
    const statements: PolicyStatement[] = [
        {
            Sid: "ServiceFunctions",
            Effect: "Allow",
            Action: [
                "lambda:CreateFunction", "lambda:DeleteFunction", "lambda:GetFunction", "lambda:GetFunctionConfiguration", "lambda:UpdateFunctionCode",
                "lambda:UpdateFunctionConfiguration", "lambda:PublishVersion", "lambda:ListVersionsByFunction", "lambda:GetFunctionCodeSigningConfig",
                "lambda:CreateAlias", "lambda:UpdateAlias", "lambda:DeleteAlias", "lambda:GetAlias", "lambda:AddPermission", "lambda:RemovePermission",
                "lambda:GetPolicy", "lambda:PutFunctionConcurrency", "lambda:DeleteFunctionConcurrency", "lambda:GetFunctionConcurrency",
                "lambda:TagResource", "lambda:UntagResource", "lambda:ListTags",
                "lambda:PutFunctionEventInvokeConfig", "lambda:UpdateFunctionEventInvokeConfig", "lambda:DeleteFunctionEventInvokeConfig", "lambda:GetFunctionEventInvokeConfig",
            ],
            Resource: [arn("lambda", `function:${service}-*`)],
        },
        {
            Sid: "ServiceQueueTriggers",
            Effect: "Allow",
            Action: ["lambda:CreateEventSourceMapping", "lambda:UpdateEventSourceMapping", "lambda:DeleteEventSourceMapping", "lambda:GetEventSourceMapping"],
            Resource: ["*"],
            // Event source mappings have generated ids; the function they invoke is the service's.
            Condition: { ArnLike: { "lambda:FunctionArn": arn("lambda", `function:${service}-*`) } },
        },
        {
            Sid: "ServiceRoles",
            Effect: "Allow",
            Action: [
                "iam:CreateRole", "iam:DeleteRole", "iam:GetRole", "iam:UpdateRole", "iam:UpdateAssumeRolePolicy", "iam:TagRole", "iam:UntagRole",
                "iam:PutRolePolicy", "iam:DeleteRolePolicy", "iam:GetRolePolicy", "iam:ListRolePolicies", "iam:ListAttachedRolePolicies", "iam:ListInstanceProfilesForRole",
            ],
            Resource: [`arn:${partition}:iam::${account}:role/${service}-*`],
        },
        {
            Sid: "PassServiceRoles",
            Effect: "Allow",
            Action: ["iam:PassRole"],
            Resource: [`arn:${partition}:iam::${account}:role/${service}-*`],
            Condition: { StringEquals: { "iam:PassedToService": ["lambda.amazonaws.com", "scheduler.amazonaws.com", "ecs-tasks.amazonaws.com", "codedeploy.amazonaws.com"] } },
        },
        {
            Sid: "ServiceLogGroups",
            Effect: "Allow",
            Action: ["logs:CreateLogGroup", "logs:DeleteLogGroup", "logs:PutRetentionPolicy", "logs:TagResource", "logs:UntagResource", "logs:ListTagsForResource", "logs:PutMetricFilter", "logs:DeleteMetricFilter", "logs:DescribeMetricFilters"],
            Resource: [arn("logs", `log-group:/${project}/${environment}/${service}/*`)],
        },
        {
            Sid: "ServiceQueues",
            Effect: "Allow",
            Action: ["sqs:CreateQueue", "sqs:DeleteQueue", "sqs:GetQueueAttributes", "sqs:SetQueueAttributes", "sqs:GetQueueUrl", "sqs:TagQueue", "sqs:UntagQueue", "sqs:ListQueueTags"],
            Resource: [arn("sqs", `${service}-*`)],
        },
        {
            Sid: "ServiceRulesOnTheSharedBus",
            Effect: "Allow",
            Action: ["events:PutRule", "events:DeleteRule", "events:DescribeRule", "events:PutTargets", "events:RemoveTargets", "events:ListTargetsByRule", "events:TagResource", "events:UntagResource", "events:ListTagsForResource"],
            Resource: [arn("events", `rule/${eventBusName(project, environment)}/${service}-*`)],
        },
        {
            Sid: "ServiceEventBucket",
            Effect: "Allow",
            // The bucket a publishing database service hands its events to (`events.delivery: bucket-handover`), autonamed `<service>-events-bucket-<suffix>`.
            // The provider reads every bucket configuration it manages; emptying it on destroy (dev) lists and deletes its objects.
            Action: [
                "s3:CreateBucket", "s3:DeleteBucket", "s3:ListBucket", "s3:ListBucketVersions", "s3:GetBucket*", "s3:PutBucket*", "s3:DeleteBucketPolicy",
                "s3:GetAccelerateConfiguration", "s3:GetLifecycleConfiguration", "s3:GetReplicationConfiguration", "s3:GetEncryptionConfiguration", "s3:PutEncryptionConfiguration",
                "s3:DeleteObject", "s3:DeleteObjectVersion",
            ],
            Resource: [`arn:${partition}:s3:::${service}-events-bucket-*`, `arn:${partition}:s3:::${service}-events-bucket-*/*`],
        },
        {
            Sid: "ServiceSchedules",
            Effect: "Allow",
            Action: ["scheduler:CreateSchedule", "scheduler:UpdateSchedule", "scheduler:DeleteSchedule", "scheduler:GetSchedule"],
            Resource: [arn("scheduler", `schedule/default/${service}-*`)],
        },
        {
            Sid: "ServiceAlarms",
            Effect: "Allow",
            Action: ["cloudwatch:PutMetricAlarm", "cloudwatch:DeleteAlarms", "cloudwatch:DescribeAlarms", "cloudwatch:TagResource", "cloudwatch:UntagResource", "cloudwatch:ListTagsForResource"],
            Resource: [arn("cloudwatch", `alarm:${alarmName(project, environment, service)}-*`)],
        },
        {
            Sid: "ServiceDashboard",
            Effect: "Allow",
            Action: ["cloudwatch:PutDashboard", "cloudwatch:DeleteDashboards", "cloudwatch:GetDashboard"],
            Resource: [`arn:${partition}:cloudwatch::${account}:dashboard/${serviceDashboardName(project, environment, service)}`],
        },
        {
            Sid: "ServiceDeploymentGroups",
            Effect: "Allow",
            Action: ["codedeploy:CreateDeploymentGroup", "codedeploy:UpdateDeploymentGroup", "codedeploy:DeleteDeploymentGroup", "codedeploy:GetDeploymentGroup", "codedeploy:TagResource", "codedeploy:UntagResource", "codedeploy:ListTagsForResource"],
            Resource: [arn("codedeploy", `deploymentgroup:${fitName(`${project}-${environment}`, NAME_RULES.codedeploy)}/${service}-*`)],
        },
        {
            Sid: "ServiceSecret",
            Effect: "Allow",
            // Never GetSecretValue or PutSecretValue: the values are set out of band (`npm run secret`).
            Action: ["secretsmanager:CreateSecret", "secretsmanager:DeleteSecret", "secretsmanager:DescribeSecret", "secretsmanager:UpdateSecret", "secretsmanager:TagResource", "secretsmanager:UntagResource", "secretsmanager:PutResourcePolicy", "secretsmanager:DeleteResourcePolicy", "secretsmanager:GetResourcePolicy"],
            Resource: [arn("secretsmanager", `secret:${serviceSecretName(project, environment, service)}-*`)],
        },
        {
            Sid: "SharedApiRoutesUnscopable",
            Effect: "Allow",
            Action: ["apigateway:GET", "apigateway:POST", "apigateway:PATCH", "apigateway:DELETE"],
            Resource: [`arn:${partition}:apigateway:${region}::/apis/${scope.apiId}/routes*`, `arn:${partition}:apigateway:${region}::/apis/${scope.apiId}/integrations*`, `arn:${partition}:apigateway:${region}::/apis/${scope.apiId}/stages/*`],
        },
    ];
    statements.push({
        Sid: "ReleaseRoleGrantUnscopable",
        Effect: "Allow",
        Action: ["iam:PutRolePolicy", "iam:DeleteRolePolicy", "iam:GetRolePolicy"],
        // Pulumi names the platform's CodeDeploy role `releases-role-<8 characters>`.
        Resource: [`arn:${partition}:iam::${account}:role/releases-role-*`],
    });
    if (scope.migrationFunctionName) {
        statements.push({ Sid: "RunOwnMigrationsUnscopable", Effect: "Allow", Action: ["lambda:InvokeFunction"], Resource: [arn("lambda", `function:${scope.migrationFunctionName}`)] });
    }
    return { Version: "2012-10-17", Statement: statements };
}
