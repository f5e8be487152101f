/**
 * The runtime's error classes as a deployed function holds them: Pulumi serializes a class that
 * extends Error into a function whose `super(...)` is `Error.call(this, ...)`, which sets nothing
 * on the instance, so each class sets its message (and cause) itself. Serialized with the
 * program's own packaging (`functionSource`) and run from the text, as Lambda loads it.
 */
import * as assert from "node:assert/strict";
import { DatabaseUnavailableError } from "../../functions/runtime/data/database";
import { HttpError } from "../../functions/runtime/errors";
import { EventPayloadError } from "../../functions/runtime/events";
import { EventPublishError, EventTooLargeError } from "../../functions/runtime/outbox/publisher";
import { functionSource, HANDLER_EXPORT } from "../../infra/function-packaging";

describe("the runtime's errors in a serialized closure", function () {
    this.timeout(60_000);

    it("keep their name, message and cause", async () => {
        // Prepare
        const cause = new Error("Connection terminated unexpectedly");
        const source = await functionSource("errors", () => (cause: unknown) => [
            new DatabaseUnavailableError("The database connection was lost during the request.", cause),
            new EventPublishError("EventBridge did not take the event: timeout", cause),
            new EventTooLargeError("shop/order.placed v1", 300_000),
            new EventPayloadError("shop/order.placed v1", [{ field: "item", problem: "is required" }]),
            new HttpError(404, "not_found", "No order with this id."),
        ]);
        const module = { exports: {} as Record<string, (cause: unknown) => Error[]> };
        // Act: load the archive's text as CommonJS, as the runtime does, and build the errors there.
        new Function("exports", "require", "module", source)(module.exports, require, module);
        const errors = module.exports[HANDLER_EXPORT](cause);
        // Assess
        assert.deepEqual(
            errors.map((error) => [error.name, error.message, (error as { cause?: unknown }).cause === cause]),
            [
                ["DatabaseUnavailableError", "The database connection was lost during the request.", true],
                ["EventPublishError", "EventBridge did not take the event: timeout", true],
                ["EventTooLargeError", "Event shop/order.placed v1 was not published: its PutEvents entry is 300000 bytes, and EventBridge takes at most 262144 (256 KB). Publish a reference to the data (its id, or where it is stored) instead of the data.", false],
                ["EventPayloadError", "Event shop/order.placed v1 was not published: its payload is invalid: item is required.", false],
                ["HttpError", "No order with this id.", false],
            ],
        );
    });
});
