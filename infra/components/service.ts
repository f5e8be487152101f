/**
 * One service of the registry (`functions/<service>/service.ts`): its IAM role, with only what the
 * service needs, and its triggers, each a component adding only its own resources around the
 * service's functions: an `HttpRoute` per route, a `QueueSubscription` per subscription, a
 * `Schedule` per schedule. A service may have any mix of them.
 */
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { ComponentTypes } from "../../policy/lib/types";
import { consumerResourceName, routeResourceName } from "../../platform/naming";
import { publishesThroughOutbox } from "../../platform/triggers/outbox-relay";
import { type ResolvedService } from "../../platform/model";
import type { EventDeliveryMode } from "../../platform/config/stack-config";
import { EventHandover } from "./event-handover";
import { deferredResource, type Function } from "./function";
import { consumeStatement, functionRolePolicy, lambdaAssumeRolePolicy, publishStatement, type DatabaseConnection, type FunctionSettings } from "./function-settings";
import { HttpRoute } from "./http-route";
import { OutboxRelay, type OutboxRelayWake } from "./outbox-relay";
import { QueueSubscription } from "./queue-subscription";
import { Schedule } from "./schedule";
import { ServiceSecret } from "./service-secret";

/** What a Service needs. Fields without a default are required. */
export interface ServiceArgs {
    /** The service, validated and with its settings resolved. */
    service: ResolvedService;
    /** The HTTP API its routes join, its execution ARN, and its JWT authorizer (for routes with `auth: "jwt"`). */
    api: { apiId: pulumi.Input<string>; executionArn: pulumi.Input<string>; jwtAuthorizerId?: pulumi.Input<string> };
    /** Settings every function of the stack shares (retention, log level, tags). */
    settings: FunctionSettings;
    /** The database and its network, for a service that uses it. @default none */
    database?: DatabaseConnection;
    /** The stack's event bus, when the service publishes or subscribes. @default none */
    eventBus?: { name: pulumi.Input<string>; arn: pulumi.Input<string> };
    /**
     * Its secret's name (`serviceSecretName`) and recovery window (`secretRecoveryWindowDays`), for
     * a service that declares secrets; the program always passes them.
     */
    secret: { name: string; recoveryWindowInDays: number };
    /**
     * How a publishing database service's functions reach the bus (`events.delivery`): through the
     * VPC's EventBridge endpoint, or by handing their events to a bucket of the service's own
     * (`EventHandover`). @default "interface-endpoint"
     */
    eventDelivery?: EventDeliveryMode;
    /** Whether `pulumi destroy` may delete the event bucket with objects still in it. @default false */
    forceDestroyEventBucket?: boolean;
    /** What wakes the outbox relay of a database service that publishes (the stack's `events.relayWake`). */
    relayWake: OutboxRelayWake;
}

/** One function of the service, for outputs and monitoring. */
export interface ServiceFunction {
    /** Its id in the service: a route id, `subscription-<name>`, `schedule-<name>`. */
    id: string;
    /** What triggers it: a route key, `subscription <name>`, `schedule <name>`. */
    label: string;
    timeoutSeconds: number;
    function: Function;
}

/** A queue consumer's queues, for monitoring. */
export interface ServiceQueue {
    id: string;
    label: string;
    queueName: pulumi.Output<string>;
    deadLetterQueueName: pulumi.Output<string>;
}

export class Service extends pulumi.ComponentResource {
    /** Function name per route key. */
    readonly functionNames: pulumi.Output<Record<string, string>>;
    readonly roleArn: pulumi.Output<string>;
    /** Every function, routes first, then subscriptions, then schedules. */
    readonly functions: ServiceFunction[] = [];
    /** Every queue consumer's queues. */
    readonly queues: ServiceQueue[] = [];
    /** The outbox relay, for a database service that publishes. */
    readonly outboxRelay?: OutboxRelay;
    /** Its secret, for a service that declares secrets. */
    readonly secret?: ServiceSecret;
    /** Its event bucket and forwarder, for a publishing database service whose events are handed over. */
    readonly eventHandover?: EventHandover;

    constructor(name: string, args: ServiceArgs, opts?: pulumi.ComponentResourceOptions) {
        super(ComponentTypes.service, name, {}, opts);
        const { service, settings, database } = args;
        const usesDatabase = service.database;

        const role = new aws.iam.Role(
            `${name}-role`,
            { description: `Functions of the ${name} service`, assumeRolePolicy: lambdaAssumeRolePolicy(), tags: settings.tags },
            { parent: this },
        );
        // Made after the triggers (it names their log groups and queues); they wait for it.
        const permissions = deferredResource<aws.iam.RolePolicy>();
        // Read by this service's role alone; every function of the service gets its ARN.
        this.secret =
            service.secrets.length > 0
                ? new ServiceSecret(`${name}-secrets`, { service: name, secretName: args.secret.name, recoveryWindowInDays: args.secret.recoveryWindowInDays, declared: service.secrets, readerRoleArns: [role.arn], tags: settings.tags }, { parent: this })
                : undefined;
        // A publishing database service without the EventBridge endpoint hands its events to a bucket of its own.
        this.eventHandover =
            args.eventDelivery === "bucket-handover" && publishesThroughOutbox(service) && database && args.eventBus
                ? new EventHandover(`${name}-events`, { service: name, eventBus: args.eventBus, settings, forceDestroy: args.forceDestroyEventBucket }, { parent: this })
                : undefined;
        const connection = usesDatabase && database ? { ...database, ...(this.eventHandover ? { eventHandoverBucket: this.eventHandover.bucketName } : {}) } : undefined;
        const shared = { role, permissions: permissions.resource, settings, database: connection, secretArn: this.secret?.arn };

        const routeFunctions: Record<string, pulumi.Output<string>> = {};
        for (const route of service.routes) {
            const httpRoute = new HttpRoute(
                routeResourceName(name, route.id),
                { ...shared, route, apiId: args.api.apiId, apiExecutionArn: args.api.executionArn, jwtAuthorizerId: args.api.jwtAuthorizerId, eventBusName: args.eventBus?.name },
                { parent: this },
            );
            routeFunctions[route.routeKey] = httpRoute.function.name;
            this.functions.push({ id: route.id, label: route.routeKey, timeoutSeconds: route.timeoutSeconds, function: httpRoute.function });
        }
        const consumers: (QueueSubscription | Schedule)[] = [];
        if (service.subscriptions.length > 0 && !args.eventBus) throw new Error(`Service "${name}" subscribes to events, but the stack has no event bus.`);
        for (const subscription of service.subscriptions) {
            const component = new QueueSubscription(consumerResourceName(name, subscription.id), { ...shared, subscription, eventBusName: args.eventBus!.name }, { parent: this });
            consumers.push(component);
            this.functions.push({ id: subscription.id, label: `subscription ${subscription.name}`, timeoutSeconds: subscription.timeoutSeconds, function: component.function });
            this.queues.push({ id: subscription.id, label: `subscription ${subscription.name}`, queueName: component.queue.name, deadLetterQueueName: component.deadLetterQueue.name });
        }
        for (const schedule of service.schedules) {
            const component = new Schedule(consumerResourceName(name, schedule.id), { ...shared, schedule, eventBusName: args.eventBus?.name }, { parent: this });
            consumers.push(component);
            this.functions.push({ id: schedule.id, label: `schedule ${schedule.name}`, timeoutSeconds: schedule.timeoutSeconds, function: component.function });
            this.queues.push({ id: schedule.id, label: `schedule ${schedule.name}`, queueName: component.queue.name, deadLetterQueueName: component.deadLetterQueue.name });
        }

        // Its outbox's relay runs as the service's role; what it watches are the functions above, all of which may publish,
        // and its forwarder, which logs the same marker for objects it leaves in the bucket, so that the wake comes back for them.
        if (publishesThroughOutbox(service) && connection && args.eventBus) {
            const producers = [...this.functions];
            const forwarder = this.eventHandover ? [{ id: "event-forwarder", function: this.eventHandover.forwarder }] : [];
            const wake: OutboxRelayWake =
                this.eventHandover && args.relayWake.mode === "on-alarm" ? { ...args.relayWake, extraTargets: [...(args.relayWake.extraTargets ?? []), this.eventHandover.forwarder.targetArn] } : args.relayWake;
            this.outboxRelay = new OutboxRelay(
                `${name}-outbox-relay`,
                {
                    ...shared,
                    service,
                    database: connection,
                    eventBusName: args.eventBus.name,
                    producers: {
                        functionNames: producers.map((fn) => fn.function.name),
                        logGroups: [...producers, ...forwarder].map((fn) => ({ functionId: fn.id, name: fn.function.logGroup.name })),
                        longestTimeoutSeconds: Math.max(0, ...producers.map((fn) => fn.timeoutSeconds)),
                    },
                    wake,
                },
                { parent: this },
            );
            this.functions.push({ id: "outbox-relay", label: "outbox relay", timeoutSeconds: this.outboxRelay.relayTimeoutSeconds, function: this.outboxRelay.relay });
        }

        const statements: pulumi.Input<object>[] = [];
        // Handing over, the service writes to its bucket and only its forwarder may put events on the bus.
        if (this.eventHandover) statements.push(this.eventHandover.handOverStatement());
        else if (service.events.length > 0 && args.eventBus) statements.push(publishStatement(name, args.eventBus.arn));
        if (consumers.length > 0) statements.push(consumeStatement(consumers.map((consumer) => consumer.queue.arn)));
        if (this.secret) statements.push(...this.secret.readStatements());
        permissions.resolve(
            new aws.iam.RolePolicy(
                `${name}-permissions`,
                { role: role.id, policy: functionRolePolicy(this.functions.map((fn) => fn.function.logGroup.arn), connection, statements) },
                { parent: this },
            ),
        );

        this.functionNames = pulumi.output(routeFunctions);
        this.roleArn = role.arn;
        this.registerOutputs({ functionNames: this.functionNames, roleArn: this.roleArn });
    }
}
