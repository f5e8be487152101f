/**
 * A service's secrets as its handlers read them (`ctx.secrets.get("NAME")`): every value of the
 * service fetched at once from one source (its Secrets Manager secret in the cloud, the local data
 * folder under `npm start`), cached for the container's life and fetched again after a TTL, so a
 * rotated value is picked up without a deploy and a busy function makes few calls (as Powertools'
 * Parameters utility does).
 *
 * A declared secret with no value is a deployment that is not finished, not a bug in the handler:
 * `get` logs an error naming the service and the secret (never a value) and rejects with the
 * platform's 503 (`secretUnavailable`), which the wrappers answer as they answer any `HttpError`
 * (a subscription's or schedule's message comes back later). The reader reaches a handler through
 * `entry/secrets.ts`, only for a service that declares secrets: the wrappers every function
 * shares carry nothing for them.
 */
import { secretUnavailable } from "../errors";
import type { Logger } from "../logger";

/** What a handler reads its secrets through: only the names its service declares type-check. */
export interface ServiceSecrets<Name extends string = string> {
    /** The value of a declared secret; rejects with the platform's 503 (`secretUnavailable`) when it has none or cannot be read. */
    get(name: Name): Promise<string>;
}

/** A service's values by secret name, as its one secret holds them (a JSON object). */
export type SecretValues = Readonly<Record<string, unknown>>;

/** Where a service's values come from: every value at once, or `undefined` when none was ever set. */
export type SecretSource = () => Promise<SecretValues | undefined>;

/**
 * How long fetched values are used before the next `get` fetches them again. Five minutes keeps a
 * busy function's calls (and their $0.05 per 10,000) low, and is how long a rotation takes to reach
 * every warm container.
 */
export const SECRETS_CACHE_TTL_MS = 5 * 60_000;

/**
 * How long values that lack a declared secret are used before the next `get` looks again: short,
 * so a value set after the deploy is picked up within seconds, and not zero, so a service answering
 * 503 under load does not call Secrets Manager on every request.
 */
export const MISSING_SECRET_RETRY_MS = 10_000;

/** Why a secret could not be given to the handler. */
export type SecretUnavailableReason = "not set" | "unreadable";

export interface ServiceSecretsOptions {
    /** @default SECRETS_CACHE_TTL_MS */
    ttlMs?: number;
    /** Where the line naming a secret that is unavailable goes. */
    log: Pick<Logger, "error">;
    /** The clock the TTL is measured on. @default Date.now */
    now?: () => number;
}

/**
 * The secrets of `service`, which declares `declared`, read from `source`. A failed fetch is never
 * cached; when a refresh fails, the values fetched before stay in use (a throttled or unreachable
 * Secrets Manager must not take down a service that already has its values) and the next `get`
 * tries again.
 */
export function createServiceSecrets<Name extends string>(service: string, declared: readonly Name[], source: SecretSource, options: ServiceSecretsOptions): ServiceSecrets<Name> {
    const ttlMs = options.ttlMs ?? SECRETS_CACHE_TTL_MS;
    const now = options.now ?? Date.now;
    let fetchedAt = Number.NEGATIVE_INFINITY;
    // Set when the values in hand lack a declared secret: they are then looked at again sooner.
    let incomplete = false;
    let current: Promise<SecretValues | undefined> | undefined;
    let lastGood: SecretValues | undefined;

    const values = (): Promise<SecretValues | undefined> => {
        if (current && now() - fetchedAt < (incomplete ? Math.min(ttlMs, MISSING_SECRET_RETRY_MS) : ttlMs)) return current;
        const startedAt = now();
        incomplete = false;
        const fetching = source().then(
            (fetched) => {
                lastGood = fetched ?? {};
                return fetched;
            },
            (error) => {
                if (current === fetching) current = undefined;
                if (lastGood !== undefined) return lastGood;
                throw error;
            },
        );
        current = fetching;
        fetchedAt = startedAt;
        return fetching;
    };

    return {
        async get(name) {
            if (!declared.includes(name)) {
                throw new Error(`Service "${service}" reads secret ${JSON.stringify(name)}, which it does not declare; add it to the service's secrets.`);
            }
            const unavailable = (reason: SecretUnavailableReason, cause?: unknown) => {
                options.log.error("secret unavailable", { service, secret: name, reason, ...(cause !== undefined ? { error: cause } : {}) });
                return secretUnavailable();
            };
            let fetched: SecretValues | undefined;
            try {
                fetched = await values();
            } catch (error) {
                throw unavailable("unreadable", error);
            }
            const value = fetched?.[name];
            if (typeof value !== "string" || value === "") {
                incomplete = true;
                throw unavailable("not set");
            }
            return value;
        },
    };
}

/** A secret's stored value: a JSON object of names to strings, else an error saying what it holds instead. */
export function parseSecretValues(text: string, where: string): SecretValues {
    let parsed: unknown;
    try {
        parsed = JSON.parse(text);
    } catch {
        throw new Error(`${where} does not hold JSON; it must be an object of secret names to strings.`);
    }
    if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) throw new Error(`${where} must hold a JSON object of secret names to strings.`);
    return parsed as SecretValues;
}
