import { ruleConfig } from "../config";
import { isKnown } from "../lib/checks";
import { ofType } from "../lib/links";
import { Finding, Props, stackPolicy } from "../lib/rule";
import { Types } from "../lib/types";
import { isUnknown } from "../lib/unknown";

/** The variable through which a function learns the database secret: it marks a database function. */
const DB_SECRET_VARIABLE = "DB_SECRET_ARN";

/** A function in the VPC that is handed the database secret. `undefined`: cannot tell yet. */
function isDatabaseFunction(props: Props): boolean | undefined {
    const vpcConfig = props.vpcConfig;
    const variables = props.environment?.variables;
    if (isUnknown(vpcConfig) || isUnknown(props.environment) || isUnknown(variables)) {
        return undefined;
    }
    return isKnown(vpcConfig) && variables !== null && typeof variables === "object" && DB_SECRET_VARIABLE in variables;
}

/**
 * Database functions cannot open more connections than the cluster holds. Each container keeps one
 * pooled connection, so a function's reserved concurrency is its connection ceiling; without one a
 * burst can exhaust `max_connections` and fail every service at once. Advisory: the right budget
 * depends on the cluster's minimum capacity, which the team tunes.
 */
export const dbConnectionBudget = stackPolicy({
    name: "db-connection-budget",
    description: "The reserved concurrency of database functions (VPC + DB_SECRET_ARN) is set and sums to at most maxConnections.",
    enforcementLevel: "advisory",
    config: ruleConfig["db-connection-budget"],
    remediationSteps: "Set reservedConcurrentExecutions on every database function so that their sum fits maxConnections, or raise the cluster's minimum capacity and the budget with it.",
    check: (resources, { maxConnections }) => {
        const findings: Finding[] = [];
        const shares: string[] = [];
        let total = 0;
        for (const fn of ofType(resources, Types.lambdaFunction)) {
            if (isDatabaseFunction(fn.props) !== true) {
                continue;
            }
            const reserved = fn.props.reservedConcurrentExecutions;
            if (isUnknown(reserved)) {
                continue;
            }
            if (typeof reserved !== "number" || reserved < 0) {
                findings.push({
                    urn: fn.urn,
                    message: "Database function has no reserved concurrency, so the connections it opens are unbounded; set reservedConcurrentExecutions.",
                });
                continue;
            }
            total += reserved;
            shares.push(`${fn.name} ${reserved}`);
        }
        if (total > maxConnections) {
            findings.push({
                message: `Database functions may hold ${total} connections (${shares.join(", ")}) but the budget is ${maxConnections} (maxConnections); lower their reservedConcurrentExecutions or raise the budget with the cluster's minimum capacity.`,
            });
        }
        return findings;
    },
});
