-- What a person's own page (Your account, iam::account) shows of their account's activity.
--
-- Where each session was signed in from: the client's address as the sign-in throttle saw it
-- and what the browser called itself (User-Agent, at most 256 characters). Sessions begun
-- before this release have neither and are listed as "unknown".
ALTER TABLE sessions ADD COLUMN client_address TEXT;
ALTER TABLE sessions ADD COLUMN user_agent TEXT;

-- Each account's latest sign-ins and password checks that failed (a wrong password, a
-- suspended account), newest by id (UUIDv7, time-ordered); each insert keeps the account's
-- latest 50 (db::sign_ins), so a guesser cannot grow it. `outcome` is 'signed-in',
-- 'wrong-password' or 'suspended'; `method` 'password', 'password-change' or the OpenID
-- provider's name at the time.
CREATE TABLE sign_ins (
    id              TEXT PRIMARY KEY,
    user_id         TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    at              BIGINT NOT NULL,
    outcome         TEXT NOT NULL,
    method          TEXT NOT NULL,
    client_address  TEXT NOT NULL,
    user_agent      TEXT
);
CREATE INDEX sign_ins_user_idx ON sign_ins (user_id, id);
