-- The audit log records what SCIM integrations change too (actor_kind 'integration'): a
-- tenant's log grows with its directory, so a thing's history (History, `?target=`) and the
-- filter by who acted (`?by=`) each read an index instead of the tenant's whole log. Events
-- past ROSTER_AUDIT_RETENTION_DAYS are swept (auth::housekeeping).
CREATE INDEX audit_events_target_idx ON audit_events (tenant_id, target_id, at, id);
CREATE INDEX audit_events_actor_idx ON audit_events (tenant_id, actor_kind, at, id);
