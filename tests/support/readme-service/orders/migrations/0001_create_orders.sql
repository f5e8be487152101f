CREATE TABLE orders (
    id      uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
    user_id uuid        NOT NULL,   -- the users service's id: a plain column, no foreign key
    total   numeric(10, 2) NOT NULL,
    placed  timestamptz NOT NULL DEFAULT now()
);
