/**
 * The `TRIGGER` label of a queue consumer: set by the infrastructure on the function's environment
 * (`ENVIRONMENT.trigger`), shown by the console, read back by the plan.
 */

/** What starts a queue consumer, as its `TRIGGER` label names it. */
export type ConsumerTriggerKind = "subscription" | "schedule";

/**
 * A queue consumer's `TRIGGER` label, e.g. `subscription welcome: users/user.created v1` or
 * `schedule purge: cron(15 3 * * ? *) UTC`: what the console shows, and how the plan names a
 * consumer from what deploys (`consumerTriggerOf`).
 */
export function consumerTriggerLabel(kind: ConsumerTriggerKind, name: string, what: string): string {
    return `${kind} ${name}: ${what}`;
}

/** The kind and name in a `TRIGGER` label (`consumerTriggerLabel`), or undefined for another value. */
export function consumerTriggerOf(label: unknown): { kind: ConsumerTriggerKind; name: string } | undefined {
    const match = typeof label === "string" ? /^(subscription|schedule) ([^\s:]+):/.exec(label) : null;
    return match ? { kind: match[1] as ConsumerTriggerKind, name: match[2] } : undefined;
}
