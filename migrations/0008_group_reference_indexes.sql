-- Covering indexes for users' group references (issue #13).
--
-- Every user a SCIM answer shows carries its group references, read in the statement that reads
-- the user (`db::scim_users::group_refs_column`): the user's memberships, then each group's id,
-- tenant and name. With these indexes both steps are read from the index alone, without a visit to
-- the table row per membership (a page of 100 users in ten groups each is 1,000 memberships).
CREATE INDEX group_members_user_group_idx ON group_members (user_id, group_id);
-- It leads with `user_id`, so it serves everything the old single-column index did.
DROP INDEX group_members_user_idx;
CREATE INDEX groups_reference_idx ON groups (id, tenant_id, display_name_lower, display_name);
