/** The outbox relay's check: run every minute, it invokes the relay only when something may be pending. */
import { createRelayCheckHandler, type RelayCheckSettings } from "../outbox/relay-check";

export interface RelayCheckProvider {
    /** The relay it invokes and the metrics it reads. */
    settings: RelayCheckSettings;
}

export function createRelayCheckEntry(provider: RelayCheckProvider) {
    return createRelayCheckHandler(provider.settings);
}
