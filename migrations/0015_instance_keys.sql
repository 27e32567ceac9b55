-- Keys the instance makes for itself, one for all its replicas (db::instance_keys): `cursor` seals
-- the RFC 9865 cursors its SCIM lists hand out. Made at the first start after this migration.
CREATE TABLE instance_keys (
    name TEXT PRIMARY KEY,
    key TEXT NOT NULL
);
