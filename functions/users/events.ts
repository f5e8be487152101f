/**
 * The events the `users` service publishes: its contract with every service that subscribes. A
 * consumer imports them from here (`import { userEvents } from "../users/events"`). Within a version
 * a payload may only gain optional fields; `events.schema.json` beside this file records each
 * version (`npm run events:record`).
 */
import { defineEvents } from "../runtime/events";
import { email, optional, subject, text, uuid } from "../runtime/validate";

export const userEvents = defineEvents("users", {
    "user.created": {
        version: 1,
        description: "A user signed up",
        // owner: the token subject the user record belongs to, so a consumer can serve the user what
        // it keeps about them (absent from events published before owners were kept).
        payload: { userId: uuid(), email: email(), name: text({ max: 100 }), owner: optional(subject(), undefined) },
    },
    "user.deleted": {
        version: 1,
        description: "A user was deleted; what others keep about them should go",
        payload: { userId: uuid() },
    },
});
