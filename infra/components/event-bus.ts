/**
 * The stack's one EventBridge bus: every service publishes its events to it, each subscription's
 * rule reads from it. A custom bus rather than the account's default one, so the stack's events
 * and rules stay apart from AWS's own events and from other stacks in the account.
 */
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { ComponentTypes } from "../../policy/lib/types";

/** What the EventBus needs. */
export interface EventBusArgs {
    /** The bus's name in AWS, e.g. `serverless-microservices-dev` (`eventBusName`, platform/naming.ts). */
    busName: string;
    /** @default none */
    tags?: Record<string, string>;
}

export class EventBus extends pulumi.ComponentResource {
    readonly name: pulumi.Output<string>;
    readonly arn: pulumi.Output<string>;

    constructor(name: string, args: EventBusArgs, opts?: pulumi.ComponentResourceOptions) {
        super(ComponentTypes.eventBus, name, {}, opts);
        const bus = new aws.cloudwatch.EventBus(`${name}-bus`, { name: args.busName, tags: args.tags }, { parent: this });
        this.name = bus.name;
        this.arn = bus.arn;
        this.registerOutputs({ name: this.name, arn: this.arn });
    }
}
