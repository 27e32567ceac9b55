-- Reads that walked a table where they meant a few rows, each given an index to seek.
--
-- A subject's bindings, with their roles, from one index. Every permission check (a person's
-- roles, direct and through each of their groups; a service account's; a SCIM integration's
-- credentials) reads a subject's bindings and their role ids. With the role id outside this
-- index SQLite preferred the unique index on (tenant_id, role_id, subject_type, subject_id),
-- which holds the role id, and walked all of the tenant's bindings on its first column for each
-- subject: with 5,000 groups bound in a tenant, a person's permission check took 4.7 ms of the
-- server's CPU (db::iam's plan test holds this).
DROP INDEX bindings_subject_idx;
CREATE INDEX bindings_subject_idx ON bindings (tenant_id, subject_type, subject_id, role_id);

-- Every reference indexed on its referring side (db's schema test holds this). The Roles page
-- counts each role's bindings, deleting a role deletes them, and the database's own ON DELETE
-- CASCADE looks them up: each walked every binding of the instance. Deleting an OIDC provider
-- walked its pending sign-ins and every SSO session, deleting a service account every
-- integration.
CREATE INDEX bindings_role_idx ON bindings (role_id);
CREATE INDEX oidc_sessions_provider_idx ON oidc_sessions (provider_id);
CREATE INDEX oidc_pending_logins_provider_idx ON oidc_pending_logins (provider_id);
CREATE INDEX scim_integrations_account_idx ON scim_integrations (service_account_id);

-- Housekeeping's sweep of expired sessions walked every session.
CREATE INDEX sessions_expires_idx ON sessions (expires_at);

-- Instance → Sign-ins counts the failed password checks of the last 24 hours: it walked every
-- failure kept. The condition is db::sign_ins::FAILED's, as for sign_ins_failed_idx.
CREATE INDEX sign_ins_failed_at_idx ON sign_ins (at) WHERE outcome IN ('wrong-password', 'suspended');

-- The audit log's changes by people (`?by=people`): they are few among a SCIM sync's, and the
-- page walked the tenant's whole log to find them. A SCIM request's event does not enter this
-- index, so it costs SCIM's writes nothing. The condition is db::audit's, written the same way.
CREATE INDEX audit_events_people_idx ON audit_events (tenant_id, at, id) WHERE actor_kind <> 'integration';
