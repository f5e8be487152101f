/**
 * Events, subscriptions and schedules in the registry, on the fixture event services: every check
 * with its failing case (each message naming the service and the trigger), the resolution's
 * defaults and derived settings, the schema record's compatibility rule, and Scheduler's expression
 * grammar.
 */
import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { defineEvents } from "../../functions/runtime/events";
import { defineService, type AnyService, type SubscriptionDefinition } from "../../functions/runtime/service";
import { validateRegistry } from "../../platform/registry/validation";
import { migrationRunRequest } from "../../platform/data-plan";
import { services } from "../../infra/services";
import { compatibilityProblems, payloadJsonSchema, readSchemaRecord, refreshedRecord, schemaRecordFile, schemaRecordProblems, SCHEMA_RECORD_FILE, type RecordedEvent } from "../../platform/events/schemas";
import { checkJsonSchema } from "../../platform/api/json-schema";
import { RegistryError, resolveRegistry } from "../../platform/registry/resolution";
import { SCHEDULE_DEFAULTS } from "../../platform/triggers/schedule";
import { SUBSCRIPTION_DEFAULTS } from "../../platform/triggers/subscription";
import { cronerPattern, isTimeZone, parseScheduleExpression } from "../../platform/schedule-expression";
import { nextRun } from "../../local/schedules";
import { accountEvents, accounts, eventRegistry, ledger, mailer } from "../../testing/fixtures/event-services";
import { email, integer, optional, text, uuid, type Shape } from "../../functions/runtime/validate";

const DEFAULTS = { memoryMb: 256, timeoutSeconds: 10 };
const handler = async () => undefined;

function problemsOf(registry: readonly AnyService[]): string[] {
    try {
        resolveRegistry(registry, DEFAULTS);
    } catch (error) {
        assert.ok(error instanceof RegistryError, String(error));
        return error.problems;
    }
    assert.fail("the registry was accepted");
}

/** The ledger with one subscription changed. */
function withSubscription(changes: Partial<SubscriptionDefinition>): AnyService {
    return { ...ledger, subscriptions: { opened: { ...ledger.subscriptions!.opened, ...changes } }, schedules: {} } as AnyService;
}

describe("events in the registry", () => {
    it("accepts producers, consumers without routes and a schedule", () => {
        // Act
        const registry = resolveRegistry(eventRegistry, DEFAULTS);
        // Assess
        assert.deepEqual(registry.subscriptions.map((s) => `${s.service}/${s.name}`), ["ledger/opened", "ledger/closed", "mailer/welcome"]);
        assert.deepEqual(registry.schedules.map((s) => `${s.service}/${s.name}`), ["ledger/purge"]);
        assert.deepEqual(
            registry.eventFlows.map((flow) => [`${flow.producer}/${flow.event.name}`, flow.subscribers.map((s) => `${s.service}/${s.subscription}`)]),
            [["accounts/account.opened", ["ledger/opened", "mailer/welcome"]], ["accounts/account.closed", ["ledger/closed"]]],
        );
    });

    it("rejects a subscription to an event no service publishes, naming the service and the subscription", () => {
        // Prepare: the producer is not in the registry.
        const registry = [ledger, mailer];
        // Act
        const problems = problemsOf(registry);
        // Assess
        assert.ok(problems.includes('service "ledger", subscription "opened": subscribes to accounts/account.opened v1, but no service "accounts" is in the registry; no service publishes it'), problems.join("\n"));
        assert.ok(problems.includes('service "mailer", subscription "welcome": subscribes to accounts/account.opened v1, but no service "accounts" is in the registry; no service publishes it'));
    });

    it("names the event key a subscription asked for that its producer does not declare, and lists the ones it does", () => {
        // Prepare: a typo the type check would catch, loaded without it (npm start).
        const typo = (accountEvents as unknown as Record<string, SubscriptionDefinition["event"]>)["account.opend"];
        const reader = defineService({ name: "reader", description: "r", database: false, routes: {}, subscriptions: { opened: { event: typo, handler: async () => undefined } } });
        // Act
        const problems = validateRegistry([accounts, reader]);
        // Assess
        assert.deepEqual(problems.filter((problem) => problem.startsWith('service "reader"')), [
            'service "reader" (tests/platform/events-registry.test.ts), subscription "opened": event "account.opend" is not an event of accounts; its events.ts declares "account.opened", "account.closed"',
        ]);
        assert.equal((accountEvents as unknown as Record<string, unknown>).toString, Object.prototype.toString);
    });

    it("rejects a subscription to an event its producer does not declare, or at another version", () => {
        // Prepare
        const other = defineEvents("accounts", { "account.renamed": { version: 1, description: "renamed", payload: { accountId: uuid() } } });
        const v2 = { ...accountEvents["account.opened"], version: 2 };
        // Act
        const undeclared = problemsOf([accounts, withSubscription({ event: other["account.renamed"] })]);
        const versioned = problemsOf([accounts, withSubscription({ event: v2 })]);
        // Assess
        assert.deepEqual(undeclared, ['service "ledger", subscription "opened": subscribes to accounts/account.renamed v1, which service "accounts" does not publish (it publishes account.opened, account.closed)']);
        assert.deepEqual(versioned, ['service "ledger", subscription "opened": subscribes to accounts/account.opened v2, but "accounts" publishes version 1']);
    });

    const outOfRange: [string, Partial<SubscriptionDefinition>, RegExp][] = [
        ["a consumer timeout of 901 s", { timeoutSeconds: 901 }, /timeoutSeconds 901 is not allowed; use an integer from 1 to 900/],
        ["a consumer timeout of 0 s", { timeoutSeconds: 0 }, /timeoutSeconds 0 is not allowed/],
        ["a concurrency ceiling of 1, below the mapping's 2", { maxConcurrency: 1 }, /maxConcurrency 1 is not allowed; use an integer from 2 to 1000/],
        ["a concurrency ceiling of 1001", { maxConcurrency: 1001 }, /maxConcurrency 1001 is not allowed; use an integer from 2 to 1000/],
        ["a batch size of 0", { batchSize: 0 }, /batchSize 0 is not allowed; use an integer from 1 to 10000/],
        ["a batch size of 10001", { batchSize: 10_001 }, /batchSize 10001 is not allowed; use an integer from 1 to 10000/],
        ["a batch size of 20 without a batching window", { batchSize: 20 }, /batchSize 20 needs batchWindowSeconds of 1 or more/],
        ["1001 attempts", { maxAttempts: 1001 }, /maxAttempts 1001 is not allowed; use an integer from 1 to 1000/],
    ];
    for (const [what, changes, message] of outOfRange) {
        it(`rejects ${what}, naming the service and the subscription`, () => {
            const problems = problemsOf([accounts, withSubscription(changes)]);
            assert.equal(problems.length, 1, problems.join("\n"));
            assert.match(problems[0], /^service "ledger", subscription "opened": /);
            assert.match(problems[0], message);
        });
    }

    it("accepts a batch of 20 with a batching window, and a 900 s consumer (the 29 s route bound does not apply)", () => {
        const registry = resolveRegistry([accounts, withSubscription({ batchSize: 20, batchWindowSeconds: 2, timeoutSeconds: 900 })], DEFAULTS);
        assert.equal(registry.subscriptions[0].timeoutSeconds, 900);
    });

    const expressions: [string, RegExp][] = [
        ["cron(0 3 * * * *)", /exactly one of day-of-month and day-of-week must be \?/],
        ["cron(0 3 ? * ? *)", /exactly one of day-of-month and day-of-week must be \?/],
        ["cron(0 3 * * ?)", /has 5 fields; a Scheduler cron has 6/],
        ["cron(61 3 * * ? *)", /minutes "61" is not within 0-59/],
        ["cron(0 3 * * ? 1969)", /year "1969" is not within 1970-2199/],
        ["cron(0 3 ? * 8 *)", /day-of-week "8" is not within 1-7 or SUN-SAT/],
        ["rate(1 minutes)", /singular for 1 and plural above/],
        ["rate(5 minute)", /singular for 1 and plural above/],
        ["rate(0 minutes)", /the rate must be 1 or more/],
        ["at(2027-01-01T00:00:00)", /at\(\) runs once; a schedule of the registry recurs/],
        ["every day", /is not one Scheduler runs/],
    ];
    for (const [expression, message] of expressions) {
        it(`rejects the schedule expression ${expression}, naming the service and the schedule`, () => {
            const service = { ...ledger, schedules: { purge: { ...ledger.schedules!.purge, expression } } } as AnyService;
            const problems = problemsOf([accounts, service]);
            assert.equal(problems.length, 1, problems.join("\n"));
            assert.match(problems[0], /^service "ledger", schedule "purge": expression /);
            assert.match(problems[0], message);
        });
    }

    it("accepts Scheduler's expressions: rates, L, W, #, names, ranges and steps", () => {
        for (const expression of ["rate(1 minute)", "rate(12 hours)", "cron(0/15 8-18 ? * MON-FRI *)", "cron(0 12 L * ? *)", "cron(0 9 15W * ? 2027)", "cron(0 10 ? * 2#1 *)", "cron(30 23 ? * 6L *)"]) {
            assert.equal(parseScheduleExpression(expression).ok, true, expression);
        }
    });

    it("rejects a time zone that is not one, and schedule retries past 100", () => {
        const service = { ...ledger, schedules: { purge: { ...ledger.schedules!.purge, timeZone: "Mars/Olympus", retries: 101 } } } as AnyService;
        assert.deepEqual(problemsOf([accounts, service]), [
            'service "ledger", schedule "purge": timeZone "Mars/Olympus" is not a time zone; use an IANA name such as "UTC" or "Europe/Berlin"',
            'service "ledger", schedule "purge": retries 101 is not allowed; use an integer from 0 to 100',
        ]);
        assert.equal(isTimeZone("Europe/Berlin"), true);
    });

    it("rejects a service with nothing to run, and accepts one with only a schedule", () => {
        const idle = { ...ledger, subscriptions: {}, schedules: {} } as AnyService;
        const scheduled = { ...ledger, subscriptions: {} } as AnyService;
        assert.deepEqual(problemsOf([idle]), ['service "ledger": has nothing to run; declare routes ("METHOD /path"), subscriptions or schedules']);
        assert.equal(resolveRegistry([scheduled], DEFAULTS).schedules.length, 1);
    });

    it("rejects events declared for another service, a bad event name, and a payload field that cannot be described", () => {
        // Prepare
        const foreign = { ...accounts, name: "billing", routes: {} , subscriptions: {}, schedules: { tick: { expression: "rate(1 day)", handler } } } as AnyService;
        const badName = defineEvents("accounts", { Opened: { version: 1, description: "x", payload: { accountId: uuid() } } });
        const undescribed = defineEvents("accounts", { "account.opened": { version: 1, description: "x", payload: { accountId: ((value: unknown) => ({ ok: true, value })) as never } } });
        // Act
        const problems = [
            ...problemsOf([foreign]),
            ...problemsOf([{ ...accounts, events: badName } as AnyService]),
            ...problemsOf([{ ...accounts, events: undescribed } as AnyService]),
        ];
        // Assess
        assert.deepEqual(problems, [
            'service "billing": its events are declared for source "accounts"; a service publishes only its own: defineEvents("billing", ...)',
            'service "accounts", event "Opened": the name must be dot-separated lower-case words, e.g. "user.created", at most 128 characters',
            'service "accounts", event "account.opened": payload field "accountId" must be one of the validators functions/runtime/validate.ts exports (text(), integer(), optional(...) and the others), which describe themselves as JSON Schema; a hand-written check has no schema to record in events.schema.json and compare',
        ]);
    });

    it("resolves a subscription's defaults and its queue's visibility timeout as 6 x its timeout", () => {
        // Act
        const { subscriptions, schedules } = resolveRegistry(eventRegistry, DEFAULTS);
        // Assess
        const closed = subscriptions.find((s) => s.name === "closed")!;
        assert.deepEqual(
            { batchSize: closed.batchSize, maxAttempts: closed.maxAttempts, maxConcurrency: closed.maxConcurrency, timeoutSeconds: closed.timeoutSeconds, visibility: closed.visibilityTimeoutSeconds, memoryMb: closed.memoryMb },
            { batchSize: SUBSCRIPTION_DEFAULTS.batchSize, maxAttempts: SUBSCRIPTION_DEFAULTS.maxAttempts, maxConcurrency: SUBSCRIPTION_DEFAULTS.maxConcurrency, timeoutSeconds: SUBSCRIPTION_DEFAULTS.timeoutSeconds, visibility: 6 * SUBSCRIPTION_DEFAULTS.timeoutSeconds, memoryMb: 256 },
        );
        const opened = subscriptions.find((s) => s.name === "opened")!;
        assert.deepEqual([opened.maxAttempts, opened.maxConcurrency, opened.visibilityTimeoutSeconds], [3, 4, 360]);
        const purge = schedules[0];
        assert.deepEqual([purge.maxAttempts, purge.batchSize, purge.timeZone, purge.visibilityTimeoutSeconds], [2, SCHEDULE_DEFAULTS.batchSize, "Europe/Berlin", 6 * SCHEDULE_DEFAULTS.timeoutSeconds]);
    });

    it("gives a database service's login role a connection per concurrent invocation of each consumer too", () => {
        // Prepare
        const registry = resolveRegistry(eventRegistry, DEFAULTS);
        // Act
        const { services } = migrationRunRequest(registry, 10, "password");
        // Assess: ledger has no routes: opened 4 + closed 2 + purge 2; its longest timeout is 60 s.
        const ledgerData = services.find((s) => s.service === "ledger")!;
        assert.equal(ledgerData.connectionLimit, 4 + 2 + 2);
        assert.equal(ledgerData.statementTimeoutMs, 59_000);
    });
});

describe("event schema records", () => {
    /** A version's record as the registry makes it from validators. */
    const recordOf = (payload: Shape): RecordedEvent => ({ description: "d", payload: payloadJsonSchema({ payload }) });
    const recorded = recordOf({ accountId: uuid(), name: text({ max: 20 }), plan: optional(text({ max: 20 }), undefined), seats: integer({ min: 1, max: 50 }) });
    /** The record with its payload's JSON Schema edited: what a validator this runtime does not have yet would change. */
    const edited = (edit: (payload: { properties: Record<string, Record<string, unknown>>; required: string[] } & Record<string, unknown>) => void): RecordedEvent => {
        const payload = structuredClone(recorded.payload) as Parameters<typeof edit>[0];
        edit(payload);
        return { description: "d", payload };
    };

    it("records a payload as a JSON Schema object, its fields that are not optional required, open to fields added later", () => {
        assert.deepEqual(recorded.payload, {
            type: "object",
            properties: {
                accountId: checkJsonSchema(uuid()),
                name: checkJsonSchema(text({ max: 20 })),
                plan: checkJsonSchema(text({ max: 20 })),
                seats: checkJsonSchema(integer({ min: 1, max: 50 })),
            },
            required: ["accountId", "name", "seats"],
        });
    });

    it("lets a version gain an optional field, and takes the same fields declared in another order", () => {
        const gained = recordOf({ accountId: uuid(), name: text({ max: 20 }), plan: optional(text({ max: 20 }), undefined), seats: integer({ min: 1, max: 50 }), note: optional(text({ max: 80 }), undefined) });
        const reordered = recordOf({ seats: integer({ min: 1, max: 50 }), plan: optional(text({ max: 20 }), undefined), name: text({ max: 20 }), accountId: uuid() });
        assert.deepEqual(compatibilityProblems(recorded, gained), []);
        assert.deepEqual(compatibilityProblems(recorded, reordered), []);
    });

    // Each a pattern, not the whole line: what else differs depends on how each validator describes itself.
    const breaking: [string, RecordedEvent, RegExp][] = [
        ["a removed field", recordOf({ accountId: uuid(), plan: optional(text({ max: 20 }), undefined), seats: integer({ min: 1, max: 50 }) }), /^field "name" is removed$/],
        ["an optional field made required", recordOf({ accountId: uuid(), name: text({ max: 20 }), plan: text({ max: 20 }), seats: integer({ min: 1, max: 50 }) }), /^field "plan" is optional in the record and becomes required$/],
        ["a required field made optional", recordOf({ accountId: uuid(), name: optional(text({ max: 20 }), undefined), plan: optional(text({ max: 20 }), undefined), seats: integer({ min: 1, max: 50 }) }), /^field "name" is required in the record and becomes optional \(consumers count on it\)$/],
        ["a required field added", recordOf({ accountId: uuid(), name: text({ max: 20 }), plan: optional(text({ max: 20 }), undefined), seats: integer({ min: 1, max: 50 }), region: text({ max: 20 }) }), /^field "region" is added as required \(within a version only optional fields may be added\)$/],
        ["a changed type", recordOf({ accountId: uuid(), name: integer({ min: 1, max: 20 }), plan: optional(text({ max: 20 }), undefined), seats: integer({ min: 1, max: 50 }) }), /^field "name" changes its schema: (.*; )?type "string" -> "integer"(;|$)/],
        ["a changed format", recordOf({ accountId: email(), name: text({ max: 20 }), plan: optional(text({ max: 20 }), undefined), seats: integer({ min: 1, max: 50 }) }), /^field "accountId" changes its schema: (.*; )?format "uuid" -> "email"(;|$)/],
        ["a narrowed length", recordOf({ accountId: uuid(), name: text({ max: 10 }), plan: optional(text({ max: 20 }), undefined), seats: integer({ min: 1, max: 50 }) }), /^field "name" changes its schema: maxLength 20 -> 10$/],
        ["a widened length (a consumer may store it in 20 characters)", recordOf({ accountId: uuid(), name: text({ max: 40 }), plan: optional(text({ max: 20 }), undefined), seats: integer({ min: 1, max: 50 }) }), /^field "name" changes its schema: maxLength 20 -> 40$/],
        ["a widened range", recordOf({ accountId: uuid(), name: text({ max: 20 }), plan: optional(text({ max: 20 }), undefined), seats: integer({ min: 0, max: 100 }) }), /^field "seats" changes its schema: minimum 1 -> 0; maximum 50 -> 100$/],
        ["a changed enumeration", edited((p) => (p.properties.plan = { type: "string", enum: ["free", "team", "enterprise"] })), /^field "plan" changes its schema: (.*; )?enum \(none\) -> \["free","team","enterprise"\]$/],
        ["a changed array's items", edited((p) => (p.properties.name = { type: "array", items: { type: "string", maxLength: 20 } })), /^field "name" changes its schema: (.*; )?items \(none\) -> \{"type":"string","maxLength":20\}$/],
        ["a removed format", edited((p) => delete p.properties.accountId.format), /^field "accountId" changes its schema: format "uuid" -> \(none\)$/],
        ["the payload closed to new fields", edited((p) => (p.additionalProperties = false)), /^the payload's schema changes: additionalProperties \(none\) -> false$/],
    ];
    for (const [what, current, problem] of breaking) {
        it(`refuses ${what} within a version, naming the field`, () => {
            const problems = compatibilityProblems(recorded, current);
            assert.equal(problems.length, 1, problems.join("\n"));
            assert.match(problems[0], problem);
        });
    }

    it("refuses a change inside a nested object's fields, naming the keyword's path", () => {
        // Prepare: a recorded nested object, then its inner field narrowed and a required one added inside it.
        const address = { type: "object", properties: { city: { type: "string", maxLength: 80 } }, required: ["city"] };
        const before = edited((p) => (p.properties.address = address));
        const after: RecordedEvent = { description: "d", payload: structuredClone(before.payload) };
        const inner = (after.payload.properties as Record<string, typeof address>).address;
        inner.properties.city.maxLength = 40;
        Object.assign(inner.properties, { zip: { type: "string" } });
        inner.required.push("zip");
        // Act
        const problems = compatibilityProblems(before, after);
        // Assess
        assert.deepEqual(problems, ['field "address" changes its schema: properties.city.maxLength 80 -> 40; properties.zip (none) -> {"type":"string"}; required ["city"] -> ["city","zip"]']);
    });

    it("reads only a record whose every version holds a payload schema, naming the file, the event and the version", () => {
        // Prepare: a record of fields, not JSON Schema, beside a producer's events.ts.
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "event-record-"));
        const file = path.join(dir, SCHEMA_RECORD_FILE);
        fs.writeFileSync(file, JSON.stringify({ refresh: "x", events: { "account.opened": { "1": { description: "d", fields: { accountId: { type: "string" } } } } } }));
        // Act + Assess
        assert.throws(() => readSchemaRecord(file), { message: `${file}: event "account.opened" v1 has no payload schema (a JSON Schema object under "payload")` });
        fs.rmSync(dir, { recursive: true });
    });

    it("stops the registry on an incompatible change against the committed record beside the producer's events.ts, and takes a new version", () => {
        // Prepare: a producer folder with its events.ts and a record of version 1.
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "event-record-"));
        const write = (version: number, field: string) =>
            fs.writeFileSync(
                path.join(dir, `events-v${version}-${field}.ts`),
                `import { defineEvents } from ${JSON.stringify(path.resolve("functions/runtime/events"))};\n` +
                    `import { uuid, text } from ${JSON.stringify(path.resolve("functions/runtime/validate"))};\n` +
                    `export const events = defineEvents("accounts", { "account.opened": { version: ${version}, description: "opened", payload: { ${field}: uuid(), name: text({ max: 20 }) } } });\n`,
            );
        write(1, "accountId");
        write(1, "id");
        write(2, "id");
        const load = (file: string) => require(path.join(dir, file)).events;
        const original = load("events-v1-accountId.ts");
        fs.writeFileSync(schemaRecordFile(original)!, JSON.stringify(refreshedRecord(undefined, original)));
        // Act
        const renamed = schemaRecordProblems({ ...accounts, events: load("events-v1-id.ts") } as AnyService, 'service "accounts"');
        const newVersion = schemaRecordProblems({ ...accounts, events: load("events-v2-id.ts") } as AnyService, 'service "accounts"');
        // Assess
        assert.equal(path.basename(schemaRecordFile(original)!), SCHEMA_RECORD_FILE);
        assert.equal(renamed.length, 2);
        assert.match(renamed[0], /^service "accounts", event "account.opened" v1: field "accountId" is removed against .*events\.schema\.json; consumers of that version would break: publish the change as a new version/);
        assert.deepEqual(newVersion, []);
        // The refresh sees the same change as incompatible, which npm run events:record never writes.
        const { recordStatus } = require("../../tools/event-schemas") as typeof import("../../tools/event-schemas");
        assert.deepEqual(recordStatus([{ ...accounts, events: load("events-v1-id.ts") } as AnyService]).incompatible, [
            'service "accounts", event "account.opened" v1: field "accountId" is removed',
            'service "accounts", event "account.opened" v1: field "id" is added as required (within a version only optional fields may be added)',
        ]);
    });

    it("keeps the fixture producers' records current (npm run events:record -- --check)", () => {
        const { registryRecordStatus } = require("../../tools/event-schemas") as typeof import("../../tools/event-schemas");
        assert.deepEqual(registryRecordStatus([accounts]).problems, []);
    });

    it("records every event of the registry's producers (infra/registry.ts): the check npm run events:record -- --check makes", () => {
        // Act
        const { registryRecordStatus } = require("../../tools/event-schemas") as typeof import("../../tools/event-schemas");
        const status = registryRecordStatus(services);
        // Assess: what the check prints, each line naming the service, its record and the event missing from it.
        assert.deepEqual(status.problems, []);
    });

    it("fails that check for a new event in a producer's events.ts that its events.schema.json does not record, naming it", () => {
        // Prepare: a producer folder whose record holds one of its two events.
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "event-record-"));
        const write = (file: string, events: string) =>
            fs.writeFileSync(
                path.join(dir, file),
                `import { defineEvents } from ${JSON.stringify(path.resolve("functions/runtime/events"))};\n` +
                    `import { uuid } from ${JSON.stringify(path.resolve("functions/runtime/validate"))};\n` +
                    `export const events = defineEvents("accounts", { ${events} });\n`,
            );
        const opened = `"account.opened": { version: 1, description: "opened", payload: { accountId: uuid() } }`;
        write("recorded.ts", opened);
        write("events.ts", `${opened}, "account.closed": { version: 1, description: "closed", payload: { accountId: uuid() } }`);
        const recorded = require(path.join(dir, "recorded.ts")).events;
        fs.writeFileSync(schemaRecordFile(recorded)!, JSON.stringify(refreshedRecord(undefined, recorded)));
        const { registryRecordStatus } = require("../../tools/event-schemas") as typeof import("../../tools/event-schemas");
        // Act
        const status = registryRecordStatus([{ ...accounts, events: require(path.join(dir, "events.ts")).events } as AnyService]);
        // Assess
        assert.equal(status.problems.length, 1);
        assert.match(status.problems[0], /^service "accounts": .*events\.schema\.json does not record account\.closed v1$/);
        fs.rmSync(dir, { recursive: true });
    });
});

describe("Scheduler expressions locally", () => {
    it("reads Scheduler's days of the week (Sunday is 1) as croner's (Sunday is 0), # counts kept", () => {
        const parsed = parseScheduleExpression("cron(0 8 ? * 2-6 *)");
        assert.ok(parsed.ok && parsed.expression.kind === "cron");
        assert.equal(cronerPattern(parsed.expression.fields), "0 0 8 ? * 1-5 *");
        const nth = parseScheduleExpression("cron(0 8 ? * 2#3 *)");
        assert.ok(nth.ok && nth.expression.kind === "cron");
        assert.equal(cronerPattern(nth.expression.fields), "0 0 8 ? * 1#3 *");
    });

    it("runs a cron in its time zone: 03:00 in Berlin is 02:00 UTC in winter and 01:00 in summer", () => {
        const schedule = { expression: "cron(0 3 * * ? *)", timeZone: "Europe/Berlin" };
        assert.equal(nextRun(schedule, new Date("2026-12-01T12:00:00Z"), new Date())!.toISOString(), "2026-12-02T02:00:00.000Z");
        assert.equal(nextRun(schedule, new Date("2027-07-01T12:00:00Z"), new Date())!.toISOString(), "2027-07-02T01:00:00.000Z");
    });

    it("runs a weekday schedule on Monday after a Friday", () => {
        const next = nextRun({ expression: "cron(0 9 ? * MON-FRI *)", timeZone: "UTC" }, new Date("2026-12-04T10:00:00Z"), new Date());
        assert.equal(next!.toISOString(), "2026-12-07T09:00:00.000Z");
    });

    it("counts a rate from its origin", () => {
        const origin = new Date("2026-12-01T00:00:00Z");
        assert.equal(nextRun({ expression: "rate(5 minutes)", timeZone: "UTC" }, new Date("2026-12-01T00:07:00Z"), origin)!.toISOString(), "2026-12-01T00:10:00.000Z");
        assert.equal(nextRun({ expression: "rate(5 minutes)", timeZone: "UTC" }, origin, origin)!.toISOString(), "2026-12-01T00:05:00.000Z");
    });

    it("has no next run for a cron whose years are over", () => {
        assert.equal(nextRun({ expression: "cron(0 3 * * ? 2020)", timeZone: "UTC" }, new Date("2026-12-01T00:00:00Z"), new Date()), undefined);
    });
});
