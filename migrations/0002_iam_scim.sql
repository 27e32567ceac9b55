-- The tenant IAM model (groups, roles, bindings, service accounts and their tokens) and the SCIM
-- integrations that provision users and groups into a tenant. Same portable conventions as 0001.

-- Per-tenant suspension: SCIM `active: false` suspends a user in one tenant only (users are
-- global; the global `users.active` flag stays for instance-wide suspension). `version` grows on
-- every change of the tenant-scoped part of a user, so the SCIM ETag changes with it.
ALTER TABLE tenant_access ADD COLUMN active BIGINT NOT NULL DEFAULT 1 CHECK (active IN (0, 1));
ALTER TABLE tenant_access ADD COLUMN version BIGINT NOT NULL DEFAULT 1;
-- 0 when the provisioning IdP never sent `active` (or removed it): shown without `active`, and
-- not suspended.
ALTER TABLE tenant_access ADD COLUMN active_assigned BIGINT NOT NULL DEFAULT 1 CHECK (active_assigned IN (0, 1));

-- Where a tenant access came from. One row per source: `manual` (granted by hand or by the CLI),
-- or the id of the SCIM integration that granted it, with that integration's `externalId` for the
-- user (each IdP keeps its own). The access in `tenant_access` lives while at least one source does.
CREATE TABLE tenant_access_sources (
    tenant_id   TEXT NOT NULL,
    user_id     TEXT NOT NULL,
    source      TEXT NOT NULL,
    external_id TEXT,
    created_at  BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, user_id, source),
    FOREIGN KEY (tenant_id, user_id) REFERENCES tenant_access (tenant_id, user_id) ON DELETE CASCADE
);
CREATE INDEX tenant_access_sources_ext_idx ON tenant_access_sources (source, external_id);
-- Access granted before sources existed was granted by hand.
INSERT INTO tenant_access_sources (tenant_id, user_id, source, external_id, created_at)
    SELECT tenant_id, user_id, 'manual', NULL, created_at FROM tenant_access;

-- The SCIM attributes of a user that have no column of their own (name parts, phone numbers,
-- locale, the enterprise extension, …) as the JSON resource body, so they round-trip. Never holds
-- the password. `created_by` names the SCIM integration that created the user: only that one may
-- change the user's global attributes and password. `version` grows with every change (ETag).
ALTER TABLE users ADD COLUMN scim_json TEXT;
ALTER TABLE users ADD COLUMN created_by TEXT;
ALTER TABLE users ADD COLUMN display_name_lower TEXT;
ALTER TABLE users ADD COLUMN version BIGINT NOT NULL DEFAULT 1;
CREATE INDEX users_display_name_lower_idx ON users (display_name_lower);
CREATE INDEX users_updated_at_idx ON users (updated_at);

-- Every email address of a user (SCIM `emails`), so `emails.value eq …` is an indexed lookup.
CREATE TABLE user_emails (
    user_id     TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    value_lower TEXT NOT NULL,
    kind        TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (user_id, value_lower, kind)
);
CREATE INDEX user_emails_value_idx ON user_emails (value_lower);

-- Groups belong to one tenant; `display_name_lower` makes names unique per tenant,
-- case-insensitively. `managed_by` is the SCIM integration that owns the group, if any.
CREATE TABLE groups (
    id                  TEXT PRIMARY KEY,
    tenant_id           TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    display_name        TEXT NOT NULL,
    display_name_lower  TEXT NOT NULL,
    external_id         TEXT,
    managed_by          TEXT,
    scim_json           TEXT,
    version             BIGINT NOT NULL DEFAULT 1,
    created_at          BIGINT NOT NULL,
    updated_at          BIGINT NOT NULL,
    UNIQUE (tenant_id, display_name_lower)
);
CREATE INDEX groups_tenant_external_idx ON groups (tenant_id, external_id);
CREATE INDEX groups_tenant_updated_idx ON groups (tenant_id, updated_at);

-- Members are users; a member must have access to the group's tenant (enforced in iam).
-- Keyed by (group, user) so adding or removing k members touches k rows.
CREATE TABLE group_members (
    group_id    TEXT NOT NULL REFERENCES groups (id) ON DELETE CASCADE,
    user_id     TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at  BIGINT NOT NULL,
    PRIMARY KEY (group_id, user_id)
);
CREATE INDEX group_members_user_idx ON group_members (user_id);

-- Roles per tenant. `managed` roles (Admin, Viewer, SCIMProvisioner) cannot be edited or deleted.
CREATE TABLE roles (
    id          TEXT PRIMARY KEY,
    tenant_id   TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    name        TEXT NOT NULL,
    name_lower  TEXT NOT NULL,
    description TEXT NOT NULL DEFAULT '',
    managed     BIGINT NOT NULL DEFAULT 0 CHECK (managed IN (0, 1)),
    created_at  BIGINT NOT NULL,
    updated_at  BIGINT NOT NULL,
    UNIQUE (tenant_id, name_lower)
);

-- A role's permissions: one row per (resource, action), e.g. (GROUPS, DELETE).
CREATE TABLE role_permissions (
    role_id     TEXT NOT NULL REFERENCES roles (id) ON DELETE CASCADE,
    resource    TEXT NOT NULL,
    action      TEXT NOT NULL,
    PRIMARY KEY (role_id, resource, action)
);

-- Service accounts: per tenant, DNS-style names; they cannot sign in to the UI.
CREATE TABLE service_accounts (
    id          TEXT PRIMARY KEY,
    tenant_id   TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    name        TEXT NOT NULL,
    description TEXT NOT NULL DEFAULT '',
    created_at  BIGINT NOT NULL,
    UNIQUE (tenant_id, name)
);

-- API tokens of service accounts. Only the SHA-256 of the token is stored; `prefix` (the first
-- characters) lets people recognise a token. `expires_at` NULL = never.
CREATE TABLE api_tokens (
    id                  TEXT PRIMARY KEY,
    service_account_id  TEXT NOT NULL REFERENCES service_accounts (id) ON DELETE CASCADE,
    name                TEXT NOT NULL,
    prefix              TEXT NOT NULL,
    token_hash          TEXT NOT NULL UNIQUE,
    created_at          BIGINT NOT NULL,
    expires_at          BIGINT,
    last_used_at        BIGINT
);
CREATE INDEX api_tokens_account_idx ON api_tokens (service_account_id);

-- Bindings give a role to a user, a group or a service account in one tenant. Immutable: there
-- is no UPDATE; a change is a delete and a create. Bound to ids, so a group rename keeps access.
CREATE TABLE bindings (
    id              TEXT PRIMARY KEY,
    tenant_id       TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    role_id         TEXT NOT NULL REFERENCES roles (id) ON DELETE CASCADE,
    subject_type    TEXT NOT NULL CHECK (subject_type IN ('user', 'group', 'service_account')),
    subject_id      TEXT NOT NULL,
    created_at      BIGINT NOT NULL,
    UNIQUE (tenant_id, role_id, subject_type, subject_id)
);
CREATE INDEX bindings_subject_idx ON bindings (tenant_id, subject_type, subject_id);

-- SCIM integrations: per tenant, with a random URL-safe id that appears in the endpoint URL, and
-- the service account whose token authenticates the IdP.
CREATE TABLE scim_integrations (
    id                  TEXT PRIMARY KEY,
    tenant_id           TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    name                TEXT NOT NULL,
    description         TEXT NOT NULL DEFAULT '',
    enabled             BIGINT NOT NULL DEFAULT 1 CHECK (enabled IN (0, 1)),
    service_account_id  TEXT NOT NULL REFERENCES service_accounts (id),
    created_at          BIGINT NOT NULL,
    updated_at          BIGINT NOT NULL
);
CREATE INDEX scim_integrations_tenant_idx ON scim_integrations (tenant_id);

-- Every SCIM request, per integration: for debugging a sync. Failures keep the error detail and
-- the request body with `password` values redacted. Bounded: after each insert, rows older than
-- the newest 1000 of that integration are deleted (see db::scim_log::KEEP_PER_INTEGRATION).
CREATE TABLE scim_request_log (
    id              TEXT PRIMARY KEY,
    integration_id  TEXT NOT NULL REFERENCES scim_integrations (id) ON DELETE CASCADE,
    at              BIGINT NOT NULL,
    method          TEXT NOT NULL,
    path            TEXT NOT NULL,
    status          BIGINT NOT NULL,
    duration_ms     BIGINT NOT NULL,
    error_detail    TEXT,
    request_body    TEXT
);
CREATE INDEX scim_request_log_integration_idx ON scim_request_log (integration_id, at);
