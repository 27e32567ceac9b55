-- Each access row carries its user's creation time (copied when access is granted; a user's
-- created_at never changes), and an index walks a tenant's users in creation order: a page of
-- one tenant's users (the default order, unfiltered) reads that tenant's access rows alone. It
-- walked every user of the instance in creation order and probed each for access in the tenant,
-- so a small tenant's first page cost as much as the whole directory (issue #13). A row an older
-- binary inserts without it (a rolling start of replicas) is filled in by a trigger, which each
-- start installs (db::access::prepare_creation_order: each database writes its trigger its own way).
ALTER TABLE tenant_access ADD COLUMN user_created_at BIGINT;
UPDATE tenant_access SET user_created_at = (SELECT u.created_at FROM users u WHERE u.id = tenant_access.user_id);
CREATE INDEX tenant_access_creation_idx ON tenant_access (tenant_id, user_created_at, user_id);
-- The rows still to fill in (none, once a start has filled them): found without a scan.
CREATE INDEX tenant_access_creation_missing_idx ON tenant_access (user_id) WHERE user_created_at IS NULL;
-- Pages in creation order walked this index of every user of the instance; nothing reads it now,
-- and each create and delete of a user no longer writes it.
DROP INDEX users_created_idx;
