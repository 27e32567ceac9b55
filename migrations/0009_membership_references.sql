-- Each membership carries what a read of its user shows of it (issue #13): the group's tenant and
-- the group's reference, the JSON string literals of the group's id and display name written one
-- after the other (`"id""name"`, `db::group_refs`). A user's `groups` are then one range of one
-- index (their memberships in the tenant), with no visit to each group and no JSON quoting per
-- read: a page of 100 users in ten groups each was 1,000 probes of `groups_reference_idx`.
--
-- Written with the membership (`db::groups::add_member`, `add_members`), rewritten for every
-- member when a group is renamed (`db::groups::update`). `group_ref` is NULL only for the
-- memberships this migration finds: `Db::migrate` fills them right after it (the quoting differs
-- between SQLite and PostgreSQL, which one migration file cannot say), through the partial index.
ALTER TABLE group_members ADD COLUMN tenant_id TEXT NOT NULL DEFAULT '';
ALTER TABLE group_members ADD COLUMN group_ref TEXT;
UPDATE group_members
SET tenant_id = (SELECT g.tenant_id FROM groups g WHERE g.id = group_members.group_id);
CREATE INDEX group_members_user_refs_idx ON group_members (user_id, tenant_id, group_ref);
-- The new index leads with `user_id`, so it serves everything this one did.
DROP INDEX group_members_user_group_idx;
CREATE INDEX group_members_unfilled_idx ON group_members (group_id) WHERE group_ref IS NULL;
