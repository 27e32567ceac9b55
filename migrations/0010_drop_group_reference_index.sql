-- A user's group references are read from their memberships since migration 0009, never from the
-- groups: the covering index 0008 added for those reads is no longer read by them, and every group
-- written (created, renamed, deleted) paid for it. The few reads that still join a membership to
-- its group (a user's groups on the JSON-tree path, sign-in's roles) find it by its primary key.
DROP INDEX groups_reference_idx;
