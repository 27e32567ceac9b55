-- Instance → Sign-ins (superadmins): every account's recorded sign-ins, newest first, or only
-- the password checks that failed. Newest first across accounts walks the primary key (UUIDv7,
-- time-ordered); the failures walk this index, which holds them alone, so a page of failures
-- reads no successful sign-in however many there are. The condition is spelled as
-- db::sign_ins::FAILED spells it: SQLite uses a partial index only for a query that repeats it.
CREATE INDEX sign_ins_failed_idx ON sign_ins (id) WHERE outcome IN ('wrong-password', 'suspended');
