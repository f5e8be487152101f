/** A service's event catalog as the model carries it. */
import type { EventCatalog } from "../../functions/runtime/events";
import type { AnyService } from "../../functions/runtime/service";

/**
 * The catalog a handler's closure captures, as a plain copy: without the hidden symbol-keyed record
 * `defineEvents` keeps on it, which Pulumi's closure serializer writes as a key the function then
 * fails to load with.
 */
export function publishedEvents(service: AnyService): { events?: EventCatalog } {
    return service.events ? { events: { ...(service.events as EventCatalog) } } : {};
}
