-- Each tenant's kept count of access (migration 0011) in slots: a grant or end of access adds
-- its +1 or -1 to one of the tenant's rows here (db::access::count_slot, by the user), and the
-- kept count is the sum of the tenant's rows. On PostgreSQL every grant updated the one
-- `tenants.access_count` of its tenant, and a row's lock is held until the commit is flushed:
-- parallel creates in a tenant went one commit at a time (with a 2 ms flush, 345 creates a
-- second at 16 clients, against 1,877 PUTs; issue #13). Concurrent grants now touch different
-- rows. SQLite, with one writer at a time, keeps one slot (0).
--
-- `tenants.access_count` stays for replicas of earlier releases during a rolling start, which
-- still move it (and not these rows); the housekeeping sweep sets each tenant's sum right from
-- its access rows (db::access::recount), as it did for writers from before migration 0011.
CREATE TABLE tenant_access_counts (
    tenant_id TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    slot      INTEGER NOT NULL,
    n         BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, slot)
);
INSERT INTO tenant_access_counts (tenant_id, slot, n) SELECT id, 0, access_count FROM tenants;
