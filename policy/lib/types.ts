/**
 * Pulumi type tokens of the resources the rules look at.
 *
 * Rules match on tokens rather than on `@pulumi/aws` classes (`validateResourceOfType`) so the pack
 * does not depend on the 200 MB AWS provider SDK just to compare strings.
 */
export const Types = {
    lambdaFunction: "aws:lambda/function:Function",
    logGroup: "aws:cloudwatch/logGroup:LogGroup",
    httpApiStage: "aws:apigatewayv2/stage:Stage",
    httpApiIntegration: "aws:apigatewayv2/integration:Integration",
    httpApiRoute: "aws:apigatewayv2/route:Route",
    rdsCluster: "aws:rds/cluster:Cluster",
    rdsClusterInstance: "aws:rds/clusterInstance:ClusterInstance",
    rdsInstance: "aws:rds/instance:Instance",
    iamRole: "aws:iam/role:Role",
    iamRolePolicy: "aws:iam/rolePolicy:RolePolicy",
    iamUserPolicy: "aws:iam/userPolicy:UserPolicy",
    iamGroupPolicy: "aws:iam/groupPolicy:GroupPolicy",
    iamPolicy: "aws:iam/policy:Policy",
    iamRolePolicyAttachment: "aws:iam/rolePolicyAttachment:RolePolicyAttachment",
    iamUserPolicyAttachment: "aws:iam/userPolicyAttachment:UserPolicyAttachment",
    iamGroupPolicyAttachment: "aws:iam/groupPolicyAttachment:GroupPolicyAttachment",
    iamPolicyAttachment: "aws:iam/policyAttachment:PolicyAttachment",
} as const;
