import { ruleConfig } from "../config";
import { isKnown } from "../lib/checks";
import { estimatedMaxConnections } from "../lib/limits";
import { ofType } from "../lib/links";
import { serviceRoleLimits } from "../lib/migration-run";
import { Finding, Props, stackPolicy } from "../lib/rule";
import { Types } from "../lib/types";
import { isUnknown } from "../lib/unknown";

/** The variable naming the database role a function signs in as: it marks a database function. */
const DB_USER_VARIABLE = "DB_USER";

/** The role a function in the VPC signs in to the database as; null for other functions, undefined while unknown. */
function databaseUserOf(props: Props): string | null | undefined {
    const variables = props.environment?.variables;
    if (isUnknown(props.vpcConfig) || isUnknown(props.environment) || isUnknown(variables)) return undefined;
    if (!isKnown(props.vpcConfig) || variables === null || typeof variables !== "object" || !(DB_USER_VARIABLE in variables)) return null;
    const user = variables[DB_USER_VARIABLE];
    return isUnknown(user) ? undefined : String(user);
}

/** The smallest `max_connections` among the stack's clusters, from their maximum capacity; undefined with no known cluster. */
function clusterMaxConnections(resources: readonly { type: string; props: Props }[]): number | undefined {
    const estimates = ofType(resources, Types.rdsCluster)
        .map((cluster) => cluster.props.serverlessv2ScalingConfiguration)
        .filter((scaling) => isKnown(scaling) && typeof scaling?.maxCapacity === "number")
        .map((scaling) => estimatedMaxConnections(Number(scaling.minCapacity ?? 0), scaling.maxCapacity));
    return estimates.length > 0 ? Math.min(...estimates) : undefined;
}

/**
 * Every service signs in as its own role, whose `CONNECTION LIMIT` the migration run sets (its
 * functions' concurrency ceilings added up, one connection per container). Every database
 * function's role must have such a limit, else its connections are unbounded and a burst of one
 * service exhausts the cluster for all; and the limits together must fit the cluster's
 * `max_connections` (at its maximum capacity, which Aurora derives it from) less some headroom.
 * Advisory: the team sizes capacity and ceilings together.
 */
export const dbConnectionBudget = stackPolicy({
    name: "db-connection-budget",
    description: "Every database function's role (its DB_USER) has a connection limit from the migration run, and the services' limits sum to at most the cluster's max_connections less headroomConnections.",
    enforcementLevel: "advisory",
    config: ruleConfig["db-connection-budget"],
    remediationSteps:
        "Lower a service's reservedConcurrency (or the stack's database.connectionsPerFunction), which its role's connection limit is made of, or raise the cluster's maximum capacity, which max_connections follows.",
    check: (resources, { maxConnections, headroomConnections }) => {
        const findings: Finding[] = [];
        const limits = serviceRoleLimits(resources);
        const limited = new Set(limits.map((limit) => limit.loginRole));
        for (const fn of ofType(resources, Types.lambdaFunction)) {
            const user = databaseUserOf(fn.props);
            if (typeof user !== "string" || limited.has(user)) continue;
            findings.push({
                urn: fn.urn,
                message: `Database function signs in as "${user}", which no migration run gives a connection limit, so the connections it opens are unbounded; give its service its migration invocation (the run sets the role's limit).`,
            });
        }
        const ceiling = maxConnections > 0 ? maxConnections : clusterMaxConnections(resources);
        if (ceiling === undefined || limits.length === 0) return findings;
        const total = limits.reduce((sum, limit) => sum + limit.connectionLimit, 0);
        const budget = ceiling - headroomConnections;
        if (total > budget) {
            const source = maxConnections > 0 ? "maxConnections" : "estimated from the cluster's maximum capacity";
            findings.push({
                message:
                    `The services' roles may hold ${total} connections (${limits.map((l) => `${l.loginRole} ${l.connectionLimit}`).join(", ")}) but the cluster allows ${ceiling} ` +
                    `(max_connections, ${source}) less ${headroomConnections} of headroom, ${budget}; lower their ceilings or raise the maximum capacity.`,
            });
        }
        return findings;
    },
});
