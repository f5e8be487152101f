import { ruleConfig } from "../config";
import { isKnown } from "../lib/checks";
import { AWS_DEFAULTS, HTTP_API, ROUTE_FUNCTION } from "../lib/limits";
import { integrationFunctions, linked, ofType, targetsIntegration } from "../lib/links";
import { Finding, StackResource, stackPolicy } from "../lib/rule";
import { Types } from "../lib/types";
import { isUnknown } from "../lib/unknown";

interface Exposure {
    fn: StackResource;
    limitMs: number;
    routes: Set<string>;
}

/**
 * No function behind the HTTP API may run as long as the API waits for it. Follows
 * Route -> Integration -> Function and requires the function's timeout to be strictly below the
 * integration's (at most the API's maximum): at the limit the caller already has an error while the function
 * keeps running, and pays, for work nobody receives. No existing checker follows this chain.
 */
export const apiTimeoutBudget = stackPolicy({
    name: "api-timeout-budget",
    description: `Functions behind an HTTP API route time out before the route's integration does (integration at most ${HTTP_API.integrationTimeoutMs.max / 1000} s).`,
    enforcementLevel: "mandatory",
    config: ruleConfig["api-timeout-budget"],
    remediationSteps: `Lower the function's \`timeout\` below the integration's \`timeoutMilliseconds\` / 1000 (${ROUTE_FUNCTION.timeoutSeconds.max} s for the default ${AWS_DEFAULTS.httpApiIntegrationTimeoutMs / 1000} s).`,
    check: (resources, { maxIntegrationTimeoutMs }) => {
        const findings: Finding[] = [];
        const routes = ofType(resources, Types.httpApiRoute);
        const exposures = new Map<string, Exposure>();

        for (const integration of ofType(resources, Types.httpApiIntegration)) {
            const timeoutMs = integration.props.timeoutMilliseconds ?? AWS_DEFAULTS.httpApiIntegrationTimeoutMs;
            if (isUnknown(timeoutMs) || typeof timeoutMs !== "number") {
                continue;
            }
            if (timeoutMs > maxIntegrationTimeoutMs) {
                findings.push({
                    urn: integration.urn,
                    message: `Integration timeout ${timeoutMs} ms is above the HTTP API's limit of ${maxIntegrationTimeoutMs} ms; set timeoutMilliseconds to at most ${maxIntegrationTimeoutMs}.`,
                });
            }
            const routeKeys = routes
                .filter((route) => linked(route, "target", [integration], targetsIntegration).length > 0)
                .map((route) => (isKnown(route.props.routeKey) ? String(route.props.routeKey) : route.name));
            if (routeKeys.length === 0) {
                continue; // No route reaches it: no caller waits on it.
            }
            const limitMs = Math.min(timeoutMs, maxIntegrationTimeoutMs);
            // All the resources: an integration reaches its function through the function's alias.
            for (const fn of integrationFunctions(integration, resources)) {
                const exposure = exposures.get(fn.urn) ?? { fn, limitMs, routes: new Set<string>() };
                exposure.limitMs = Math.min(exposure.limitMs, limitMs);
                routeKeys.forEach((key) => exposure.routes.add(key));
                exposures.set(fn.urn, exposure);
            }
        }

        for (const { fn, limitMs, routes: routeKeys } of exposures.values()) {
            const timeout = fn.props.timeout ?? AWS_DEFAULTS.lambda.timeoutSeconds;
            if (isUnknown(timeout) || typeof timeout !== "number" || timeout * 1000 < limitMs) {
                continue;
            }
            const limit = limitMs / 1000;
            const via = [...routeKeys].sort().map((key) => JSON.stringify(key)).join(", ");
            findings.push({
                urn: fn.urn,
                message: `Timeout ${timeout} s is not below the ${limit} s the HTTP API waits for route ${via}; the caller gets an error at ${limit} s while the function keeps running. Set timeout below ${limit} s.`,
            });
        }
        return findings;
    },
});
