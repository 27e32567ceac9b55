-- Where each session was signed in from, for the person's own list of their sessions (Your
-- account → Sessions, iam::account): the client's address as the sign-in throttle saw it and
-- what the browser called itself (User-Agent, at most 256 characters). Sessions begun before
-- this release have neither and are listed as "unknown".
ALTER TABLE sessions ADD COLUMN client_address TEXT;
ALTER TABLE sessions ADD COLUMN user_agent TEXT;
