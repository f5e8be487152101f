/**
 * The runtime's copy of the AWS facts it needs (`functions/runtime/limits.ts`) against their one
 * source, the policy pack's `policy/lib/limits.ts`: the deployed runtime may not import the pack, so
 * the copy is checked here, value by value and the size function by its text and its answers.
 */
import * as assert from "node:assert/strict";
import * as runtime from "../../functions/runtime/limits";
import * as pack from "../../policy/lib/limits";

/** The keys of `copy` whose value differs from `source`'s, or that `source` lacks. */
function differingFacts(copy: Readonly<Record<string, unknown>>, source: Readonly<Record<string, unknown>>): string[] {
    return Object.keys(copy).filter((key) => !(key in source) || JSON.stringify(copy[key]) !== JSON.stringify(source[key]));
}

const ENTRIES = [
    { Source: "users", DetailType: "user.created", Detail: "{}" },
    { Source: "users", DetailType: "user.created", Detail: JSON.stringify({ name: "Zoë 名前 🎉" }), Time: new Date(0) },
    { Source: "shop", DetailType: "order.placed", Detail: "x".repeat(1000), Resources: ["arn:aws:sqs:eu-west-1:123456789012:q"] },
];

describe("the runtime's AWS facts", () => {
    it("equal the policy pack's EventBridge facts, every one of them", () => {
        assert.deepEqual(differingFacts(runtime.EVENTBRIDGE, pack.EVENTBRIDGE), []);
    });

    it("would name a fact that drifted from the pack, and one the pack lacks", () => {
        const drifted = { ...runtime.EVENTBRIDGE, putEventsMaxEntries: 11, retryableEntryErrors: ["InternalFailure"], invented: 1 };
        assert.deepEqual(differingFacts(drifted, pack.EVENTBRIDGE), ["putEventsMaxEntries", "retryableEntryErrors", "invented"]);
    });

    it("size a PutEvents entry as the pack does: the same function, the same answers", () => {
        assert.equal(runtime.putEventsEntrySize.toString(), pack.putEventsEntrySize.toString());
        for (const entry of ENTRIES) assert.equal(runtime.putEventsEntrySize(entry), pack.putEventsEntrySize(entry));
        assert.equal(runtime.putEventsEntrySize(ENTRIES[1]), 14 + 5 + 12 + Buffer.byteLength(ENTRIES[1].Detail));
    });
});
