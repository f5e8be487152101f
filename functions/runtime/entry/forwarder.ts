/**
 * A publishing database service's event forwarder (`events.delivery: bucket-handover`): outside
 * the VPC, it puts on the bus what the service's functions handed to its bucket
 * (`outbox/bucket-handover.ts`).
 */
import { ENVIRONMENT, logLevelFromEnvironment } from "../environment";
import { createLogger, type Logger } from "../logger";
import { createForwarder, s3HandoverStore, type HandoverStore } from "../outbox/bucket-handover";
import { logOutboxWrite } from "../outbox/outbox";
import { eventBridgeTransport, type EventTransport } from "../outbox/publisher";

export interface ForwarderProvider {
    /** The service whose events it forwards. */
    service: string | undefined;
    /** Its bucket (`EVENT_HANDOVER_BUCKET`). */
    bucket: string | undefined;
    /** @default S3, through the runtime's SDK */
    store?: HandoverStore;
    /** @default EventBridge, through the runtime's SDK */
    transport?: EventTransport;
    logger?: Logger;
}

export function createForwarderEntry(provider: ForwarderProvider) {
    const service = provider.service ?? "unknown";
    if (!provider.bucket) throw new Error(`The event forwarder of service "${service}" needs its bucket: ${ENVIRONMENT.eventHandoverBucket} is not set.`);
    const logger = provider.logger ?? createLogger({ level: logLevelFromEnvironment(), fields: { service, function: "event-forwarder" } });
    return createForwarder({
        store: provider.store ?? s3HandoverStore(provider.bucket),
        transport: provider.transport ?? eventBridgeTransport(),
        logger,
        // Matched by the wake alarm's metric filter on this function's log group: the alarm brings the forwarder back for them.
        onLeftOver: (objects) => logOutboxWrite(logger, service, objects),
    });
}
