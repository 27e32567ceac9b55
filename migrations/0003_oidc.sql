-- Single sign-on with OpenID Connect (issue 6): the instance-wide list of identity providers,
-- sign-ins in progress, the stored links from an identity to a Roster user, and which session
-- came from which provider (for its end-session endpoint at sign-out).
-- Conventions as in 0001: TEXT ids, BIGINT epoch millis, BIGINT 0/1 flags, *_lower for
-- case-insensitive uniqueness.

-- An OpenID provider people may sign in with. The client secret is encrypted with
-- ROSTER_SECRET_KEY (AES-256-GCM, bound to the row id) and never shown again after saving.
CREATE TABLE oidc_providers (
    id                  TEXT PRIMARY KEY,
    name                TEXT NOT NULL,
    name_lower          TEXT NOT NULL UNIQUE,
    issuer              TEXT NOT NULL,
    client_id           TEXT NOT NULL,
    client_secret_enc   TEXT NOT NULL,
    -- Space-separated, always including `openid`.
    scopes              TEXT NOT NULL,
    -- The claim matched against users the first time an identity signs in.
    user_claim          TEXT NOT NULL CHECK (user_claim IN ('email', 'preferred_username', 'sub')),
    -- Whether a person no user matches is created on first sign-in (default: refused).
    create_users        BIGINT NOT NULL DEFAULT 0 CHECK (create_users IN (0, 1)),
    created_at          BIGINT NOT NULL,
    updated_at          BIGINT NOT NULL
);

-- A sign-in that went to the provider and has not come back yet. Keyed by the SHA-256 of
-- `state`; single use (deleted when the callback arrives) and short-lived. `browser_hash` is
-- the SHA-256 of a cookie set on the browser that started it, so a callback link sent to someone
-- else cannot sign them in to the sender's account.
CREATE TABLE oidc_pending_logins (
    state_hash      TEXT PRIMARY KEY,
    provider_id     TEXT NOT NULL REFERENCES oidc_providers (id) ON DELETE CASCADE,
    browser_hash    TEXT NOT NULL,
    nonce           TEXT NOT NULL,
    pkce_verifier   TEXT NOT NULL,
    next_path       TEXT,
    created_at      BIGINT NOT NULL,
    expires_at      BIGINT NOT NULL
);
CREATE INDEX oidc_pending_logins_expires_idx ON oidc_pending_logins (expires_at);

-- An identity (issuer + subject, stable by the OpenID spec) linked to a user on its first
-- sign-in. Later sign-ins follow the link, not the email, so an address that moves to someone
-- else at the provider cannot take over this account. A user has at most one identity per
-- issuer. Links outlive their provider row: the same issuer added again keeps its people.
CREATE TABLE oidc_identities (
    issuer          TEXT NOT NULL,
    subject         TEXT NOT NULL,
    user_id         TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at      BIGINT NOT NULL,
    last_login_at   BIGINT NOT NULL,
    PRIMARY KEY (issuer, subject),
    UNIQUE (issuer, user_id)
);
CREATE INDEX oidc_identities_user_idx ON oidc_identities (user_id);

-- Sessions that began at a provider: the ID token is kept as `id_token_hint` for the
-- provider's end-session endpoint at sign-out. Gone with the session.
CREATE TABLE oidc_sessions (
    session_hash    TEXT PRIMARY KEY REFERENCES sessions (id_hash) ON DELETE CASCADE,
    provider_id     TEXT NOT NULL REFERENCES oidc_providers (id) ON DELETE CASCADE,
    id_token        TEXT NOT NULL
);
