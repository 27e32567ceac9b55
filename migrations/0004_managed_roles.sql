-- Every tenant has the managed roles Admin and Viewer from its birth (iam::tenants::create and
-- iam::instance::ensure_default_tenant make them in the tenant's own transaction). Before this,
-- they were made the first time someone opened the Roles page, so a read wrote to the database
-- and concurrent first visits could race. This backfills the tenants made before: each gets the
-- roles it lacks, with the same permissions as iam::permissions::managed_permissions.
-- Portable SQL (SQLite and PostgreSQL): derived tables by UNION ALL, ids made from the tenant id.

INSERT INTO roles (id, tenant_id, name, name_lower, description, managed, created_at, updated_at)
SELECT 'managed-admin-' || t.id, t.id, 'Admin', 'admin', 'Everything in this tenant.', 1,
       t.created_at, t.created_at
FROM tenants t
WHERE NOT EXISTS (SELECT 1 FROM roles r WHERE r.tenant_id = t.id AND r.name_lower = 'admin');

INSERT INTO roles (id, tenant_id, name, name_lower, description, managed, created_at, updated_at)
SELECT 'managed-viewer-' || t.id, t.id, 'Viewer', 'viewer', 'Read everything in this tenant.', 1,
       t.created_at, t.created_at
FROM tenants t
WHERE NOT EXISTS (SELECT 1 FROM roles r WHERE r.tenant_id = t.id AND r.name_lower = 'viewer');

INSERT INTO role_permissions (role_id, resource, action)
SELECT r.id, res.resource, act.action
FROM roles r
CROSS JOIN (SELECT 'USERS' AS resource UNION ALL SELECT 'GROUPS' UNION ALL SELECT 'ROLES'
            UNION ALL SELECT 'BINDINGS' UNION ALL SELECT 'SERVICE_ACCOUNTS'
            UNION ALL SELECT 'INTEGRATIONS' UNION ALL SELECT 'AUDITLOG') res
CROSS JOIN (SELECT 'CREATE' AS action UNION ALL SELECT 'READ' UNION ALL SELECT 'UPDATE'
            UNION ALL SELECT 'DELETE') act
WHERE r.id = 'managed-admin-' || r.tenant_id;

INSERT INTO role_permissions (role_id, resource, action)
SELECT r.id, res.resource, 'READ'
FROM roles r
CROSS JOIN (SELECT 'USERS' AS resource UNION ALL SELECT 'GROUPS' UNION ALL SELECT 'ROLES'
            UNION ALL SELECT 'BINDINGS' UNION ALL SELECT 'SERVICE_ACCOUNTS'
            UNION ALL SELECT 'INTEGRATIONS' UNION ALL SELECT 'AUDITLOG') res
WHERE r.id = 'managed-viewer-' || r.tenant_id;
