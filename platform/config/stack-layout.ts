/**
 * Which stacks make an environment, and which part of it a stack is. An environment is one
 * `Pulumi.<env>.yaml`; its `layout` setting decides how it deploys:
 *
 * - `one-stack`: stack `<env>` holds everything.
 * - `stack-per-service`: stack `<env>-platform` holds what the services share, and stack
 *   `<env>-<service>` holds one service. Neither has settings of its own: both read
 *   `Pulumi.<env>.yaml`, so adding a service adds no file.
 *
 * A stack name is split at its first `-`, so the environment of a stack-per-service layout has no
 * `-` in its name (`ENVIRONMENT_NAME`) and no service may be called `platform`: `dev-order-history` is
 * always the `order-history` service of `dev`, never a part of an environment `dev-order`.
 */
export const STACK_LAYOUTS = ["one-stack", "stack-per-service"] as const;
export type StackLayout = (typeof STACK_LAYOUTS)[number];

/** The part of an environment the shared resources live in, and the name no service may take. */
export const PLATFORM_PART = "platform";

/** An environment deployed as a stack per service: its name ends at the stack name's first `-`. */
export const ENVIRONMENT_NAME = {
    pattern: /^[a-z][a-z0-9]{0,19}$/,
    text: "lower-case letters and digits, starting with a letter, at most 20 characters (no -: a stack name is split at its first -)",
} as const;

export type StackPart = { kind: "environment" } | { kind: "platform" } | { kind: "service"; service: string };

/** What a stack deploys: the environment whose names and settings it uses, and its part of it. */
export interface StackTarget {
    /** The Pulumi stack. */
    stack: string;
    /** The environment: names, tags and settings come from it, so `dev-users` names things as `dev` would. */
    environment: string;
    layout: StackLayout;
    part: StackPart;
    /** The settings the stack deploys with: its own config for `<env>`, `Pulumi.<env>.yaml` for the others. */
    config: Readonly<Record<string, unknown>>;
}

/** Raised when a stack name matches no environment; the message says which stacks exist. */
export class StackTargetError extends Error {
    constructor(message: string) {
        super(message);
        this.name = "StackTargetError";
    }
}

export function platformStackName(environment: string): string {
    return `${environment}-${PLATFORM_PART}`;
}

export function serviceStackName(environment: string, service: string): string {
    return `${environment}-${service}`;
}

/** The stacks of an environment in deploy order: the platform first, then every service. */
export function environmentStacks(environment: string, layout: StackLayout, services: readonly string[]): string[] {
    return layout === "one-stack" ? [environment] : [platformStackName(environment), ...services.map((service) => serviceStackName(environment, service))];
}

/** An environment's settings as if its file set `layout`: what the offline tools' `--layout` reads. */
export function withLayout(config: Readonly<Record<string, unknown>>, layout: StackLayout, project: string): Record<string, unknown> {
    return { ...config, [`${project}:layout`]: layout };
}

/** The `layout` a stack file's settings ask for (`one-stack` when unset). */
export function layoutOf(config: Readonly<Record<string, unknown>>, project: string): StackLayout {
    const value = config[`${project}:layout`];
    return value === "stack-per-service" ? "stack-per-service" : "one-stack";
}

/**
 * Which environment and part `stack` deploys. `ownConfig` is the stack's own settings (what the CLI
 * hands the program); `environmentConfig(env)` reads `Pulumi.<env>.yaml`, or gives undefined when
 * there is none. A stack with settings of its own is a one-stack environment; a stack without is
 * `<env>-platform` or `<env>-<service>` of an environment whose file says `layout: stack-per-service`.
 * Whether `<service>` is in the registry is the program's check, made with the registry.
 */
export function resolveStackTarget(
    stack: string,
    ownConfig: Readonly<Record<string, unknown>>,
    environmentConfig: (environment: string) => Readonly<Record<string, unknown>> | undefined,
    project: string,
): StackTarget {
    const hasOwnSettings = Object.keys(ownConfig).some((key) => key.startsWith(`${project}:`) || key.startsWith("aws:"));
    const split = /^([^-]+)-(.+)$/.exec(stack);
    const environment = split?.[1];
    const fileOfEnvironment = environment !== undefined ? environmentConfig(environment) : undefined;
    const perServiceEnvironment = fileOfEnvironment !== undefined && layoutOf(fileOfEnvironment, project) === "stack-per-service";

    if (perServiceEnvironment && split) {
        if (hasOwnSettings) {
            throw new StackTargetError(
                `Stack "${stack}" is part of environment "${split[1]}" (layout: stack-per-service), whose settings all live in Pulumi.${split[1]}.yaml; ` +
                    `move the settings out of Pulumi.${stack}.yaml (it may keep only what the CLI writes there, such as encryptionsalt)`,
            );
        }
        const part: StackPart = split[2] === PLATFORM_PART ? { kind: "platform" } : { kind: "service", service: split[2] };
        return { stack, environment: split[1], layout: "stack-per-service", part, config: fileOfEnvironment };
    }
    if (!hasOwnSettings) {
        const hint = environment !== undefined && fileOfEnvironment !== undefined
            ? `Pulumi.${environment}.yaml deploys as one stack "${environment}"; set ${project}:layout: stack-per-service there to deploy it as "${platformStackName(environment)}" and a stack per service`
            : `create Pulumi.${stack}.yaml, or name the stack <environment>-${PLATFORM_PART} or <environment>-<service> of an environment whose Pulumi.<environment>.yaml sets ${project}:layout: stack-per-service`;
        throw new StackTargetError(`Stack "${stack}" has no settings: ${hint}`);
    }
    if (layoutOf(ownConfig, project) === "stack-per-service") {
        throw new StackTargetError(
            `Environment "${stack}" deploys as a stack per service (layout: stack-per-service): there is no stack "${stack}"; ` +
                `deploy "${platformStackName(stack)}" first, then "${serviceStackName(stack, "<service>")}" for each service`,
        );
    }
    return { stack, environment: stack, layout: "one-stack", part: { kind: "environment" }, config: ownConfig };
}
