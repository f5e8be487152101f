/**
 * The pack's only doorway to `@pulumi/policy`, and a type-only one.
 *
 * Rules, tests and the offline engine import these types from here, never the package itself:
 * loading `@pulumi/policy` at run time pulls in gRPC and a second copy of the Pulumi SDK's protobuf
 * modules, and `new PolicyPack` starts a server. Only `index.ts` loads the package for real.
 */
export type {
    EnforcementLevel,
    Policies,
    PolicyConfigSchema,
    PolicyResource,
    PolicyResourceOptions,
    ReportViolation,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    StackValidationArgs,
    StackValidationPolicy,
} from "@pulumi/policy";
