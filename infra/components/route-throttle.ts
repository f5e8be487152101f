/**
 * One route's throttle on an HTTP API stage that another stack owns.
 *
 * An HTTP API keeps per-route throttles only in its stage's route settings, and AWS refuses a route
 * setting naming a route the API does not have. When the stage belongs to the platform's stack and
 * the routes to the services' stacks, the stage cannot list them (`ApiStage` with
 * `routeThrottlesOwnedByServices`), so each service's stack sets its own routes' throttles through
 * this resource, one route key each.
 *
 * It is a Pulumi dynamic resource: its provider runs in the Pulumi CLI's process during `preview`
 * and `up` (never in Lambda), with the CLI's ambient AWS credentials, and calls API Gateway itself:
 *
 * - create and update: `UpdateStage` with `RouteSettings` holding this one route key. UpdateStage is
 *   a partial update (an HTTP PATCH) that merges route settings by key: keys it does not name stay
 *   as they are, which is why the Terraform provider removes a dropped key with
 *   `DeleteRouteSettings` rather than by leaving it out. So two stacks setting two keys never undo
 *   each other's, and no read-modify-write of the whole map is needed.
 * - delete: `DeleteRouteSettings` for the key (already gone: nothing to do).
 * - read (refresh): `GetStage`, this key's live rate and burst; a missing stage, key or throttle reads
 *   as gone (the next `up` sets it again).
 * - diff: another region, API, stage or route key replaces it (the old key's settings are deleted
 *   first: a stale key names a route that may no longer exist, and AWS then refuses every later
 *   UpdateStage of the stage); a new rate or burst updates it in place.
 *
 * Give the throttle `dependsOn` its route: it is then created after the route and deleted before it.
 */
import * as apigatewayv2 from "@aws-sdk/client-apigatewayv2";
import * as pulumi from "@pulumi/pulumi";
import type { RouteThrottle as RegistryRouteThrottle } from "../../functions/runtime/service";
import { routeThrottleProblems } from "../../platform/triggers/route";
import { DETAILED_METRICS_ENABLED } from "./api";

/** Where and what one route's throttle is: the resource's inputs and its state. */
export interface RouteThrottleProps {
    /** The region of the API (the stack's `aws:region`). */
    region: string;
    apiId: string;
    /** The stage the throttle applies on (the platform's `$default` stage). */
    stageName: string;
    /** The route, as API Gateway keys it: `"GET /users/{id}"`. */
    routeKey: string;
    /** Steady-state requests per second (0 to the account's ceiling; 0 turns the route off). */
    rateLimit: number;
    /** Requests allowed in a burst above the rate (a whole number, 0 to the account's ceiling). */
    burstLimit: number;
}

/** The RouteThrottle resource's arguments. Every field is required. */
export type RouteThrottleArgs = { [K in keyof RouteThrottleProps]: pulumi.Input<RouteThrottleProps[K]> };

/** A change of any of these is another throttle, so it replaces the resource. */
const IDENTITY: readonly (keyof RouteThrottleProps)[] = ["region", "apiId", "stageName", "routeKey"];
const LIMITS: readonly (keyof RouteThrottleProps)[] = ["rateLimit", "burstLimit"];

/** How often the provider tries a call API Gateway throttles (service stacks deploying at once share one stage). */
const MAX_ATTEMPTS = 8;

/** The API Gateway client the provider calls; a function so the tests' mock reaches it. */
function clientFor(region: string): apigatewayv2.ApiGatewayV2Client {
    return new apigatewayv2.ApiGatewayV2Client({ region, maxAttempts: MAX_ATTEMPTS });
}

function isNotFound(error: unknown): boolean {
    return error instanceof Error && error.name === "NotFoundException";
}

/** The id Pulumi keeps: the stage and the key, readable in `pulumi stack` output. */
function throttleId(props: RouteThrottleProps): string {
    return `${props.apiId}/${props.stageName}/${props.routeKey}`;
}

async function putThrottle(props: RouteThrottleProps): Promise<void> {
    await clientFor(props.region).send(
        new apigatewayv2.UpdateStageCommand({
            ApiId: props.apiId,
            StageName: props.stageName,
            RouteSettings: {
                [props.routeKey]: {
                    ThrottlingRateLimit: props.rateLimit,
                    ThrottlingBurstLimit: props.burstLimit,
                    DetailedMetricsEnabled: DETAILED_METRICS_ENABLED,
                },
            },
        }),
    );
}

/** The provider: exported for its tests, which call it the way the engine does. */
export const routeThrottleProvider: pulumi.dynamic.ResourceProvider<RouteThrottleProps, RouteThrottleProps> = {
    async check(_olds, news) {
        const failures: pulumi.dynamic.CheckFailure[] = [];
        for (const property of IDENTITY) {
            if (typeof news[property] !== "string" || news[property] === "") failures.push({ property, reason: `${property} must be a non-empty string` });
        }
        const at = `route ${JSON.stringify(news.routeKey)}`;
        for (const problem of routeThrottleProblems({ rateLimit: news.rateLimit, burstLimit: news.burstLimit }, at)) {
            failures.push({ property: problem.includes("throttle.rateLimit") ? "rateLimit" : "burstLimit", reason: problem });
        }
        return failures.length > 0 ? { failures } : { inputs: news };
    },

    async diff(_id, olds, news) {
        const replaces = IDENTITY.filter((property) => olds[property] !== news[property]);
        const changes = replaces.length > 0 || LIMITS.some((property) => olds[property] !== news[property]);
        return { changes, replaces, deleteBeforeReplace: replaces.length > 0 };
    },

    async create(inputs) {
        await putThrottle(inputs);
        return { id: throttleId(inputs), outs: inputs };
    },

    async update(_id, _olds, news) {
        await putThrottle(news);
        return { outs: news };
    },

    async delete(_id, props) {
        try {
            await clientFor(props.region).send(new apigatewayv2.DeleteRouteSettingsCommand({ ApiId: props.apiId, StageName: props.stageName, RouteKey: props.routeKey }));
        } catch (error) {
            if (!isNotFound(error)) throw error;
        }
    },

    async read(id, props) {
        if (props === undefined) throw new Error(`RouteThrottle ${id}: nothing to read without its state (import is not supported)`);
        let stage: apigatewayv2.GetStageCommandOutput;
        try {
            stage = await clientFor(props.region).send(new apigatewayv2.GetStageCommand({ ApiId: props.apiId, StageName: props.stageName }));
        } catch (error) {
            if (isNotFound(error)) return {};
            throw error;
        }
        // A key that is gone, or holds no throttle any more, is a throttle to create again.
        const live = stage.RouteSettings?.[props.routeKey];
        if (live?.ThrottlingRateLimit === undefined || live.ThrottlingBurstLimit === undefined) return {};
        return { id, props: { ...props, rateLimit: live.ThrottlingRateLimit, burstLimit: live.ThrottlingBurstLimit } };
    },
};

/** One route's throttle on a stage another stack owns (see the file's comment). */
export class RouteThrottle extends pulumi.dynamic.Resource {
    declare readonly routeKey: pulumi.Output<string>;
    declare readonly rateLimit: pulumi.Output<number>;
    declare readonly burstLimit: pulumi.Output<number>;

    constructor(name: string, args: RouteThrottleArgs, opts?: pulumi.CustomResourceOptions) {
        super(routeThrottleProvider, name, { ...args }, opts, "api", "RouteThrottle");
    }
}

/** The stage a service's throttles go on: the platform's, read through its outputs. */
export interface ThrottledStage {
    region: pulumi.Input<string>;
    apiId: pulumi.Input<string>;
    stageName: pulumi.Input<string>;
}

/**
 * The throttle of one route that declares one (`route.throttle` in the registry), or nothing for a
 * route that does not. `opts` should carry `dependsOn` the route's `aws.apigatewayv2.Route`, so the
 * throttle exists only while its route does, and the service's component as `parent`.
 */
export function throttleRoute(
    name: string,
    route: { routeKey: string; throttle?: RegistryRouteThrottle },
    stage: ThrottledStage,
    opts?: pulumi.CustomResourceOptions,
): RouteThrottle | undefined {
    if (route.throttle === undefined) return undefined;
    return new RouteThrottle(name, { ...stage, routeKey: route.routeKey, rateLimit: route.throttle.rateLimit, burstLimit: route.throttle.burstLimit }, opts);
}
