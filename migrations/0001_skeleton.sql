-- Roster's first schema: tenants, global users, their access to tenants, sessions and the
-- sign-in throttle.
--
-- One schema for SQLite and PostgreSQL: every migration is written in the SQL both understand
-- (checked by running the whole test suite on both). The conventions that make that possible:
--   * ids are TEXT (UUIDs or slugs), never database-generated serials;
--   * times are BIGINT milliseconds since the Unix epoch (UTC), compared as numbers;
--   * flags are BIGINT 0/1 (sqlx's Any driver cannot decode SQLite booleans), compared with = 1;
--   * case-insensitive uniqueness uses a *_lower column with a UNIQUE constraint,
--     so it needs neither CITEXT nor COLLATE NOCASE.

-- A tenant is an isolated space; `id` is a slug that appears in every URL that acts on it.
CREATE TABLE tenants (
    id          TEXT PRIMARY KEY,
    name        TEXT NOT NULL,
    created_at  BIGINT NOT NULL,
    updated_at  BIGINT NOT NULL
);

-- Users are global: one account per person across all tenants.
-- `username` is stored as sent; `username_lower` enforces case-insensitive uniqueness.
CREATE TABLE users (
    id              TEXT PRIMARY KEY,
    username        TEXT NOT NULL,
    username_lower  TEXT NOT NULL UNIQUE,
    email           TEXT,
    email_lower     TEXT,
    display_name    TEXT,
    -- argon2 PHC string; NULL when the user can only sign in through SSO.
    password_hash   TEXT,
    is_superadmin   BIGINT NOT NULL DEFAULT 0 CHECK (is_superadmin IN (0, 1)),
    active          BIGINT NOT NULL DEFAULT 1 CHECK (active IN (0, 1)),
    created_at      BIGINT NOT NULL,
    updated_at      BIGINT NOT NULL
);
CREATE INDEX users_email_lower_idx ON users (email_lower);

-- Makes a user a member of a tenant. Later migrations record where the access came from.
CREATE TABLE tenant_access (
    tenant_id   TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    user_id     TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at  BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, user_id)
);
CREATE INDEX tenant_access_user_idx ON tenant_access (user_id);

-- Server-side sessions, shared by every replica. Only the SHA-256 of the cookie value is stored,
-- so a database dump does not hand out live sessions.
CREATE TABLE sessions (
    id_hash     TEXT PRIMARY KEY,
    user_id     TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at  BIGINT NOT NULL,
    expires_at  BIGINT NOT NULL
);
CREATE INDEX sessions_user_idx ON sessions (user_id);

-- Failed sign-ins, by lower-cased login name (whether or not such a user exists, so the
-- throttle does not reveal which names are real). Old rows are pruned as new ones arrive.
CREATE TABLE login_failures (
    id              TEXT PRIMARY KEY,
    login_lower     TEXT NOT NULL,
    failed_at       BIGINT NOT NULL
);
CREATE INDEX login_failures_login_idx ON login_failures (login_lower, failed_at);

-- A login name that failed too often is locked until `locked_until`.
CREATE TABLE login_lockouts (
    login_lower     TEXT PRIMARY KEY,
    locked_until    BIGINT NOT NULL
);
