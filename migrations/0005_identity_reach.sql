-- Issue 10: what a tenant may reach of the instance's global users, and what an OpenID provider
-- may match. Portable SQL (SQLite and PostgreSQL).

-- Whether this tenant's SCIM integrations and admins may take in (link, grant access to) a user
-- who can already enter another tenant. Off by default, also for the tenants made before: a
-- superadmin turns it on per tenant (Instance → Tenants, or `roster tenant set ID --link-foreign-users on`).
ALTER TABLE tenants ADD COLUMN link_foreign_users BIGINT NOT NULL DEFAULT 0
    CHECK (link_foreign_users IN (0, 1));

-- The SCIM integrations whose `externalId` values an OpenID provider matching by `sub` trusts.
-- None by default: a `sub` then matches no externalId at all.
CREATE TABLE oidc_provider_integrations (
    provider_id     TEXT NOT NULL REFERENCES oidc_providers (id) ON DELETE CASCADE,
    integration_id  TEXT NOT NULL REFERENCES scim_integrations (id) ON DELETE CASCADE,
    PRIMARY KEY (provider_id, integration_id)
);
CREATE INDEX oidc_provider_integrations_integration_idx ON oidc_provider_integrations (integration_id);
