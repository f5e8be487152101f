/**
 * Route throttling as HTTP API stages apply it: a token bucket per route, holding at most
 * `burstLimit` requests and refilled at `rateLimit` requests per second. The limits are the route's
 * `throttle` from the registry, else the stack's `api.throttlingRateLimit`/`throttlingBurstLimit`
 * (the stage's default route settings, which apply to each route on its own). A request finding
 * the bucket empty gets API Gateway's 429 `{"message":"Too Many Requests"}` and never reaches the
 * authorizer or the function.
 */
import type { RouteThrottle } from "../functions/runtime/service";

export interface TokenBucket {
    readonly rateLimit: number;
    readonly burstLimit: number;
    /** Takes one request's token; false when the bucket is empty (answer 429). */
    take(): boolean;
}

/** A full bucket; `now` (milliseconds) is for tests. */
export function createTokenBucket(limits: RouteThrottle, now: () => number = () => performance.now()): TokenBucket {
    const { rateLimit, burstLimit } = limits;
    let tokens = burstLimit;
    let updated = now();
    return {
        rateLimit,
        burstLimit,
        take() {
            const at = now();
            tokens = Math.min(burstLimit, tokens + ((at - updated) / 1000) * rateLimit);
            updated = at;
            if (tokens < 1) return false;
            tokens -= 1;
            return true;
        },
    };
}

/** Whether local throttling is on: `LOCAL_THROTTLING=off` (or `0`, `false`) turns it off, e.g. for load tests. */
export function throttlingFromEnv(env: NodeJS.ProcessEnv = process.env): boolean {
    const value = (env.LOCAL_THROTTLING ?? "").trim().toLowerCase();
    if (value === "" || value === "on" || value === "1" || value === "true") return true;
    if (value === "off" || value === "0" || value === "false") return false;
    throw new Error(`LOCAL_THROTTLING=${JSON.stringify(env.LOCAL_THROTTLING)} is not understood; use "off" to turn local throttling off, or leave it unset.`);
}

/** The limits a route gets: its own, else the stack's defaults; none when neither is set. */
export function routeLimits(throttle: RouteThrottle | undefined, defaults: RouteThrottle | undefined): RouteThrottle | undefined {
    return throttle ?? defaults;
}
