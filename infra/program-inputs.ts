/**
 * Everything the program is built from, checked before the first resource: which stack this is and
 * of which environment, that environment's settings, and the whole registry. Every stack of an
 * environment checks the whole registry (connection budget, route collisions, event contracts), so
 * a service stack cannot deploy what would not fit beside the others.
 */
import * as pulumi from "@pulumi/pulumi";
import type { RegisteredService } from "../functions/runtime/container";
import type { MigrationRunRequest, ServiceMigrationRequest } from "../functions/runtime/data/migrations";
import { ConfigError, parseStackConfig, PROJECT, type StackConfig } from "../platform/config/stack-config";
import { readStackFile } from "../platform/config/stack-files";
import { PLATFORM_PART, resolveStackTarget, StackTargetError, type StackTarget } from "../platform/config/stack-layout";
import { connectionBudgetProblems, migrationPayloadProblems, migrationRunRequest, serviceMigrationRequests } from "../platform/data-plan";
import { connectionBudgetFor, functionBoundsFor } from "../platform/function-bounds";
import type { ResolvedRegistry } from "../platform/model";
import { prefixCollisions } from "../platform/deploy-policy";
import { generatedNameProblems } from "../platform/naming";
import { RegistryError, reservationProblems, resolveRegistry } from "../platform/registry/resolution";
import { verifiedRdsCaBundle } from "./rds-ca-bundle";

export interface ProgramInputs {
    target: StackTarget;
    /** The environment: every name and tag carries it, whichever stack of it deploys. */
    environment: string;
    config: StackConfig;
    registry: ResolvedRegistry;
    /** Every database service's schema, roles and limits (platform/data-plan.ts). */
    dataPlan: MigrationRunRequest;
    /** Each database service's migration invocation input: its schema's plan and its own SQL. */
    migrationRequests: ServiceMigrationRequest[];
    tags: Record<string, string>;
}

/**
 * Checks the stack target, the environment's settings and the registry; a mistake in a stack file
 * or a service file ends the program here with a message that names it.
 */
export function resolveInputs(target: StackTarget, services: readonly RegisteredService[]): ProgramInputs {
    const { environment } = target;
    try {
        const config = parseStackConfig(environment, target.config);
        const registry = resolveRegistry(services, config.functionDefaults, {
            stack: environment,
            reservations: config.concurrency.reservations,
            bounds: functionBoundsFor(environment),
        });
        const dataPlan = migrationRunRequest(registry, config.database.connectionsPerFunction, "iam");
        const problems: string[] = generatedNameProblems(PROJECT, environment, registry.containers.map((container) => container.name));
        if (target.part.kind === "service") {
            const service = target.part.service;
            const names = [...registry.services, ...registry.containers].map((candidate) => candidate.name);
            if (!names.includes(service)) {
                problems.push(`stack "${target.stack}" deploys service "${service}", which the registry does not have; the stacks of ${environment} are ${[PLATFORM_PART, ...names].map((name) => `${environment}-${name}`).join(", ")}`);
            }
        }
        if (target.layout === "stack-per-service") {
            for (const [shorter, longer] of prefixCollisions([...registry.services, ...registry.containers].map((service) => service.name))) {
                problems.push(`services "${shorter}" and "${longer}": in a stack per service, the deploy role of ${environment}-${shorter} reaches resources by the prefix "${shorter}-", which "${longer}"'s names share too; rename one`);
            }
        }
        if (registry.containers.some((container) => container.database && "context" in container.image)) {
            try {
                verifiedRdsCaBundle();
            } catch (error) {
                problems.push((error as Error).message);
            }
        }
        const protectedRoutes = registry.apiRoutes.filter((route) => route.auth === "jwt").map((route) => route.routeKey);
        if (protectedRoutes.length > 0 && !config.auth.jwt) {
            problems.push(`${PROJECT}:auth.jwt: is required (issuer and audience) because routes ${protectedRoutes.join(", ")} use auth "jwt"`);
        }
        // Checked in every stack against the whole registry: a service stack cannot take what the others need.
        problems.push(...connectionBudgetProblems(dataPlan.services, connectionBudgetFor(environment, config.database)));
        const migrationRequests = serviceMigrationRequests(registry, config.database.connectionsPerFunction, "iam");
        problems.push(...migrationPayloadProblems(migrationRequests));
        for (const problem of reservationProblems(registry.reservations, config.concurrency.accountLimit)) {
            problems.push(`${PROJECT}:concurrency.reservations: ${problem}`);
        }
        if (problems.length > 0) throw new ConfigError(environment, problems);
        return { target, environment, config, registry, dataPlan, migrationRequests, tags: { project: PROJECT, environment, "managed-by": "pulumi" } };
    } catch (error) {
        throw asRunError(error);
    }
}

/**
 * The inputs of `stack` read the way the CLI would hand them to the program: the stack's own
 * settings (`ownConfig`, else its file), its environment's file for a stack-per-service stack.
 */
export function inputsForStack(
    stack: string,
    services: readonly RegisteredService[],
    files: { ownConfig?: Readonly<Record<string, unknown>>; environmentConfig?: (environment: string) => Readonly<Record<string, unknown>> | undefined } = {},
): ProgramInputs {
    try {
        const target = resolveStackTarget(stack, files.ownConfig ?? readStackFile(stack) ?? {}, files.environmentConfig ?? ((name) => readStackFile(name)), PROJECT);
        return resolveInputs(target, services);
    } catch (error) {
        throw asRunError(error);
    }
}

/** RunError prints the message alone: the stack trace of a validation error helps nobody. */
export function asRunError(error: unknown): unknown {
    return error instanceof ConfigError || error instanceof RegistryError || error instanceof StackTargetError ? new pulumi.RunError(error.message) : error;
}
