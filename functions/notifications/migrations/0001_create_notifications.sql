-- What the notifications service keeps of the users service's events: one notification per event
-- (the event id is unique, so a redelivered event adds nothing), and the users who were deleted,
-- so that a user.created delivered late, after its user.deleted, does not bring a notification back.
CREATE TABLE notifications (
    id         uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
    user_id    uuid        NOT NULL,   -- the users service's id: a plain column, no foreign key
    kind       text        NOT NULL,
    message    text        NOT NULL,
    event_id   uuid        NOT NULL,
    created_at timestamptz NOT NULL DEFAULT date_trunc('milliseconds', clock_timestamp()),
    CONSTRAINT notifications_event_id_key UNIQUE (event_id)
);

CREATE INDEX notifications_user_created ON notifications (user_id, created_at, id);

CREATE TABLE forgotten_users (
    user_id    uuid        PRIMARY KEY,
    deleted_at timestamptz NOT NULL
);
