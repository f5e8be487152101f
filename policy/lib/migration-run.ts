/**
 * What the stack's migration runs are asked to create per database service: its login role and
 * that role's connection limit and statement timeout. The program sends each database service's
 * request as the input of its own `aws:lambda/invocation:Invocation` of the migration function
 * (`ServiceMigrationRequest` in functions/runtime/data/migrations.ts, read here by its field
 * names: the pack imports nothing outside `policy/`). The connection budget rule and the offline
 * plan both read them through this function: a stack holding every service (the one-stack
 * layout) gives every role; a service's own stack gives its role alone.
 */
import { isUnknown } from "./unknown";
import { ofType } from "./links";
import { Types } from "./types";

export interface ServiceRoleLimits {
    service: string;
    loginRole: string;
    connectionLimit: number;
    statementTimeoutMs: number;
}

/** The services' roles of every migration invocation in the stack; an input that is unknown (preview) or not such a request gives none. */
export function serviceRoleLimits(resources: readonly { type: string; props: Record<string, any> }[]): ServiceRoleLimits[] {
    const limits: ServiceRoleLimits[] = [];
    for (const invocation of ofType(resources, Types.lambdaInvocation)) {
        const input = invocation.props.input;
        if (typeof input !== "string" || isUnknown(input)) continue;
        let request: { service?: Partial<ServiceRoleLimits> | null };
        try {
            request = JSON.parse(input) as { service?: Partial<ServiceRoleLimits> | null };
        } catch {
            continue;
        }
        const service = request?.service;
        if (typeof service?.loginRole === "string" && typeof service.connectionLimit === "number") {
            limits.push({
                service: String(service.service),
                loginRole: service.loginRole,
                connectionLimit: service.connectionLimit,
                statementTimeoutMs: Number(service.statementTimeoutMs),
            });
        }
    }
    return limits;
}
