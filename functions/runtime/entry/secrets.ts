/**
 * How a handler gets its service's secrets: its definition's handler wrapped so that its context
 * carries `secrets`. Only the functions of a service that declares secrets are built with it (in the
 * cloud by `lambdaCode`, locally by the gateway and the queue workers), so the wrappers every other
 * function shares, and their archives, hold nothing for secrets.
 */
import type { ServiceSecrets } from "../secrets/secrets";

/** A definition whose handler takes its trigger's input and the handler context. */
interface WithHandler {
    handler: (input: any, context: any) => unknown;
}

/** `definition` with a handler that sees `secrets` as `ctx.secrets`. */
export function withSecrets<Definition extends WithHandler>(definition: Definition, secrets: ServiceSecrets): Definition {
    const { handler } = definition;
    return { ...definition, handler: (input: unknown, context: object) => handler(input, { ...context, secrets }) };
}
