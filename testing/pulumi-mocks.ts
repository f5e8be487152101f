/**
 * One component (or any few resources) under Pulumi's mocks, outside the whole program: what it
 * registers, with each resource's inputs and ignoreChanges. Mocks answer every resource with its
 * inputs as its state, and a `name` (its resource name) and an `arn` (`arn:aws:mock:<type>/<name>`)
 * where its inputs set none; for the whole program use `tools/offline.ts`.
 */
import * as pulumi from "@pulumi/pulumi";

export interface Registration {
    type: string;
    name: string;
    inputs: Record<string, any>;
    ignoreChanges: string[];
}

/** The ARN the mocks give a resource of `type` named `name`. */
export function mockArn(type: string, name: string): string {
    return `arn:aws:mock:${type}/${name}`;
}

/** Runs `program` under mocks and returns what it registered, with each resource's ignoreChanges. */
export async function registered(program: () => void): Promise<Registration[]> {
    const registrations: Registration[] = [];
    await pulumi.runtime.setMocks({ newResource: (args) => ({ id: `${args.name}-id`, state: { name: args.name, arn: mockArn(args.type, args.name), ...args.inputs } }), call: (args) => args.inputs }, "serverless-microservices", "dev", false);
    const monitor = pulumi.runtime.getMonitor() as any;
    const registerResource = monitor.registerResource.bind(monitor);
    monitor.registerResource = (request: any, callback: (error: unknown, response: any) => void) => {
        registerResource(request, (error: unknown, response: any) => {
            if (!error) {
                registrations.push({
                    type: request.getType(),
                    name: request.getName(),
                    inputs: pulumi.runtime.deserializeProperties(request.getObject()) as Record<string, any>,
                    ignoreChanges: request.getIgnorechangesList(),
                });
            }
            callback(error, response);
        });
    };
    await pulumi.runtime.runInPulumiStack(async () => {
        program();
        return undefined;
    });
    // Registrations go on after the program returns: wait until every one has settled.
    await pulumi.runtime.awaitStackRegistrations();
    await (pulumi.runtime as unknown as { waitForRPCs(): Promise<void> }).waitForRPCs();
    return registrations;
}
