-- The tenant's audit log (iam::audit): one row per change an administrator or the operator
-- made, written in the change's own transaction. Names are copied at the time
-- (the actor or the target may be renamed or deleted later); nothing here is trimmed.
CREATE TABLE audit_events (
    id          TEXT PRIMARY KEY,
    tenant_id   TEXT NOT NULL,
    at          BIGINT NOT NULL,
    actor_kind  TEXT NOT NULL,
    actor_id    TEXT,
    actor_name  TEXT NOT NULL,
    action      TEXT NOT NULL,
    target_id   TEXT,
    target_name TEXT NOT NULL,
    detail      TEXT NOT NULL
);
CREATE INDEX audit_events_tenant_at_idx ON audit_events (tenant_id, at, id);
