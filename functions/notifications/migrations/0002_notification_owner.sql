-- Whose notification it is: the token subject (`sub`) of the user it is for, from the user.created
-- event, so GET /notifications serves the caller's own from its token. Text, as a subject is any
-- string. Notifications kept before events carried the owner have none and are served to nobody.
ALTER TABLE notifications ADD COLUMN owner text;

CREATE INDEX notifications_owner_created ON notifications (owner, created_at, id);
