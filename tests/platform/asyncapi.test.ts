/**
 * The event catalogue as AsyncAPI 3.0 (`platform/api/asyncapi.ts`, `npm run asyncapi`): the dev and
 * prod documents and the fixture registry's validate with `@asyncapi/parser`, a broken document is
 * refused, every event and subscription is in it with what the registry says of it and schedules
 * are not, the message is the envelope the runtime delivers, and the committed dev document is what
 * the registry makes of it.
 */
import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import { Parser } from "@asyncapi/parser";
import { eventBridgeEvent, putEventsEntry } from "../../functions/runtime/queue/event-envelope";
import { asyncApiDocument, deliveredEventSchema, type AsyncApiDocument } from "../../platform/api/asyncapi";
import { payloadJsonSchema } from "../../platform/events/schemas";
import { resolveRegistry } from "../../platform/registry/resolution";
import { accountEvents, eventRegistry } from "../../testing/fixtures/event-services";
import { asyncApiText, committedDocumentFile, main } from "../../tools/asyncapi";

/** One parser for the file: it loads its schemas and rule set once. */
let parser: Parser | undefined;

/** What the parser says of a document: its errors and warnings (hints and infos left out), one line each. */
async function parserProblems(document: unknown): Promise<{ problems: string[]; parsed: boolean }> {
    parser ??= new Parser();
    const { document: parsed, diagnostics } = await parser.parse(JSON.stringify(document));
    const problems = diagnostics.filter((d) => d.severity <= 1).map((d) => `${d.code} at ${d.path.join(".")}: ${d.message}`);
    return { problems, parsed: parsed !== undefined };
}

/** The fixture registry's document: accounts publishes two events, ledger and mailer take them, ledger has a schedule. */
function fixtureDocument(): AsyncApiDocument {
    const registry = resolveRegistry(eventRegistry, { memoryMb: 256, timeoutSeconds: 10 });
    return asyncApiDocument({ environment: "test", region: "eu-west-1", version: "0.0.1", eventFlows: registry.eventFlows, subscriptions: registry.subscriptions });
}

describe("the AsyncAPI document of the events", function () {
    // The parser loads its schemas and rule set on first use: seconds on a busy machine.
    this.timeout(60_000);

    for (const stack of ["dev", "prod"]) {
        it(`validates for the ${stack} stack with @asyncapi/parser, no error and no warning`, async () => {
            // Act
            const { problems, parsed } = await parserProblems(JSON.parse(await asyncApiText(stack)));
            // Assess
            assert.deepEqual(problems, []);
            assert.equal(parsed, true);
        });
    }

    it("validates for the fixture registry, listing every event with its producer, version, description and payload, and every subscription", async () => {
        // Act
        const document = fixtureDocument();
        const { problems } = await parserProblems(document);
        // Assess
        assert.deepEqual(problems, []);
        assert.deepEqual(Object.keys(document.channels), ["accounts.account.opened.v1", "accounts.account.closed.v1"]);
        const opened = document.channels["accounts.account.opened.v1"];
        assert.equal(opened.title, "accounts/account.opened v1");
        assert.match(opened.description, /^An account was opened\. Published by accounts on the bus serverless-microservices-test /);
        const message = opened.messages["account.opened"] as { payload: { properties: { detail: { properties: Record<string, unknown> } } } };
        assert.deepEqual(message.payload.properties.detail.properties.payload, payloadJsonSchema(accountEvents["account.opened"]));
        assert.deepEqual(message.payload.properties.detail.properties.version, { const: 1 });
        assert.deepEqual(
            Object.entries(document.operations).map(([id, operation]) => [id, operation.action, operation.channel.$ref]),
            [
                ["accounts.account.opened.v1.send", "send", "#/channels/accounts.account.opened.v1"],
                ["accounts.account.closed.v1.send", "send", "#/channels/accounts.account.closed.v1"],
                ["ledger.opened.receive", "receive", "#/channels/accounts.account.opened.v1"],
                ["ledger.closed.receive", "receive", "#/channels/accounts.account.closed.v1"],
                ["mailer.welcome.receive", "receive", "#/channels/accounts.account.opened.v1"],
            ],
        );
        assert.equal(document.operations["accounts.account.opened.v1.send"].description, "Taken by ledger/opened, mailer/welcome.");
    });

    it("gives each subscription's queue, visibility timeout, attempts and dead-letter queue as its SQS binding", () => {
        // Prepare: ledger/opened declares 3 attempts and a 60 s consumer.
        const registry = resolveRegistry(eventRegistry, { memoryMb: 256, timeoutSeconds: 10 });
        const opened = registry.subscriptions.find((s) => s.service === "ledger" && s.name === "opened")!;
        // Act
        const { bindings } = fixtureDocument().operations["ledger.opened.receive"];
        // Assess
        assert.deepEqual(bindings, {
            sqs: {
                bindingVersion: "0.2.0",
                queues: [
                    { name: "ledger-subscription-opened", fifoQueue: false, visibilityTimeout: opened.visibilityTimeoutSeconds, redrivePolicy: { deadLetterQueue: { name: "ledger-subscription-opened-dlq" }, maxReceiveCount: 3 } },
                    { name: "ledger-subscription-opened-dlq", fifoQueue: false },
                ],
            },
        });
    });

    it("leaves schedules out: they never pass through the bus", () => {
        // Prepare: ledger runs `purge` on a schedule.
        assert.ok(eventRegistry.some((service) => Object.keys(service.schedules ?? {}).includes("purge")));
        // Act
        const text = JSON.stringify(fixtureDocument());
        // Assess
        assert.doesNotMatch(text, /purge/);
        assert.match(text, /Schedules are not events/);
    });

    it("describes the message as the envelope a subscription's queue receives, every field the runtime builds", () => {
        // Prepare: the event the local bus and EventBridge deliver for a publish.
        const contract = accountEvents["account.opened"];
        const entry = putEventsEntry(contract, { accountId: "5f0c6d52-7d1b-4c39-9b55-4a1c1c1f9e11", email: "a@b.co" }, { eventId: "e-1", requestId: "r-1", time: new Date(), eventBusName: "bus" });
        const delivered = eventBridgeEvent(entry, { id: "x", account: "123456789012", region: "eu-west-1" });
        // Act
        const schema = deliveredEventSchema(contract) as { properties: Record<string, { properties?: Record<string, unknown> }>; required: string[] };
        // Assess: the same fields at both levels, and every field the schema requires is there.
        assert.deepEqual(Object.keys(schema.properties).sort(), Object.keys(delivered).sort());
        assert.deepEqual(Object.keys(schema.properties.detail.properties!).sort(), Object.keys(delivered.detail).sort());
        assert.deepEqual(schema.required.filter((field) => !(field in delivered)), []);
    });

    it("is refused by the parser when an operation names a channel the document lacks", async () => {
        // Prepare
        const document = fixtureDocument();
        delete (document.channels as Record<string, unknown>)["accounts.account.closed.v1"];
        // Act
        const { problems, parsed } = await parserProblems(document);
        // Assess
        assert.equal(parsed, false);
        assert.ok(problems.some((problem) => problem.includes("#/channels/accounts.account.closed.v1")), problems.join("\n"));
    });

    it("is refused by the parser when an operation's action is neither send nor receive", async () => {
        // Prepare
        const document = fixtureDocument();
        (document.operations["mailer.welcome.receive"] as { action: string }).action = "consume";
        // Act
        const { problems, parsed } = await parserProblems(document);
        // Assess
        assert.equal(parsed, false);
        assert.ok(problems.some((problem) => problem.includes("operations.mailer.welcome.receive")), problems.join("\n"));
    });

    it("is committed for dev as the registry makes it (docs/asyncapi.dev.json)", async () => {
        // Act
        const expected = await asyncApiText("dev");
        const file = committedDocumentFile("dev");
        const committed = fs.existsSync(file) ? fs.readFileSync(file, "utf8") : "(missing)";
        // Assess
        assert.ok(committed === expected, "docs/asyncapi.dev.json is not what the registry makes: run npm run asyncapi -- --stack dev --out docs/asyncapi.dev.json");
    });
});

describe("npm run asyncapi", function () {
    this.timeout(60_000);

    it("prints the stack's document", async () => {
        let printed = "";
        const code = await main(["--stack", "dev"], (text) => (printed += text));
        assert.equal(code, 0);
        assert.equal(printed, await asyncApiText("dev"));
    });

    it("refuses a missing stack or an unknown argument with its usage, exit code 2", async () => {
        const written: string[] = [];
        const original = process.stderr.write;
        process.stderr.write = ((text: string) => written.push(text) > 0) as typeof process.stderr.write;
        try {
            assert.equal(await main([]), 2);
            assert.equal(await main(["--stack"]), 2);
            assert.equal(await main(["--stack", "dev", "--json"]), 2);
        } finally {
            process.stderr.write = original;
        }
        assert.deepEqual(written.map((text) => text.split("\n")[0]), ["--stack is required", "--stack needs a value", "unknown argument --json"]);
    });

    it("stops on a stack the program would refuse, naming it", async () => {
        await assert.rejects(main(["--stack", "no-such-stack"], () => undefined), /no-such-stack/);
    });
});
