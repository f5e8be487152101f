-- Users of the platform's sample service.
-- created_at is kept at millisecond precision so that it round-trips through JavaScript dates
-- exactly, which the keyset pagination cursor (created_at, id) relies on.
CREATE TABLE users (
    id         uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
    email      text        NOT NULL,
    name       text        NOT NULL,
    created_at timestamptz NOT NULL DEFAULT date_trunc('milliseconds', clock_timestamp()),
    updated_at timestamptz NOT NULL DEFAULT date_trunc('milliseconds', clock_timestamp()),
    CONSTRAINT users_email_key UNIQUE (email),
    CONSTRAINT users_email_length CHECK (char_length(email) <= 254),
    CONSTRAINT users_name_length CHECK (char_length(name) BETWEEN 1 AND 100)
);

CREATE INDEX users_created_at_id ON users (created_at, id);
