-- Each user record belongs to the token subject (`sub`) that created it, one record per subject.
-- A subject is any string an issuer chooses, so the owner is text. Records stored before owners
-- were kept have none: only an operator (users:admin) reaches them.
ALTER TABLE users ADD COLUMN owner text;
ALTER TABLE users ADD CONSTRAINT users_owner_key UNIQUE (owner);

-- The email address is the one the user sent, verified only when the token's issuer vouched for
-- the same address. It is no longer unique: whoever claims an address first must not lock its
-- real owner out of signing up with it.
ALTER TABLE users ADD COLUMN email_verified boolean NOT NULL DEFAULT false;
ALTER TABLE users DROP CONSTRAINT users_email_key;
