-- Expand, then contract (docs/releases.md): while a release shifts traffic gradually, the previous
-- version and this one serve together on this schema. The note is added nullable and with no
-- default, so the previous version, which inserts orders without it, keeps working, and a rollback
-- to it needs no schema change. Contract in a later release, once no serving version lacks it
-- (here, if every order should have a note: a NOT NULL after a backfill).
ALTER TABLE orders ADD COLUMN note text;
