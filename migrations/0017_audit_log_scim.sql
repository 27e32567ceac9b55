-- The audit log records what SCIM integrations change too (actor_kind 'integration'): a
-- tenant's log grows with its directory, so a thing's history (History, `?target=`) reads an
-- index in the page's order instead of walking the tenant's whole log. (The filter by who
-- acted, `?by=`, walks the tenant's newest events: an index for it cost every SCIM write one
-- more insert.) Events past ROSTER_AUDIT_RETENTION_DAYS are swept (auth::housekeeping).
CREATE INDEX audit_events_target_idx ON audit_events (tenant_id, target_id, at, id);
