/**
 * A service's `secrets` in the registry: names, duplicates, the count limit, and for a container
 * service the environment variables the names would take; each refused before any resource, naming
 * the service and what is allowed, and resolved onto the service and each of its functions.
 */
import * as assert from "node:assert/strict";
import type { AnyService } from "../../functions/runtime/service";
import { SECRETS_MANAGER } from "../../policy/lib/limits";
import { RegistryError, resolveRegistry } from "../../platform/registry/resolution";
import { validateSecrets } from "../../platform/secrets";
import { echoContainer } from "../../testing/fixtures/registries";
import { secretServices } from "../../testing/fixtures/secret-services";

const STACK_DEFAULTS = { memoryMb: 256, timeoutSeconds: 10 };

/** A valid service; each failing case changes its secrets. */
function service(secrets: unknown): AnyService {
    return { name: "orders", description: "Orders", database: false, routes: { "GET /orders": { handler: async () => ({}) } }, secrets } as AnyService;
}

function problemsOf(registry: readonly unknown[]): string[] {
    try {
        resolveRegistry(registry as AnyService[], STACK_DEFAULTS);
    } catch (error) {
        assert.ok(error instanceof RegistryError, `expected a RegistryError, got ${error}`);
        return error.problems;
    }
    return [];
}

describe("declared secrets in the registry", () => {
    it("accepts upper-case names declared once, and resolves them onto the service and each of its functions", () => {
        const registry = resolveRegistry(secretServices, STACK_DEFAULTS);
        const vault = registry.services.find((entry) => entry.name === "vault")!;
        assert.deepEqual(vault.secrets, ["API_KEY", "SIGNING_KEY"]);
        assert.deepEqual(
            registry.routes.map((route) => [route.routeKey, route.secrets]),
            [
                ["GET /vault/fingerprints", ["API_KEY", "SIGNING_KEY"]],
                ["GET /neighbor/peek", ["OWN_TOKEN"]],
            ],
        );
        assert.deepEqual(registry.schedules.map((schedule) => [schedule.service, schedule.name, schedule.secrets]), [["vault", "check", ["API_KEY", "SIGNING_KEY"]]]);
    });

    it("gives services without secrets an empty list", () => {
        const registry = resolveRegistry([service(undefined)], STACK_DEFAULTS);
        assert.deepEqual(registry.services[0].secrets, []);
        assert.deepEqual(registry.routes[0].secrets, []);
    });

    it("refuses a name that is not upper-case letters, digits and _, naming the service and the rule", () => {
        assert.deepEqual(problemsOf([service(["stripe_key", "9LIVES", "A".repeat(65), 42])]), [
            'service "orders": secret name "stripe_key" is not allowed; use an upper-case letter, then upper-case letters, digits or _ (at most 64 characters), e.g. STRIPE_API_KEY',
            'service "orders": secret name "9LIVES" is not allowed; use an upper-case letter, then upper-case letters, digits or _ (at most 64 characters), e.g. STRIPE_API_KEY',
            `service "orders": secret name "${"A".repeat(65)}" is not allowed; use an upper-case letter, then upper-case letters, digits or _ (at most 64 characters), e.g. STRIPE_API_KEY`,
            'service "orders": secret name 42 is not allowed; use an upper-case letter, then upper-case letters, digits or _ (at most 64 characters), e.g. STRIPE_API_KEY',
        ]);
    });

    it("refuses a name declared twice", () => {
        assert.deepEqual(problemsOf([service(["API_KEY", "API_KEY"])]), ['service "orders": secret API_KEY is declared twice; declare each secret once']);
    });

    it("refuses more than the limit, saying why there is one", () => {
        const names = Array.from({ length: SECRETS_MANAGER.maxSecretsPerService + 1 }, (_, index) => `KEY_${index}`);
        assert.deepEqual(problemsOf([service(names)]), [
            `service "orders": declares ${names.length} secrets; a service may declare at most ${SECRETS_MANAGER.maxSecretsPerService} (its values share one Secrets Manager secret of 64 KB)`,
        ]);
        assert.deepEqual(problemsOf([service(names.slice(1))]), []);
    });

    it("refuses secrets that are not a list", () => {
        assert.deepEqual(problemsOf([service("API_KEY")]), ['service "orders": secrets must be a list of names, e.g. ["STRIPE_API_KEY"]']);
    });

    it("refuses a container service's secret that would take a variable its process already gets", () => {
        const problems = problemsOf([echoContainer({ secrets: ["GREETING", "PORT", "PAYMENT_KEY"] })]);
        assert.equal(problems.length, 2, problems.join("\n"));
        assert.match(problems[0], /service "echo" \(.*\): secret GREETING would take the environment variable GREETING, which the process already gets; choose another name/);
        assert.match(problems[1], /secret PORT would take the environment variable PORT/);
        const accepted = resolveRegistry([echoContainer({ secrets: ["PAYMENT_KEY"] })], STACK_DEFAULTS);
        assert.deepEqual(accepted.containers[0].secrets, ["PAYMENT_KEY"]);
    });

    it("validateSecrets finds nothing in a service that declares none", () => {
        assert.deepEqual(validateSecrets(undefined, "service x"), []);
    });
});
