/**
 * Names the program derives rather than takes: they end up in resource names, URNs and AWS, so each
 * is computed in one place and changing one is a change to every deployed stack (see
 * `tests/infra/urns.test.ts`).
 *
 * Every name goes through `fitName` against AWS's rule for it (`NAME_RULES` in policy/lib/limits.ts):
 * a name that AWS already accepts is kept as it is, so deployed resources keep their names; one that
 * it would refuse (too long for a long route, a stack name with `_` or `.`) is made acceptable, the
 * same way every time, before any resource exists.
 */
import { createHash } from "node:crypto";
import { NAME_RULES, type NameRule } from "../policy/lib/limits";

/** `"GET /users/{id}"` -> `"get-users-id"`: the route's part of its resources' names. */
export function routeId(method: string, path: string): string {
    const words = path
        .split("/")
        .filter(Boolean)
        .map((segment) => segment.replace(/[{}+]/g, "").replace(/[^A-Za-z0-9]+/g, "-").toLowerCase());
    return [method.toLowerCase(), ...(words.length > 0 ? words : ["root"])].join("-").replace(/-+/g, "-").replace(/-$/, "");
}

/** Characters of the hash `fitName` appends, and the dash before it. */
const HASH_LENGTH = 7;

/**
 * What is wrong with `name` under `rule`, or nothing. For a rule with `autonameSuffix`, `name` is the
 * logical name Pulumi generates the AWS name from, so it must leave room for the suffix.
 */
export function nameProblems(name: string, rule: NameRule): string[] {
    const problems: string[] = [];
    const budget = rule.maxLength - (rule.autonameSuffix ?? 0);
    if (name.length === 0) problems.push("is empty");
    if (name.length > budget) {
        problems.push(
            rule.autonameSuffix
                ? `has ${name.length} characters; at most ${budget} leave room for the ${rule.autonameSuffix} Pulumi appends within AWS's ${rule.maxLength}`
                : `has ${name.length} characters; AWS allows ${rule.maxLength}`,
        );
    }
    const refused = [...new Set([...name].filter((character) => !rule.allowed.test(character)))];
    if (refused.length > 0) problems.push(`contains ${refused.map((c) => JSON.stringify(c)).join(", ")}; AWS allows ${rule.allowedText}`);
    if (rule.identifier) {
        if (!/^[A-Za-z]/.test(name)) problems.push("must start with a letter");
        if (name.includes("--")) problems.push("must not contain --");
        if (name.endsWith("-")) problems.push("must not end with -");
    }
    if (rule.separators) {
        const separators = [...rule.separators];
        if (separators.includes(name[0]) || separators.includes(name[name.length - 1])) problems.push("must start and end with a letter or a digit");
        if ([...name].some((character, index) => index > 0 && separators.includes(character) && separators.includes(name[index - 1]))) {
            problems.push(`must not have two of ${rule.separators} in a row`);
        }
    }
    return problems;
}

/**
 * `name` as AWS will accept it under `rule`, leaving `reserve` characters for a suffix the caller
 * appends. A name that already fits is returned unchanged. Otherwise the characters AWS refuses
 * become `-`, the name is cut to fit, and a hash of the original is appended: the result is stable
 * (the same name always gives the same result, so nothing is renamed between deployments) and
 * unique (two names cut to the same prefix, or `a_b` and `a.b`, still differ).
 */
export function fitName(name: string, rule: NameRule, reserve = 0): string {
    const budgetRule = { ...rule, maxLength: rule.maxLength - reserve };
    if (nameProblems(name, budgetRule).length === 0) return name;
    const budget = budgetRule.maxLength - (rule.autonameSuffix ?? 0);
    const hash = createHash("sha256").update(name).digest("hex").slice(0, HASH_LENGTH);
    let body = [...(rule.lowercase ? name.toLowerCase() : name)].map((character) => (rule.allowed.test(character) ? character : "-")).join("");
    if (rule.identifier) body = body.replace(/-{2,}/g, "-").replace(/^[^A-Za-z]+/, "");
    const separator = rule.separators ? new RegExp(`[${rule.separators.replace(/[-\\\]^]/g, "\\$&")}]`) : undefined;
    if (separator) body = collapseSeparators(body, separator);
    body = body.slice(0, budget - HASH_LENGTH - 1).replace(/-+$/, "");
    if (separator) body = collapseSeparators(body, separator);
    return body.length > 0 ? `${body}-${hash}` : rule.identifier ? `n${hash}` : hash;
}

/** A run of separators becomes one `-`; none is left at either end (the hash follows a `-`). */
function collapseSeparators(body: string, separator: RegExp): string {
    let result = "";
    for (const character of body) {
        const isSeparator = separator.test(character);
        if (isSeparator && (result === "" || separator.test(result[result.length - 1]))) {
            if (result !== "") result = `${result.slice(0, -1)}-`;
            continue;
        }
        result += character;
    }
    while (result !== "" && separator.test(result[result.length - 1])) result = result.slice(0, -1);
    return result;
}

/**
 * The logical name of a route's resources (function, log group, integration, route, permission),
 * e.g. `users-get-users-id`. Pulumi names the function after it with 8 more characters, so a name
 * over 56 characters is shortened (`subscriptions-billing-get-accounts-accountid-invo-3f2a9c1`).
 */
export function routeResourceName(service: string, functionId: string): string {
    return fitName(`${service}-${functionId}`, NAME_RULES.lambdaFunction);
}

/** The log group of one function, e.g. `/serverless-microservices/dev/users/get-users-id`. */
export function functionLogGroupName(project: string, stack: string, service: string, functionId: string): string {
    return fitName(`/${project}/${stack}/${service}/${functionId}`, NAME_RULES.logGroup);
}

/** The API's access log group, e.g. `/aws/apigateway/serverless-microservices-dev/api`. */
export function accessLogGroupName(project: string, stack: string, api: string): string {
    return fitName(`/aws/apigateway/${project}-${stack}/${api}`, NAME_RULES.logGroup);
}

/**
 * An alarm, e.g. `serverless-microservices-prod-users-get-users-id-errors`. Alarm names are unique per
 * account and region and `PutMetricAlarm` overwrites an alarm of the same name, so they carry the
 * project as well as the stack: two projects' `prod` stacks in one account keep their own alarms.
 */
export function alarmName(project: string, stack: string, id: string): string {
    return fitName(`${project}-${stack}-${id}`, NAME_RULES.metricAlarm);
}

/** The stack's dashboard, e.g. `serverless-microservices-prod`. */
export function dashboardName(project: string, stack: string): string {
    return fitName(`${project}-${stack}`, NAME_RULES.dashboard);
}

/** A service's own dashboard beside the environment's, e.g. `serverless-microservices-prod-users`. */
export function serviceDashboardName(project: string, environment: string, service: string): string {
    return fitName(`${project}-${environment}-${service}`, NAME_RULES.dashboard);
}

/** The SNS topic the alarms notify, e.g. `serverless-microservices-prod-alarms`. */
export function alarmTopicName(project: string, stack: string): string {
    return fitName(`${project}-${stack}-alarms`, NAME_RULES.snsTopic);
}

/**
 * The snapshot RDS takes when the cluster is deleted, e.g.
 * `serverless-microservices-prod-database-final-1a2b3c4d`. `suffix` lives as long as the cluster,
 * so a stack destroyed, created again and destroyed again does not collide with its first snapshot.
 */
export function finalSnapshotIdentifier(project: string, stack: string, database: string, suffix: string): string {
    return `${fitName(`${project}-${stack}-${database}-final`, NAME_RULES.rdsIdentifier, suffix.length + 1)}-${suffix}`;
}

/**
 * A service's secret, e.g. `serverless-microservices/dev/users`: the name `aws secretsmanager
 * put-secret-value --secret-id` takes. Secret names are unique per account and region (a deleted
 * one stays taken for its recovery window), so they carry the project and the stack.
 */
export function serviceSecretName(project: string, stack: string, service: string): string {
    return `${project}/${stack}/${service}`;
}

/** The log group of a container service's tasks, e.g. `/serverless-microservices/dev/reports/container`. */
export function containerLogGroupName(project: string, stack: string, service: string): string {
    return fitName(`/${project}/${stack}/${service}/container`, NAME_RULES.logGroup);
}

/** The names of what every container service of a stack shares, e.g. `serverless-microservices-dev`. */
export interface ContainerPlatformNames {
    /** The ECS cluster. */
    cluster: string;
    /** The Cloud Map private DNS namespace, e.g. `serverless-microservices-dev.internal`. */
    namespace: string;
    /** The HTTP API's VPC link. */
    vpcLink: string;
}

/** The domain the stack's container services register in under Cloud Map: private to the VPC. */
const CONTAINER_NAMESPACE_DOMAIN = "internal";

export function containerPlatformNames(project: string, stack: string): ContainerPlatformNames {
    const prefix = `${project}-${stack}`;
    return {
        cluster: fitName(prefix, NAME_RULES.ecsCluster),
        namespace: `${fitName(prefix, NAME_RULES.dnsLabel)}.${CONTAINER_NAMESPACE_DOMAIN}`,
        vpcLink: fitName(prefix, NAME_RULES.vpcLink),
    };
}

/** The names of one container service's own resources, e.g. `serverless-microservices-dev-reports`. */
export interface ContainerServiceNames {
    /** Its ECR repository. */
    repository: string;
    /** Its task definition family. */
    taskFamily: string;
    /** Its tasks' log group. */
    logGroup: string;
}

export function containerServiceNames(project: string, stack: string, service: string): ContainerServiceNames {
    const prefix = `${project}-${stack}-${service}`;
    return {
        repository: fitName(prefix, NAME_RULES.ecrRepository),
        taskFamily: fitName(prefix, NAME_RULES.ecsTaskFamily),
        logGroup: containerLogGroupName(project, stack, service),
    };
}

/**
 * The name of a service, subscription or schedule in the registry: a lower-case DNS label of at
 * most 32 characters, short enough for every physical name built from it.
 */
export const REGISTRY_NAME = {
    pattern: /^[a-z](?:[a-z0-9-]{0,30}[a-z0-9])?$/,
    text: "lower-case letters, digits and dashes, start with a letter, and have at most 32 characters",
} as const;

/**
 * What Pulumi accepts as a stack name (`pulumi stack init`): letters, digits, `-`, `_` and `.`, at
 * most 100 characters. The program's names are fitted from it, so anything else is refused first.
 */
export const STACK_NAME = { pattern: /^[A-Za-z0-9_.-]{1,100}$/, text: "letters, digits, -, _ and . (at most 100 characters), as Pulumi allows" } as const;

/**
 * Every name the program derives from the stack name for a registry's container services, with the
 * rule it must meet, and what is wrong with any: checked before the first resource, so a stack name
 * that cannot make a valid name stops the program with the name, the stack and the limit.
 */
export function generatedNameProblems(project: string, stack: string, containerServices: readonly string[]): string[] {
    if (!STACK_NAME.pattern.test(stack)) return [`the stack name "${stack}" is not allowed; use ${STACK_NAME.text}`];
    if (containerServices.length === 0) return [];
    const platform = containerPlatformNames(project, stack);
    const named: Array<[string, string, NameRule]> = [
        ["the ECS cluster", platform.cluster, NAME_RULES.ecsCluster],
        ["the Cloud Map namespace's first label", platform.namespace.split(".")[0], NAME_RULES.dnsLabel],
        ["the VPC link", platform.vpcLink, NAME_RULES.vpcLink],
        ...containerServices.flatMap((service): Array<[string, string, NameRule]> => {
            const names = containerServiceNames(project, stack, service);
            return [
                [`the ECR repository of ${service}`, names.repository, NAME_RULES.ecrRepository],
                [`the task family of ${service}`, names.taskFamily, NAME_RULES.ecsTaskFamily],
                [`the log group of ${service}`, names.logGroup, NAME_RULES.logGroup],
            ];
        }),
    ];
    return named.flatMap(([what, name, rule]) => nameProblems(name, rule).map((problem) => `stack "${stack}": ${what}, "${name}", ${problem}`));
}

/** The stack's event bus, e.g. `serverless-microservices-dev`. */
export function eventBusName(project: string, stack: string): string {
    return fitName(`${project}-${stack}`, NAME_RULES.eventBus);
}

/**
 * The logical name of a queue consumer's resources (function, log group, queue, mapping, rule), e.g.
 * `notifications-subscription-welcome`. Its queue's name gets `-dlq` and Pulumi's 8 characters,
 * and its rule and schedule live within 64, so the name is held to the shortest of those rules.
 */
export function consumerResourceName(service: string, functionId: string): string {
    return fitName(`${service}-${functionId}`, NAME_RULES.eventRule);
}
