-- How many users have access to each tenant, kept by every grant and end of access (db::access)
-- in the transaction that makes it: a page of a tenant's users tells its total without counting
-- the tenant's access rows (at 100,000 users that count cost a first page more than five times
-- the page's own work; issue #13). A column of the tenant's row: a new tenant starts at 0, and
-- on PostgreSQL the counter's update does not conflict with the key-share locks that inserts
-- referencing the tenant take.
ALTER TABLE tenants ADD COLUMN access_count BIGINT NOT NULL DEFAULT 0;
UPDATE tenants SET access_count = (SELECT COUNT(*) FROM tenant_access a WHERE a.tenant_id = tenants.id);
