/**
 * Pulumi type tokens: the one table of them for the pack, the program (`infra/`) and the offline
 * tools (`tools/`: the mocks, the plan, its cost model, the URN snapshot).
 *
 * Rules match on tokens rather than on `@pulumi/aws` classes (`validateResourceOfType`) so the pack
 * does not depend on the 200 MB AWS provider SDK just to compare strings.
 */
export const Types = {
    // Lambda
    lambdaFunction: "aws:lambda/function:Function",
    lambdaPermission: "aws:lambda/permission:Permission",
    lambdaInvocation: "aws:lambda/invocation:Invocation",
    lambdaEventSourceMapping: "aws:lambda/eventSourceMapping:EventSourceMapping",
    lambdaAlias: "aws:lambda/alias:Alias",
    // CodeDeploy (gradual releases of Lambda versions)
    codedeployApplication: "aws:codedeploy/application:Application",
    codedeployDeploymentGroup: "aws:codedeploy/deploymentGroup:DeploymentGroup",
    // Events, queues and schedules
    eventBus: "aws:cloudwatch/eventBus:EventBus",
    eventRule: "aws:cloudwatch/eventRule:EventRule",
    eventTarget: "aws:cloudwatch/eventTarget:EventTarget",
    sqsQueue: "aws:sqs/queue:Queue",
    s3Bucket: "aws:s3/bucket:Bucket",
    s3BucketNotification: "aws:s3/bucketNotification:BucketNotification",
    s3BucketPublicAccessBlock: "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock",
    s3BucketPolicy: "aws:s3/bucketPolicy:BucketPolicy",
    sqsQueuePolicy: "aws:sqs/queuePolicy:QueuePolicy",
    schedulerSchedule: "aws:scheduler/schedule:Schedule",
    // API Gateway HTTP APIs (apigatewayv2)
    httpApi: "aws:apigatewayv2/api:Api",
    httpApiStage: "aws:apigatewayv2/stage:Stage",
    httpApiIntegration: "aws:apigatewayv2/integration:Integration",
    httpApiRoute: "aws:apigatewayv2/route:Route",
    httpApiAuthorizer: "aws:apigatewayv2/authorizer:Authorizer",
    httpApiDomainName: "aws:apigatewayv2/domainName:DomainName",
    httpApiMapping: "aws:apigatewayv2/apiMapping:ApiMapping",
    /** One route's throttle on a stage another stack owns (a dynamic resource: `infra/components/route-throttle.ts`). */
    httpApiRouteThrottle: "pulumi-nodejs:dynamic/api:RouteThrottle",
    route53Record: "aws:route53/record:Record",
    // CloudWatch, SNS, KMS
    logGroup: "aws:cloudwatch/logGroup:LogGroup",
    metricAlarm: "aws:cloudwatch/metricAlarm:MetricAlarm",
    dashboard: "aws:cloudwatch/dashboard:Dashboard",
    snsTopic: "aws:sns/topic:Topic",
    snsTopicSubscription: "aws:sns/topicSubscription:TopicSubscription",
    kmsKey: "aws:kms/key:Key",
    kmsKeyPolicy: "aws:kms/keyPolicy:KeyPolicy",
    // RDS and Secrets Manager
    rdsCluster: "aws:rds/cluster:Cluster",
    rdsClusterInstance: "aws:rds/clusterInstance:ClusterInstance",
    rdsInstance: "aws:rds/instance:Instance",
    rdsClusterParameterGroup: "aws:rds/clusterParameterGroup:ClusterParameterGroup",
    rdsSubnetGroup: "aws:rds/subnetGroup:SubnetGroup",
    rdsProxy: "aws:rds/proxy:Proxy",
    secretsManagerSecret: "aws:secretsmanager/secret:Secret",
    secretsManagerSecretPolicy: "aws:secretsmanager/secretPolicy:SecretPolicy",
    // Containers: ECS on Fargate, their images, discovery and scaling
    ecsCluster: "aws:ecs/cluster:Cluster",
    ecsService: "aws:ecs/service:Service",
    ecsTaskDefinition: "aws:ecs/taskDefinition:TaskDefinition",
    ecrRepository: "aws:ecr/repository:Repository",
    ecrLifecyclePolicy: "aws:ecr/lifecyclePolicy:LifecyclePolicy",
    dockerImage: "docker-build:index:Image",
    serviceDiscoveryNamespace: "aws:servicediscovery/privateDnsNamespace:PrivateDnsNamespace",
    serviceDiscoveryService: "aws:servicediscovery/service:Service",
    httpApiVpcLink: "aws:apigatewayv2/vpcLink:VpcLink",
    scalingTarget: "aws:appautoscaling/target:Target",
    scalingPolicy: "aws:appautoscaling/policy:Policy",
    // Network
    awsxVpc: "awsx:ec2:Vpc",
    vpcEndpoint: "aws:ec2/vpcEndpoint:VpcEndpoint",
    natGateway: "aws:ec2/natGateway:NatGateway",
    securityGroup: "aws:ec2/securityGroup:SecurityGroup",
    securityGroupEgressRule: "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule",
    securityGroupIngressRule: "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule",
    /** The older standalone rule (`type: "ingress" | "egress"`); the program uses the two above. */
    securityGroupRule: "aws:ec2/securityGroupRule:SecurityGroupRule",
    // IAM
    iamRole: "aws:iam/role:Role",
    iamRolePolicy: "aws:iam/rolePolicy:RolePolicy",
    iamUserPolicy: "aws:iam/userPolicy:UserPolicy",
    iamGroupPolicy: "aws:iam/groupPolicy:GroupPolicy",
    iamPolicy: "aws:iam/policy:Policy",
    iamRolePolicyAttachment: "aws:iam/rolePolicyAttachment:RolePolicyAttachment",
    iamUserPolicyAttachment: "aws:iam/userPolicyAttachment:UserPolicyAttachment",
    iamGroupPolicyAttachment: "aws:iam/groupPolicyAttachment:GroupPolicyAttachment",
    iamPolicyAttachment: "aws:iam/policyAttachment:PolicyAttachment",
    // Random values that live in the state (@pulumi/random)
    randomId: "random:index/randomId:RandomId",
    // Pulumi
    /** The root of every stack's resource tree; the engine leaves it out of its children's URNs. */
    stack: "pulumi:pulumi:Stack",
    stackReference: "pulumi:pulumi:StackReference",
} as const;

/**
 * The program's own components (`infra/components/`). The plan and the URN snapshot find them by
 * these tokens; each component registers under its own.
 */
export const ComponentTypes = {
    api: "serverless-microservices:api:Api",
    apiStage: "serverless-microservices:api:ApiStage",
    database: "serverless-microservices:database:Database",
    /** The platform's migration function (its role, log group and permissions), holding no service's SQL. */
    migrations: "serverless-microservices:migrations:Migrations",
    /** The environment's alarm topic, the API's, the database's and the migration runner's alarms, and its dashboard. */
    platformMonitoring: "serverless-microservices:monitoring:PlatformMonitoring",
    /** One service's alarms and its dashboard. */
    serviceMonitoring: "serverless-microservices:monitoring:ServiceMonitoring",
    /** One database service's invocation of the migration function, carrying its SQL. */
    serviceMigration: "serverless-microservices:migrations:ServiceMigration",
    network: "serverless-microservices:network:Network",
    service: "serverless-microservices:service:Service",
    /** A service's one Secrets Manager secret and its resource policy. */
    serviceSecret: "serverless-microservices:service:ServiceSecret",
    /** One function of a service (or of the platform): its log group and its code. */
    function: "serverless-microservices:function:Function",
    httpRoute: "serverless-microservices:service:HttpRoute",
    queueSubscription: "serverless-microservices:events:QueueSubscription",
    schedule: "serverless-microservices:events:Schedule",
    eventBus: "serverless-microservices:events:EventBus",
    /** A publishing database service's outbox relay: its relay, its check, their schedule and metrics. */
    outboxRelay: "serverless-microservices:events:OutboxRelay",
    /** A publishing database service's event bucket and the forwarder that puts what it holds on the bus. */
    eventHandover: "serverless-microservices:events:EventHandover",
    /** A gradual environment's CodeDeploy application and the role its deployments run as. */
    releaseApplication: "serverless-microservices:releases:ReleaseApplication",
    /** One service's CodeDeploy deployment groups (one per function) and its grant on the release role. */
    serviceReleases: "serverless-microservices:releases:ServiceReleases",
    containerPlatform: "serverless-microservices:containers:ContainerPlatform",
    serviceContainer: "serverless-microservices:containers:ServiceContainer",
} as const;
