-- The orders service's table. A unique reference, so that placing an order twice is a 409.
CREATE TABLE orders (
    id         uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
    reference  text        NOT NULL,
    item       text        NOT NULL,
    quantity   integer     NOT NULL,
    placed_by  text        NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT orders_reference_key UNIQUE (reference),
    CONSTRAINT orders_quantity_range CHECK (quantity BETWEEN 1 AND 1000)
);
