/**
 * What the stack's migration run is asked to create per database service: its login role and that
 * role's connection limit and statement timeout. The program sends it as the input of the
 * migration function's `aws:lambda/invocation:Invocation` (`MigrationRunRequest` in
 * functions/runtime/migrations.ts, read here by its field names: the pack imports nothing outside
 * `policy/`). The connection budget rule and the offline plan both read it through this function.
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

/** The services' roles of every migration run in the stack; an input that is unknown (preview) or not such a request gives none. */
export function serviceRoleLimits(resources: readonly { type: string; props: Record<string, any> }[]): ServiceRoleLimits[] {
    const limits: ServiceRoleLimits[] = [];
    for (const invocation of ofType(resources, Types.lambdaInvocation)) {
        const input = invocation.props.input;
        if (typeof input !== "string" || isUnknown(input)) continue;
        let request: { services?: unknown };
        try {
            request = JSON.parse(input) as { services?: unknown };
        } catch {
            continue;
        }
        if (!Array.isArray(request.services)) continue;
        for (const service of request.services as Partial<ServiceRoleLimits>[]) {
            if (typeof service?.loginRole === "string" && typeof service.connectionLimit === "number") {
                limits.push({
                    service: String(service.service),
                    loginRole: service.loginRole,
                    connectionLimit: service.connectionLimit,
                    statementTimeoutMs: Number(service.statementTimeoutMs),
                });
            }
        }
    }
    return limits;
}
