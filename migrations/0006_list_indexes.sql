-- Indexes for SCIM list pages (issue #13).
--
-- `GET /Users` pages in `users.created_at` order: walking this index (covering the superadmin
-- flag the query excludes on) finds a page's ids without sorting every user of the tenant.
CREATE INDEX users_created_idx ON users (created_at, id, is_superadmin);
-- The few superadmins, so an unfiltered list's total is the tenant's access rows less them.
CREATE INDEX users_superadmins_idx ON users (id) WHERE is_superadmin = 1;
-- `GET /Groups` pages in `groups.created_at` order within a tenant.
CREATE INDEX groups_tenant_created_idx ON groups (tenant_id, created_at, id);
