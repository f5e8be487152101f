CREATE TABLE accounts (
    id         serial PRIMARY KEY,
    holder     text   NOT NULL,
    -- Another service's item, by id only: services share data by API or events, not foreign keys.
    favourite_item integer
);
