-- A user's stored profile kept beside it as its default view (db::profile_views): written with
-- the profile by this release, NULL for profiles written before it (answered from their JSON,
-- as before, until their next write). The trigger that drops a view whose profile changed
-- without it is installed after the migrations (db::profile_views::guard): its text differs
-- between SQLite and PostgreSQL.
ALTER TABLE users ADD COLUMN scim_view TEXT;
