/**
 * The resources provider of a deployed function, which reads Lambda's environment, and the code
 * of each kind of function: the closures the Pulumi program serializes into their archives.
 *
 * The serializer bundles whatever a closure references, so each closure references only what its
 * function uses: a function without the database must not reference `createDatabase` (it would
 * carry `pg`), nor one of a service that publishes nothing the EventBridge client. That is why the
 * provider is picked by branch below rather than built from optional parts. Each factory runs once
 * per execution environment; the database is opened at the first invocation and kept.
 */
import { createDatabase } from "../data/database";
import { migrationClusterFromEnvironment, migrationLauncherFromEnvironment, serviceDatabaseFromEnvironment } from "../data/database-environment";
import { createSecretCredentials } from "../data/master-secret";
import { workerInvoker } from "../data/migration-worker";
import { ENVIRONMENT, eventBusFromEnvironment, eventHandoverBucketFromEnvironment } from "../environment";
import { bucketHandoverTransport, s3HandoverStore } from "../outbox/bucket-handover";
import { relayCheckFromEnvironment } from "../outbox/relay-check";
import { eventBridgeTransport, type EventTransport } from "../outbox/publisher";
import { createForwarderEntry } from "./forwarder";
import { createMigrationLauncherEntry, createMigrationWorkerEntry } from "./migration";
import { createRelayCheckEntry } from "./relay-check";
import { withSecrets } from "./secrets";
import { secretsFromEnvironment } from "../secrets/secrets-manager";
import type { ResourcesProvider } from "./resources";

/** What a function uses, which decides what its provider (and so its archive) holds. */
export interface FunctionUse {
    database: boolean;
    /** Publishes events (its service's catalog, or the relay's bus). */
    publishes: boolean;
    /** Its service's declared secrets, read from the service's secret. @default none */
    secrets?: { service: string; declared: readonly string[] };
}

/**
 * What a trigger's function of a service uses: the database when its service has one, the bus when
 * it publishes, its service's secret when it declares secrets.
 */
export function functionUse(definition: { service: string; database: boolean; events?: unknown; secrets?: readonly string[] }): FunctionUse {
    const declared = definition.secrets ?? [];
    return { database: definition.database, publishes: Boolean(definition.events), ...(declared.length > 0 ? { secrets: { service: definition.service, declared: [...declared] } } : {}) };
}

/**
 * How a publishing database function's batches leave it: to its service's bucket when the program
 * named one (`events.delivery: bucket-handover`), else to EventBridge through the VPC's endpoint.
 */
function databaseEventTransport(): EventTransport {
    const bucket = eventHandoverBucketFromEnvironment();
    return bucket ? bucketHandoverTransport(s3HandoverStore(bucket)) : eventBridgeTransport();
}

/** A deployed function's provider, built in its execution environment from Lambda's environment variables. */
export function lambdaResources(use: FunctionUse): () => ResourcesProvider {
    if (use.database && use.publishes) {
        return () => ({
            openDatabase: () => createDatabase(serviceDatabaseFromEnvironment()),
            eventBus: { eventBusName: eventBusFromEnvironment(), transport: databaseEventTransport() },
        });
    }
    if (use.database) return () => ({ openDatabase: () => createDatabase(serviceDatabaseFromEnvironment()) });
    // Outside the VPC: EventBridge is reachable directly.
    if (use.publishes) return () => ({ eventBus: { eventBusName: eventBusFromEnvironment(), transport: eventBridgeTransport() } });
    return () => ({});
}

/**
 * The code of a route's, a subscription's, a schedule's or a relay's function: its entry, given the
 * definition (captured by value: keep it to what the entry reads) and Lambda's resources; for a
 * service that declares secrets, its handler also gets them (`withSecrets`).
 */
export function lambdaCode<Definition extends object, Handler>(createEntry: (definition: Definition, provider: ResourcesProvider) => Handler, definition: Definition, use: FunctionUse): () => Handler {
    const resources = lambdaResources(use);
    if (!use.secrets) return () => createEntry(definition, resources());
    // Only here does a closure reference the secrets reader (and so the Secrets Manager client).
    const { service, declared } = use.secrets;
    const handled = definition as Definition & { handler: (input: any, context: any) => unknown };
    return () => createEntry(withSecrets(handled, secretsFromEnvironment(service, declared)), resources());
}

/** The relay check's code: its settings from the environment, the runtime's SDK clients. */
export function lambdaRelayCheckCode() {
    return () => createRelayCheckEntry({ settings: relayCheckFromEnvironment() });
}

/** The event forwarder's code: its service's bucket from the environment, EventBridge through the runtime's SDK. */
export function lambdaForwarderCode() {
    return () => createForwarderEntry({ service: process.env[ENVIRONMENT.serviceName], bucket: eventHandoverBucketFromEnvironment() });
}

/** The migration worker's code: no service's SQL (each invocation carries its service's), nor any credentials (each invocation carries the launcher's). */
export function lambdaMigrationWorkerCode() {
    return () => createMigrationWorkerEntry({ cluster: () => migrationClusterFromEnvironment() });
}

/** The migration launcher's code: the master secret read at each run, the worker invoked with it. */
export function lambdaMigrationLauncherCode() {
    return () => {
        // Read at the first run, like the other functions' settings: a missing one fails that run, not the container's start.
        let invoke: ReturnType<typeof workerInvoker> | undefined;
        return createMigrationLauncherEntry({
            masterCredentials: () => createSecretCredentials(migrationLauncherFromEnvironment().secretArn),
            invokeWorker: (event) => (invoke ??= workerInvoker(migrationLauncherFromEnvironment().workerFunction))(event),
        });
    };
}
